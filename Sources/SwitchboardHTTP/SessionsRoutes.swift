import ContactsEngineKit
import Foundation
import Hummingbird
import SwitchboardEngineRuntime
import SwitchboardSessions

/// WAHA's session endpoints, plus the engine each session names and the features it serves now.
enum SessionsRoutes {
    /// `expand=` values of the session listing.
    enum Expansion: String, CaseIterable { case apps }

    static var all: [APIRoute] {
        [
            APIRoute(
                .get, "/api/sessions", "SessionsController_list", tag: .sessions, summary: "List sessions (running ones unless all=true)",
                parameters: [.query("all", .boolean, "Include stopped sessions"), expand],
                success: .json(.array(.reference("SessionInfo")))
            ) { _, context throws(APIError) in
                let includeStopped = try context.query.boolean("all") ?? false
                let expansions = try context.query.list("expand", Expansion.self)
                var shown: [SessionInfo] = []
                for session in context.server.sessions.sessions where includeStopped || session.status != .stopped {
                    shown.append(await SessionInfo(session, context.server, expand: expansions))
                }
                return try JSONBody.response(shown)
            },
            APIRoute(
                .post, "/api/sessions", "SessionsController_create", tag: .sessions,
                summary: "Create a session on an engine (and start it unless start=false)",
                body: .json(.reference("SessionCreateRequest")), success: .json(.reference("SessionInfo"), status: 201),
                errors: [.sessionConflict, .storageUnavailable]
            ) { request, context throws(APIError) in
                let body = try await context.decode(SessionCreate.self, from: request)
                try requireNoApps(body.apps)
                let record = try body.record()
                let session = try await manage(context, record.name) { manager async throws(SessionError) in try await manager.create(record) }
                return try JSONBody.response(await SessionInfo(session, context.server), status: .created)
            },
            APIRoute(
                .get, "/api/sessions/{session}", "SessionsController_get", tag: .sessions, summary: "Get a session",
                parameters: [.sessionPath, expand], success: .json(.reference("SessionInfo")), errors: [.sessionNotFound]
            ) { _, context throws(APIError) in
                let expansions = try context.query.list("expand", Expansion.self)
                return try JSONBody.response(await SessionInfo(try existing(context), context.server, expand: expansions))
            },
            APIRoute(
                .put, "/api/sessions/{session}", "SessionsController_update", tag: .sessions,
                summary: "Update a session; a new engine, engineConfig, members or routes swap the running engines without failing a request",
                parameters: [.sessionPath], body: .json(.reference("SessionUpdateRequest")), success: .json(.reference("SessionInfo")),
                errors: [.sessionNotFound, .sessionConflict, .storageUnavailable]
            ) { request, context throws(APIError) in
                let name = try existing(context).name
                let body = try await context.decode(SessionUpdate.self, from: request)
                try requireNoApps(body.apps)
                let engineConfig = try body.engineConfig.map { value throws(APIError) in try objectData(value, parameter: "engineConfig") }
                let config = try body.config.map { value throws(APIError) in try objectData(value, parameter: "config") }
                let change = SessionChange(
                    engine: body.engine, engineConfig: engineConfig, config: config, isolation: body.isolation, sandbox: body.sandbox,
                    members: try body.members?.members(), routes: body.routes?.routes)
                let session = try await manage(context, name) { manager async throws(SessionError) in try await manager.update(name, change) }
                return try JSONBody.response(await SessionInfo(session, context.server))
            },
            APIRoute(
                .delete, "/api/sessions/{session}", "SessionsController_delete", tag: .sessions, summary: "Stop and delete a session",
                parameters: [.sessionPath, .query("purge", .boolean, "Also remove the session's state folder (its engines' data); kept when omitted")],
                success: .json(.reference("Result")), errors: [.sessionNotFound, .storageUnavailable]
            ) { _, context throws(APIError) in
                let name = try existing(context).name
                try await delete(name, purge: try context.query.boolean("purge") ?? false, context)
                return try JSONBody.response(Success())
            },
            APIRoute(
                .get, "/api/sessions/{session}/me", "SessionsController_getMe", tag: .sessions,
                summary: "The WhatsApp account the session is logged in as: always null, no engine here is a WhatsApp login",
                parameters: [.sessionPath], success: .json(.reference("MeInfo")), errors: [.sessionNotFound]
            ) { _, context throws(APIError) in
                _ = try existing(context)
                return try JSONBody.response(JSONValue.null)
            },
            APIRoute(
                .get, "/api/sessions/{session}/capping", "SessionsController_fetchMessageCapping", tag: .sessions,
                summary: "WhatsApp's new-chat message capping: none applies to a Switchboard session",
                parameters: [.sessionPath], success: .json(.reference("MessageCappingData")), errors: [.sessionNotFound]
            ) { _, context throws(APIError) in
                _ = try existing(context)
                return try JSONBody.response(Restrictions.noCapping)
            },
            APIRoute(
                .get, "/api/sessions/{session}/timelock", "SessionsController_fetchReachoutTimelock", tag: .sessions,
                summary: "WhatsApp's reachout timelock: none applies to a Switchboard session",
                parameters: [.sessionPath], success: .json(.reference("ReachoutTimelockData")), errors: [.sessionNotFound]
            ) { _, context throws(APIError) in
                _ = try existing(context)
                return try JSONBody.response(Restrictions.noTimelock)
            },
            action("start", "SessionsController_start", "Start a session") { manager, name async throws(SessionError) in try await manager.start(name) },
            action("stop", "SessionsController_stop", "Stop a session") { manager, name async throws(SessionError) in try await manager.stop(name) },
            action("restart", "SessionsController_restart", "Restart a session with a new engine instance") { manager, name async throws(SessionError) in
                try await manager.restart(name)
            },
            // There is no WhatsApp login to drop: logging out leaves the session as a fresh
            // start would, which is what WAHA does after a logout ("restart if not STOPPED").
            action("logout", "SessionsController_logout", "Log out: restart the session unless it is STOPPED", body: .json(.reference("SessionLogoutRequest"), required: false)) {
                manager, name async throws(SessionError) in
                guard let session = manager.session(named: name), session.status != .stopped else { return try await manager.stop(name) }
                return try await manager.restart(name)
            },
            APIRoute(
                .post, "/api/sessions/start", "SessionsController_DEPRACATED_start", tag: .sessions, summary: "Upsert and start a session (deprecated in WAHA)",
                deprecated: true, body: .json(.reference("SessionStartDeprecatedRequest")), success: .json(.reference("SessionInfo"), status: 201),
                errors: [.sessionConflict, .storageUnavailable]
            ) { request, context throws(APIError) in
                let body = try await context.decode(SessionStartDeprecated.self, from: request)
                let config = try body.config.map { value throws(APIError) in try objectData(value, parameter: "config") }
                let session = try await manage(context, body.name) { manager async throws(SessionError) in
                    if manager.session(named: body.name) == nil {
                        return try await manager.create(SessionRecord(
                            name: body.name, engine: SessionManager.defaultEngineName, config: config ?? Data("{}".utf8), started: true))
                    }
                    _ = try await manager.update(body.name, SessionChange(config: config))
                    return try await manager.start(body.name)
                }
                return try JSONBody.response(await SessionInfo(session, context.server), status: .created)
            },
            APIRoute(
                .post, "/api/sessions/stop", "SessionsController_DEPRECATED_stop", tag: .sessions, summary: "Stop a session (deprecated in WAHA)",
                deprecated: true, body: .json(.reference("SessionStopDeprecatedRequest")), success: .json(.reference("SessionInfo"), status: 201),
                errors: [.sessionNotFound, .storageUnavailable]
            ) { request, context throws(APIError) in
                let body = try await context.decode(SessionStopDeprecated.self, from: request)
                let name = try existing(named: body.name, context).name
                let session = try await manage(context, name) { manager async throws(SessionError) in try await manager.stop(name) }
                return try JSONBody.response(await SessionInfo(session, context.server), status: .created)
            },
            APIRoute(
                .post, "/api/sessions/logout", "SessionsController_DEPRECATED_logout", tag: .sessions,
                summary: "Stop and delete a session (deprecated in WAHA)", deprecated: true,
                body: .json(.reference("SessionLogoutDeprecatedRequest")), success: .json(.reference("Result"), status: 201),
                errors: [.sessionNotFound, .storageUnavailable]
            ) { request, context throws(APIError) in
                let body = try await context.decode(SessionLogoutDeprecated.self, from: request)
                let name = try existing(named: body.name, context).name
                try await delete(name, context)
                return try JSONBody.response(Success(), status: .created)
            },
            APIRoute(
                .get, "/api/sessions/{session}/features", "SessionsController_getFeatures", tag: .sessions,
                summary: "The endpoints this session answers now, from its engine instance",
                parameters: [.sessionPath], success: .json(.reference("SessionFeatures")), errors: [.sessionNotFound]
            ) { _, context throws(APIError) in
                try JSONBody.response(await SessionFeatures(try existing(context)))
            },
        ]
    }

