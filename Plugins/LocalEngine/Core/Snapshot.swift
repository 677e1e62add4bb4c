import ContactsEngineKit

/// One address-book entry as the engine serves it (first and last names stay in the database only).
struct Entry: ContactIndexEntry {
    /// The columns every backend's SELECT and RETURNING clauses read, in this order.
    static let columns = "id, name, pushname, shortName, isMe, isWAContact, isMyContact, isBlocked, about, profilePictureURL"

    var contact: Contact
    var about: String?
    var profilePictureURL: String?
}

/// Everything the engine serves, in memory. The store is the durable copy; this one is kept
/// sorted so that any page, however deep, is a slice.
struct Snapshot: Sendable {
    /// The store's version when loaded (then advanced by our own commits): when the store's
    /// differs, someone else committed.
    var version: Int64
    var contacts: ContactIndex<Entry>
    var accounts: Set<String>
    var pnByLid: [String: String]
    var lidByPn: [String: String]
    var lidOrder: [String]

    init(version: Int64, entries: [Entry], accounts: [String], lids: [(lid: String, pn: String)]) {
        self.version = version
        // Sorted by ContactIndex rather than by SQL: its binary searches need the SDK's code point
        // order (CodePointOrder), which a database's collation need not keep.
        contacts = ContactIndex(entries)
        self.accounts = Set(accounts)
        pnByLid = Dictionary(uniqueKeysWithValues: lids.map { ($0.lid, $0.pn) })
        lidByPn = Dictionary(uniqueKeysWithValues: lids.map { ($0.pn, $0.lid) })
        lidOrder = lids.map(\.lid).sorted(by: CodePointOrder.precedes)
    }

    /// Whether `number` has a WhatsApp account: in the directory, or an address-book entry that says so.
    func isRegistered(_ number: String) -> Bool {
        accounts.contains(number) || contacts[number + ChatID.contactSuffix]?.contact.isWAContact == true
    }
}
