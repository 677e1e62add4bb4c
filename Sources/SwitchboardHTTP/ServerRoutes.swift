import Foundation
import Hummingbird
import SwitchboardEngineRuntime
import SwitchboardSessions

/// Liveness, version, status, environment, health, and the API's own description.
enum ServerRoutes {
    static func all(openAPI: @escaping @Sendable () -> JSONValue, swaggerUI: SwaggerUI) -> [APIRoute] {
        [
            APIRoute(
                .get, "/ping", "PingController_ping", tag: .observability, summary: "Liveness; needs no API key",
                success: .json(.reference("PingResponse")), isOpen: true
            ) { _, _ throws(APIError) in try JSONBody.response(["message": "pong"]) },
            APIRoute(
                .get, "/api/server/version", "ServerController_get", tag: .observability, summary: "Server version and default engine",
                success: .json(.reference("WAHAEnvironment"))
            ) { _, context throws(APIError) in try JSONBody.response(VersionInfo(context.server)) },
            APIRoute(
                .get, "/api/version", "VersionController_get", tag: .observability,
                summary: "Server version (deprecated in WAHA: use GET /api/server/version)", deprecated: true,
                success: .json(.reference("WAHAEnvironment"))
            ) { _, context throws(APIError) in try JSONBody.response(VersionInfo(context.server)) },
            APIRoute(
                .get, "/api/server/status", "ServerController_status", tag: .observability, summary: "When the server started and its uptime",
                success: .json(.reference("ServerStatusResponse"))
            ) { _, context throws(APIError) in
                let started = context.server.startedAt
                return try JSONBody.response(ServerStatus(
                    startTimestamp: (started.timeIntervalSince1970 * 1000).rounded(),
                    uptime: (Date().timeIntervalSince(started) * 1000).rounded(), worker: Worker()))
            },
            APIRoute(
                .get, "/api/server/environment", "ServerController_environment", tag: .observability,
                summary: "The server's settings from the environment; secrets masked",
                parameters: [.query("all", .boolean, "Every environment variable, not only Switchboard's and WAHA's")],
                success: .json(.object)
            ) { _, context throws(APIError) in
                try JSONBody.response(ServerEnvironment.variables(all: try context.query.boolean("all") ?? false))
            },
            APIRoute(
                .get, "/health", "HealthController_check", tag: .observability, summary: "Sessions by status and engines loaded or refused",
                success: .json(.reference("Health"))
            ) { _, context throws(APIError) in
                var sessions: [String: Int] = [:]
                for session in context.server.sessions.sessions { sessions[session.status.rawValue, default: 0] += 1 }
                let listing = context.server.registry.listing
                return try JSONBody.response(Health(
                    status: "ok", sessions: sessions,
                    engines: ["loaded": listing.count { $0.state == .loaded }, "refused": listing.count { $0.state == .refused }]))
            },
            APIRoute(
                .get, "/-json", "OpenAPI_document", tag: .observability, summary: "This OpenAPI 3 document",
                success: .json(.object), isOpen: true
            ) { _, _ throws(APIError) in try JSONBody.response(openAPI()) },
        ] + swaggerUI.routes
    }

    /// WAHA's `WAHAEnvironment`, with what each field means here (docs/api.md#server).
    struct VersionInfo: Encodable {
        var version: String
        /// The engine a session gets when it names none.
        var engine = SessionManager.defaultEngineName
        var tier = "CORE"
        /// The browser WAHA drives; Switchboard drives none.
        var browser = "none"
        var platform = VersionInfo.platform
        var worker = Worker()
        /// The plugin ABI this server speaks.
        var abi = "\(PluginLoader.abiMajor).\(PluginLoader.abiMinor)"

        init(_ server: ServerDependencies) { version = server.version }

        /// `os/arch` in Node's words, as WAHA writes it: `linux/x64`.
        static var platform: String {
            #if os(Linux)
            let os = "linux"
            #elseif os(macOS)
            let os = "darwin"
            #else
            let os = "unknown"
            #endif
            #if arch(x86_64)
            let arch = "x64"
            #elseif arch(arm64)
            let arch = "arm64"
            #else
            let arch = "unknown"
            #endif
            return "\(os)/\(arch)"
        }
    }

    /// WAHA's worker: one server is one worker, named by `WAHA_WORKER_ID` as in WAHA.
    struct Worker: Encodable {
        var id = ProcessInfo.processInfo.environment["WAHA_WORKER_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? "switchboard"
    }

    struct ServerStatus: Encodable {
        var startTimestamp: Double
        var uptime: Double
        var worker: Worker
    }

    struct Health: Codable {
        var status: String
        var sessions: [String: Int]
        var engines: [String: Int]
    }
}

/// `GET /api/server/environment`: the variables that configure the server (`SWITCHBOARD_*`,
/// `WAHA_*`, `WHATSAPP_*`), or every one with `all=true`. A variable whose name says it holds
/// a secret (`KEY`, `PASSWORD`, `SECRET`, `TOKEN`) is shown as `***`.
enum ServerEnvironment {
    static let prefixes = ["SWITCHBOARD_", "WAHA_", "WHATSAPP_"]
    static let secretWords = ["KEY", "PASSWORD", "SECRET", "TOKEN"]

    static func variables(all: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var shown: [String: String] = [:]
        for (name, value) in environment where all || prefixes.contains(where: name.hasPrefix) {
            let upper = name.uppercased()
            shown[name] = secretWords.contains(where: upper.contains) ? "***" : value
        }
        return shown
    }
}
