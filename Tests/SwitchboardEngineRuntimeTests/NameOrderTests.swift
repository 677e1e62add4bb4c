import ContactsEngineKit
import Testing

/// The one name order (`CodePointOrder`, `ContactNameKey`): code points as UTF-8 bytes order them,
/// with no normalization and no case folding, so that C's `strcmp` and Rust's `str` ordering
/// give the same pages as the Swift SDK and the conformance kit.
@Suite("One name order: Unicode code point order, named before unnamed, ties by id")
struct NameOrderTests {
    /// Precomposed É (U+00C9) and decomposed E + U+0301, which Swift's `String` calls equal;
    /// names differing only in case; the empty name; a tie; two unnamed.
    static let contacts = [
        Contact(id: "33100000001@c.us", name: "\u{C9}mile"),
        Contact(id: "33100000002@c.us", name: "E\u{301}mile"),
        Contact(id: "33100000003@c.us", name: "Emile"),
        Contact(id: "33100000004@c.us", name: "emile"),
        Contact(id: "33100000005@c.us", name: "Zo\u{EB}"),
        Contact(id: "33100000006@c.us", name: "ada"),
        Contact(id: "33100000007@c.us", name: ""),
        Contact(id: "33100000009@c.us", name: "Emile"),
        Contact(id: "33100000010@c.us"),
        Contact(id: "33100000008@c.us"),
    ]

    /// By UTF-8 bytes: "" < "Emile" (45 6D) < "E\u{301}mile" (45 CC 81) < "Zoë" (5A) < "ada" (61)
    /// < "emile" (65) < "Émile" (C3 89); the tie of "Emile" by id; then the unnamed by id.
    static let nameOrder = ["07", "03", "09", "02", "05", "06", "04", "01", "08", "10"].map { "331000000\($0)@c.us" }

    @Test("sortBy=name ascending is code point order; descending its exact reverse")
    func pages() throws {
        let index = ContactIndex(Self.contacts)
        #expect(try index.page(ContactsPageRequest(sortBy: .name)).map(\.id) == Self.nameOrder)
        #expect(try index.page(ContactsPageRequest(sortBy: .name, sortOrder: .desc)).map(\.id) == Self.nameOrder.reversed())
        #expect(try index.page(ContactsPageRequest(limit: 2, offset: 2, sortBy: .name)).map(\.id) == Array(Self.nameOrder[2..<4]))
        #expect(Self.contacts.map(ContactNameKey.init).sorted().map(\.id) == Self.nameOrder)
    }

    @Test("canonically equivalent names are different names, unlike Swift's String ==")
    func noNormalization() {
        #expect("\u{C9}mile" == "E\u{301}mile", "Swift's String equality, which the name order must not use")
        #expect(!CodePointOrder.same("\u{C9}mile", "E\u{301}mile"))
        #expect(CodePointOrder.precedes("E\u{301}mile", "\u{C9}mile"))
        #expect(ContactNameKey(Self.contacts[0]) != ContactNameKey(Contact(id: "33100000001@c.us", name: "E\u{301}mile")))
        #expect(Set(Self.contacts.map(ContactNameKey.init)).count == Self.contacts.count, "equal keys hash alike, different ones apart")
        #expect(Set([ContactNameKey(Self.contacts[2]), ContactNameKey(Contact(id: "33100000003@c.us", name: "Emile"))]).count == 1)
        #expect(CodePointOrder.precedes("Zoe", "ada") && CodePointOrder.precedes("", "A") && CodePointOrder.precedes("ab", "abc"))
        #expect(CodePointOrder.same("", "") && !CodePointOrder.precedes("", "") && CodePointOrder.compare("b", "a") > 0)
        // Past 15 bytes a string is no longer stored inline: both layouts compare alike.
        #expect(CodePointOrder.precedes(String(repeating: "E", count: 20) + "\u{C9}", String(repeating: "E", count: 20) + "\u{301}"), "C3 89 before CC 81")
    }

    @Test("renaming a contact to its decomposed form moves it, and removing it leaves the rest in order")
    func putAndRemove() throws {
        var index = ContactIndex(Self.contacts)
        index.put(Contact(id: "33100000001@c.us", name: "E\u{301}mile"))
        let moved = ["07", "03", "09", "01", "02", "05", "06", "04", "08", "10"].map { "331000000\($0)@c.us" }
        #expect(try index.page(ContactsPageRequest(sortBy: .name)).map(\.id) == moved)
        index.remove(id: "33100000002@c.us")
        #expect(try index.page(ContactsPageRequest(sortBy: .name)).map(\.id) == moved.filter { $0 != "33100000002@c.us" })
    }
}

/// `contacts.check-exists`'s rule, in the result contract the host holds every call to.
@Suite("check-exists names the number asked about, or its Brazilian ninth-digit form")
struct CheckExistsContractTests {
    @Test("the number itself, and both forms of a Brazilian mobile number, keep the contract", arguments: [
        ("14155550100", "14155550100@c.us"), ("5511987654321", "5511987654321@c.us"), ("5511987654321", "551187654321@c.us"),
        ("551187654321", "5511987654321@c.us"), ("551187654321", "551187654321@c.us"),
    ])
    func keeps(phone: String, chatId: String) {
        let result = CheckExistsResult(numberExists: true, chatId: chatId)
        #expect(Operations.CheckExists.contractViolation(of: result, for: CheckExistsRequest(phone: phone), bytes: []) == nil)
    }

    @Test("another number, a ninth digit outside Brazil, a LID, breaks it", arguments: [
        ("14155550100", "14155550101@c.us"), ("14155550100", "141555550100@c.us"), ("4411987654321", "441187654321@c.us"),
        ("14155550100", "14155550100@lid"), ("5511987654321", "5511887654321@c.us"),
    ])
    func breaks(phone: String, chatId: String) {
        let result = CheckExistsResult(numberExists: true, chatId: chatId)
        #expect(Operations.CheckExists.contractViolation(of: result, for: CheckExistsRequest(phone: phone), bytes: []) == "asked about \(phone), answered chatId \(chatId)")
    }
}
