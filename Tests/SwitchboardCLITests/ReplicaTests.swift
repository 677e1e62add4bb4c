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
}
