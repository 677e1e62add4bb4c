import Hummingbird
import SwitchboardEngineRuntime

/// What each engine supports, asked of the server rather than read from a docs page.
enum EnginesRoutes {
    static var all: [APIRoute] {
        [
            APIRoute(
                .get, "/api/engines", "EnginesController_list", tag: .engines, summary: "Loaded engines and refused plugin files, with reasons",
                success: .json(.array(.reference("Engine")))
            ) { _, context throws(APIError) in
                try JSONBody.response(context.server.registry.listing)
            },
            APIRoute(
                .get, "/api/engines/matrix", "EnginesController_matrix", tag: .engines,
                summary: "Features × engines (JSON, or Markdown with format=markdown)",
                parameters: [.query("format", .stringEnum(MatrixFormat.allCases.map(\.rawValue)), "json when omitted")],
                success: APISuccess(status: 200, content: [(JSONBody.contentType, .reference("FeatureMatrix")), ("text/markdown", .string)])
            ) { _, context throws(APIError) in
                let matrix = FeatureMatrix(engines: context.server.registry.engines.map(\.metadata))
                switch try context.query.oneOf("format", MatrixFormat.self) ?? .json {
                case .json:
                    return try JSONBody.response(matrix)
                case .markdown:
                    return Response(
                        status: .ok, headers: [.contentType: "text/markdown; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: matrix.markdown)))
                }
            },
            APIRoute(
                .get, "/engines", "EnginesController_matrixPage", tag: .engines,
                summary: "Engines × features, each session's features and the refused plugins, as a page (HTML, no script)",
                success: .html()
            ) { _, context throws(APIError) in
                let registry = context.server.registry
                var sessions: [SessionFeatures] = []
                var sandboxes: [String: String] = [:]
                for session in context.server.sessions.sessions {
                    sessions.append(await SessionFeatures(session))
                    sandboxes[session.name] = session.runningEngine?.sandbox?.summary
                }
                let page = MatrixPage(
                    matrix: FeatureMatrix(engines: registry.engines.map(\.metadata)), sessions: sessions, sandboxes: sandboxes,
                    refused: registry.listing.filter { $0.state == .refused }, version: context.server.version)
                return Response(
                    status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: page.html)))
            },
            APIRoute(
                .post, "/api/engines/rescan", "EnginesController_rescan", tag: .engines,
                summary: "Load new plugins and new versions of loaded ones; running sessions move to new versions",
                success: .json(.reference("ScanReport"))
            ) { _, context throws(APIError) in
                let report = await context.server.registry.scanOffPool()
                await context.server.sessions.upgradeSessions(using: report.upgraded)
                return try JSONBody.response(report)
            },
            APIRoute(
                .get, "/api/engines/{engine}", "EnginesController_get", tag: .engines, summary: "One loaded engine",
                parameters: [.path("engine", .string, "Engine name")], success: .json(.reference("Engine")), errors: [.engineNotLoaded]
            ) { _, context throws(APIError) in
                let name = context.path("engine")
                guard let listing = context.server.registry.listing.first(where: { $0.name == name }) else {
                    throw APIError(.notFound, "engine \"\(name)\" is not loaded; GET /api/engines lists the engines",
                                   context: ["engine": .string(name)])
                }
                return try JSONBody.response(listing)
            },
        ]
    }

    enum MatrixFormat: String, CaseIterable { case json, markdown }
}
