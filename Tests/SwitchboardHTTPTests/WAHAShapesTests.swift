import Foundation
import LocalEngineCore
import NIOHTTP1
import SwitchboardTestSupport
import Testing

/// What WAHA's shapes mean here, beyond validating as WAHA's models (WAHACompatibilityTests):
/// the session sub-resources, the deprecated body forms, and the contacts answers that follow WAHA.
@Suite struct WAHAShapesTests {
    @Test func sessionInfoHasWAHAsFieldsAndOurs() async throws {
        try await withServer { server in
            let session = try await server.get("/api/sessions/default").body
            #expect(session.keys == ["name", "status", "config", "engine", "failure", "me", "presence", "timestamps"])
            #expect(session["me"] == .null)
            #expect(session["presence"] == [:])
            #expect((session["timestamps"]?["activity"]?.number ?? 0) > 1_700_000_000_000)
            #expect(session["engine"]?["engine"] == "local")
            #expect(try await server.get("/api/sessions/default?expand=apps")["apps"] == [])
            #expect(try await server.get("/api/sessions?expand=apps").body[0]?["apps"] == [])
            #expect(try await server.get("/api/sessions/default?expand=other").status == 400)

            // Activity moves with what the API does with the session.
            let before = session["timestamps"]?["activity"]?.number ?? 0
            _ = try await server.get("/api/contacts/all?session=default")
            let after = try await server.get("/api/sessions/default")["timestamps"]?["activity"]?.number ?? 0
            #expect(after >= before)

            #expect(try await server.get("/api/sessions/default/me").text == "null")
            #expect(try await server.get("/api/sessions/default/capping")["cappingStatus"] == "NONE")
            #expect(try await server.get("/api/sessions/default/timelock")["isActive"] == false)
            for path in ["me", "capping", "timelock"] { #expect(try await server.get("/api/sessions/nobody/\(path)").status == 404) }
        }
    }

    @Test func logoutRestartsAndTheDeprecatedFormsUpsertStopAndDelete() async throws {
        try await withServer { server in
            let logout = try await server.request(.POST, "/api/sessions/default/logout")
            #expect(logout.status == 201)
            #expect(logout["status"] == "WORKING")
            #expect(try await server.request(.POST, "/api/sessions/default/logout", json: "[1]").status == 400)

            let created = try await server.request(.POST, "/api/sessions/start", json: #"{"name": "legacy", "config": {"debug": true}}"#)
            #expect(created.status == 201)
            #expect(created["status"] == "WORKING")
            #expect(created["engine"]?["engine"] == "local")
            let updated = try await server.request(.POST, "/api/sessions/start", json: #"{"name": "legacy", "config": {"debug": false}}"#)
            #expect(updated["config"] == ["debug": false])

            let stopped = try await server.request(.POST, "/api/sessions/stop", json: #"{"name": "legacy", "logout": true}"#)
            #expect(stopped.status == 201)
            #expect(stopped["status"] == "STOPPED")
            #expect(try await server.request(.POST, "/api/sessions/default/logout").status == 201)

            let deleted = try await server.request(.POST, "/api/sessions/logout", json: #"{"name": "legacy"}"#)
            #expect(deleted.status == 201)
            #expect(try await server.get("/api/sessions/legacy").status == 404)
            #expect(try await server.request(.POST, "/api/sessions/stop", json: #"{"name": "legacy"}"#).status == 404)
            #expect(try await server.request(.POST, "/api/sessions/start", json: #"{}"#)["parameter"] == "name")
            #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "apps", "apps": [{"app": "calls"}]}"#)["parameter"] == "apps")
            // The deprecated routes take these names' paths, so no session may have them.
            for name in ["start", "stop", "logout"] {
                #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "\#(name)"}"#).status == 400, "\(name)")
            }
        }
    }

    @Test func contactsAnswerAsWAHADoesForPnAndLids() async throws {
        let database = TestPlugins.makeFolder("seed") + "/seeded.sqlite"
        let seed = try JSONDecoder().decode(LocalSeed.self, from: Data(#"""
            {"contacts": [{"id": "5511987654321", "name": "Ana"}], "accounts": ["14155550100"],
             "lids": [{"lid": "222@lid", "pn": "5511987654321@c.us"}]}
            """#.utf8))
        _ = try LocalSeedImporter.importSeed(seed, intoDatabaseAt: database)
        try await withServer { server in
            #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "s", "engineConfig": {"database": "\#(database)"}}"#).status == 201)

            let exists = try await server.get("/api/contacts/check-exists?phone=14155550100&session=s")
            #expect(exists.body == ["numberExists": true, "chatId": "14155550100@c.us", "pn": "14155550100@c.us"])

            // PUT with an @lid: the contact of the phone number the LID maps to.
            let put = try await server.request(.PUT, "/api/s/contacts/222@lid", json: #"{"firstName": "Ana Maria"}"#)
            #expect(put.status == 200, "\(put.text)")
            #expect(try await server.get("/api/s/contacts/5511987654321")["name"]?.string?.hasPrefix("Ana Maria") == true)
            let unknown = try await server.request(.PUT, "/api/s/contacts/999@lid", json: #"{"firstName": "Nobody"}"#)
            #expect(unknown.status == 404)
            #expect(unknown["parameter"] == "chatId")
            #expect(try await server.request(.PUT, "/api/s/contacts/5511987654321", json: #"{"firstName": " "}"#).status == 400)
            #expect(try await server.request(.PUT, "/api/s/contacts/5511987654321", json: #"{"firstName": null, "lastName": "x"}"#).status == 400)

            // lids/pn with an @lid input: WAHA's {lid: input, pn: null}.
            #expect(try await server.get("/api/s/lids/pn/222@lid").body == ["lid": "222@lid", "pn": .null])
            #expect(try await server.get("/api/s/lids/pn/5511987654321").body == ["lid": "222@lid", "pn": "5511987654321@c.us"])

            // An engine without LIDs: the @lid forms answer 501 naming the feature.
            #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "dir", "engine": "fixed"}"#).status == 201)
            let noLids = try await server.request(.PUT, "/api/dir/contacts/222@lid", json: #"{"firstName": "Ana"}"#)
            #expect(noLids.status == 501)
            #expect(try await server.get("/api/dir/lids/pn/222@lid").status == 501)
        }
    }
}
