import Foundation
import Synchronization
import SwitchboardTestSupport
import Testing

/// Two `switchboard serve` processes on one real PostgreSQL (a throwaway cluster of the test's
/// own): what one replica changes, the other serves, within a second, failing no request.
@Suite(.serialized) struct ReplicaTests {
    static func replicas<T>(_ body: (SwitchboardProcess, SwitchboardProcess, PostgresServer) async throws -> T) async throws -> T {
        try await PostgresServer.withServer { postgres in
            let a = try await SwitchboardProcess.start(arguments: ["--store", postgres.url])
            defer { a.stop() }
            // The second by the environment variable, the way a deployment would set it.
            let b = try await SwitchboardProcess.start(environment: ["SWITCHBOARD_STORE": postgres.url])
            defer { b.stop() }
            return try await body(a, b, postgres)
        }
    }

    static func engine(of session: String, on server: SwitchboardProcess) async throws -> String? {
        let reply = try await server.answer("GET", "/api/sessions/\(session)")
        guard reply.status == 200, let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any] else { return nil }
        return (object["engine"] as? [String: Any])?["engine"] as? String
    }

    /// How long until `server` serves `session` on `engine`; fails past `limit`.
    static func timeUntil(
        _ session: String, runs engine: String, on server: SwitchboardProcess, limit: Duration = .seconds(1)
    ) async throws -> Duration {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await Self.engine(of: session, on: server) == engine { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw SwitchboardProcess.Failure(description: "\(session) not on \(engine) within \(limit): \(try await server.answer("GET", "/api/sessions/\(session)").body)")
    }

    @Test func aSessionCreatedOnOneReplicaAnswersOnTheOther() async throws {
        try await Self.replicas { a, b, _ in
            #expect(try await Self.engine(of: "default", on: b) == "local", "both restored the one default session")
            try await a.request("POST", "/api/sessions", body: #"{"name": "shared", "engine": "fixed"}"#)
            _ = try await Self.timeUntil("shared", runs: "fixed", on: b)
            let contact = try await b.answer("GET", "/api/shared/contacts/14155550100")
            #expect(contact.status == 200, "\(contact.body)")

            // Stopped and deleted on B: A follows.
            try await b.request("POST", "/api/sessions/shared/stop")
            try await Self.waitFor(on: a) { try await a.answer("GET", "/api/sessions/shared").body.contains(#""status":"STOPPED""#) }
            try await b.request("DELETE", "/api/sessions/shared")
            try await Self.waitFor(on: a) { try await a.answer("GET", "/api/sessions/shared").status == 404 }
        }
    }

    @Test func aCompositeChangedOnOneReplicaIsServedByTheOtherWithItsMembersAndRoutes() async throws {
        try await Self.replicas { a, b, _ in
            let body = #"{"name": "mixed", "members": [{"name": "dir", "engine": "fixed"}, {"name": "book", "engine": "local"}], "routes": {"contacts.get": ["dir", "book"], "*": ["book"]}}"#
            try await a.request("POST", "/api/sessions", body: body)
            _ = try await Self.timeUntil("mixed", runs: "composite", on: b)
            #expect(try await b.answer("GET", "/api/mixed/contacts/14155550100").status == 200, "served by dir, which knows it")
            func servedBy(_ feature: String, on server: SwitchboardProcess) async throws -> String? {
                let reply = try await server.answer("GET", "/api/sessions/mixed/features")
                let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
                return ((object?["routing"] as? [String: Any])?[feature] as? [String: Any])?["servedBy"] as? String
            }
            #expect(try await servedBy("contacts.get", on: b) == "dir")
            // Routes alone change on A: B swaps to the new composition.
            try await a.request("PUT", "/api/sessions/mixed", body: #"{"routes": {"*": ["book"]}}"#)
            try await Self.waitFor(on: b) { try await servedBy("contacts.get", on: b) == "book" }
            try await a.request("PUT", "/api/sessions/mixed", body: #"{"members": [{"name": "book", "engine": "fixed"}]}"#)
            try await Self.waitFor(on: b) {
                let reply = try await b.answer("GET", "/api/sessions/mixed")
                let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
                let members = (object?["engine"] as? [String: Any])?["members"] as? [[String: Any]]
                return members?.count == 1 && members?[0]["engine"] as? String == "fixed" && members?[0]["version"] != nil
            }
        }
    }

    static func waitFor(on server: SwitchboardProcess, limit: Duration = .seconds(1), _ condition: () async throws -> Bool) async throws {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("not seen on port \(server.port) within \(limit)")
    }

    final class Tally: Sendable {
        let served = Mutex(0)
        let failures = Mutex<[String]>([])
    }

    @Test func aSwapOnOneReplicaIsServedByTheOtherWithinASecondFailingNoRequest() async throws {
        try await Self.replicas { a, b, _ in
            try await a.request("POST", "/api/sessions", body: #"{"name": "swapped", "engine": "local"}"#)
            _ = try await Self.timeUntil("swapped", runs: "local", on: b)

            // A bounded load on both replicas while A swaps the session's engine.
            let tally = Tally()
            let loadEnds = ContinuousClock.now + .seconds(3)
            try await withThrowingTaskGroup { group in
                for server in [a, b] {
                    group.addTask {
                        while ContinuousClock.now < loadEnds {
                            let reply = try await server.answer("GET", "/api/swapped/contacts/14155550100")
                            if reply.status == 200 { tally.served.withLock { $0 += 1 } } else {
                                tally.failures.withLock { $0.append("port \(server.port): \(reply.status) \(reply.body)") }
                            }
                        }
                    }
                }
                try await Task.sleep(for: .seconds(1))
                try await a.request("PUT", "/api/sessions/swapped", body: #"{"engine": "fixed"}"#)
                let seen = try await Self.timeUntil("swapped", runs: "fixed", on: b)
                #expect(seen < .seconds(1))
                try await group.waitForAll()
            }
            #expect(tally.failures.withLock { $0 } == [])
            #expect(tally.served.withLock { $0 } > 20, "the load ran")
            let answer = try await b.answer("GET", "/api/swapped/contacts/14155550100").body
            #expect(answer == (try await a.answer("GET", "/api/swapped/contacts/14155550100").body), "both on fixed now")
        }
    }

    @Test func twoReplicasRacingOnOneSessionConverge() async throws {
        try await Self.replicas { a, b, _ in
            try await a.request("POST", "/api/sessions", body: #"{"name": "raced", "engine": "local"}"#)
            _ = try await Self.timeUntil("raced", runs: "local", on: b)
            for round in 0..<5 {
                let (onA, onB) = round.isMultiple(of: 2) ? ("fixed", "local") : ("local", "fixed")
                async let left = a.answer("PUT", "/api/sessions/raced", body: #"{"engine": "\#(onA)"}"#)
                async let right = b.answer("PUT", "/api/sessions/raced", body: #"{"engine": "\#(onB)"}"#)
                let statuses = [try await left.status, try await right.status]
                #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(statuses)")
                // Whoever wrote last, both end up serving what the store holds.
                try await Self.waitFor(on: b) {
                    let onA = try await Self.engine(of: "raced", on: a), onB = try await Self.engine(of: "raced", on: b)
                    return onA != nil && onA == onB
                }
            }
        }
    }

    /// The contact's name as `server` serves it, nil when it has none (or is not in the address book).
    static func name(of contact: String, in session: String, on server: SwitchboardProcess) async throws -> String? {
        let reply = try await server.answer("GET", "/api/\(session)/contacts/\(contact)")
        guard reply.status == 200, let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any] else {
            throw SwitchboardProcess.Failure(description: "GET \(contact) on port \(server.port): \(reply.status) \(reply.body)")
        }
        return object["name"] as? String
    }

    /// A `local` session on both replicas whose address book is the cluster's PostgreSQL.
    static func sharedBook(_ a: SwitchboardProcess, _ b: SwitchboardProcess, _ postgres: PostgresServer) async throws {
        try await a.request("POST", "/api/sessions", body: #"{"name": "book", "engine": "local", "engineConfig": {"postgres": "\#(postgres.url)"}}"#)
        _ = try await Self.timeUntil("book", runs: "local", on: b)
    }

    @Test func aContactWrittenThroughOneReplicaIsReadThroughTheOther() async throws {
        try await Self.replicas { a, b, postgres in
            try await Self.sharedBook(a, b, postgres)
            // B has loaded the address book before the write, so it must notice the change, not just load it.
            #expect(try await Self.name(of: "4915112345678@c.us", in: "book", on: b) == nil)
            try await a.request("PUT", "/api/book/contacts/4915112345678@c.us", body: #"{"firstName": "Ada", "lastName": "Lovelace"}"#)
            let written = ContinuousClock.now
            // The engine compares the database's version at most once a second: seen by then,
            // give or take the reload itself.
            try await Self.waitFor(on: b, limit: .milliseconds(1_300)) {
                try await Self.name(of: "4915112345678@c.us", in: "book", on: b) == "Ada Lovelace"
            }
            #expect(ContinuousClock.now - written < .milliseconds(1_300))

            // And back: B blocks, A serves the block.
            try await b.request("POST", "/api/contacts/block", body: #"{"session": "book", "contactId": "4915112345678@c.us"}"#)
            try await Self.waitFor(on: a, limit: .milliseconds(1_300)) {
                try await a.answer("GET", "/api/book/contacts/4915112345678@c.us").body.contains(#""isBlocked":true"#)
            }
        }
    }

    /// The ids whose PUT answered 200, in order.
    final class Acknowledged: Sendable {
        let ids = Mutex<[String]>([])
    }

    @Test func killingAReplicaRightAfterAnAcknowledgedWriteLosesNoAcknowledgedWrite() async throws {
        try await Self.replicas { a, b, postgres in
            try await Self.sharedBook(a, b, postgres)
            // Four writers on A; A is killed the moment the 40th write is acknowledged, with
            // writes still in flight. Only acknowledged ones are owed.
            let acknowledged = Acknowledged()
            await withTaskGroup { group in
                for writer in 0..<4 {
                    group.addTask {
                        for i in 0..<1_000 {
                            let id = "4930\(writer)\(String(format: "%06d", i))@c.us"
                            guard let reply = try? await a.answer("PUT", "/api/book/contacts/\(id)", body: #"{"firstName": "W\#(writer)-\#(i)"}"#),
                                  reply.status == 200 else { return }
                            let count = acknowledged.ids.withLock { $0.append(id); return $0.count }
                            if count == 40 { a.signal(SIGKILL) }
                        }
                    }
                }
            }
            let owed = acknowledged.ids.withLock { $0 }
            #expect(owed.count >= 40)
            #expect((try? await a.answer("GET", "/ping", timeout: .seconds(1))) == nil, "A is gone")
            try await Task.sleep(for: .milliseconds(1_100))
            for id in owed {
                let name = try await Self.name(of: id, in: "book", on: b)
                #expect(name?.hasPrefix("W") == true, "acknowledged \(id) lost on B")
            }
        }
    }
}
