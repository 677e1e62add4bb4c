import Crypto
import Foundation
import NIOHTTP1
import SwitchboardEngineRuntime
import SwitchboardHTTP
import SwitchboardTestSupport
import Testing

@Suite("Around the API: server routes, engines queries, auth, the OpenAPI document, no 500s")
struct ServerAPITests {
    @Test("ping, version and health answer with their documented shapes")
    func serverRoutes() async throws {
        try await withServer { server in
            #expect(try await server.get("/ping").body == ["message": "pong"])
            let version = try await server.get("/api/server/version")
            #expect(version.body.keys == ["version", "engine", "tier", "browser", "platform", "worker", "abi"])
            #expect(version["version"] == "test")
            #expect(version["engine"] == "local")
            #expect(version["tier"] == "CORE")
            #expect(version["abi"] == "1.3")
            #expect(version["browser"] == "none")
            #expect(version["platform"]?.string?.split(separator: "/").count == 2)
            #expect(version["worker"]?["id"]?.string?.isEmpty == false)
            #expect(try await server.get("/api/version").body == version.body, "the deprecated path answers the same")
            let status = try await server.get("/api/server/status")
            #expect((status["uptime"]?.number ?? -1) >= 0)
            #expect((status["startTimestamp"]?.number ?? 0) > 1_700_000_000_000)
            let health = try await server.get("/health")
            #expect(health["status"] == "ok")
            #expect(health["sessions"] == ["WORKING": 1])
            #expect(health["engines"] == ["loaded": 3, "refused": 0])
            let page = try await server.get("/")
            #expect(page.contentType?.hasPrefix("text/html") == true)
            #expect(page.text.contains("url: \"/-json\""))
        }
    }

    @Test("the environment shows the server's variables, every one with all=true, secrets masked")
    func environment() async throws {
        setenv("SWITCHBOARD_TESTS_API_TOKEN", "hunter2", 1)
        setenv("SWITCHBOARD_TESTS_PLAIN", "shown", 1)
        setenv("OTHER_TESTS_VARIABLE", "elsewhere", 1)
        try await withServer { server in
            let settings = try await server.get("/api/server/environment")
            #expect(settings["SWITCHBOARD_TESTS_API_TOKEN"] == "***")
            #expect(settings["SWITCHBOARD_TESTS_PLAIN"] == "shown")
            #expect(settings["OTHER_TESTS_VARIABLE"] == nil)
            let all = try await server.get("/api/server/environment?all=true")
            #expect(all["OTHER_TESTS_VARIABLE"] == "elsewhere")
            #expect(all["SWITCHBOARD_TESTS_API_TOKEN"] == "***")
            #expect(try await server.get("/api/server/environment?all=1").status == 400)
        }
    }

    @Test("every route the router answers is in the OpenAPI document, and every documented route is served")
    func openAPIMatchesRouter() async throws {
        try await withServer { server in
            let document = try await server.get("/-json")
            #expect(document["openapi"]?.string?.hasPrefix("3.") == true)
            var documented: Set<String> = []
            if case .object(let paths) = document["paths"] ?? .null {
                for (path, operations) in paths {
                    for method in operations.keys { documented.insert("\(method.uppercased()) \(Self.shape(of: path))") }
                }
            }
            let router = SwitchboardServer.router(
                dependencies: ServerDependencies(sessions: server.sessions, version: "test", metrics: ServerMetrics()), options: .init(swaggerUI: SwaggerUI(.folder(SwaggerUIFiles.folder))))
            let routes = Set(router.routes.map { "\($0.method.rawValue) \(Self.shape(of: $0.path.description))" })
            // HEAD is served beside every GET, and only there; the document lists the GETs.
            let heads = routes.filter { $0.hasPrefix("HEAD ") }
            #expect(heads == Set(routes.filter { $0.hasPrefix("GET ") }.map { "HEAD " + $0.dropFirst("GET ".count) }))
            let served = routes.subtracting(heads)
            #expect(served.count >= 25)
            #expect(documented == served, "only documented: \(documented.subtracting(served)); only served: \(served.subtracting(documented))")

            // The features query and the matrix name the same endpoints as the document.
            let features = try await server.get("/api/sessions/default/features")
            let featureEndpoints = Set((features["endpoints"]?.array ?? []).map { "\($0["method"]?.string ?? "") \(Self.shape(of: $0["path"]?.string ?? ""))" })
            #expect(featureEndpoints.count == 13)
            #expect(featureEndpoints.isSubset(of: documented))
        }
    }

