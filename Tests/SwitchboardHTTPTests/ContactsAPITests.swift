import AsyncHTTPClient
import ContactsEngineKit
import Foundation
import NIOHTTP1
import LocalEngineCore
import SwitchboardHTTP
import SwitchboardTestSupport
import Testing

@Suite("WAHA's contacts endpoints over real HTTP")
struct ContactsAPITests {
    static let contactKeys: Set<String> = ["id", "number", "name", "pushname", "shortName", "isMe", "isGroup", "isWAContact", "isMyContact", "isBlocked"]

    @Test("on the default session (local): upsert, get in both forms, list, about, picture, block, unblock")
    func localRoundTrip() async throws {
        try await withServer { server in
            let put = try await server.request(.PUT, "/api/default/contacts/5511987654321@c.us", json: #"{"firstName": "Ana", "lastName": "Souza"}"#)
            #expect(put.status == 200)
            #expect(put.body == ["success": true])

            let byQuery = try await server.get("/api/contacts?contactId=5511987654321")
            #expect(byQuery.status == 200)
            #expect(byQuery.body.keys == Self.contactKeys)
            #expect(byQuery["id"] == "5511987654321@c.us")
            #expect(byQuery["number"] == "5511987654321")
            #expect(byQuery["name"] == "Ana Souza")
            #expect(byQuery["shortName"] == "Ana")
            #expect(byQuery["isMyContact"] == true)
            #expect(byQuery["pushname"] == .null)

            let byPath = try await server.get("/api/default/contacts/5511987654321%40c.us")
            #expect(byPath.body == byQuery.body)

            _ = try await server.request(.PUT, "/api/default/contacts/14155550100@c.us", json: #"{"firstName": "Bob"}"#)
            let all = try await server.get("/api/contacts/all?sortBy=name&sortOrder=desc")
            #expect(all.status == 200)
            #expect(all.body.array?.compactMap { $0["name"]?.string } == ["Bob", "Ana Souza"])
            let page = try await server.get("/api/contacts/all?limit=1&offset=1&session=default")
            #expect(page.body.array?.map { $0["id"] } == ["5511987654321@c.us"])

            let about = try await server.get("/api/contacts/about?contactId=5511987654321")
            #expect(about.status == 200)
            #expect(about.body == ["about": .null])
            let picture = try await server.get("/api/contacts/profile-picture?contactId=5511987654321&refresh=true")
            #expect(picture.body == ["profilePictureURL": .null])

            let block = try await server.request(.POST, "/api/contacts/block", json: #"{"contactId": "5511987654321", "session": "default"}"#)
            #expect(block.status == 201)
            #expect(try await server.get("/api/contacts?contactId=5511987654321")["isBlocked"] == true)
            let unblock = try await server.request(.POST, "/api/contacts/unblock", json: #"{"contactId": "5511987654321@c.us"}"#)
            #expect(unblock.status == 201)
            #expect(try await server.get("/api/contacts?contactId=5511987654321")["isBlocked"] == false)
        }
    }

    @Test("check-exists applies the Brazilian rule and answers the chatId as registered; LIDs resolve both ways")
    func seededDirectory() async throws {
        let folder = TestPlugins.makeFolder("seed")
        let database = "\(folder)/seeded.sqlite"
        let seed = try JSONDecoder().decode(LocalSeed.self, from: Data(#"""
            {"contacts": [{"id": "5511987654321", "name": "Ana", "about": "Olá!", "profilePictureURL": "https://example.com/ana.jpg"}],
             "accounts": ["551133334444", "14155550100", "491133334444"],
             "lids": [{"lid": "111@lid", "pn": "14155550100@c.us"}, {"lid": "222@lid", "pn": "5511987654321@c.us"}]}
            """#.utf8))
        _ = try LocalSeedImporter.importSeed(seed, intoDatabaseAt: database)
        try await withServer { server in
            let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "seeded", "engine": "local", "engineConfig": {"database": "\#(database)"}}"#)
            #expect(created.status == 201)

            func check(_ phone: String) async throws -> JSONValue {
                try await server.get("/api/contacts/check-exists?phone=\(phone)&session=seeded").body
            }
            // Registered before 2012 without the 9: found with or without it, answered as registered.
            #expect(try await check("5511933334444") == ["numberExists": true, "chatId": "551133334444@c.us", "pn": "551133334444@c.us"])
            #expect(try await check("551133334444") == ["numberExists": true, "chatId": "551133334444@c.us", "pn": "551133334444@c.us"])
            // Registered with the 9 (a contact in the book): found without it too.
            #expect(try await check("5511987654321") == ["numberExists": true, "chatId": "5511987654321@c.us", "pn": "5511987654321@c.us"])
            #expect(try await check("551187654321") == ["numberExists": true, "chatId": "5511987654321@c.us", "pn": "5511987654321@c.us"])
            #expect(try await check("14155550100") == ["numberExists": true, "chatId": "14155550100@c.us", "pn": "14155550100@c.us"])
            #expect(try await check("5511900000000") == ["numberExists": false])
            // Another country with the same shape gets no such rule.
            #expect(try await check("4911933334444") == ["numberExists": false])

            let about = try await server.get("/api/contacts/about?contactId=5511987654321&session=seeded")
            #expect(about.body == ["about": "Olá!"])
            let picture = try await server.get("/api/contacts/profile-picture?contactId=5511987654321@c.us&session=seeded")
            #expect(picture.body == ["profilePictureURL": "https://example.com/ana.jpg"])

            #expect(try await server.get("/api/seeded/lids/count").body == ["count": 2])
            let lids = try await server.get("/api/seeded/lids?limit=1&offset=1")
            #expect(lids.body == [["lid": "222@lid", "pn": "5511987654321@c.us"]])
            #expect(try await server.get("/api/seeded/lids/111").body == ["lid": "111@lid", "pn": "14155550100@c.us"])
            #expect(try await server.get("/api/seeded/lids/999@lid").body == ["lid": "999@lid", "pn": .null])
            #expect(try await server.get("/api/seeded/lids/pn/5511987654321").body == ["lid": "222@lid", "pn": "5511987654321@c.us"])
            #expect(try await server.get("/api/seeded/lids/pn/123@c.us").body == ["lid": .null, "pn": "123@c.us"])
        }
    }

    @Test("a feature the session's engine lacks answers 501 naming the engine and the feature, on every such endpoint")
    func notImplemented() async throws {
        try await withServer { server in
            #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "fx", "engine": "fixed"}"#).status == 201)
            let unsupported: [(HTTPMethod, String, String?, Feature)] = [
                (.PUT, "/api/fx/contacts/14155550100@c.us", #"{"firstName": "A"}"#, .contactsUpsert),
                (.GET, "/api/contacts/about?contactId=14155550100&session=fx", nil, .contactsAbout),
                (.GET, "/api/contacts/profile-picture?contactId=14155550100&session=fx", nil, .contactsProfilePicture),
                (.POST, "/api/contacts/block", #"{"contactId": "14155550100", "session": "fx"}"#, .contactsBlock),
                (.POST, "/api/contacts/unblock", #"{"contactId": "14155550100", "session": "fx"}"#, .contactsUnblock),
                (.GET, "/api/fx/lids", nil, .lidsList),
                (.GET, "/api/fx/lids/count", nil, .lidsCount),
                (.GET, "/api/fx/lids/123", nil, .lidsGetByLid),
                (.GET, "/api/fx/lids/pn/14155550100", nil, .lidsGetByPhoneNumber),
            ]
            #expect(Set(unsupported.map(\.3)) == Set(Feature.allCases).subtracting([.contactsList, .contactsGet, .contactsCheckExists]))
            for (method, path, json, feature) in unsupported {
                let answer = try await server.request(method, path, json: json)
                #expect(answer.status == 501, "\(path)")
                #expect(answer["statusCode"] == 501)
                #expect(answer["error"] == "Not Implemented")
                #expect(answer["engine"] == "fixed")
                #expect(answer["feature"] == .string(feature.rawValue))
                #expect(answer["message"]?.string?.hasPrefix("The method is not implemented by 'fixed' engine.") == true)
            }
            // What it does support, it answers.
            let contact = try await server.get("/api/fx/contacts/14155550100")
            #expect(contact["name"] == "Ada Lovelace")
            #expect(contact.body.keys == Self.contactKeys)
            #expect(contact["isWAContact"] == true, "a field the C engine leaves out gets its documented default")
            // An instance narrowed by its configuration answers 501 too.
            _ = try await server.request(.PUT, "/api/sessions/fx", json: #"{"engineConfig": {"checkExists": false}}"#)
            let narrowed = try await server.get("/api/contacts/check-exists?phone=14155550100&session=fx")
            #expect(narrowed.status == 501)
            #expect(narrowed["feature"] == "contacts.check-exists")
        }
    }

    @Test("unknown session and stopped session answer WAHA's 422 bodies")
    func sessionErrors() async throws {
        try await withServer { server in
            let unknown = try await server.get("/api/contacts/all?session=nope")
            #expect(unknown.status == 422)
            #expect(unknown["error"] == "Session \"nope\" does not exist")
            #expect(unknown["session"] == "nope")
            #expect(try await server.get("/api/nope/lids/count").status == 422)

            _ = try await server.request(.POST, "/api/sessions/default/stop")
            let stopped = try await server.get("/api/contacts?contactId=123456789")
            #expect(stopped.status == 422)
            #expect(stopped["status"] == "STOPPED")
            #expect(stopped["expected"] == ["WORKING"])
            #expect(stopped["session"] == "default")
        }
    }

    @Test("bad parameters and bodies answer 400 naming the parameter", arguments: [
        (HTTPMethod.GET, "/api/contacts", nil as String?, "contactId"),
        (.GET, "/api/contacts?contactId=abc", nil, "contactId"),
        (.GET, "/api/contacts?contactId=123@x.us", nil, "contactId"),
        (.GET, "/api/default/contacts/not-an-id", nil, "chatId"),
        (.GET, "/api/contacts/check-exists?phone=12ab5678", nil, "phone"),
        (.GET, "/api/contacts/check-exists?phone=12345", nil, "phone"),
        (.GET, "/api/contacts/check-exists?phone=1234567890123456", nil, "phone"),
        (.GET, "/api/contacts/check-exists", nil, "phone"),
        (.GET, "/api/contacts/all?limit=0", nil, "limit"),
        (.GET, "/api/contacts/all?limit=10001", nil, "limit"),
        (.GET, "/api/contacts/all?limit=ten", nil, "limit"),
        (.GET, "/api/contacts/all?offset=-1", nil, "offset"),
        (.GET, "/api/contacts/all?sortBy=age", nil, "sortBy"),
        (.GET, "/api/contacts/all?sortOrder=up", nil, "sortOrder"),
        (.GET, "/api/contacts/profile-picture?contactId=1234567&refresh=maybe", nil, "refresh"),
        (.GET, "/api/default/lids/abc", nil, "lid"),
        (.GET, "/api/default/lids?limit=100000", nil, "limit"),
        (.GET, "/api/default/lids/pn/12x", nil, "phoneNumber"),
        (.PUT, "/api/default/contacts/1234567@c.us", "{not json", "body"),
        (.PUT, "/api/default/contacts/1234567@c.us", "{}", "firstName"),
        (.PUT, "/api/default/contacts/1234567@c.us", #"{"firstName": 5}"#, "firstName"),
        (.PUT, "/api/default/contacts/bad@c.us", #"{"firstName": "A"}"#, "chatId"),
        (.POST, "/api/contacts/block", #"{"session": "default"}"#, "contactId"),
        (.POST, "/api/contacts/block", "", "body"),
    ])
    func badInput(method: HTTPMethod, path: String, json: String?, parameter: String) async throws {
        try await withServer { server in
            let answer = try await server.request(method, path, json: json)
            #expect(answer.status == 400, "\(answer.text)")
            #expect(answer["statusCode"] == 400)
            #expect(answer["parameter"] == .string(parameter), "\(answer.text)")
            #expect(answer["message"]?.string?.isEmpty == false)
        }
    }

    @Test("an offset past the end answers an empty page, on every list and engine, in both orders")
    func offsetPastTheEnd() async throws {
        try await withServer { server in
            _ = try await server.request(.POST, "/api/sessions", json: #"{"name": "fx", "engine": "fixed"}"#)
            _ = try await server.request(.PUT, "/api/default/contacts/1234567@c.us", json: #"{"firstName": "One"}"#)
            for session in ["default", "fx"] {
                for query in ["offset=1", "offset=5", "offset=2147483647", "offset=5&limit=3", "offset=5&sortOrder=desc", "offset=9&sortBy=name&sortOrder=desc&limit=2"] {
                    let answer = try await server.get("/api/contacts/all?session=\(session)&\(query)")
                    #expect(answer.status == 200, "\(session) \(query): \(answer.text)")
                    if session == "default" || query != "offset=1" { #expect(answer.body == [], "\(session) \(query)") }
                }
            }
            #expect(try await server.get("/api/default/lids?offset=2147483647").body == [])
            #expect(try await server.get("/ping").status == 200)
        }
    }

    @Test("a body over 64 KiB answers 413 naming the body and changes nothing")
    func bodyTooLarge() async throws {
        try await withServer { server in
            let huge = #"{"firstName": ""# + String(repeating: "a", count: 70 * 1024) + #""}"#
            let answer = try await server.request(.PUT, "/api/default/contacts/1234567@c.us", json: huge)
            #expect(answer.status == 413)
            #expect(answer["parameter"] == "body")
            #expect(answer["message"] == "request body is larger than 65536 bytes")
            #expect(try await server.get("/api/contacts/all").body == [])
        }
    }

    @Test("engine error kinds map to their codes: not-found 404, conflict 409, unavailable 503, timeout 504, malformed result 502")
    func engineErrorKinds() async throws {
        try await withServer(callTimeout: .milliseconds(300)) { server in
            _ = try await server.request(.POST, "/api/sessions", json: #"{"name": "fx", "engine": "fixed"}"#)
            let missing = try await server.get("/api/fx/contacts/999999999")
            #expect(missing.status == 404)
            #expect(missing["kind"] == "not-found")
            #expect(missing["engine"] == "fixed")

            _ = try await server.request(.POST, "/api/sessions", json: #"{"name": "t", "engine": "test"}"#)
            let hung = try await server.request(.POST, "/api/contacts/block", json: #"{"contactId": "1234567", "session": "t"}"#)
            #expect(hung.status == 504)
            #expect(hung["kind"] == "timeout")
            #expect(hung["message"] == "engine \"test\" did not answer contacts.block within 0.3 s")

            let conflict = try await server.request(.PUT, "/api/t/contacts/1234567@c.us", json: #"{"firstName": "A"}"#)
            #expect(conflict.status == 409)
            #expect(conflict["kind"] == "conflict")
            #expect(conflict["message"] == "the contact was edited elsewhere meanwhile")
            #expect(conflict["engine"] == "test")

            let down = try await server.request(.POST, "/api/contacts/unblock", json: #"{"contactId": "1234567", "session": "t"}"#)
            #expect(down.status == 503)
            #expect(down["kind"] == "unavailable")
            #expect(down["message"] == "the address book server is down")

            let malformed = try await server.get("/api/contacts/all?session=t")
            #expect(malformed.status == 502)
            #expect(malformed["kind"] == "internal")
        }
    }
}
