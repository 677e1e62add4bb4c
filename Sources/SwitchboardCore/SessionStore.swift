import Foundation
import GRDB

/// A session as it is persisted: its name, engine, the engine's configuration and whether it
/// should be running. Status is not persisted: it is what happens when the record is started.
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

    public init(
        name: String, engine: String, engineConfig: Data = Data("{}".utf8), config: Data = Data("{}".utf8), started: Bool,
        isolation: EngineIsolation? = nil
    ) {
        self.name = name
        self.engine = engine
        self.engineConfig = engineConfig
        self.config = config
        self.started = started
        self.isolation = isolation
    }
}

/// Where a session's engine instance runs.
public enum EngineIsolation: String, Codable, Hashable, Sendable, CaseIterable {
    /// In a child process of its engine: a crash there fails the session, not the server.
    case process
    /// Inside the server: the fast path, for engines the operator trusts.
    case inProcess = "in-process"
}

/// Where sessions persist. Small on purpose: a PostgreSQL store shared by several servers
/// implements the same three calls.
public protocol SessionStore: Sendable {
    func loadAll() async throws -> [SessionRecord]
    func save(_ record: SessionRecord) async throws
    func delete(named name: String) async throws
}

/// Sessions in one SQLite file (WAL, so a `kill -9` loses nothing that was acknowledged).
public final class SQLiteSessionStore: SessionStore {
    private let database: DatabaseQueue

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        database = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "session") { t in
                t.primaryKey("name", .text)
                t.column("engine", .text).notNull()
                t.column("engineConfig", .blob).notNull()
                t.column("config", .blob).notNull()
                t.column("started", .boolean).notNull()
            }
        }
        migrator.registerMigration("v2: isolation") { db in
            try db.alter(table: "session") { t in t.add(column: "isolation", .text) }
        }
        try migrator.migrate(database)
    }

    public func loadAll() async throws -> [SessionRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, engine, engineConfig, config, started, isolation FROM session ORDER BY name").map {
                SessionRecord(
                    name: $0["name"], engine: $0["engine"], engineConfig: $0["engineConfig"], config: $0["config"], started: $0["started"],
                    isolation: ($0["isolation"] as String?).flatMap(EngineIsolation.init(rawValue:)))
            }
        }
    }

    public func save(_ record: SessionRecord) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO session (name, engine, engineConfig, config, started, isolation) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET engine = excluded.engine, engineConfig = excluded.engineConfig,
                        config = excluded.config, started = excluded.started, isolation = excluded.isolation
                    """,
                arguments: [record.name, record.engine, record.engineConfig, record.config, record.started, record.isolation?.rawValue])
        }
    }

    public func delete(named name: String) async throws {
        try await database.write { db in try db.execute(sql: "DELETE FROM session WHERE name = ?", arguments: [name]) }
    }
}
