import ContactsEngineKit

/// One change the engine makes to the address book; each backend writes it in its own SQL.
enum Change: Sendable {
    /// Sets the names and marks the entry as the user's contact. A new entry is a WhatsApp
    /// contact only if `phoneNumber` has an account, as `contact` answers.
    case upsert(id: String, name: String, firstName: String?, lastName: String?, phoneNumber: String?)
    /// Blocks `id`, creating an entry (not the user's contact) if it has none.
    case block(id: String, phoneNumber: String?)
    /// Unblocks `id`; an id the address book has never seen stays absent.
    case unblock(id: String)
}

/// What one of the engine's own commits did: the row as committed, and the store's version
/// just before and just after it. `before` equal to the snapshot's version means no one else
/// committed since the snapshot was loaded, so the snapshot plus `entry` is the whole state at `after`.
struct Commit: Sendable {
    var entry: Entry?
    var before: Int64
    var after: Int64
}

/// Where the `local` engine keeps its address book durably: SQLite (one process) or
/// PostgreSQL (shared by every replica). Reads are served from a `Snapshot` in memory; the
/// store loads it, tells cheaply whether anyone changed the data since, and commits changes.
protocol AddressBookStore: Sendable {
    /// For the engine's status: which database.
    var description: String { get }
    /// The version the data is at now: it changes whenever someone else commits.
    func version() async throws -> Int64
    /// Loads everything at one version and hands it to `install`, ordered with `apply`'s installs
    /// where the backend can order them (SQLite); otherwise the versions order them.
    func load(_ install: @escaping @Sendable (Snapshot) -> Void) async throws
    /// Commits `change` and hands the result to `install`.
    func apply(_ change: Change, _ install: @escaping @Sendable (Commit) -> Void) async throws
}
