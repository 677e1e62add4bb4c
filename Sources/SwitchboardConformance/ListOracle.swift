import ContactsEngineKit
import Foundation
import SwitchboardCore

/// Checks of what `contacts.list` and `contacts.get` answer against the engine's own full list:
/// an engine that ignores `offset`, `sortBy` or `sortOrder`, answers more than `limit`, invents
/// ids or answers `get` with another contact contradicts itself, whatever data it holds.
struct ListOracle {
    let instance: any EngineHandle
    /// Every contact, asked for once with no limit.
    let full: [Contact]

    /// The engine's full list, or what it answered instead.
    static func load(_ instance: any EngineHandle) async -> Result<ListOracle, Finding> {
        let request = ContactsPageRequest()
        do {
            let full = try await instance.perform(Operations.ListContacts.self, request, enforcingContract: false)
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

    /// Every page for several limits and offsets (first, second, middle, last, end, past the
    /// end), both sort keys, both orders, against the matching slice of the full list in the
    /// documented order; every id of every answer must be a valid chat id.
    func pages() async -> Findings {
        var findings = Findings()
        findings.invalidID = firstInvalidID(full, ContactsPageRequest())
        let ids = full.map(\.id)
        if let duplicate = Dictionary(grouping: ids, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            findings.wrongPage = Finding(.contactsList, ContactsPageRequest(), got: "\(duplicate) twice", expected: "each contact once")
            return findings
        }
        let count = full.count
        let limits = unique([nil, 1, 2, 3, 7, count].filter { $0.map { $0 > 0 } ?? true })
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
                            page = try await instance.perform(Operations.ListContacts.self, request, enforcingContract: false)
                        } catch {
                            findings.wrongPage = findings.wrongPage
                                ?? Finding(.contactsList, request, got: "\(error.kind.name): \(error.message)", expected: Self.describe(expected))
                            continue
                        }
                        findings.invalidID = findings.invalidID ?? firstInvalidID(page, request)
                        guard findings.wrongPage == nil, page.map(\.id) != expected else { continue }
                        let got = limit.map { page.count > $0 } == true
                            ? "\(page.count) contacts for limit \(limit!): \(Self.describe(page.map(\.id)))" : Self.describe(page.map(\.id))
                        findings.wrongPage = Finding(.contactsList, request, got: got, expected: Self.describe(expected))
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
            let pieces = try await instance.answerInPieces(Operations.ListContacts.self, request)
            defer { pieces.close() }
            try await pieces.forEach { ids += try JSONCoders.decode([Contact].self, from: $0).map(\.id) }
        } catch let error as EngineError {
            return Finding(.contactsList, request: "in pieces", got: "\(error.kind.name): \(error.message)", expected: "every contact")
        } catch {
            return Finding(.contactsList, request: "in pieces", got: "a piece that is not a list of contacts: \(error)", expected: "every contact")
        }
        let whole = full.map(\.id)
        guard ids != whole else { return nil }
        return Finding(.contactsList, request: "in pieces", got: Self.describe(ids), expected: "the whole answer: \(Self.describe(whole))")
    }

    /// `contacts.get` of listed contacts (up to 50, spread over the list) answers each one.
    func gets() async -> Finding? {
        let step = max(full.count / 50, 1)
        for contact in stride(from: 0, to: full.count, by: step).prefix(50).map({ full[$0] }) {
            let request = ContactRequest(contactId: contact.id)
            do {
                let answer = try await instance.perform(Operations.GetContact.self, request, enforcingContract: false)
                if answer.id != contact.id { return Finding(.contactsGet, request, got: "contact \(answer.id)", expected: "contact \(contact.id)") }
            } catch {
                return Finding(.contactsGet, request, got: "\(error.kind.name): \(error.message)", expected: "contact \(contact.id)")
            }
        }
        return nil
    }

    private func firstInvalidID(_ contacts: [Contact], _ request: ContactsPageRequest) -> Finding? {
        guard let bad = contacts.first(where: { ChatID.normalizedContactID($0.id) != $0.id }) else { return nil }
        return Finding(.contactsList, request, got: "id \"\(bad.id)\"", expected: "chat ids (<digits>@c.us, <digits>@lid, <digits>[-<digits>]@g.us)")
    }

    private func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
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
