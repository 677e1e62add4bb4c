@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Testing

/// The host answers a list or a contact with the engine's own bytes only when they are exactly
/// what it would write again and keep the contract; anything else is decoded, as before.
@Suite struct CanonicalReadingTests {
    static let ada = Contact(id: "14155550101@c.us", name: "Ada Lovelace", shortName: "Ada", isMyContact: true)
    static let grace = Contact(id: "14155550102@c.us", name: "Grace \"Amazing\" Hopper – ünïcode", pushname: "grace")
    static let all = ContactsPageRequest(limit: nil, offset: 0, sortBy: nil, sortOrder: .asc)

    static func written<Value: Encodable>(_ value: Value) throws -> [UInt8] { try JSONCoders.encode(value) }

    @Test("what JSONWriter writes is forwarded as it is: a list, an empty list, a contact")
    func writtenFormIsForwarded() throws {
        #expect(Operations.ListContacts.canonicalReading(of: try Self.written([Self.ada, Self.grace]), for: Self.all) == .forward)
        #expect(Operations.ListContacts.canonicalReading(of: try Self.written([Contact]()), for: Self.all) == .forward)
        let asked = ContactRequest(contactId: "14155550101")
        #expect(Operations.GetContact.canonicalReading(of: try Self.written(Self.ada), for: asked) == .forward)
    }

    @Test("in the written form, the contract's own messages: a page over its limit, an invalid id, another contact")
    func writtenFormBreakingTheContract() throws {
        let two = try Self.written([Self.ada, Self.grace])
        let limitOne = ContactsPageRequest(limit: 1, offset: 0, sortBy: nil, sortOrder: .asc)
        #expect(Operations.ListContacts.canonicalReading(of: two, for: limitOne) == .violation("2 contacts for limit 1"))
        let invalid = try Self.written([Contact(id: "not-a-number@c.us")])
        #expect(Operations.ListContacts.canonicalReading(of: invalid, for: Self.all) == .violation(#"invalid chat id "not-a-number@c.us""#))
        let other = ContactRequest(contactId: "14155550199")
        #expect(Operations.GetContact.canonicalReading(of: try Self.written(Self.ada), for: other)
            == .violation("asked for 14155550199@c.us, answered 14155550101@c.us"))
        // The same messages the decoded values get.
        #expect(Operations.ListContacts.contractViolation(of: [Self.ada, Self.grace], for: limitOne, bytes: two) == "2 contacts for limit 1")
    }

    @Test("any other form is left to the decoder", arguments: [
        #"[ ]"#,
        #"[{"id":"14155550101@c.us","isBlocked":false,"isGroup":false,"isMe":false,"isMyContact":true,"isWAContact":true,"name":"Ada","number":"14155550101","pushname":null,"shortName":null} ]"#,
        #"[{"isBlocked":false,"id":"14155550101@c.us","isGroup":false,"isMe":false,"isMyContact":true,"isWAContact":true,"name":"Ada","number":"14155550101","pushname":null,"shortName":null}]"#,
        #"[{"id":"14155550101@c.us","isBlocked":false,"isGroup":false,"isMe":false,"isMyContact":true,"isWAContact":true,"name":"Ada","number":"14155550101","pushname":null,"shortName":null,"extra":1}]"#,
        #"[{"id":"14155550101@c.us","isBlocked":false,"isGroup":false,"isMe":false,"isMyContact":true,"isWAContact":true,"name":"\u00c5da","number":"14155550101","pushname":null,"shortName":null}]"#,
        #"[{"id":"1415555\/0101@c.us","isBlocked":false,"isGroup":false,"isMe":false,"isMyContact":true,"isWAContact":true,"name":"Ada","number":"14155550101","pushname":null,"shortName":null}]"#,
        #"[{"id":"14155550101@c.us","isBlocked":0,"isGroup":false,"isMe":false,"isMyContact":true,"isWAContact":true,"name":"Ada","number":"14155550101","pushname":null,"shortName":null}]"#,
        #"[{"id":"14155550101@c.us","isBlocked":false,"isGroup":false,"isMe":false,"isMyContact":true,"isWAContact":true,"name":"Ada","number":"14155550101","pushname":null,"shortName":null}"#,
        "",
    ])
    func otherFormsAreDecoded(_ text: String) {
        #expect(Operations.ListContacts.canonicalReading(of: Array(text.utf8), for: Self.all) == .decode)
    }

    @Test("a string that is not valid UTF-8, or holds a raw control character, is left to the decoder")
    func malformedStringsAreDecoded() throws {
        let written = try Self.written([Self.ada])
        let name = Array(#""name":"Ada Lovelace""#.utf8)
        let at = try #require(written.firstRange(of: name)).lowerBound + 8
        for bad in [[0xFF], [0xC3], [0x01]] as [[UInt8]] {
            var broken = written
            broken.replaceSubrange(at..<at + 3, with: bad + Array("a ".utf8))
            #expect(Operations.ListContacts.canonicalReading(of: broken, for: Self.all) == .decode, "\(bad)")
        }
    }
}
