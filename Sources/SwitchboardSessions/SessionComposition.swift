import ContactsEngineKit
import Foundation
import SwitchboardEngineRuntime

/// A session made of engines: named members, each an engine instance of its own, and a route
/// per feature naming the members to try, in order. Persisted with the session's record.
public struct SessionComposition: Codable, Hashable, Sendable {
    /// What a composite session's record and info name as its engine.
    public static let engineName = EngineMetadata.compositeName
    /// The route key that stands for every feature without a route of its own.
    public static let anyFeature = "*"
    /// More members would mean more engine instances per session than an operator can follow;
    /// a route tries at most this many members too.
    public static let maxMembers = 8

    public struct Member: Codable, Hashable, Sendable {
        public var name: String
        public var engine: String
        /// The engine's JSON configuration object.
        public var engineConfig: Data
        public var isolation: EngineIsolation?
        /// What this member's engine is granted in its sandbox; nil for nothing.
        public var sandbox: SandboxGrants?

        public init(
            name: String, engine: String, engineConfig: Data = Data("{}".utf8), isolation: EngineIsolation? = nil, sandbox: SandboxGrants? = nil
        ) {
            self.sandbox = sandbox
            self.name = name
            self.engine = engine
            self.engineConfig = engineConfig
            self.isolation = isolation
        }

        /// Whether an instance made for `other` serves this member as well: a swap keeps it.
        func sameInstance(as other: Member) -> Bool {
            engine == other.engine && engineConfig == other.engineConfig && isolation == other.isolation && sandbox == other.sandbox
        }
    }

    public struct Route: Codable, Hashable, Sendable {
        /// Member names, tried in order.
        public var members: [String]
        /// Writes go to every member, and succeed only when all of them acknowledge.
        public var mirror: Bool

        public init(members: [String], mirror: Bool = false) {
            self.members = members
            self.mirror = mirror
        }
    }

    public var members: [Member]
    /// Feature id (or `*`) → route.
    public var routes: [String: Route]

    public init(members: [Member], routes: [String: Route]) {
        self.members = members
        self.routes = routes
    }

    /// The route a feature takes: its own, else `*`'s; nil when the composition serves it not at all.
    public func route(for feature: Feature) -> Route? {
        routes[feature.rawValue] ?? routes[Self.anyFeature]
    }

    public func member(named name: String) -> Member? {
        members.first { $0.name == name }
    }

    /// Why the composition cannot be served, naming the body key at fault; nil when it can.
    /// Engines are checked by the session manager, which knows which ones are loaded.
    public var invalidity: SessionError? {
        func invalid(_ parameter: String, _ message: String) -> SessionError { .invalidComposition(parameter: parameter, message) }
        guard !members.isEmpty else { return invalid("members", "'members' must name at least one member") }
        guard members.count <= Self.maxMembers else {
            return invalid("members", "a composite session has at most \(Self.maxMembers) members; got \(members.count)")
        }
        var names: Set<String> = []
        for member in members {
            guard SessionName.isValid(member.name) else {
                return invalid("members", "invalid member name \"\(member.name)\": \(SessionName.advice)")
            }
            guard names.insert(member.name).inserted else { return invalid("members", "member \"\(member.name)\" is named twice") }
            guard member.engine != Self.engineName else { return invalid("members", "member \"\(member.name)\": a member cannot itself be composite") }
        }
        guard !routes.isEmpty else { return invalid("routes", "'routes' must route at least one feature (or \"*\")") }
        let known = Set(Feature.allCases.map(\.rawValue)).union([Self.anyFeature])
        for (key, route) in routes.sorted(by: { $0.key < $1.key }) {
            guard known.contains(key) else {
                return invalid("routes", "route \"\(key)\" is not a feature; use \"*\" or one of \(Feature.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !route.members.isEmpty else { return invalid("routes", "route \"\(key)\" names no member") }
            guard Set(route.members).count == route.members.count else { return invalid("routes", "route \"\(key)\" names a member twice") }
            if let unknown = route.members.first(where: { !names.contains($0) }) {
                return invalid("routes", "route \"\(key)\" names \"\(unknown)\", which is not a member; members are \(members.map(\.name).joined(separator: ", "))")
            }
        }
        return nil
    }
}

extension SessionComposition {
    /// How the stores keep a composition: JSON, in a nullable column of the session's row.
    public var stored: Data {
        get throws { try JSONEncoder().encode(self) }
    }

    public static func stored(_ data: Data?) throws -> SessionComposition? {
        try data.map { try JSONDecoder().decode(SessionComposition.self, from: $0) }
    }
}

extension Feature {
    /// Reads change nothing, so a composite may ask the next member when one is unavailable or
    /// times out; a write that timed out may have been done, so it is never sent elsewhere.
    public var isIdempotentRead: Bool {
        switch self {
        case .contactsUpsert, .contactsBlock, .contactsUnblock: false
        case .contactsList, .contactsGet, .contactsCheckExists, .contactsAbout, .contactsProfilePicture, .lidsList, .lidsCount,
             .lidsGetByLid, .lidsGetByPhoneNumber: true
        }
    }
}
