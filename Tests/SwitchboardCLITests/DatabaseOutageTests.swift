import Foundation
import SwitchboardTestSupport
import Testing

/// A real PostgreSQL stopped the way a crash stops it (`pg_ctl stop -m immediate`) under a real
/// `switchboard serve`, then started again: reads keep answering, writes answer 503 while it is
/// down (a write that hung instead would reach the client's 60 s limit, and the test fails), none
/// of them is applied later, and the server recovers by itself.
@Suite(.serialized) struct DatabaseOutageTests {
    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Polls `condition` until it holds; fails past `limit` (the database's restart and the
    /// client pool's reconnection take a few seconds).
    static func eventually(_ what: String, limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("not seen within \(limit): \(what)")
    }

    @Test func sessionChangesAnswer503WhileTheSessionStoreIsDownAndAreNeverAppliedLater() async throws {
        try await PostgresServer.withServer { postgres in
            let server = try await SwitchboardProcess.start(arguments: ["--store", postgres.url, "--store-timeout", "1"])
            defer { server.stop() }
            try await server.request("POST", "/api/sessions", body: #"{"name": "before", "engine": "fixed"}"#)

            try await postgres.crash()
            // Reads come from memory.
            let listed = try await server.answer("GET", "/api/sessions/before")
            #expect(listed.status == 200 && listed.body.contains(#""status":"WORKING""#), "\(listed.body)")
            #expect(try await server.answer("GET", "/api/before/contacts/14155550100").status == 200)
            // Every kind of change: the first waits out the bound, the rest are refused at once.
            let changes: [(String, String, String?)] = [
                ("POST", "/api/sessions", #"{"name": "during", "engine": "fixed"}"#),
                ("PUT", "/api/sessions/before", #"{"engine": "local"}"#),
                ("POST", "/api/sessions/before/stop", nil),
                ("DELETE", "/api/sessions/before", nil),
            ]
            for (method, path, body) in changes {
                let reply = try await server.answer(method, path, body: body, timeout: .seconds(60))
                #expect(reply.status == 503, "\(method) \(path): \(reply.status) \(reply.body)")
                let message = Self.json(reply.body)["message"] as? String ?? ""
                #expect(message.hasPrefix("session store unavailable"), "\(message)")
                #expect(message.contains("not applied"), "\(message)")
            }
            let unchanged = try await server.answer("GET", "/api/sessions/before")
            #expect(unchanged.body.contains(#""engine":"fixed""#) && unchanged.body.contains(#""status":"WORKING""#), "\(unchanged.body)")

            try await postgres.start()
            try await Self.eventually("a session created once PostgreSQL is back") {
                try await server.answer("POST", "/api/sessions", body: #"{"name": "after", "engine": "fixed"}"#).status == 201
            }
            #expect(server.output.contains("session store unavailable"), "the outage is logged")
            #expect(server.output.contains("session store answers again"), "and its end")

            // What the store holds, read by a server that starts now: the refused changes are not there.
            let fresh = try await SwitchboardProcess.start(arguments: ["--store", postgres.url])
            defer { fresh.stop() }
            #expect(try await fresh.answer("GET", "/api/sessions/during").status == 404)
            #expect(try await fresh.answer("GET", "/api/sessions/after").status == 200)
            let before = try await fresh.answer("GET", "/api/sessions/before")
            #expect(before.body.contains(#""engine":"fixed""#) && before.body.contains(#""status":"WORKING""#), "\(before.body)")
            // Nor did a refused change reach the first server later.
            #expect(try await server.answer("GET", "/api/sessions/during").status == 404)
        }
    }

    /// A `local` session's address book on a PostgreSQL that goes down: its contacts are still
    /// read, its health says why it is degraded, writes answer 503, and nothing acknowledged is lost.
    @Test func aLocalAddressBookOnPostgreSQLServesReadsFromItsSnapshotWhileTheDatabaseIsDown() async throws {
        try await PostgresServer.withServer { postgres in
            let server = try await SwitchboardProcess.start()
            defer { server.stop() }
            try await server.request("POST", "/api/sessions", body: #"{"name": "book", "engine": "local", "engineConfig": {"postgres": "\#(postgres.url)"}}"#)
            try await server.request("PUT", "/api/book/contacts/14155550101@c.us", body: #"{"firstName": "Ada"}"#)
            #expect(try await server.answer("GET", "/api/book/contacts/14155550101@c.us").body.contains(#""name":"Ada""#))

            try await postgres.crash()
            // Past a second, each read is due to compare the database's version: it cannot, and still answers.
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(1_100))
                let read = try await server.answer("GET", "/api/book/contacts/14155550101@c.us", timeout: .seconds(60))
                #expect(read.status == 200 && read.body.contains(#""name":"Ada""#), "\(read.status) \(read.body)")
            }
            let health = Self.json(try await server.answer("GET", "/api/sessions/book").body)
            let status = (health["engine"] as? [String: Any])?["health"] as? [String: Any]
            #expect(status?["health"] as? String == "degraded", "\(health)")
            #expect((status?["message"] as? String)?.contains("snapshot") == true, "\(health)")
            let write = try await server.answer("PUT", "/api/book/contacts/14155550102@c.us", body: #"{"firstName": "Grace"}"#, timeout: .seconds(60))
            #expect(write.status == 503, "\(write.status) \(write.body)")

            try await postgres.start()
            try await Self.eventually("a write once PostgreSQL is back") {
                try await server.answer("PUT", "/api/book/contacts/14155550103@c.us", body: #"{"firstName": "Edsger"}"#).status == 200
            }
            let recovered = Self.json(try await server.answer("GET", "/api/sessions/book").body)
            #expect(((recovered["engine"] as? [String: Any])?["health"] as? [String: Any])?["health"] as? String == "ok", "\(recovered)")
            // Read afresh from the database by a second session on it: the acknowledged writes are there.
            try await server.request("POST", "/api/sessions", body: #"{"name": "again", "engine": "local", "engineConfig": {"postgres": "\#(postgres.url)"}}"#)
            #expect(try await server.answer("GET", "/api/again/contacts/14155550101@c.us").body.contains(#""name":"Ada""#))
            #expect(try await server.answer("GET", "/api/again/contacts/14155550103@c.us").body.contains(#""name":"Edsger""#))
        }
    }
}