    private static let expand = APIParameter.query("expand", .array(.stringEnum(Expansion.allCases.map(\.rawValue))), "Expand additional session details")

    private static func action(
        _ verb: String, _ operationID: String, _ summary: String, body: APIBody? = nil,
        _ perform: @escaping @Sendable (SessionManager, String) async throws(SessionError) -> Session
    ) -> APIRoute {
        APIRoute(
            .post, "/api/sessions/{session}/\(verb)", operationID, tag: .sessions, summary: summary,
            parameters: [.sessionPath], body: body, success: .json(.reference("SessionInfo"), status: 201),
            errors: [.sessionNotFound, .storageUnavailable]
        ) { request, context throws(APIError) in
            let name = try existing(context).name
            // An optional body is read only to hold it to its schema: a JSON object.
            if body != nil, try await context.hasBody(&request) {
                _ = try await context.decode([String: JSONValue].self, from: request)
            }
            let session = try await manage(context, name) { manager async throws(SessionError) in try await perform(manager, name) }
            return try JSONBody.response(await SessionInfo(session, context.server), status: .created)
        }
    }

    /// Session routes answer 404 for a session that does not exist (the contacts routes answer WAHA's 422).
    private static func existing(_ context: APIContext) throws(APIError) -> Session {
        try existing(named: context.path("session"), context)
    }

