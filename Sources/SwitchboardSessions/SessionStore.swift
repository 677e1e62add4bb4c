import Foundation
import SwitchboardEngineRuntime

/// A session as it is persisted: its name, engine (or composition of engines), the engine's
/// configuration and whether it should be running. Status is not persisted: it is what happens
/// when the record is started.
public struct SessionRecord: Codable, Hashable, Sendable {
    public var name: String
    public var engine: String
    /// The engine's JSON configuration object.
    public var engineConfig: Data
    /// WAHA's session `config` object, kept and returned as given.
    public var config: Data
    public var started: Bool
    /// Where the engine runs; nil follows the server's default for the engine.
    public var isolation: EngineIsolation?
    /// The members and routes of a composite session; `engine` is then `composite`.
    public var composition: SessionComposition?
    /// What the session grants its engine's sandbox (a single engine's; members have their own).
    public var sandbox: SandboxGrants

    public init(
        name: String, engine: String, engineConfig: Data = Data("{}".utf8), config: Data = Data("{}".utf8), started: Bool,
        isolation: EngineIsolation? = nil, composition: SessionComposition? = nil, sandbox: SandboxGrants = .none
    ) {
        self.sandbox = sandbox
        self.name = name
        self.engine = engine
        self.engineConfig = engineConfig
        self.config = config
        self.started = started
        self.isolation = isolation
        self.composition = composition
    }

    /// A composite session's record: its engine reads `composite`, its members hold the configurations.
    public static func composite(name: String, _ composition: SessionComposition, config: Data = Data("{}".utf8), started: Bool) -> SessionRecord {
        SessionRecord(name: name, engine: SessionComposition.engineName, config: config, started: started, composition: composition)
    }

    /// The engines the session's instances run.
    public var engines: [String] { composition?.members.map(\.engine) ?? [engine] }
}

/// Where a session's engine instance runs.
public enum EngineIsolation: String, Codable, Hashable, Sendable, CaseIterable {
    /// In a child process of its engine: a crash there fails the session, not the server.
    case process
    /// In the one child process of its engine version, shared with every session of that engine
    /// that names `shared-process`: a crash there fails them all, and they reach each other's
    /// state folders (the weaker mode, for many sessions on an engine the operator trusts).
    case sharedProcess = "shared-process"
    /// Inside the server: the fast path, for engines the operator trusts.
    case inProcess = "in-process"
}

/// Where sessions persist. Small on purpose: each store (SQLite, PostgreSQL) lives in a target of
/// its own, so the host depends on no database.
public protocol SessionStore: Sendable {
    func loadAll() async throws -> [SessionRecord]
    func save(_ record: SessionRecord) async throws
    func delete(named name: String) async throws
    /// Called once at shutdown, after the last session has stopped.
    func close() async throws
}

/// A store several servers share (PostgreSQL): besides holding the sessions, it tells every
/// server which sessions any of them changed, so each can serve them the same way.
public protocol SharedSessionStore: SessionStore {
    /// The record as stored now; nil when no such session exists.
    func load(named name: String) async throws -> SessionRecord?
    /// The name of each session saved or deleted by any server (this one included), until the
    /// stream is cancelled. An empty name says changes may have been missed, as when the
    /// listening connection was lost and made again: every session should be read again.
    func changes() -> AsyncStream<String>
}