    /// `/api/{session}/x` and `/api/:segment2/x` both become `/api/{}/x`.
    private static func shape(of path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") || segment.hasPrefix(":") ? "{}" : String(segment)
        }.joined(separator: "/")
    }

    @Test("engines: the list, one engine, an unknown one, the matrix as JSON and Markdown")
    func enginesQueries() async throws {
        try await withServer { server in
            let list = try await server.get("/api/engines")
            let names = (list.body.array ?? []).compactMap { $0["name"]?.string }
            #expect(Set(names) == ["fixed", "local", "test"])
            let fixed = try await server.get("/api/engines/fixed")
            #expect(fixed["features"] == ["contacts.list", "contacts.get", "contacts.check-exists"].asJSON, "in the feature list's order")
            #expect(fixed["state"] == "loaded")
            #expect(fixed["abiVersion"] == "1.3")
            let unknown = try await server.get("/api/engines/nope")
            #expect(unknown.status == 404)
            #expect(unknown["engine"] == "nope")

            let matrix = try await server.get("/api/engines/matrix")
            let upsert = matrix["features"]?.array?.first { $0["id"] == "contacts.upsert" }
            #expect(upsert?["engines"] == ["fixed": false, "local": true, "test": true])
            let markdown = try await server.get("/api/engines/matrix?format=markdown")
            #expect(markdown.contentType?.hasPrefix("text/markdown") == true)
            #expect(markdown.text.contains("| `PUT /api/{session}/contacts/{chatId}` | `contacts.upsert` |  | ✔️ | ✔️ |"))
            let badFormat = try await server.get("/api/engines/matrix?format=xml")
            #expect(badFormat.status == 400)
            #expect(badFormat["parameter"] == "format")
        }
    }

    @Test("a rescan loads a plugin dropped into the folder while the server runs, and lists a bad one as refused")
    func rescanOverHTTP() async throws {
        let folder = TestPlugins.makeFolder("http-rescan")
        try await withServer(pluginFiles: [], pluginDirectories: [folder]) { server in
            #expect(try await server.get("/api/engines/fixed").status == 404)
            try FileManager.default.copyItem(atPath: TestPlugins.product("FixedEngine"), toPath: "\(folder)/fixed.so")
            try "not a plugin".write(toFile: "\(folder)/broken.so", atomically: true, encoding: .utf8)
            let report = try await server.request(.POST, "/api/engines/rescan")
            #expect(report.status == 200)
            #expect(report["loaded"] == ["fixed"])
            #expect(report["refused"]?.array?.count == 1)
            #expect(try await server.get("/api/engines/fixed")["state"] == "loaded")
            let refused = try await server.get("/api/engines").body.array?.first { $0["state"] == "refused" }
            #expect(refused?["file"]?.string == "\(folder)/broken.so")
            #expect(refused?["reason"] == "not a shared object: no ELF header")

            let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "dropped", "engine": "fixed"}"#)
            #expect(created.status == 201)
            #expect(try await server.get("/api/dropped/contacts/4930555010")["name"] == "Konrad Zuse")
        }
    }

    @Test("with an API key: no key and a wrong key get 401, the right one passes, open routes stay open", arguments: [
        "s3cret-key",
        "sha512:" + SHA512.hash(data: Data("s3cret-key".utf8)).map { String(format: "%02x", $0) }.joined(),
    ])
    func apiKey(configured: String) async throws {
        let key = try #require(APIKey(configured: configured))
        try await withServer(apiKey: key) { server in
            let none = try await server.get("/api/contacts/all")
            #expect(none.status == 401)
            #expect(none["statusCode"] == 401)
            #expect(try await server.get("/api/contacts/all", headers: [("X-Api-Key", "s3cret-kez")]).status == 401)
            #expect(try await server.get("/api/contacts/all", headers: [("X-Api-Key", "s3cret-key")]).status == 200)
            #expect(try await server.get("/api/sessions", headers: [("x-api-key", "s3cret-key")]).status == 200)
            #expect(try await server.get("/ping").status == 200)
            #expect(try await server.get("/-json").status == 200)
            #expect(try await server.get("/").status == 200)
            let document = try await server.get("/-json")
            #expect(document["components"]?["securitySchemes"]?["api_key"]?["name"] == "X-Api-Key")
        }
        #expect(APIKey(configured: "sha512:abc") == nil, "a sha512: key must carry 128 hex digits")
    }

    @Test("garbage on every route answers a JSON 4xx or a documented code, never a 500, and the server keeps serving")
    func noInputReaches500() async throws {
        try await withServer { server in
            let garbage = ["%00", "%FF%FE", String(repeating: "9", count: 400), "..%2F..%2Fetc", "@c.us", "1@", "%20", "null", "-1", "%F0%9F%92%A5"]
            let document = try await server.get("/-json")
            guard case .object(let paths) = document["paths"] ?? .null else {
                Issue.record("no paths in the document")
                return
            }
            var requests = 0
            for (path, operations) in paths {
                for method in operations.keys {
                    for value in garbage {
                        let filled = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: value, options: .regularExpression)
                        let query = "?session=\(value)&contactId=\(value)&phone=\(value)&limit=\(value)&offset=\(value)&sortBy=\(value)&refresh=\(value)"
                        for body in [nil, "{", "[]", #"{"contactId": 5, "firstName": []}"#, "\u{0}"] {
                            let answer = try await server.request(HTTPMethod(rawValue: method.uppercased()), filled + query, json: body)
                            requests += 1
                            #expect(answer.status < 500 || [501, 502, 503, 504].contains(answer.status), "\(method) \(filled) → \(answer.status) \(answer.text)")
                            if answer.status >= 400 {
                                #expect(answer["statusCode"]?.int == answer.status, "\(method) \(filled): \(answer.text)")
                            }
                        }
                    }
                }
            }
            #expect(requests > 1_000)
            #expect(try await server.get("/ping").status == 200)
            #expect(try await server.get("/api/sessions/default")["status"] == "WORKING")
        }
    }
}

extension [String] {
    var asJSON: JSONValue { .array(map { .string($0) }) }
}
