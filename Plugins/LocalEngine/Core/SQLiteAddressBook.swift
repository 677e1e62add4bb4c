import ContactsEngineKit
import Dispatch
import GRDB
import Synchronization

extension Entry: FetchableRecord {
    // By index rather than Codable: loading 100,000 rows at init must stay fast in debug builds.
    init(row: Row) {
        self.init(
            contact: Contact(
                id: row[0], name: row[1], pushname: row[2], shortName: row[3],
                isMe: row[4], isWAContact: row[5], isMyContact: row[6], isBlocked: row[7]
            ),
            about: row[8], profilePictureURL: row[9]
        )
    }
}

/// The address book in a SQLite file (or in memory), shared by the engine and the seed importer
/// so both agree on the schema. Its version is the one row of `version`, which a trigger on each
/// table bumps for every row any connection writes (SQLite has no statement-level triggers).
final class SQLiteAddressBook: AddressBookStore {
    let description: String
    private let connection: ConnectionWhileInUse

    /// Opens the database at `path` (creating and migrating it as needed), or an in-memory one for `nil`.
    init(_ path: String?) throws {
        var configuration = Configuration()
        // Another connection (the `import` command) may hold the write lock for a few seconds:
        // wait for it rather than fail the call.
        configuration.busyMode = .timeout(10)
        if let path {
            // WAL lets the engine keep reading while an import writes, and a commit in WAL mode
            // survives the process being killed.
            configuration.journalMode = .wal
            connection = ConnectionWhileInUse { [configuration] in try DatabaseQueue(path: path, configuration: configuration) }
        } else {
            connection = ConnectionWhileInUse(keptOpen: try DatabaseQueue(configuration: configuration))
        }
        try connection.use { try Self.migrator.migrate($0) }
        description = "SQLite database \(path ?? "in memory")"
    }

    /// A local file: loaded at once, when the engine starts.
    func snapshot() throws -> Snapshot {
        try connection.use { try $0.read(Self.snapshot) }
    }

    func version() async throws -> Int64 {
        try await connection.use { try await $0.read(Self.storedVersion) }
    }

    func load(_ install: @escaping @Sendable (Snapshot) -> Void) async throws {
        // Installed in the database queue, so no write of ours can slip between loading and installing.
        try await connection.use { queue in try await queue.read { db in install(try Self.snapshot(db)) } }
    }

    func apply(_ change: Change, _ install: @escaping @Sendable (Commit) -> Void) async throws {
        // The install runs in the database queue too: concurrent writes reach the snapshot in commit order.
        try await connection.use { queue in
            try await queue.writeWithoutTransaction { db in
                var commit = Commit(entry: nil, before: 0, after: 0)
                try db.inTransaction {
                    commit.before = try Self.storedVersion(db)
                    commit.entry = try Self.write(change, db)
                    commit.after = try Self.storedVersion(db)
                    return .commit
                }
                install(commit)
            }
        }
    }

    private static func write(_ change: Change, _ db: Database) throws -> Entry? {
        switch change {
        case let .upsert(id, name, firstName, lastName, phoneNumber):
            try Entry.fetchOne(db, sql: """
                INSERT INTO contact (id, name, shortName, firstName, lastName, isMyContact, isWAContact)
                VALUES (?, ?, ?, ?, ?, 1, EXISTS (SELECT 1 FROM account WHERE number = ?))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, shortName = excluded.shortName,
                    firstName = excluded.firstName, lastName = excluded.lastName, isMyContact = 1
                RETURNING \(Entry.columns)
                """, arguments: [id, name, firstName, firstName, lastName, phoneNumber])
        case let .block(id, phoneNumber):
            try Entry.fetchOne(db, sql: """
                INSERT INTO contact (id, isBlocked, isMyContact, isWAContact)
                VALUES (?, 1, 0, EXISTS (SELECT 1 FROM account WHERE number = ?))
                ON CONFLICT (id) DO UPDATE SET isBlocked = 1
                RETURNING \(Entry.columns)
                """, arguments: [id, phoneNumber])
        case let .unblock(id):
            try Entry.fetchOne(db, sql: "UPDATE contact SET isBlocked = 0 WHERE id = ? RETURNING \(Entry.columns)", arguments: [id])
        }
    }

    /// Writes a checked seed in one transaction (LocalSeedImporter checks it first).
    func importSeed(_ seed: CheckedSeed) throws {
        try connection.use { try $0.write { db in
            // Numbered parameters: one value serves the insert's default and the update's "keep".
            let contact = try db.makeStatement(sql: """
                INSERT INTO contact (id, name, pushname, shortName, about, profilePictureURL, isBlocked, isMe, isWAContact, isMyContact)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, 0), coalesce(?8, 0), coalesce(?9, 1), coalesce(?10, 1))
                ON CONFLICT (id) DO UPDATE SET
                    name = coalesce(?2, name), pushname = coalesce(?3, pushname), shortName = coalesce(?4, shortName),
                    about = coalesce(?5, about), profilePictureURL = coalesce(?6, profilePictureURL),
                    isBlocked = coalesce(?7, isBlocked), isMe = coalesce(?8, isMe),
                    isWAContact = coalesce(?9, isWAContact), isMyContact = coalesce(?10, isMyContact)
                """)
            for c in seed.contacts {
                try contact.execute(arguments: [
                    c.id, c.name, c.pushname, c.shortName, c.about, c.profilePictureURL, c.isBlocked, c.isMe, c.isWAContact, c.isMyContact,
                ])
            }
            let account = try db.makeStatement(sql: "INSERT OR IGNORE INTO account (number) VALUES (?)")
            for number in seed.accounts {
                try account.execute(arguments: [number])
            }
            // REPLACE deletes the rows that conflict on either unique column: lid and pn stay one to one.
            let lid = try db.makeStatement(sql: "INSERT OR REPLACE INTO lid (lid, pn) VALUES (?, ?)")
            for mapping in seed.lids {
                try lid.execute(arguments: [mapping.lid, mapping.pn])
            }
        } }
    }

