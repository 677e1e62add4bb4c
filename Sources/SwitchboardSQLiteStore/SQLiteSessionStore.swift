import Foundation
import GRDB
import SwitchboardEngineRuntime
import SwitchboardSessions

/// Sessions in one SQLite file (WAL, so a `kill -9` loses nothing that was acknowledged).
public final class SQLiteSessionStore: SessionStore {
    private let database: DatabaseQueue

    /// Opens (or creates) the file and migrates its schema; a file that cannot be opened (not a
    /// database, unreadable) is refused naming it.
    public init(path: String) throws {
        do {
            database = try Self.open(path)
        } catch {
            throw OpenError(path: URL(fileURLWithPath: path).standardizedFileURL.path, reason: "\(error)")
        }
    }

    public struct OpenError: Error, CustomStringConvertible {
        public let path: String
        let reason: String
        public var description: String { "cannot open the session store \(path): \(reason)" }
    }

    private static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        let database = try DatabaseQueue(path: path, configuration: configuration)
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
        migrator.registerMigration("v3: composition") { db in
            try db.alter(table: "session") { t in t.add(column: "composition", .blob) }
        }
        migrator.registerMigration("v4: sandbox grants") { db in
            try db.alter(table: "session") { t in t.add(column: "sandbox", .blob) }
        }
        try migrator.migrate(database)
        return database
    }

    public func loadAll() async throws -> [SessionRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, engine, engineConfig, config, started, isolation, composition, sandbox FROM session ORDER BY name").map {
                SessionRecord(
                    name: $0["name"], engine: $0["engine"], engineConfig: $0["engineConfig"], config: $0["config"], started: $0["started"],
                    isolation: ($0["isolation"] as String?).flatMap(EngineIsolation.init(rawValue:)),
                    composition: try SessionComposition.stored($0["composition"]), sandbox: try SandboxGrants.stored($0["sandbox"]))
            }
        }
    }

    public func save(_ record: SessionRecord) async throws {
        let composition = try record.composition?.stored
        let sandbox = try record.sandbox.stored
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO session (name, engine, engineConfig, config, started, isolation, composition, sandbox)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET engine = excluded.engine, engineConfig = excluded.engineConfig,
                        config = excluded.config, started = excluded.started, isolation = excluded.isolation,
                        composition = excluded.composition, sandbox = excluded.sandbox
                    """,
                arguments: [
                    record.name, record.engine, record.engineConfig, record.config, record.started, record.isolation?.rawValue,
                    composition, sandbox,
                ])
        }
    }

    public func delete(named name: String) async throws {
        try await database.write { db in try db.execute(sql: "DELETE FROM session WHERE name = ?", arguments: [name]) }
    }

    public func close() async throws {
        try database.close()
    }
}
