import ContactsEngineKit
import Foundation
import Logging
import PostgresNIO
import PostgresURL
import Synchronization

/// The address book in PostgreSQL, one for every replica whose `local` session names the same
/// database. The engine creates and migrates the schema itself (numbered migrations in
/// `local_schema`). A statement-level trigger on each table bumps the one row of
/// `local_version`, so a replica learns whether anyone committed with one cheap SELECT; that
/// row's lock also puts every writer's commit in one order.
final class PostgresAddressBook: AddressBookStore {
    /// Each migration, in order; the schema's version is the number of migrations applied.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE local_contact (
                id text PRIMARY KEY, name text, pushname text, shortName text, firstName text, lastName text,
                about text, profilePictureURL text, isBlocked boolean NOT NULL DEFAULT false,
                isMe boolean NOT NULL DEFAULT false, isMyContact boolean NOT NULL DEFAULT false,
                isWAContact boolean NOT NULL DEFAULT true)
            """,
            "CREATE TABLE local_account (number text PRIMARY KEY)",
            "CREATE TABLE local_lid (lid text PRIMARY KEY, pn text NOT NULL UNIQUE)",
            "CREATE TABLE local_version (n bigint NOT NULL)",
            "INSERT INTO local_version (n) VALUES (0)",
            """
            CREATE FUNCTION local_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE local_version SET n = n + 1;
                RETURN NULL;
            END $$
            """,
        ] + ["local_contact", "local_account", "local_lid"].map { table in
            """
            CREATE TRIGGER \(table)_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(table)
                FOR EACH STATEMENT EXECUTE FUNCTION local_bump_version()
            """
        },
    ]

    /// Migrations take this advisory lock, so replicas starting together migrate one after the other.
    private static let migrationLock: Int64 = 0x5357_4C43  // "SWLC"
    /// Longest a call waits for the database: an unreachable one answers unavailable, not never.
    static let deadline = Duration.seconds(5)

    let description: String
    private let client: PostgresClient
    private let running: Task<Void, Never>
    private let logger = Logger(label: "switchboard.local.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// The migration, run by the first call (not at init, which must not wait on the network);
    /// dropped when it fails so the next call tries again.
    private let migrated = Mutex<Task<Void, any Error>?>(nil)

    /// Only parses `url`; connecting waits for the first call.
    init(url: String) throws {
        var configuration = try Self.configuration(url)
        configuration.options.connectTimeout = .seconds(3)
        client = PostgresClient(configuration: configuration)
        let client = client
        running = Task { await client.run() }
        description = "PostgreSQL database \(configuration.host ?? "?"):\(configuration.port ?? 5432)/\(configuration.database ?? configuration.username)"
    }

    deinit { running.cancel() }

    static func configuration(_ url: String) throws(EngineError) -> PostgresClient.Configuration {
        do {
            return try PostgresURL.configuration(url)
        } catch {
            throw EngineError(.invalidInput, "invalid configuration: postgres: \(error)")
        }
    }

    func version() async throws -> Int64 {
        try await call {
            var version: Int64 = 0
            for try await n in try await self.client.query("SELECT n FROM local_version", logger: self.logger).decode(Int64.self) {
                version = n
            }
            return version
        }
    }

    func load(_ install: @escaping @Sendable (Snapshot) -> Void) async throws {
        // One statement, so one MVCC snapshot: the version and the three tables agree.
        let rows = """
            SELECT 0, \(Entry.columns) FROM local_contact
            UNION ALL SELECT 1, number, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM local_account
            UNION ALL SELECT 2, lid, pn, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM local_lid
            UNION ALL SELECT 3, n::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM local_version
            """
        typealias Row = (Int, String, String?, String?, String?, Bool?, Bool?, Bool?, Bool?, String?, String?)
        let snapshot = try await call {
            var version: Int64 = 0
            var entries: [Entry] = [], accounts: [String] = [], lids: [(lid: String, pn: String)] = []
            let result = try await self.client.query(PostgresQuery(unsafeSQL: rows), logger: self.logger)
            for try await row in result.decode(Row.self) {
                switch row.0 {
                case 0:
                    entries.append(Entry(
                        contact: Contact(
                            id: row.1, name: row.2, pushname: row.3, shortName: row.4, isMe: row.5 ?? false,
                            isWAContact: row.6 ?? true, isMyContact: row.7 ?? false, isBlocked: row.8 ?? false),
                        about: row.9, profilePictureURL: row.10))
                case 1: accounts.append(row.1)
                case 2: lids.append((lid: row.1, pn: row.2 ?? ""))
                default: version = Int64(row.1) ?? 0
                }
            }
            return Snapshot(version: version, entries: entries, accounts: accounts, lids: lids)
        }
        install(snapshot)
    }

    func apply(_ change: Change, _ install: @escaping @Sendable (Commit) -> Void) async throws {
        let commit = try await call {
            try await self.client.withTransaction(logger: self.logger) { connection in
                // Locking the version row first makes `after - before` our own statement's bumps alone
                // (an upsert fires both the INSERT and the UPDATE statement triggers).
                let before = try await Self.version(connection, "SELECT n FROM local_version FOR UPDATE", self.logger)
                var entry: Entry?
                for try await row in try await connection.query(Self.statement(change), logger: self.logger)
                    .decode((String, String?, String?, String?, Bool, Bool, Bool, Bool, String?, String?).self) {
                    entry = Entry(
                        contact: Contact(
                            id: row.0, name: row.1, pushname: row.2, shortName: row.3,
                            isMe: row.4, isWAContact: row.5, isMyContact: row.6, isBlocked: row.7),
                        about: row.8, profilePictureURL: row.9)
                }
                let after = try await Self.version(connection, "SELECT n FROM local_version", self.logger)
                return Commit(entry: entry, before: before, after: after)
            }
        }
        install(commit)
    }

    private static func statement(_ change: Change) -> PostgresQuery {
        switch change {
        case let .upsert(id, name, firstName, lastName, phoneNumber):
            """
            INSERT INTO local_contact (id, name, shortName, firstName, lastName, isMyContact, isWAContact)
            VALUES (\(id), \(name), \(firstName), \(firstName), \(lastName), true,
                EXISTS (SELECT 1 FROM local_account WHERE number = \(phoneNumber)))
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, shortName = excluded.shortName,
                firstName = excluded.firstName, lastName = excluded.lastName, isMyContact = true
            RETURNING \(unescaped: Entry.columns)
            """
        case let .block(id, phoneNumber):
            """
            INSERT INTO local_contact (id, isBlocked, isMyContact, isWAContact)
            VALUES (\(id), true, false, EXISTS (SELECT 1 FROM local_account WHERE number = \(phoneNumber)))
            ON CONFLICT (id) DO UPDATE SET isBlocked = true
            RETURNING \(unescaped: Entry.columns)
            """
        case let .unblock(id):
            "UPDATE local_contact SET isBlocked = false WHERE id = \(id) RETURNING \(unescaped: Entry.columns)"
        }
    }

    /// Writes a checked seed in one transaction (LocalSeedImporter checks it first), with the
    /// same merge rules as the SQLite importer.
    func importSeed(_ seed: CheckedSeed) async throws {
        // A row per statement: a large seed takes a while, so the deadline is a bulk one.
        try await call(deadline: .seconds(300)) {
            try await self.client.withTransaction(logger: self.logger) { connection in
                for c in seed.contacts {
                    try await connection.query("""
                        INSERT INTO local_contact (id, name, pushname, shortName, about, profilePictureURL, isBlocked, isMe, isWAContact, isMyContact)
                        VALUES (\(c.id), \(c.name), \(c.pushname), \(c.shortName), \(c.about), \(c.profilePictureURL),
                            coalesce(\(c.isBlocked), false), coalesce(\(c.isMe), false), coalesce(\(c.isWAContact), true),
                            coalesce(\(c.isMyContact), true))
                        ON CONFLICT (id) DO UPDATE SET
                            name = coalesce(\(c.name), local_contact.name), pushname = coalesce(\(c.pushname), local_contact.pushname),
                            shortName = coalesce(\(c.shortName), local_contact.shortName), about = coalesce(\(c.about), local_contact.about),
                            profilePictureURL = coalesce(\(c.profilePictureURL), local_contact.profilePictureURL),
                            isBlocked = coalesce(\(c.isBlocked), local_contact.isBlocked), isMe = coalesce(\(c.isMe), local_contact.isMe),
                            isWAContact = coalesce(\(c.isWAContact), local_contact.isWAContact),
                            isMyContact = coalesce(\(c.isMyContact), local_contact.isMyContact)
                        """, logger: self.logger)
                }
                for number in seed.accounts {
                    try await connection.query("INSERT INTO local_account (number) VALUES (\(number)) ON CONFLICT DO NOTHING", logger: self.logger)
                }
                // Replacing both sides, as SQLite's INSERT OR REPLACE does: lid and pn stay one to one.
                for mapping in seed.lids {
                    try await connection.query("DELETE FROM local_lid WHERE lid = \(mapping.lid) OR pn = \(mapping.pn)", logger: self.logger)
                    try await connection.query("INSERT INTO local_lid (lid, pn) VALUES (\(mapping.lid), \(mapping.pn))", logger: self.logger)
                }
            }
        }
    }

    private static func version(_ connection: PostgresConnection, _ sql: String, _ logger: Logger) async throws -> Int64 {
        var version: Int64 = 0
        for try await n in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int64.self) {
            version = n
        }
        return version
    }

    /// Runs `body` once the schema is in place, within `deadline`; any database failure
    /// answers unavailable, naming the database.
    private func call<T: Sendable>(deadline: Duration = deadline, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        // Not a task group: it would wait for its children, and waiting on the shared migration
        // task cannot be cancelled. The first of the work and the deadline answers; the work
        // is cancelled when late.
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
            let answer = Once(continuation)
            let timer = Task {
                guard (try? await Task.sleep(for: deadline)) != nil else { return }
                if answer.resume(.failure(EngineError(.unavailable, "\(self.description): no answer within \(deadline)"))) { answer.cancelWork() }
            }
            answer.setWork(Task {
                do {
                    try await self.migrate()
                    answer.resume(.success(try await body()))
                } catch {
                    answer.resume(.failure(error))
                }
                timer.cancel()
            })
        }
        switch result {
        case let .success(value): return value
        case let .failure(error as EngineError): throw error
        // String(reflecting:): a PSQLError's plain description hides the server's message.
        case let .failure(error): throw EngineError(.unavailable, "\(description): \(String(reflecting: error))")
        }
    }

    private func migrate() async throws {
        let task = migrated.withLock { task in
            if let task { return task }
            let created = Task { [client, logger] in
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                    try await connection.query("CREATE TABLE IF NOT EXISTS local_schema (version integer NOT NULL)", logger: logger)
                    var version = 0
                    for try await found in try await connection.query("SELECT max(version) FROM local_schema", logger: logger).decode(Int?.self) {
                        version = found ?? 0
                    }
                    guard version <= Self.migrations.count else {
                        throw EngineError(.unavailable, "the database's local schema is version \(version), newer than this engine's \(Self.migrations.count): upgrade Switchboard")
                    }
                    for (index, statements) in Self.migrations.enumerated() where index + 1 > version {
                        for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                        try await connection.query("INSERT INTO local_schema (version) VALUES (\(index + 1))", logger: logger)
                    }
                }
            }
            task = created
            return created
        }
        do {
            try await task.value
        } catch {
            migrated.withLock { if $0 == task { $0 = nil } }
            throw error
        }
    }
}

/// Resumes a continuation once, whichever of two tasks comes first.
private final class Once<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>
    private let work = Mutex<Task<Void, Never>?>(nil)

    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = Mutex(continuation) }

    func setWork(_ task: Task<Void, Never>) { work.withLock { $0 = task } }
    func cancelWork() { work.withLock { $0?.cancel() } }

    /// Whether this call was the one that resumed it.
    @discardableResult
    func resume(_ value: T) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(returning: value)
        return true
    }
}
