import Hummingbird
import SwitchboardCore

/// What each engine supports, asked of the server rather than read from a docs page.
enum EnginesRoutes {
    static var all: [APIRoute] {
        [
            APIRoute(
                .get, "/api/engines", tag: "Engines", summary: "Loaded engines and refused plugin files, with reasons",
                response: .array(.reference("Engine"))
            ) { _, context throws(APIError) in
                try JSONBody.response(context.server.registry.listing)
            },
            APIRoute(
                .get, "/api/engines/matrix", tag: "Engines", summary: "Features × engines (JSON, or Markdown with format=markdown)",
                parameters: [.query("format", .stringEnum(MatrixFormat.allCases.map(\.rawValue)), "json when omitted")],
                response: .reference("FeatureMatrix")
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
                .post, "/api/engines/rescan", tag: "Engines",
                summary: "Load new plugins and new versions of loaded ones; running sessions move to new versions",
                response: .reference("ScanReport")
            ) { _, context throws(APIError) in
                let report = await context.server.registry.scanOffPool()
                await context.server.sessions.upgradeSessions(using: report.upgraded)
                return try JSONBody.response(report)
            },
            APIRoute(
                .get, "/api/engines/{engine}", tag: "Engines", summary: "One loaded engine",
                parameters: [.path("engine", "Engine name")], response: .reference("Engine")
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
