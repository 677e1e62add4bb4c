import Hummingbird
import SwitchboardCore

/// Liveness, version, health, and the API's own description.
enum ServerRoutes {
    static func all(openAPI: @escaping @Sendable () -> JSONValue) -> [APIRoute] {
        [
            APIRoute(.get, "/ping", tag: "Server", summary: "Liveness; needs no API key", response: .reference("Pong"), isOpen: true) {
                _, _ throws(APIError) in try JSONBody.response(["message": "pong"])
            },
            APIRoute(.get, "/api/server/version", tag: "Server", summary: "Server version and default engine", response: .reference("Version")) {
                _, context throws(APIError) in
                try JSONBody.response(VersionInfo(
                    version: context.server.version, engine: SessionManager.defaultEngineName, tier: "CORE",
                    abi: "\(PluginLoader.abiMajor).\(PluginLoader.abiMinor)"))
            },
            APIRoute(.get, "/health", tag: "Server", summary: "Sessions by status and engines loaded or refused", response: .reference("Health")) {
                _, context throws(APIError) in
                var sessions: [String: Int] = [:]
                for session in context.server.sessions.sessions { sessions[session.status.rawValue, default: 0] += 1 }
                let listing = context.server.registry.listing
                return try JSONBody.response(Health(
                    status: "ok", sessions: sessions,
                    engines: ["loaded": listing.count { $0.state == .loaded }, "refused": listing.count { $0.state == .refused }]))
            },
            APIRoute(.get, "/-json", tag: "Server", summary: "This OpenAPI 3 document", response: .object, isOpen: true) {
                _, _ throws(APIError) in try JSONBody.response(openAPI())
            },
            APIRoute(.get, "/", tag: "Server", summary: "Swagger UI", response: .text, isOpen: true) { _, _ throws(APIError) in
                Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: swaggerPage)))
            },
        ]
    }

    struct VersionInfo: Codable {
        var version: String
        var engine: String
        var tier: String
        var abi: String
    }

    struct Health: Codable {
        var status: String
        var sessions: [String: Int]
        var engines: [String: Int]
    }

    /// Swagger UI from a CDN, as FastAPI serves it: nothing to vendor.
    static let swaggerPage = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>Switchboard API</title>
          <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
        </head>
        <body>
          <div id="swagger-ui"></div>
          <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
          <script>
            window.ui = SwaggerUIBundle({ url: "/-json", dom_id: "#swagger-ui" });
          </script>
        </body>
        </html>
        """
}
