import Foundation
import Logging
import PostgresNIO
import PostgresURL
import SwitchboardEngineRuntime
import SwitchboardSessions

/// Sessions in PostgreSQL, shared by every server pointed at the same database. The server
/// creates and migrates the schema itself (numbered migrations in `switchboard_schema`); a
/// trigger announces each change on `NOTIFY switchboard_sessions` with the session's name, so
/// every server hears every change, whoever made it. Every operation is bounded (`StoreDeadline`):
/// while PostgreSQL is down, session changes fail within the bound and are never applied later.
public final class PostgresSessionStore: SharedSessionStore {
    /// The channel the trigger notifies and every server listens on.
    static let channel = "switchboard_sessions"

    /// Each migration, in order; the schema's version is the number of migrations applied.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE switchboard_session (
                name text PRIMARY KEY, engine text NOT NULL, engine_config bytea NOT NULL, config bytea NOT NULL,
                started boolean NOT NULL, isolation text)
            """,
            """
            CREATE FUNCTION switchboard_session_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('switchboard_sessions', COALESCE(NEW.name, OLD.name));
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER switchboard_session_changed AFTER INSERT OR UPDATE OR DELETE ON switchboard_session
                FOR EACH ROW EXECUTE FUNCTION switchboard_session_notify()
            """,
        ],
        ["ALTER TABLE switchboard_session ADD COLUMN composition bytea"],
        ["ALTER TABLE switchboard_session ADD COLUMN sandbox bytea"],
    ]

    /// Any number will do, as long as it is Switchboard's: migrations take this advisory lock,
    /// so replicas starting together migrate one after the other.
    private static let migrationLock: Int64 = 0x5357_4244  // "SWBD"

    /// The bound of every operation when none is given (`serve --store-timeout`).
    public static let defaultTimeout = Duration.seconds(5)

    /// The store's connections. A service: the server's `ServiceGroup` runs it, and the store
    /// answers only while it runs (a one-off command uses `whileRunning`).
    public let client: PostgresClient
    private let deadline: StoreDeadline
    private let logger: Logger

    /// Reads the URL; nothing connects until `client` runs. Each operation gives up after `timeout`.
    public init(url: String, timeout: Duration = defaultTimeout, logger: Logger) throws {
        let configuration = try PostgresURL.configuration(url)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let client = client
        deadline = StoreDeadline(
            timeout: timeout, database: "PostgreSQL \(configuration.host ?? "?"):\(configuration.port ?? 5432)/\(configuration.database ?? configuration.username)",
            logger: logger, probe: { try await client.query("SELECT 1", logger: logger) })
        self.logger = logger
    }

    /// Runs `body` with `client` running, for a command that uses the store once and ends.
    public func whileRunning<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { [client] in
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    public struct NewerSchema: Error, CustomStringConvertible {
        let found: Int, known: Int
        public var description: String {
            "the database's Switchboard schema is version \(found), newer than this server's \(known): upgrade this server"
        }
    }

    /// Creates or migrates the schema: the first thing a server does once `client` runs.
    public func migrate() async throws {
        try await deadline.run { [client, logger] _ in try await Self.migrate(client, logger) }
    }

    private static func migrate(_ client: PostgresClient, _ logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS switchboard_schema (version integer NOT NULL)", logger: logger)
            var version = 0
            for try await found in try await connection.query("SELECT max(version) FROM switchboard_schema", logger: logger).decode(Int?.self) {
                version = found ?? 0
            }
            guard version <= Self.migrations.count else { throw NewerSchema(found: version, known: Self.migrations.count) }
            for (index, statements) in Self.migrations.enumerated() where index + 1 > version {
                for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query("INSERT INTO switchboard_schema (version) VALUES (\(index + 1))", logger: logger)
                logger.info("session store migrated", metadata: ["version": "\(index + 1)"])
            }
        }
    }

    public func loadAll() async throws -> [SessionRecord] {
        try await deadline.run { [client, logger] _ in
            try await Self.records(try await client.query(
                "SELECT name, engine, engine_config, config, started, isolation, composition, sandbox FROM switchboard_session ORDER BY name",
                logger: logger))
        }
    }

    public func load(named name: String) async throws -> SessionRecord? {
        try await deadline.run { [client, logger] _ in
            try await Self.records(try await client.query(
                "SELECT name, engine, engine_config, config, started, isolation, composition, sandbox FROM switchboard_session WHERE name = \(name)",
                logger: logger)).first
        }
    }

    private static func records(_ rows: PostgresRowSequence) async throws -> [SessionRecord] {
        var records: [SessionRecord] = []
        for try await (name, engine, engineConfig, config, started, isolation, composition, sandbox)
            in rows.decode((String, String, Data, Data, Bool, String?, Data?, Data?).self) {
            records.append(SessionRecord(
                name: name, engine: engine, engineConfig: engineConfig, config: config, started: started,
                isolation: isolation.flatMap(EngineIsolation.init(rawValue:)), composition: try SessionComposition.stored(composition),
                sandbox: try SandboxGrants.stored(sandbox)))
        }
        return records
    }

    public func save(_ record: SessionRecord) async throws {
        let composition = try record.composition?.stored
        let sandbox = try record.sandbox.stored
        try await write { connection, logger in
            try await connection.query(
                """
                INSERT INTO switchboard_session (name, engine, engine_config, config, started, isolation, composition, sandbox)
                VALUES (\(record.name), \(record.engine), \(record.engineConfig), \(record.config), \(record.started), \(record.isolation?.rawValue),
                    \(composition), \(sandbox))
                ON CONFLICT (name) DO UPDATE SET engine = excluded.engine, engine_config = excluded.engine_config,
                    config = excluded.config, started = excluded.started, isolation = excluded.isolation, composition = excluded.composition,
                    sandbox = excluded.sandbox
                """, logger: logger)
        }
    }

    public func delete(named name: String) async throws {
        try await write { connection, logger in
            try await connection.query("DELETE FROM switchboard_session WHERE name = \(name)", logger: logger)
        }
    }

    /// One change in a transaction that commits only if its caller has not been answered yet.
    private func write(_ change: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void) async throws {
        try await deadline.run { [client, logger] claim in
            try await client.withTransaction(logger: logger) { connection in
                try await change(connection, logger)
                try claim.claim()
            }
        }
    }

    public func changes() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let listening = Task { [client, logger] in
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { notifications in
                            // Listening (again): whatever changed before now is read afresh.
                            continuation.yield("")
                            for try await notification in notifications { continuation.yield(notification.payload) }
                        }
                    }
                } catch {
                    guard !Task.isCancelled else { break }
                    logger.warning("lost the session notifications; listening again", metadata: ["reason": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in listening.cancel() }
        return stream
    }

    /// Nothing to release here: `client` is the group's, and stops when the group does, after
    /// the sessions (and so the store's last write).
    public func close() async throws {}
}