    private static func existing(named name: String, _ context: APIContext) throws(APIError) -> Session {
        guard let session = context.server.sessions.session(named: name) else {
            throw APIError(.notFound, "Session \"\(name)\" does not exist", error: "Session \"\(name)\" does not exist",
                           context: ["session": .string(name)])
        }
        return session
    }

    /// Runs a change to the sessions, mapping its errors and noting the session's activity.
    private static func manage<T>(
        _ context: APIContext, _ name: String, _ body: (SessionManager) async throws(SessionError) -> T
    ) async throws(APIError) -> T {
        do {
            let result = try await body(context.server.sessions)
            context.server.activity.touch(name)
            return result
        } catch {
            throw .session(error)
        }
    }

    private static func delete(_ name: String, purge: Bool = false, _ context: APIContext) async throws(APIError) {
        try await manage(context, name) { manager async throws(SessionError) in try await manager.delete(name, purge: purge) }
        context.server.activity.forget(name)
    }

    /// WAHA's session apps (Chatwoot, calls...) do not exist here; only "none" is accepted.
    private static func requireNoApps(_ apps: [JSONValue]?) throws(APIError) {
        guard apps?.isEmpty ?? true else {
            throw .badParameter("apps", "'apps' must be empty or null: Switchboard runs no session apps")
        }
    }

    static func objectData(_ value: JSONValue?, parameter: String) throws(APIError) -> Data {
        guard let data = JSONValue.objectData(value) else { throw .badParameter(parameter, "'\(parameter)' must be a JSON object") }
        return data
    }
}

/// The body of `POST /api/sessions`: WAHA's fields (`name`, `start`, `config`, `apps`) and
/// ours (`engine`, `engineConfig`, or `members` and `routes` for a composite). Each optional;
/// `null` counts as left out.
struct SessionCreate: Decodable, Sendable {
    var name: String?
    var engine: String?
    var engineConfig: JSONValue?
    var config: JSONValue?
    var start: Bool?
    var isolation: EngineIsolation?
    var sandbox: SandboxGrants?
    var apps: [JSONValue]?
    var members: [MemberBody]?
    var routes: [String: RouteBody]?

