import Foundation
@_spi(SwitchboardHost) import ContactsEngineKit
import Testing

/// Every request and result type has the SDK's own JSON both ways (a call needs Foundation's
/// coders for none of them): the writer writes what the API's JSONEncoder writes, and the reader
/// reads what JSONDecoder reads, leaving it anything else.
@Suite("Requests and results: JSONWriter and JSONReader agree with Foundation's coders")
struct OperationJSONTests {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Written as JSONEncoder writes it, and read back as JSONDecoder reads it.
    private func check<Value: Codable & Equatable>(_ value: Value) throws {
        let written = try JSONCoders.encode(value)
        #expect(try written == Array(Self.encoder.encode(value)), "\(value)")
        #expect(try JSONCoders.decode(Value.self, from: written) == value)
    }

    @Test("the same bytes, and the same value read back")
    func sameBytes() throws {
        for request in [
            ContactsPageRequest(), ContactsPageRequest(limit: 0, offset: 3, sortBy: .name, sortOrder: .desc),
            ContactsPageRequest(limit: -5, offset: Int.max, sortBy: .id), ContactsPageRequest(offset: Int.min),
        ] { try check(request) }
        for request in [UpsertContactRequest(chatId: "1@c.us"), UpsertContactRequest(chatId: "1@c.us", firstName: "A \"b\"", lastName: "Zoë/é")] {
            try check(request)
        }
        try check(CheckExistsRequest(phone: "14155550100"))
        try check(ProfilePictureRequest(contactId: "1@c.us"))
        try check(ProfilePictureRequest(contactId: "1@c.us", refresh: true))
        try check(LidsPageRequest())
        try check(LidsPageRequest(limit: 0, offset: 42))
        try check(LidLookupRequest(lid: "1@lid"))
        try check(PhoneNumberLookupRequest(pn: "1@c.us"))
        try check(Empty())
        try check(CheckExistsResult(numberExists: false))
        try check(CheckExistsResult(numberExists: true, chatId: "1@c.us"))
        try check(AboutResult(about: nil))
        try check(AboutResult(about: "tab\there"))
        try check(ProfilePictureResult(profilePictureURL: nil))
        try check(ProfilePictureResult(profilePictureURL: "https://example.com/a/b.jpg"))
        try check(LidMapping(lid: nil, pn: nil))
        try check(LidMapping(lid: "1@lid", pn: "1@c.us"))
        try check([LidMapping(lid: "1@lid", pn: nil), LidMapping(lid: nil, pn: "2@c.us")])
        try check(CountResult(count: 0))
        try check(CountResult(count: 123_456_789))
    }

    /// What each document reads as, through the SDK and through JSONDecoder: the same value, or
    /// an error from both.
    private func agree<Value: Decodable & Equatable>(_: Value.Type, _ json: String) {
        let expected = try? JSONDecoder().decode(Value.self, from: Data(json.utf8))
        let read = try? JSONCoders.decode(Value.self, from: Array(json.utf8))
        #expect(read == expected, "\(json)")
    }

    @Test("optional keys absent or null, required ones missing, numbers JSONReader leaves to JSONDecoder, unknown keys")
    func agreesWithJSONDecoder() {
        for json in [
            #"{"offset":0,"sortOrder":"asc"}"#, #"{"limit":null,"offset":1,"sortBy":null,"sortOrder":"desc"}"#,
            #"{"limit":10,"offset":1,"sortBy":"name","sortOrder":"asc"}"#, #" { "offset" : -0 , "sortOrder" : "asc" } "#,
            #"{"offset":1.0,"sortOrder":"asc"}"#, #"{"offset":1e2,"sortOrder":"asc"}"#, #"{"offset":99999999999999999999,"sortOrder":"asc"}"#,
            #"{"offset":0}"#, #"{"sortOrder":"asc"}"#, #"{"offset":0,"sortOrder":"up"}"#, #"{"offset":"0","sortOrder":"asc"}"#,
            #"{"offset":0,"sortOrder":"asc","extra":true}"#, #"{"offset":0,"sortOrder":"asc"} x"#, #"{"offset":-,"sortOrder":"asc"}"#,
        ] { agree(ContactsPageRequest.self, json) }
        for json in [#"{"limit":5,"offset":0}"#, #"{"limit":5}"#, #"{"limit":null,"offset":0}"#, #"{"limit":-1,"offset":-2}"#] {
            agree(LidsPageRequest.self, json)
        }
        for json in [#"{"chatId":"1@c.us"}"#, #"{"chatId":"1@c.us","firstName":null,"lastName":"L"}"#, #"{"firstName":"A"}"#] {
            agree(UpsertContactRequest.self, json)
        }
        for json in [#"{"contactId":"1@c.us","refresh":false}"#, #"{"contactId":"1@c.us"}"#, #"{"contactId":"1@c.us","refresh":1}"#] {
            agree(ProfilePictureRequest.self, json)
        }
        agree(CheckExistsRequest.self, #"{"phone":"1"}"#)
        agree(CheckExistsRequest.self, #"{"phone":1}"#)
        agree(LidLookupRequest.self, #"{"lid":"1@lid"}"#)
        agree(PhoneNumberLookupRequest.self, #"{"pn":null}"#)
        for json in ["{}", #"{"anything":[1]}"#, "[]", "null"] { agree(Empty.self, json) }
        for json in [#"{"numberExists":true}"#, #"{"numberExists":false,"chatId":null}"#, #"{"chatId":"1@c.us"}"#] {
            agree(CheckExistsResult.self, json)
        }
        for json in ["{}", #"{"about":null}"#, #"{"about":"x"}"#] { agree(AboutResult.self, json) }
        for json in ["{}", #"{"profilePictureURL":"https:\/\/x"}"#] { agree(ProfilePictureResult.self, json) }
        for json in ["{}", #"{"lid":"1@lid"}"#, #"{"lid":null,"pn":"1@c.us"}"#, #"[{"lid":null,"pn":null}]"#] { agree(LidMapping.self, json) }
        agree([LidMapping].self, #"[{"lid":"1@lid","pn":null},{}]"#)
        for json in [#"{"count":3}"#, #"{"count":-3}"#, #"{"count":3.5}"#, #"{}"#] { agree(CountResult.self, json) }
    }
}
