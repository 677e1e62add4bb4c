import Foundation
@_spi(SwitchboardHost) import ContactsEngineKit
import Testing

@Suite("Pages of a list, as every engine answers limit and offset")
struct PagingTests {
    let letters = ["a", "b", "c", "d"]

    @Test("ascending and descending pages, offsets past the end, no limit", arguments: [
        (0, 2, false, ["a", "b"]), (1, 2, false, ["b", "c"]), (3, 5, false, ["d"]), (4, 1, false, []), (5, 1, false, []),
        (Int(Int32.max), 10, false, []), (0, nil, false, ["a", "b", "c", "d"]), (2, nil, false, ["c", "d"]), (9, nil, false, []),
        (0, 2, true, ["d", "c"]), (1, 2, true, ["c", "b"]), (3, 5, true, ["a"]), (4, 1, true, []), (Int(Int32.max), nil, true, []),
        (0, 0, false, []), (0, 0, true, []),
    ] as [(Int, Int?, Bool, [String])])
    func pages(offset: Int, limit: Int?, descending: Bool, expected: [String]) {
        #expect(letters.page(offset: offset, limit: limit, descending: descending) == expected)
    }
}

@Suite("JSONWriter writes what the API's JSONEncoder writes")
struct JSONWriterTests {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    @Test("contacts with every kind of text, lists of them, and contact requests", arguments: [
        Contact(id: "14155550100@c.us"),
        Contact(id: "120363@g.us", name: "Group \"quoted\" \\ back/slash", pushname: "tab\tnew\nline\r\u{8}\u{c}\u{1}\u{1f}", shortName: "Zoë 👩‍💻", isMe: true, isMyContact: true, isBlocked: true),
        Contact(id: "1@lid", number: "", name: "", isWAContact: false),
    ])
    func sameBytes(contact: Contact) throws {
        #expect(try JSONCoders.encode(contact) == Array(Self.encoder.encode(contact)))
        #expect(try JSONCoders.encode([contact, contact]) == Array(Self.encoder.encode([contact, contact])))
        let request = ContactRequest(contactId: contact.pushname ?? contact.id)
        #expect(try JSONCoders.encode(request) == Array(Self.encoder.encode(request)))
        #expect(try JSONCoders.encode([Contact]()) == Array("[]".utf8))
    }
}

@Suite("JSONReader reads what JSONDecoder reads, and refuses what it refuses")
struct JSONReaderTests {
    @Test("contacts: escapes, surrogate pairs, defaults, unknown keys, and malformed documents", arguments: [
        #"{"id":"1@c.us"}"#,
        #"{"id":"1@c.us","name":"A \"quoted\" \\ \/ name\n\t\b\f\r","pushname":null,"isMe":true,"isBlocked":false}"#,
        #"{"id":"1@c.us","name":"\ud83d\ude00 \u00e9\u0041"}"#,
        #"  {  "id" : "1@c.us" , "isGroup" : false }  "#,
        #"{"id":"1@c.us","extra":[1,{"a":2}]}"#,
        #"{"id":"1@c.us","name":"\ud83d \ude00"}"#,
        #"{"id":"1@c.us","name":"\ud83d"}"#,
        "{\"id\":\"1@c.us\",\"name\":\"tab\tinside\"}",
        #"{"id":"1@c.us","isMe":"yes"}"#,
        #"{"name":"no id"}"#,
        #"{"id":"1@c.us"} trailing"#,
        #"{"id":"1@c.us","#,
        "[]",
    ])
    func agreesWithJSONDecoder(json: String) {
        let bytes = Array(json.utf8)
        let expected = try? JSONDecoder().decode(Contact.self, from: Data(bytes))
        let read = try? JSONCoders.decode(Contact.self, from: bytes)
        #expect(read == expected)
        let list = try? JSONCoders.decode([Contact].self, from: Array("[\(json),\(json)]".utf8))
        #expect(list == expected.map { [$0, $0] })
    }
}
