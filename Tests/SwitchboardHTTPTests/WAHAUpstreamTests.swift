import Foundation
import SwitchboardTestSupport
import Testing

/// One Switchboard fronting two upstream servers through the `waha` plugin, one session each:
/// the upstreams are real `switchboard serve` processes (our API is WAHA's), one serving a
/// session on `local` (every feature), the other on `fixed` (list, get, check-exists).
@Suite("waha sessions in front of two upstream servers with different engines")
struct WAHAUpstreamTests {
    static func config(_ upstream: SwitchboardProcess, session: String) -> String {
        #"{"url": "\#(upstream.url)", "session": "\#(session)", "detectSeconds": 1}"#
    }

    @Test("each session reports its upstream's features, serves its contacts, answers 501 for what its upstream lacks, and swaps upstreams failing no request")
    func twoUpstreams() async throws {
        try await SwitchboardProcess.withServer { full in
            try await SwitchboardProcess.withServer { partial in
                // Both upstreams know this contact (`fixed` has it compiled in), so every answer is a 200.
                try await full.request("PUT", "/api/default/contacts/14155550101@c.us", body: #"{"firstName": "Grace", "lastName": "Hopper"}"#)
                try await partial.request("POST", "/api/sessions", body: #"{"name": "s", "engine": "fixed"}"#)

                try await withServer(pluginFiles: [TestPlugins.product("WAHAEngine")]) { server in
                    let a = try await server.request(.POST, "/api/sessions", json: #"{"name": "a", "engine": "waha", "engineConfig": \#(Self.config(full, session: "default"))}"#)
                    let b = try await server.request(.POST, "/api/sessions", json: #"{"name": "b", "engine": "waha", "engineConfig": \#(Self.config(partial, session: "s"))}"#)
                    #expect(a.status == 201 && b.status == 201, "\(a.text) \(b.text)")

                    let fixedFeatures: Set<String> = ["contacts.list", "contacts.get", "contacts.check-exists"]
                    let served = try await eventually { try await Self.served(server, "b") == fixedFeatures ? true : nil }
                    #expect(served)
                    #expect(try await Self.served(server, "a").count == 12)

                    #expect(try await server.get("/api/contacts?contactId=14155550101&session=a")["name"] == "Grace Hopper")
                    #expect(try await server.get("/api/contacts?contactId=14155550101&session=b")["name"] == "Grace Hopper")
                    let about = try await server.get("/api/contacts/about?contactId=14155550101&session=b")
                    #expect(about.status == 501)
                    #expect(about["engine"] == "waha")
                    #expect(about["feature"] == "contacts.about")
                    #expect(try await server.get("/api/contacts/about?contactId=14155550101&session=a").status == 200)

                    let load = try await underLoad(server, "/api/contacts?contactId=14155550101&session=a", answering: "Grace Hopper") {
                        for round in 0..<10 {
                            let config = round.isMultiple(of: 2) ? Self.config(partial, session: "s") : Self.config(full, session: "default")
                            let swapped = try await server.request(.PUT, "/api/sessions/a", json: #"{"engineConfig": \#(config)}"#)
                            #expect(swapped.status == 200)
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                    #expect(load.failures.withLock { $0 } == [])
                    #expect(load.served.load(ordering: .relaxed) > 50, "the load really overlapped the swaps")
                }
            }
        }
    }

    @Test("a call the server stops waiting for is cancelled through the ABI: the waha engine drops its upstream request", arguments: ["in-process", "process"])
    func cancelledCallEndsUpstreamRequest(isolation: String) async throws {
        let slowEngine = try await TestPlugins.compileOffPool("test_engine.c")
        // The upstream's contacts.about answers after 20 s; the front server waits 2 s.
        let upstream = try await SwitchboardProcess.start(plugin: slowEngine, arguments: ["--call-timeout", "60"])
        defer { upstream.stop() }
        try await upstream.request("POST", "/api/sessions", body: #"{"name": "slow", "engine": "test", "engineConfig": {"aboutDelayMs": 20000}}"#)
        let front = try await SwitchboardProcess.start(arguments: ["--call-timeout", "2"])
        defer { front.stop() }
        let config = #"{"url": "\#(upstream.url)", "session": "slow", "timeoutSeconds": 60}"#
        // In its sandbox the engine reaches the upstream's port only when granted.
        let grant = #""sandbox": {"network": ["127.0.0.1:\#(upstream.port)"]}"#
        try await front.request(
            "POST", "/api/sessions", body: #"{"name": "w", "engine": "waha", "isolation": "\#(isolation)", "engineConfig": \#(config), \#(grant)}"#)

        let late = try await front.answer("GET", "/api/contacts/about?contactId=14155550101&session=w")
        #expect(late.status == 504, "\(late.body)")
        // Uncancelled, the engine's call would wait for the upstream's 20 s answer (or its own
        // 60 s timeout); cancelled, it returns as soon as the front server gives up.
        let returned = try await eventually {
            let session = try JSONSerialization.jsonObject(with: Data(try await front.request("GET", "/api/sessions/w").body.utf8)) as? [String: Any]
            let counters = ((session?["engine"] as? [String: Any])?["health"] as? [String: Any])?["counters"] as? [String: Any]
            return counters?["callsInFlight"] as? Int == 0 ? true : nil
        }
        #expect(returned, "the waha engine still waits on its upstream after the call was given up")
    }

    /// The features a session's instance serves now, from the server's own report.
    static func served(_ server: TestServer, _ session: String) async throws -> Set<String> {
        let features = try await server.get("/api/sessions/\(session)/features")
        return Set((features["endpoints"]?.array ?? []).filter { $0["supported"] == true }.compactMap { $0["feature"]?.string })
    }

    /// Polls `probe` until it answers, for at most ten seconds; false if it never did.
    func eventually(_ probe: () async throws -> Bool?) async throws -> Bool {
        for _ in 0..<100 {
            if try await probe() == true { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
