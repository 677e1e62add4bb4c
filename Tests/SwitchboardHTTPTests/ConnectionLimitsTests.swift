import Foundation
import SwitchboardHTTP
import SwitchboardTestSupport
import Testing

/// The limits a connection meets: the body limit (413, and the client still gets the answer),
/// methods a path does not have (405), and the idle timeout. Real clients, real sockets.
@Suite struct ConnectionLimitsTests {
    /// 5 MiB: the size that left urllib hanging.
    static let oversized = 5 * 1024 * 1024

    /// Every operation of the document, its path parameters filled in.
    static func operations(of server: TestServer) async throws -> [(method: String, path: String)] {
        let document = try await server.get("/-json").body
        guard case .object(let paths)? = document["paths"] else { return [] }
        return paths.keys.sorted().flatMap { path -> [(method: String, path: String)] in
            let concrete = path.replacingOccurrences(of: "{session}", with: "default")
                .replacingOccurrences(of: "{engine}", with: "local")
                .replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: "14155550101", options: .regularExpression)
            return (paths[path]?.keys ?? []).sorted().map { (method: $0.uppercased(), path: concrete) }
        }
    }

    /// urllib, which hung before, on every operation; requests on one of each method.
    @Test(arguments: [("urllib", false), ("requests", true)])
    func pythonClientGets413(client: String, oneOfEachMethod: Bool) async throws {
        try PythonTools.require(PythonTools.python)
        try await withServer { server in
            var operations = try await Self.operations(of: server)
            #expect(operations.count > 30)
            if oneOfEachMethod {
                var seen: Set<String> = []
                operations = operations.filter { seen.insert($0.method).inserted }
            }
            let output = try await HeavyTest.run { try await TestPlugins.runOffPool(
                PythonTools.python,
                ["\(PythonTools.scripts)/http_clients.py", client, "http://127.0.0.1:\(server.port)", "\(Self.oversized)"]
                    + operations.flatMap { [$0.method, $0.path] }) }
            let lines = output.split(separator: "\n")
            #expect(lines.count == operations.count, "\(output)")
            for line in lines { #expect(line.hasSuffix(" 413"), "\(line)") }
        }
    }

    @Test(arguments: [["-H", "Expect:"], []])
    func curlGets413WithOrWithoutWaitingForContinue(expect: [String]) async throws {
        try await withServer { server in
            let file = TestPlugins.makeFolder("body") + "/body.json"
            try Data(repeating: UInt8(ascii: "x"), count: Self.oversized).write(to: URL(fileURLWithPath: file))
            for (method, path) in [("PUT", "/api/default/contacts/14155550101@c.us"), ("POST", "/api/sessions"), ("GET", "/ping")] {
                let status = try await HeavyTest.run { try await TestPlugins.runOffPool("/usr/bin/env", [
                    "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "60", "-X", method,
                    "-H", "Content-Type: application/json", "--data-binary", "@\(file)",
                ] + expect + ["http://127.0.0.1:\(server.port)\(path)"]) }
                #expect(status == "413", "\(method) \(path)")
            }
        }
    }

    @Test func nodeFetchGets413() async throws {
        try await withServer { server in
            let script = """
                const body = Buffer.alloc(\(Self.oversized), 120);
                const targets = [["PUT", "/api/default/contacts/14155550101@c.us"], ["POST", "/api/contacts/block"], ["POST", "/api/sessions"]];
                for (const [method, path] of targets) {
                  try {
                    const answer = await fetch("http://127.0.0.1:\(server.port)" + path, {method, body, headers: {"Content-Type": "application/json"}});
                    const json = await answer.json();
                    console.log(method, path, answer.status, json.parameter);
                  } catch (error) { console.log(method, path, "none", error.cause ?? error); }
                }
                """
            let output = try await HeavyTest.run { try await TestPlugins.runOffPool("/usr/bin/env", ["node", "--input-type=module", "-e", script]) }
            let lines = output.split(separator: "\n")
            #expect(lines.count == 3, "\(output)")
            for line in lines { #expect(line.hasSuffix(" 413 body"), "\(line)") }
        }
    }

    /// 1 MiB of header through the Python clients, 8 MiB (what hung a client before) on a raw socket.
    @Test(arguments: [("urllib", 1 << 20), ("requests", 1 << 20), ("socket", 8 << 20)])
    func oversizedHeadersGet431(client: String, size: Int) async throws {
        try PythonTools.require(PythonTools.python)
        try await withServer { server in
            let output = try await HeavyTest.run { try await TestPlugins.runOffPool(
                PythonTools.python, ["\(PythonTools.scripts)/http_clients.py", "big-header", client, "http://127.0.0.1:\(server.port)", "\(size)"]) }
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "431", "\(output)")
            #expect(try await server.get("/ping").status == 200, "the server still serves")
        }
    }

    @Test func curlGets431ForOversizedHeaders() async throws {
        try await withServer { server in
            let file = TestPlugins.makeFolder("header") + "/header.txt"
            try Data(("X-Big: " + String(repeating: "a", count: HeaderLimit.maxBytes + 1)).utf8).write(to: URL(fileURLWithPath: file))
            let status = try await TestPlugins.runOffPool("/usr/bin/env", [
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "60", "-H", "@\(file)", "http://127.0.0.1:\(server.port)/ping",
            ])
            #expect(status == "431")
            let atLimit = try await server.get("/ping", headers: [("X-Fits", String(repeating: "a", count: HeaderLimit.maxBytes / 2))])
            #expect(atLimit.status == 200)
        }
    }

    @Test func aBodyAtTheLimitIsRead() async throws {
        try await withServer { server in
            let padding = String(repeating: " ", count: BodyLimit.maxBytes - 40)
            let atLimit = #"{"firstName": "Ada"\#(padding)}"#
            let answer = try await server.request(.PUT, "/api/default/contacts/14155550101@c.us", json: atLimit)
            #expect(atLimit.utf8.count <= BodyLimit.maxBytes)
            #expect(answer.status == 200, "\(answer.text)")
            let over = try await server.request(.PUT, "/api/default/contacts/14155550101@c.us", json: atLimit + String(repeating: " ", count: 41))
            #expect(over.status == 413)
            #expect(over["parameter"]?.string == "body")
        }
    }

    @Test func aMethodThePathDoesNotHaveIs405WithAllow() async throws {
        try await withServer { server in
            let contacts = try await server.request(.DELETE, "/api/contacts/all")
            #expect(contacts.status == 405)
            let session = try await server.request(.PATCH, "/api/sessions/default")
            #expect(session.status == 405)
            #expect(session["allowed"]?.array?.compactMap(\.string).sorted() == ["DELETE", "GET", "HEAD", "PUT"])
            let raw = try await TestServer.client.execute(
                .init(url: "http://127.0.0.1:\(server.port)/api/sessions/default/start"), timeout: .seconds(30))
            #expect(raw.status.code == 405)
            #expect(raw.headers.first(name: "allow") == "POST")
            #expect(try await server.get("/api/nothing/here/at/all").status == 404)
        }
    }

    /// A slowloris connection, and a kept-alive one after its answer: both closed by the server.
    @Test(arguments: ["unfinished-head", "idle-after-request"])
    func anIdleConnectionIsClosedAfterTheIdleTimeout(mode: String) async throws {
        try PythonTools.require(PythonTools.python)
        try await withServer(timeouts: ConnectionTimeouts(idle: .seconds(1))) { server in
            let output = try await TestPlugins.runOffPool(
                PythonTools.python, ["\(PythonTools.scripts)/http_clients.py", mode, "127.0.0.1", "\(server.port)"])
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "closed")
        }
    }
}
