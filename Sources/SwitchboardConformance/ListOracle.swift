@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import SwitchboardEngineRuntime

/// Checks of what `contacts.list`, `contacts.get` and `contacts.check-exists` answer against the
/// engine's own full list: an engine that ignores `offset`, `sortBy` or `sortOrder` (for some
/// limits only, too), answers more than `limit`, invents ids or contacts, answers `get` with
/// another contact's fields, or says a number exists under another number's chat id,
/// contradicts itself, whatever data it holds. Each finding names the first position or field
/// where the answer differs.
struct ListOracle {
    let instance: any EngineHandle
    /// Every contact, asked for once with no limit.
    let full: [Contact]

    /// The engine's full list, or what it answered instead.
    static func load(_ instance: any EngineHandle) async -> Result<ListOracle, Finding> {
        let request = ContactsPageRequest()
        do {
            let full = try await instance.checkedResult(Operations.ListContacts.self, request, enforcingContract: false)
            return .success(ListOracle(instance: instance, full: full))
        } catch {
            return .failure(Finding(.contactsList, request, got: "\(error.kind.name): \(error.message)", expected: "every contact"))
        }
    }

    /// What one page check found: the first page that differs from its slice, the first invalid id.
    struct Findings {
        var wrongPage: Finding?
        var invalidID: Finding?
    }

    /// Every limit from 1 to 25, the whole count, a few drawn at random and none, with offsets
    /// first, second, middle, last, end and past the end, both sort keys, both orders, against
    /// the matching slice of the full list in the documented order; every id of every answer
    /// must be a valid chat id.
    func pages() async -> Findings {
        var findings = Findings()
        findings.invalidID = firstInvalidID(full, ContactsPageRequest())
        let ids = full.map(\.id)
        if let duplicate = Dictionary(grouping: ids, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            findings.wrongPage = Finding(.contactsList, ContactsPageRequest(), got: "\(duplicate) twice", expected: "each contact once")
            return findings
        }
        let count = full.count
        // An engine may be right for the limits a kit tends to try and wrong for others.
        let drawn = (0..<3).map { _ in Int.random(in: 26...max(27, count * 2)) }
        let limits = unique([nil] + Array(1...25) + [count] + drawn).filter { $0.map { $0 > 0 } ?? true }
        let offsets = unique([0, 1, count / 2, count - 1, count, count + 3].filter { $0 >= 0 })
        for sortBy in ContactSortKey.allCases {
            let ascending = sortBy == .id ? full.sorted { CodePointOrder.precedes($0.id, $1.id) } : full.sorted { ContactNameKey($0) < ContactNameKey($1) }
            for order in SortOrder.allCases {
                let sorted = order == .asc ? ascending : Array(ascending.reversed())
                for limit in limits {
                    for offset in offsets {
                        // Both found: the report holds one request per check, so the rest would add nothing.
                        if findings.wrongPage != nil, findings.invalidID != nil { return findings }
                        let request = ContactsPageRequest(limit: limit, offset: offset, sortBy: sortBy, sortOrder: order)
                        let expected = sorted.page(offset: offset, limit: limit).map(\.id)
                        let page: [Contact]
                        do {
                            page = try await instance.checkedResult(Operations.ListContacts.self, request, enforcingContract: false)
                        } catch {
                            findings.wrongPage = findings.wrongPage
                                ?? Finding(.contactsList, request, got: "\(error.kind.name): \(error.message)", expected: Self.describe(expected))
                            continue
                        }
                        findings.invalidID = findings.invalidID ?? firstInvalidID(page, request)
                        guard findings.wrongPage == nil, let difference = Self.firstDifference(page.map(\.id), expected) else { continue }
                        let long = limit.map { page.count > $0 } == true ? "\(page.count) contacts for limit \(limit!): " : ""
                        findings.wrongPage = Finding(.contactsList, request, got: long + difference.got, expected: difference.expected)
                    }
                }
            }
        }
        return findings
    }

    /// The full list asked in pieces (ABI 1.2's `call_in_pieces`, as the unpaginated HTTP list
    /// asks it) is the full list asked whole: the same contacts in the same order.
    func inPieces() async -> Finding? {
        let request = ContactsPageRequest()
        var ids: [String] = []
        do {
            let pieces = try await instance.checkedAnswerInPieces(Operations.ListContacts.self, request)
            defer { pieces.close() }
            try await pieces.forEach { ids += try JSONCoders.decode([Contact].self, from: $0).map(\.id) }
        } catch let error as EngineError {
            return Finding(.contactsList, request: "in pieces", got: "\(error.kind.name): \(error.message)", expected: "every contact")
        } catch {
            return Finding(.contactsList, request: "in pieces", got: "a piece that is not a list of contacts: \(error)", expected: "every contact")
        }
        guard let difference = Self.firstDifference(ids, full.map(\.id)) else { return nil }
        return Finding(.contactsList, request: "in pieces", got: difference.got, expected: "\(difference.expected) in the whole answer")
    }

    /// `contacts.get` of listed contacts (up to 50, spread over the list) answers each one as
    /// the list holds it, field by field.
    func gets() async -> Finding? {
        let step = max(full.count / 50, 1)
        for contact in stride(from: 0, to: full.count, by: step).prefix(50).map({ full[$0] }) {
            let request = ContactRequest(contactId: contact.id)
            do {
                let answer = try await instance.checkedResult(Operations.GetContact.self, request, enforcingContract: false)
                if let field = Self.firstDifferentField(answer, contact) {
                    return Finding(.contactsGet, request, got: "\(field.name) \(field.got)", expected: "\(field.name) \(field.expected), as contacts.list holds it")
                }
            } catch {
                return Finding(.contactsGet, request, got: "\(error.kind.name): \(error.message)", expected: "contact \(contact.id)")
            }
        }
        return nil
    }

