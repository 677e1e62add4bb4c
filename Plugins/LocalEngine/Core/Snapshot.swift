import ContactsEngineKit
import GRDB

/// One address-book entry as the engine serves it (first and last names stay in SQLite only).
struct Entry: FetchableRecord, ContactIndexEntry {
    /// The columns `init(row:)` reads, in its order: for SELECT and RETURNING clauses.
    static let columns = "id, name, pushname, shortName, isMe, isWAContact, isMyContact, isBlocked, about, profilePictureURL"

    var contact: Contact
    var about: String?
    var profilePictureURL: String?

    // By index rather than Codable: loading 100,000 rows at init must stay fast in debug builds.
    init(row: Row) {
        contact = Contact(
            id: row[0], name: row[1], pushname: row[2], shortName: row[3],
            isMe: row[4], isWAContact: row[5], isMyContact: row[6], isBlocked: row[7]
        )
        about = row[8]
        profilePictureURL = row[9]
    }
}

/// Everything the engine serves, in memory. SQLite is the durable copy; this one is kept
/// sorted so that any page, however deep, is a slice.
struct Snapshot: Sendable {
    /// `PRAGMA data_version` when loaded: it changes when another connection commits.
    var dataVersion: Int
    var contacts: ContactIndex<Entry>
    var accounts: Set<String>
    var pnByLid: [String: String]
    var lidByPn: [String: String]
    var lidOrder: [String]

    init(_ db: Database) throws {
        // Read before the tables: a commit in between then only causes one more reload later.
        dataVersion = try Self.dataVersion(db)
        let entries = try Entry.fetchAll(db, sql: "SELECT \(Entry.columns) FROM contact")
        // Sorted by ContactIndex rather than by SQL: its binary searches need Swift's own String order.
        contacts = ContactIndex(entries)
        accounts = Set(try String.fetchAll(db, sql: "SELECT number FROM account"))
        let lids = try Row.fetchAll(db, sql: "SELECT lid, pn FROM lid").map { (lid: $0[0] as String, pn: $0[1] as String) }
        pnByLid = Dictionary(uniqueKeysWithValues: lids.map { ($0.lid, $0.pn) })
        lidByPn = Dictionary(uniqueKeysWithValues: lids.map { ($0.pn, $0.lid) })
        lidOrder = lids.map(\.lid).sorted()
    }

    static func dataVersion(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
    }

    /// Whether `number` has a WhatsApp account: in the directory, or an address-book entry that says so.
    func isRegistered(_ number: String) -> Bool {
        accounts.contains(number) || contacts[number + ChatID.contactSuffix]?.contact.isWAContact == true
    }
}
