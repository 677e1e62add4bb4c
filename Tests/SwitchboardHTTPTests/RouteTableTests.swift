import ContactsEngineKit
import Foundation
import NIOHTTP1
import SwitchboardTestSupport
import Testing

@testable import SwitchboardHTTP

/// The route declarations are the one source: the router serves exactly the operations the
/// OpenAPI document lists, and docs/api.md's route and error tables say the same.
@Suite struct RouteTableTests {
    static let methods: [HTTPMethod] = [.GET, .POST, .PUT, .DELETE, .PATCH]

    static func documented(_ server: TestServer) async throws -> [String: Set<String>] {
        guard case .object(let paths)? = try await server.get("/-json").body["paths"] else { return [:] }
        return paths.mapValues { Set($0.keys.map { $0.uppercased() }) }
    }

    /// Feature.swift's endpoints are the one list of what each feature answers; the routes that
    /// declare a feature must be exactly those (the names of path parameters aside: the OpenAPI
    /// document gives GET and PUT of one path one name, `{chatId}`, where WAHA writes `{id}`).
    @Test func eachFeaturesEndpointsAreTheRoutesThatDeclareIt() {
        func shape(_ method: String, _ path: String) -> String {
            "\(method) " + path.replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: "{}", options: .regularExpression)
        }
        let routes = ContactsRoutes.all + SessionsRoutes.all + PairingRoutes.all + EnginesRoutes.all
        for feature in Feature.allCases {
            let declared = Set(routes.filter { $0.feature == feature }.map { shape($0.method.rawValue, $0.path) })
            let listed = Set(feature.endpoints.map { shape($0.method.rawValue, $0.path) })
            #expect(declared == listed, "\(feature.rawValue): routes \(declared.sorted()), Feature.swift \(listed.sorted())")
        }
    }

    static func concrete(_ path: String) -> String {
        path.replacingOccurrences(of: "{session}", with: "default").replacingOccurrences(of: "{engine}", with: "local")
            .replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: "14155550101", options: .regularExpression)
    }

    /// Every method of every documented path is served (not the router's 404 or a 405), and
    /// every other method of that path is a 405 whose `Allow` lists the documented ones.
    @Test func theRouterServesExactlyTheDocumentedOperations() async throws {
        try await withServer { server in
            // Two documented paths may be one concrete path (`{id}` for GET, `{chatId}` for PUT).
            var documented: [String: Set<String>] = [:]
            for (path, methods) in try await Self.documented(server) { documented[Self.concrete(path), default: []].formUnion(methods) }
            #expect(documented.count > 25)
            for (path, methods) in documented {
                for method in Self.methods {
                    // A body is enough for every route that reads one; what it says does not matter here.
                    let answer = try await server.request(method, path, json: method == .GET ? nil : "{}")
                    if methods.contains(method.rawValue) {
                        #expect(answer.status != 405 && !(answer.message?.hasPrefix("Cannot") ?? false), "\(method) \(path): \(answer.text)")
                    } else {
                        #expect(answer.status == 405, "\(method) \(path)")
                        // HEAD is answered wherever GET is, undocumented (api.md's conventions say so).
                        let allowed = methods.contains("GET") ? methods.union(["HEAD"]) : methods
                        #expect(Set(answer["allowed"]?.array?.compactMap(\.string) ?? []) == allowed, "\(method) \(path)")
                    }
                }
            }
        }
    }

    static func shape(_ route: String) -> String {
        route.replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: "{}", options: .regularExpression)
    }

    /// `METHOD /path` cells of docs/api.md's tables, in the sections that list routes.
    static func docsRoutes() throws -> Set<String> {
        let text = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/docs/api.md", encoding: .utf8)
        let regex = try Regex(#"^\| `(GET|POST|PUT|DELETE|PATCH) (/[^` ]*)`"#).anchorsMatchLineEndings()
        var routes: Set<String> = []
        for line in text.split(separator: "\n") where !line.contains("not served") {
            if let match = try regex.firstMatch(in: String(line)), let method = match.output[1].substring, let path = match.output[2].substring {
                routes.insert("\(method) \(path)")
            }
        }
        return routes
    }

    @Test func docsRouteTablesListEveryOperationAndNoOther() async throws {
        try await withServer { server in
            // Compared by shape: docs/api.md spells WAHA's `{id}` where the document has `{chatId}`.
            let documented = Set(try await Self.documented(server).flatMap { path, methods in methods.map { "\($0) \(Self.shape(path))" } })
            let docs = Set(try Self.docsRoutes().map(Self.shape))
            #expect(documented.subtracting(docs).sorted() == [], "operations missing from docs/api.md")
            #expect(docs.subtracting(documented).sorted() == [], "docs/api.md lists routes the server does not have")
        }
    }

    /// Every status an operation documents has a row in docs/api.md's error table, and every
    /// row is a status some operation answers (or one the connection itself answers).
    @Test func docsErrorTableHasEveryDocumentedStatus() async throws {
        try await withServer(apiKey: .init(configured: "key")) { server in
            let document = try await server.get("/-json", headers: [("X-Api-Key", "key")]).body
            var statuses: Set<Int> = []
            if case .object(let paths)? = document["paths"] {
                for operations in paths.values {
                    guard case .object(let byMethod) = operations else { continue }
                    for operation in byMethod.values { statuses.formUnion(operation["responses"]?.keys.compactMap { Int($0) }.filter { $0 >= 400 } ?? []) }
                }
            }
            let text = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/docs/api.md", encoding: .utf8)
            let table = text.components(separatedBy: "## Errors").last ?? ""
            let regex = try Regex(#"^\| `(\d{3})` \|"#).anchorsMatchLineEndings()
            let rows = Set(table.matches(of: regex).compactMap { Int($0.output[1].substring ?? "") })
            let connectionLevel: Set<Int> = [405, 431]
            #expect(statuses.subtracting(rows).sorted() == [], "statuses missing from docs/api.md's error table")
            #expect(rows.subtracting(statuses).subtracting(connectionLevel).sorted() == [], "error table rows no operation answers")
        }
    }
}

extension TestServer.Answer {
    var message: String? { self["message"]?.string }
}