    /// Ids of every kind that the full list does not hold answer not-found, or, as WAHA answers
    /// for any number, a stranger: that id, no name, not one of my contacts. An engine must not
    /// invent a contact the list does not hold.
    func unknownIDs() async -> Finding? {
        let listed = Set(full.map(\.id))
        for suffix in [ChatID.contactSuffix, ChatID.lidSuffix, ChatID.groupSuffix] {
            let id = (10_000_000_000...).lazy.map { "\($0)\(suffix)" }.first { !listed.contains($0) }!
            let request = ContactRequest(contactId: id)
            let expected = "not-found, or a stranger (that id, no name, not my contact): contacts.list does not hold \(id)"
            do {
                let answer = try await instance.checkedResult(Operations.GetContact.self, request, enforcingContract: false)
                if answer.id != id || answer.name != nil || answer.isMyContact {
                    return Finding(.contactsGet, request, got: "contact \(answer.id) (name \(Self.quoted(answer.name)), isMyContact \(answer.isMyContact))",
                                   expected: expected)
                }
            } catch where error.kind == .notFound {
                continue
            } catch {
                return Finding(.contactsGet, request, got: "\(error.kind.name): \(error.message)", expected: expected)
            }
        }
        return nil
    }

    /// `contacts.check-exists` of listed numbers (up to 10): when a number exists, its `chatId`
    /// is that number's (or its Brazilian ninth-digit form), the rule the host holds every call to.
    func checkExists() async -> Finding? {
        let phones = full.map { ChatID.userPart(of: $0.id) }.filter { ChatID.isPhoneNumber($0) }
        for phone in phones.prefix(10) {
            let request = CheckExistsRequest(phone: phone)
            do {
                let answer = try await instance.checkedResult(Operations.CheckExists.self, request, enforcingContract: false)
                if Operations.CheckExists.contractViolation(of: answer, for: request, bytes: []) != nil {
                    return Finding(.contactsCheckExists, request, got: "numberExists \(answer.numberExists), chatId \(Self.quoted(answer.chatId))",
                                   expected: "chatId \"\(phone)@c.us\" (or its Brazilian ninth-digit form)")
                }
            } catch {
                return Finding(.contactsCheckExists, request, got: "\(error.kind.name): \(error.message)", expected: "an answer")
            }
        }
        return nil
    }

    private func firstInvalidID(_ contacts: [Contact], _ request: ContactsPageRequest) -> Finding? {
        guard let bad = contacts.first(where: { !ChatID.isContactID($0.id) }) else { return nil }
        return Finding(.contactsList, request, got: "id \"\(bad.id)\"", expected: "chat ids (<digits>@c.us, <digits>@lid, <digits>[-<digits>]@g.us)")
    }

    private func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }

    /// Where `got` first differs from `expected`, as a finding shows it: the position, and what
    /// each holds there.
    static func firstDifference(_ got: [String], _ expected: [String]) -> (got: String, expected: String)? {
        let common = min(got.count, expected.count)
        guard let at = (0..<common).first(where: { !CodePointOrder.same(got[$0], expected[$0]) }) ?? (got.count == expected.count ? nil : common)
        else { return nil }
        func item(_ ids: [String]) -> String { at < ids.count ? "\"\(ids[at])\"" : "nothing (the end, after \(ids.count))" }
        return ("\(item(got)) first at position \(at)", "\(item(expected)) there, of \(expected.count)")
    }

    /// The first field in which `got` and `expected` differ, code point by code point.
    static func firstDifferentField(_ got: Contact, _ expected: Contact) -> (name: String, got: String, expected: String)? {
        let texts: [(String, String?, String?)] = [
            ("id", got.id, expected.id), ("number", got.number, expected.number), ("name", got.name, expected.name),
            ("pushname", got.pushname, expected.pushname), ("shortName", got.shortName, expected.shortName),
        ]
        if let (name, a, b) = texts.first(where: { !CodePointOrder.same($0.1, $0.2) }) { return (name, quoted(a), quoted(b)) }
        let flags: [(String, Bool, Bool)] = [
            ("isMe", got.isMe, expected.isMe), ("isGroup", got.isGroup, expected.isGroup), ("isWAContact", got.isWAContact, expected.isWAContact),
            ("isMyContact", got.isMyContact, expected.isMyContact), ("isBlocked", got.isBlocked, expected.isBlocked),
        ]
        return flags.first { $0.1 != $0.2 }.map { ($0.0, "\($0.1)", "\($0.2)") }
    }

    static func quoted(_ text: String?) -> String {
        text.map { "\"\($0)\"" } ?? "null"
    }

    /// Ids as the report shows them: the first ten, then how many more.
    static func describe(_ ids: [String]) -> String {
        ids.count <= 10 ? "\(ids)" : "\(Array(ids.prefix(10))) and \(ids.count - 10) more"
    }
}

/// A check's finding, with the request that showed it, so an author can replay it.
struct Finding: Error, CustomStringConvertible {
    let feature: Feature
    let request: String
    let got: String
    let expected: String

    init(_ feature: Feature, request: String, got: String, expected: String) {
        self.feature = feature
        self.request = request
        self.got = got
        self.expected = expected
    }

    init(_ feature: Feature, _ request: some Encodable, got: String, expected: String) {
        self.init(feature, request: Self.json(request), got: got, expected: expected)
    }

    var description: String { "\(feature.rawValue) \(request) answered \(got); expected \(expected)" }

    /// The request as JSON with sorted keys: the same text on every run.
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }
}