    private static func snapshot(_ db: Database) throws -> Snapshot {
        let version = try storedVersion(db)
        return Snapshot(
            version: version,
            entries: try Entry.fetchAll(db, sql: "SELECT \(Entry.columns) FROM contact"),
            accounts: try String.fetchAll(db, sql: "SELECT number FROM account"),
            lids: try Row.fetchAll(db, sql: "SELECT lid, pn FROM lid").map { (lid: $0[0] as String, pn: $0[1] as String) }
        )
    }

    private static func storedVersion(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM version") ?? 0
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // WITHOUT ROWID: every table is looked up by its text key, so the key is the storage.
            try db.execute(sql: """
                CREATE TABLE contact (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT,
                    pushname TEXT,
                    shortName TEXT,
                    firstName TEXT,
                    lastName TEXT,
                    about TEXT,
                    profilePictureURL TEXT,
                    isBlocked BOOLEAN NOT NULL DEFAULT 0,
                    isMe BOOLEAN NOT NULL DEFAULT 0,
                    isMyContact BOOLEAN NOT NULL DEFAULT 0,
                    isWAContact BOOLEAN NOT NULL DEFAULT 1
                ) WITHOUT ROWID;
                CREATE TABLE account (number TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                CREATE TABLE lid (lid TEXT PRIMARY KEY NOT NULL, pn TEXT NOT NULL UNIQUE) WITHOUT ROWID;
                """)
        }
        // The version was `PRAGMA data_version` while the engine kept its connection open; it
        // tells only that connection about others' commits, and the connection is now closed between uses.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE version (value INTEGER NOT NULL);
                INSERT INTO version (value) VALUES (0);
                """)
            for table in ["contact", "account", "lid"] {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    try db.execute(sql: """
                        CREATE TRIGGER \(table)_\(event.lowercased())_bumps_version AFTER \(event) ON \(table)
                        BEGIN UPDATE version SET value = value + 1; END
                        """)
                }
            }
        }
        return migrator
    }
}

/// A database file's connection, open only while a call uses it. An open SQLite connection
/// holds about 136 KiB (the page cache's first 20 pages, allocated on the first read whatever
/// `cache_size` says, and the WAL index's 32 KiB mapping), and a server runs a thousand sessions
/// whose reads all come from their snapshots. Concurrent calls share the one connection, whose
/// queue orders their commits and installs; it is closed after the last of them. Opening and
/// closing are file I/O: an async caller has them done on a Dispatch thread, never on the Swift
/// concurrency pool, and no lock is held while they run.
final class ConnectionWhileInUse: Sendable {
    private let open: @Sendable () throws -> DatabaseQueue
    private let state: Mutex<(queue: DatabaseQueue?, users: Int)>

    init(_ open: @escaping @Sendable () throws -> DatabaseQueue) {
        self.open = open
        state = Mutex((nil, 0))
    }

    /// An in-memory database lives only as long as its connection: one user more that never
    /// leaves keeps it open.
    init(keptOpen queue: DatabaseQueue) {
        open = { queue }
        state = Mutex((queue, 1))
    }

    /// For `init` and the seed importer, which may block.
    func use<T>(_ body: (DatabaseQueue) throws -> T) throws -> T {
        let queue = try acquire()
        defer { release() }
        return try body(queue)
    }

    func use<T>(_ body: (DatabaseQueue) async throws -> T) async throws -> T {
        let queue: DatabaseQueue
        if let open = countInIfOpen() {
            queue = open
        } else {
            queue = try await Self.offPool { try self.acquire() }
        }
        defer { release() }
        return try await body(queue)
    }

    /// The open connection, counted in; nil when none is open.
    private func countInIfOpen() -> DatabaseQueue? {
        state.withLock { state in
            guard let queue = state.queue else { return nil }
            state.users += 1
            return queue
        }
    }

    /// The open connection, counted in; opened (outside the lock) when none is.
    private func acquire() throws -> DatabaseQueue {
        if let queue = countInIfOpen() { return queue }
        let opened = try open()
        let (queue, spare) = state.withLock { state -> (DatabaseQueue, DatabaseQueue?) in
            // Another caller opened one meanwhile: use it, and close ours.
            if let queue = state.queue {
                state.users += 1
                return (queue, opened)
            }
            state = (opened, state.users + 1)
            return (opened, nil)
        }
        if let spare { Self.closeOffPool(spare) }
        return queue
    }

    private func release() {
        let last = state.withLock { state -> DatabaseQueue? in
            state.users -= 1
            return state.users == 0 ? state.queue.take() : nil
        }
        // Closed behind the answer: closing checkpoints the WAL into the database file (two more
        // fsyncs), which the commit, already in the WAL, does not wait for.
        if let last { Self.closeOffPool(last) }
    }

    private static func closeOffPool(_ queue: DatabaseQueue) {
        // Closed explicitly rather than when GRDB's queue lets go of its last reference; should
        // closing fail, that release closes it.
        DispatchQueue.global(qos: .utility).async { try? queue.close() }
    }

    private static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
        }
    }
}