    func record() throws(APIError) -> SessionRecord {
        let change = SessionChange(
            engine: engine, engineConfig: try engineConfig.map { value throws(APIError) in try SessionsRoutes.objectData(value, parameter: "engineConfig") },
            config: try SessionsRoutes.objectData(config, parameter: "config"), isolation: isolation, sandbox: sandbox,
            members: try members?.members(), routes: routes?.routes)
        do {
            return try change.record(creating: name ?? SessionManager.defaultSessionName, started: start ?? true)
        } catch {
            throw .session(error)
        }
    }
}

/// The body of `PUT /api/sessions/{session}`.
struct SessionUpdate: Decodable, Sendable {
    var engine: String?
    var engineConfig: JSONValue?
    var config: JSONValue?
    var isolation: EngineIsolation?
    var sandbox: SandboxGrants?
    var apps: [JSONValue]?
    var members: [MemberBody]?
    var routes: [String: RouteBody]?
}

struct SessionStartDeprecated: Decodable, Sendable {
    var name: String
    var config: JSONValue?
}

struct SessionStopDeprecated: Decodable, Sendable {
    var name: String
    var logout: Bool?
}

struct SessionLogoutDeprecated: Decodable, Sendable {
    var name: String
}

/// `null` in the JSON when absent, where WAHA's shape has the key whatever its value.
struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    var value: Value?

    init(_ value: Value?) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// A session as the API shows it: WAHA's `SessionInfo` (`name`, `status`, `config`, `me`,
/// `presence`, `timestamps`, `apps` with `expand=apps`), plus the engine and its live status.
struct SessionInfo: Encodable, Sendable {
    struct EngineInfo: Encodable, Sendable {
        var engine: String
        var version: String?
        var config: JSONValue
        var health: EngineStatus?
        /// Where the engine runs now; the session's choice when it runs none.
        var isolation: EngineIsolation?
        var sandbox: SandboxInfo?
        /// A composite's members, in its order, each as it runs now.
        var members: [MemberInfo]?
        var routes: [String: SessionComposition.Route]?
    }

    struct MemberInfo: Encodable, Sendable {
        var name: String
        var engine: String
        var version: String?
        var config: JSONValue
        var health: EngineStatus?
        var isolation: EngineIsolation?
        var sandbox: SandboxInfo?
        /// What the member serves now: its live features that its engine declares.
        var features: [String]?
    }

    /// What the engine declares it may need, what the session grants, what it declares and is
    /// not granted, and the sandbox its engine process runs in now (null in the server's process).
    struct SandboxInfo: Encodable, Sendable {
        var needs: [EngineNeed]
        var grants: SandboxGrants
        var ungranted: [EngineNeed]
        var applied: Nullable<SandboxReport>

        init(engine: LoadedEngine?, grants: SandboxGrants, applied: SandboxReport?) {
            needs = engine?.metadata.needs ?? []
            self.grants = grants
            ungranted = needs.filter { !grants.needs.contains($0) }
            self.applied = Nullable(applied)
        }
    }

    struct Timestamps: Encodable, Sendable {
        /// Milliseconds since 1970 (`SessionActivity`).
        var activity: Double
    }

    var name: String
    var status: SessionStatus
    var config: JSONValue
    var engine: EngineInfo
    var failure: Nullable<String>
    /// No engine here is a WhatsApp login, so there is no account to show.
    var me = Nullable<JSONValue>(nil)
    /// WhatsApp presence does not exist here: always an empty object.
    var presence: [String: String] = [:]
    var timestamps: Timestamps
    /// Present only with `expand=apps`; Switchboard runs no session apps.
    var apps: [JSONValue]?

