import ContactsEngineKit
import Foundation
import Hummingbird
import SwitchboardCore

/// WAHA's session endpoints, plus the engine each session names and the features it serves now.
enum SessionsRoutes {
    static var all: [APIRoute] {
        [
            APIRoute(
                .get, "/api/sessions", tag: "Sessions", summary: "List sessions (running ones unless all=true)",
                parameters: [.query("all", .boolean, "Include stopped sessions")], response: .array(.reference("Session"))
            ) { _, context throws(APIError) in
                let includeStopped = try context.query.boolean("all") ?? false
                var shown: [SessionInfo] = []
                for session in context.server.sessions.sessions where includeStopped || session.status != .stopped {
                    shown.append(await SessionInfo(session))
                }
                return try JSONBody.response(shown)
            },
            APIRoute(
                .post, "/api/sessions", tag: "Sessions", summary: "Create a session on an engine (and start it unless start=false)",
                body: .reference("SessionCreate"), status: 201, response: .reference("Session")
            ) { request, context throws(APIError) in
                let body = try await JSONBody.decode(SessionCreate.self, from: &request)
                let record = SessionRecord(
                    name: body.name ?? SessionManager.defaultSessionName,
                    engine: body.engine ?? SessionManager.defaultEngineName,
                    engineConfig: try objectData(body.engineConfig, parameter: "engineConfig"),
                    config: try objectData(body.config, parameter: "config"),
                    started: body.start ?? true, isolation: body.isolation)
                let session = try await manage { () async throws(SessionError) in try await context.server.sessions.create(record) }
                return try JSONBody.response(await SessionInfo(session), status: .created)
            },
            APIRoute(
                .get, "/api/sessions/{session}", tag: "Sessions", summary: "Get a session",
                parameters: [.sessionPath], response: .reference("Session")
            ) { _, context throws(APIError) in
                try JSONBody.response(await SessionInfo(try existing(context)))
            },
            APIRoute(
                .put, "/api/sessions/{session}", tag: "Sessions",
                summary: "Update a session; a new engine or engineConfig swaps the running engine without failing a request",
                parameters: [.sessionPath], body: .reference("SessionUpdate"), response: .reference("Session")
            ) { request, context throws(APIError) in
                let name = try existing(context).name
                let body = try await JSONBody.decode(SessionUpdate.self, from: &request)
                let engineConfig = try body.engineConfig.map { value throws(APIError) in try objectData(value, parameter: "engineConfig") }
                let config = try body.config.map { value throws(APIError) in try objectData(value, parameter: "config") }
                let session = try await manage { () async throws(SessionError) in
                    try await context.server.sessions.update(
                        name, engine: body.engine, engineConfig: engineConfig, config: config, isolation: body.isolation)
                }
                return try JSONBody.response(await SessionInfo(session))
            },
            APIRoute(
                .delete, "/api/sessions/{session}", tag: "Sessions", summary: "Stop and delete a session",
                parameters: [.sessionPath], response: .reference("Success")
            ) { _, context throws(APIError) in
                let name = try existing(context).name
                try await manage { () async throws(SessionError) in try await context.server.sessions.delete(name) }
                return try JSONBody.response(Success())
            },
            action("start", "Start a session") { (manager, name) async throws(SessionError) in try await manager.start(name) },
            action("stop", "Stop a session") { (manager, name) async throws(SessionError) in try await manager.stop(name) },
            action("restart", "Restart a session with a new engine instance") { (manager, name) async throws(SessionError) in
                try await manager.restart(name)
            },
            APIRoute(
                .get, "/api/sessions/{session}/features", tag: "Sessions",
                summary: "The endpoints this session answers now, from its engine instance",
                parameters: [.sessionPath], response: .reference("SessionFeatures")
            ) { _, context throws(APIError) in
                try JSONBody.response(await SessionFeatures(try existing(context)))
            },
        ]
    }

