import Foundation
import SwitchboardHTTP
import SwitchboardTestSupport
import Testing

/// `GET /metrics` as Prometheus reads it: the exposition is parsed by prometheus_client's own
/// parser (pinned in `.venv`), and the counts are those of the calls the test really made.
@Suite struct MetricsTests {
    struct Sample: Decodable {
        let family: String
        let type: String
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// The samples of the server's exposition, as the Python parser reads them.
    static func scrape(_ server: TestServer, headers: [(String, String)] = []) async throws -> [Sample] {
        try PythonTools.require(PythonTools.python)
        let answer = try await server.get("/metrics", headers: headers)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
        let file = "\(TestPlugins.makeFolder("metrics"))/exposition.txt"
        try answer.text.write(toFile: file, atomically: true, encoding: .utf8)
        let json = try await TestPlugins.runOffPool(PythonTools.python, ["\(PythonTools.scripts)/prometheus_samples.py", file])
        return try JSONDecoder().decode([Sample].self, from: Data(json.utf8))
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
    }

    @Test func callsAreCountedPerEngineAndFeatureWithTheirLatency() async throws {
        try await withServer { server in
            #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "fx", "engine": "fixed"}"#).status == 201)
            let put = try await server.request(.PUT, "/api/default/contacts/14155550101@c.us", json: #"{"firstName": "Ada"}"#)
            #expect(put.status == 200)
            for _ in 0..<3 { #expect(try await server.get("/api/default/contacts/14155550101@c.us").status == 200) }
            for _ in 0..<2 { #expect(try await server.get("/api/fx/contacts/14155550100").status == 200) }
            #expect(try await server.get("/api/fx/lids").status == 501)

            let samples = try await Self.scrape(server)
            let calls = "switchboard_engine_calls_total"
            #expect(Self.value(samples, calls, ["engine": "local", "feature": "contacts.upsert", "outcome": "ok"]) == 1)
            #expect(Self.value(samples, calls, ["engine": "local", "feature": "contacts.get", "outcome": "ok"]) == 3)
            #expect(Self.value(samples, calls, ["engine": "fixed", "feature": "contacts.get", "outcome": "ok"]) == 2)
            #expect(Self.value(samples, calls, ["engine": "fixed", "feature": "lids.list", "outcome": "unsupported"]) == 1)
            #expect(samples.first { $0.name == calls }?.type == "counter")

            // The latency histogram has every call of each engine and feature, in seconds.
            let latency = "switchboard_engine_call_duration_seconds"
            #expect(samples.first { $0.family == latency }?.type == "histogram")
            #expect(Self.value(samples, "\(latency)_count", ["engine": "local", "feature": "contacts.get"]) == 3)
            #expect(Self.value(samples, "\(latency)_count", ["engine": "fixed", "feature": "contacts.get"]) == 2)
            #expect(Self.value(samples, "\(latency)_bucket", ["engine": "local", "feature": "contacts.get", "le": "+Inf"]) == 3)
            let sum = try #require(Self.value(samples, "\(latency)_sum", ["engine": "local", "feature": "contacts.get"]))
            #expect(sum > 0 && sum < 10, "seconds, not nanoseconds: \(sum)")

            // Requests by declared route and status.
            let requests = "switchboard_http_requests_total"
            #expect(Self.value(samples, requests, ["method": "GET", "route": "/api/{session}/contacts/{chatId}", "status": "200"]) == 5)
            #expect(Self.value(samples, requests, ["method": "GET", "route": "/api/{session}/lids", "status": "501"]) == 1)
            #expect(Self.value(samples, requests, ["method": "PUT", "route": "/api/{session}/contacts/{chatId}", "status": "200"]) == 1)
            #expect(Self.value(samples, requests, ["method": "POST", "route": "/api/sessions", "status": "201"]) == 1)

            // Sessions by engine and status, and the engines registered.
            #expect(Self.value(samples, "switchboard_sessions", ["engine": "local", "status": "WORKING"]) == 1)
            #expect(Self.value(samples, "switchboard_sessions", ["engine": "fixed", "status": "WORKING"]) == 1)
            #expect(Self.value(samples, "switchboard_sessions", ["engine": "fixed", "status": "STOPPED"]) == 0)
            let loads = "switchboard_plugin_loads_total"
            #expect(Self.value(samples, loads, ["engine": "local", "kind": "embedded"]) == 1)
            #expect(Self.value(samples, loads, ["engine": "fixed", "kind": "loaded"]) == 1)

            // A stop moves the session's count from WORKING to STOPPED.
            #expect(try await server.request(.POST, "/api/sessions/fx/stop").status == 201)
            let after = try await Self.scrape(server)
            #expect(Self.value(after, "switchboard_sessions", ["engine": "fixed", "status": "WORKING"]) == 0)
            #expect(Self.value(after, "switchboard_sessions", ["engine": "fixed", "status": "STOPPED"]) == 1)
        }
    }

    @Test func aRefusedPluginAndAnUnknownPathAreCounted() async throws {
        let folder = TestPlugins.makeFolder("refused")
        try Data("not an ELF file".utf8).write(to: URL(fileURLWithPath: "\(folder)/libBroken.so"))
        try await withServer(pluginFiles: [], pluginDirectories: [folder]) { server in
            #expect(try await server.get("/api/no/such/path/here").status == 404)
            let samples = try await Self.scrape(server)
            #expect(Self.value(samples, "switchboard_plugin_refusals_total", [:]) == 1)
            #expect(Self.value(samples, "switchboard_http_requests_total", ["route": "unmatched", "status": "404"]) == 1)
        }
    }

    @Test func metricsNeedTheKeyUnlessPublic() async throws {
        try await withServer(apiKey: .init(configured: "key")) { server in
            #expect(try await server.get("/metrics").status == 401)
            _ = try await Self.scrape(server, headers: [("X-Api-Key", "key")])
        }
        try await withServer(apiKey: .init(configured: "key"), metricsPublic: true) { server in
            _ = try await Self.scrape(server)
            #expect(try await server.get("/api/sessions").status == 401)
        }
    }
}
