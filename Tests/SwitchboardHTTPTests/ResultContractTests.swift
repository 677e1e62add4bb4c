import Foundation
import NIOHTTP1
import SwitchboardTestSupport
import Testing

/// A result that breaks the contract is the engine's fault, not something to pass on to a client
/// that trusts the API's promises: 502, naming the engine and what was wrong, counted in the
/// session's status. The engine is a real C plugin whose every answer breaks one promise.
@Suite("Results that break the contract answer 502")
struct ResultContractTests {
    @Test("a page longer than limit, an invalid id, wrong types, a non-object upsert result, malformed LIDs")
    func contractBreaks() async throws {
        let plugin = try await TestPlugins.compileOffPool("contract_breaking_engine.c")
        try await withServer(pluginFiles: [plugin]) { server in
            let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "b", "engine": "breaker"}"#)
            #expect((200..<300).contains(created.status), "\(created.text)")

            let cases: [(method: HTTPMethod, path: String, json: String?, says: String)] = [
                (.GET, "/api/contacts/all?session=b&limit=2", nil, "broke the contract of contacts.list: 3 contacts for limit 2"),
                (.GET, "/api/contacts?session=b&contactId=14155550100", nil, #"broke the contract of contacts.get: invalid chat id "12ab@c.us""#),
                (.GET, "/api/contacts/check-exists?session=b&phone=14155550100", nil, "answered contacts.check-exists with a malformed result: numberExists: expected Bool"),
                (.PUT, "/api/b/contacts/14155550100@c.us", #"{"firstName": "Ada"}"#, "broke the contract of contacts.upsert: the result is not a JSON object"),
                (.GET, "/api/b/lids?limit=5", nil, #"broke the contract of lids.list: invalid pn "not-a-number""#),
                (.GET, "/api/b/lids/111@lid", nil, #"broke the contract of lids.get-by-lid: invalid lid "111""#),
            ]
            for (method, path, json, says) in cases {
                let answer = try await server.request(method, path, json: json)
                #expect(answer.status == 502, "\(path): \(answer.status) \(answer.text)")
                #expect(answer["engine"] == "breaker", "\(path): \(answer.text)")
                #expect(answer["message"]?.string == "engine \"breaker\" \(says)", "\(path): \(answer.text)")
            }

            let session = try await server.get("/api/sessions/b")
            #expect(session["engine"]?["health"]?["counters"]?["host.contractBreaks"]?.int == cases.count, "\(session.text)")
        }
    }

    @Test("check-exists saying a number exists under another number's chatId is a 502, never copied into pn")
    func checkExistsNamesTheNumberAskedAbout() async throws {
        let plugin = try await TestPlugins.compileOffPool("honest_engine.c", defines: ["CHECK_EXISTS_OTHER"], libraries: ["-ljansson"])
        try await withServer(pluginFiles: [plugin]) { server in
            let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "liar", "engine": "honest"}"#)
            #expect((200..<300).contains(created.status), "\(created.text)")
            let answer = try await server.request(.GET, "/api/contacts/check-exists?session=liar&phone=12025550123", json: nil)
            #expect(answer.status == 502, "\(answer.text)")
            #expect(answer["message"]?.string == "engine \"honest\" broke the contract of contacts.check-exists: asked about 12025550123, answered chatId 33612345678@c.us",
                    "\(answer.text)")
            let absent = try await server.request(.GET, "/api/contacts/check-exists?session=liar&phone=12025550199", json: nil)
            #expect(absent.status == 200, "a number that does not exist has no chatId to check: \(absent.text)")
        }
    }
}