    private static func action(
        _ verb: String, _ summary: String,
        _ perform: @escaping @Sendable (SessionManager, String) async throws(SessionError) -> Session
    ) -> APIRoute {
        APIRoute(
            .post, "/api/sessions/{session}/\(verb)", tag: "Sessions", summary: summary,
            parameters: [.sessionPath], status: 201, response: .reference("Session")
        ) { _, context throws(APIError) in
            let name = try existing(context).name
            let session = try await manage { () async throws(SessionError) in try await perform(context.server.sessions, name) }
            return try JSONBody.response(await SessionInfo(session), status: .created)
        }
    }

    /// Session routes answer 404 for a session that does not exist (the contacts routes answer WAHA's 422).
    private static func existing(_ context: APIContext) throws(APIError) -> Session {
        let name = context.path("session")
        guard let session = context.server.sessions.session(named: name) else {
            throw APIError(.notFound, "Session \"\(name)\" does not exist", error: "Session \"\(name)\" does not exist",
                           context: ["session": .string(name)])
        }
        return session
    }

    private static func manage<T>(_ body: () async throws(SessionError) -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            throw .session(error)
        }
    }

    private static func objectData(_ value: JSONValue?, parameter: String) throws(APIError) -> Data {
        switch value {
        case nil: return Data("{}".utf8)
        case .object?: return value!.data
        default: throw .badParameter(parameter, "'\(parameter)' must be a JSON object")
        }
    }
}

struct SessionCreate: Codable, Sendable {
    var name: String?
    var engine: String?
    var engineConfig: JSONValue?
    var config: JSONValue?
    var start: Bool?
    var isolation: EngineIsolation?
}

struct SessionUpdate: Codable, Sendable {
    var engine: String?
    var engineConfig: JSONValue?
    var config: JSONValue?
    var isolation: EngineIsolation?
}

/// A session as the API shows it: WAHA's fields, plus the engine and its live status.
struct SessionInfo: Codable, Sendable {
    struct EngineInfo: Codable, Sendable {
        var engine: String
        var version: String?
        var config: JSONValue
        var health: EngineStatus?
        /// Where the engine runs now; the session's choice when it runs none.
        var isolation: EngineIsolation?
    }

    var name: String
    var status: SessionStatus
    var config: JSONValue
    var engine: EngineInfo
    var failure: String?
    var me: JSONValue = .null

    init(_ session: Session) async {
        let record = session.record
        let report = await session.engineReport
        name = session.name
        status = session.status
        config = JSONValue(objectData: record.config)
        engine = EngineInfo(
            engine: record.engine, version: report?.engine.metadata.version,
            config: JSONValue(objectData: record.engineConfig), health: report?.status,
            isolation: session.isolation ?? record.isolation)
        failure = session.failure
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(status, forKey: .status)
        try c.encode(config, forKey: .config)
        try c.encode(engine, forKey: .engine)
        try c.encode(failure, forKey: .failure)
        try c.encode(me, forKey: .me)
    }
}

/// `GET /api/sessions/{session}/features`: what the session answers now, endpoint by endpoint.
struct SessionFeatures: Codable, Sendable {
    struct EndpointSupport: Codable, Sendable {
        var method: String
        var path: String
        var feature: String
        var supported: Bool
    }

    var session: String
    var status: SessionStatus
    var engine: String
    var engineVersion: String?
    var features: [String]
    var endpoints: [EndpointSupport]

    init(_ session: Session) async {
        let report = await session.engineReport
        let served = report.map { $0.features.intersection($0.engine.metadata.features) } ?? []
        self.session = session.name
        status = session.status
        engine = session.record.engine
        engineVersion = report?.engine.metadata.version
        features = served.sorted().map(\.rawValue)
        endpoints = Feature.allCases.flatMap { feature in
            feature.endpoints.map {
                EndpointSupport(method: $0.method.rawValue, path: $0.path, feature: feature.rawValue, supported: served.contains(feature))
            }
        }
    }
}