    init(_ session: Session, _ server: ServerDependencies, expand: [SessionsRoutes.Expansion] = []) async {
        let record = session.record
        let report = await session.engineReport
        name = session.name
        status = session.status
        config = JSONValue(objectData: record.config)
        engine = EngineInfo(
            engine: record.engine, version: report?.engine.metadata.version,
            config: JSONValue(objectData: record.engineConfig), health: report?.status,
            isolation: session.isolation ?? record.isolation)
        if record.composition == nil {
            engine.sandbox = SandboxInfo(
                engine: report?.engine ?? server.sessions.registry.engine(named: record.engine), grants: record.sandbox,
                applied: report?.sandbox)
        }
        if let composition = record.composition {
            let running = Dictionary(await session.memberReports.map { ($0.member.name, $0) }, uniquingKeysWith: { $1 })
            engine.members = composition.members.map { member in
                let report = running[member.name]
                return MemberInfo(
                    name: member.name, engine: member.engine, version: report?.engine.metadata.version,
                    config: JSONValue(objectData: member.engineConfig), health: report?.status,
                    isolation: report?.isolation ?? member.isolation,
                    sandbox: SandboxInfo(
                        engine: report?.engine ?? server.sessions.registry.engine(named: member.engine), grants: member.sandbox ?? .none,
                        applied: report?.sandbox),
                    features: report.map { $0.features.sorted().map(\.rawValue) })
            }
            engine.routes = composition.routes
        }
        failure = Nullable(session.failure)
        timestamps = Timestamps(activity: server.activity.milliseconds(session.name))
        apps = expand.contains(.apps) ? [] : nil
    }
}

/// What `capping` and `timelock` answer: WhatsApp's account restrictions do not apply to a
/// session whose engine is an address book, so neither is in force (`-1`: no cap, as WAHA says).
/// WAHA's document allows `null` for the times and statuses, but the typed clients generated
/// from it (waha-py) require a value, so "none" is spelled as values: time 0, `NOT_ELIGIBLE`.
enum Restrictions {
    struct Capping: Encodable, Sendable {
        var cappingStatus = "NONE"
        var totalQuota = -1
        var usedQuota = 0
        var cycleStart = 0
        var cycleEnd = 0
        var mvStatus = "NOT_ELIGIBLE"
        var oteStatus = "NOT_ELIGIBLE"
    }

    struct Timelock: Encodable, Sendable {
        var enforcementType = "DEFAULT"
        var isActive = false
        var timeEnforcementEnds = 0
    }

    static let noCapping = Capping()
    static let noTimelock = Timelock()
}

/// `GET /api/sessions/{session}/features`: what the session answers now, endpoint by endpoint.
struct SessionFeatures: Codable, Sendable {
    struct EndpointSupport: Codable, Sendable {
        var method: String
        var path: String
        var feature: String
        var supported: Bool
    }

    /// A composite's route for one feature, as it stands now.
    struct FeatureRoute: Codable, Sendable {
        /// Every member the route names, in order.
        var route: [String]
        var mirror: Bool
        /// The first member of the route that serves the feature now (live), or nil: none does.
        var servedBy: String?
        /// The route's other members that serve it now, in the order they would be tried.
        var standby: [String]

        private enum CodingKeys: String, CodingKey { case route, mirror, servedBy, standby }

        init(route: [String], mirror: Bool, servedBy: String?, standby: [String]) {
            self.route = route
            self.mirror = mirror
            self.servedBy = servedBy
            self.standby = standby
        }

        /// `servedBy` is `null` when no member serves the feature, not left out.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(route, forKey: .route)
            try container.encode(mirror, forKey: .mirror)
            try container.encode(servedBy, forKey: .servedBy)
            try container.encode(standby, forKey: .standby)
        }
    }

    var session: String
    var status: SessionStatus
    var engine: String
    var engineVersion: String?
    var features: [String]
    var endpoints: [EndpointSupport]
    /// Composites only: feature id → its route now.
    var routing: [String: FeatureRoute]?

    init(_ session: Session) async {
        let record = session.record
        self.session = session.name
        status = session.status
        engine = record.engine
        let plan = await session.routingPlan
        routing = plan.routes.map { routes in
            Dictionary(uniqueKeysWithValues: routes.map { feature, route in
                (feature.rawValue, FeatureRoute(route: route.route, mirror: route.mirror, servedBy: route.servedBy, standby: route.standby))
            })
        }
        engineVersion = session.runningEngine?.engine.metadata.version
        let served = plan.served
        features = served.sorted().map(\.rawValue)
        endpoints = Feature.allCases.flatMap { feature in
            feature.endpoints.map {
                EndpointSupport(method: $0.method.rawValue, path: $0.path, feature: feature.rawValue, supported: served.contains(feature))
            }
        }
    }
}
