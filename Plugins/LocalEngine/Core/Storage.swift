import GRDB

/// The SQLite side, shared by the engine and the seed importer so both agree on the schema.
enum Storage {
    /// Opens the database at `path` (creating and migrating it as needed), or an in-memory one for `nil`.
    static func open(_ path: String?) throws -> DatabaseQueue {
        var configuration = Configuration()
        // Another connection (the `import` command) may hold the write lock for a few seconds:
        // wait for it rather than fail the call.
        configuration.busyMode = .timeout(10)
        let dbQueue: DatabaseQueue
        if let path {
            // WAL lets the engine keep reading while an import writes, and a commit in WAL mode
            // survives the process being killed.
            configuration.journalMode = .wal
            dbQueue = try DatabaseQueue(path: path, configuration: configuration)
        } else {
            dbQueue = try DatabaseQueue(configuration: configuration)
        }
        try migrator.migrate(dbQueue)
        return dbQueue
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
        return migrator
    }
}
