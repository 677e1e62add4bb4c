import ContactsEngineKit

/// One address-book entry as the engine serves it (first and last names stay in the database only).
struct Entry: Sendable {
    /// The columns every backend's SELECT and RETURNING clauses read, in this order.
    static let columns = "id, name, pushname, shortName, isMe, isWAContact, isMyContact, isBlocked, about, profilePictureURL"

    var contact: Contact
    var about: String?
    var profilePictureURL: String?
}

/// The address book's entries in one array in id order, with the name order as positions into
/// it: the same orders and pages as the SDK's `ContactIndex` (ids in `CodePointOrder`, names by
/// `ContactNameKey`, descending as the exact reverse), in about a quarter of its memory. A
/// `ContactIndex` keeps a dictionary of entries beside an array of ids and one of name keys;
/// here an id is found by binary search, and the name order costs 4 bytes a contact.
struct AddressBookEntries: Sendable {
    /// One entry per id, in id order.
    private(set) var byID: [Entry]
    /// Every position in `byID`, in name order.
    private var byName: [UInt32]

    /// `entries` have distinct ids (each store's primary key); SQLite's come in id order already.
    /// Consumed, so that they are sorted in place rather than copied.
    init(_ entries: consuming [Entry]) {
        byID = entries
        byID.sort { CodePointOrder.precedes($0.contact.id, $1.contact.id) }
        byName = Array(0..<UInt32(byID.count))
        byName.sort { [byID] in ContactNameKey(byID[Int($0)].contact) < ContactNameKey(byID[Int($1)].contact) }
    }

    var count: Int { byID.count }

    subscript(id: String) -> Entry? {
        let position = position(of: id)
        return position.found ? byID[position.index] : nil
    }

    /// The positions in `byID` of the page `request` asks for, in order; a negative offset or
    /// limit is invalid input. O(page), however deep.
    func page(_ request: ContactsPageRequest) throws(EngineError) -> [Int] {
        try PageBounds.check(offset: request.offset, limit: request.limit)
        let descending = request.sortOrder == .desc
        switch request.sortBy ?? .id {
        case .id:
            // `Array.page`'s bounds, over positions that need no array of their own.
            let remaining = max(count - request.offset, 0)
            let size = max(min(request.limit ?? remaining, remaining), 0)
            return descending ? Array(((remaining - size)..<remaining).reversed()) : Array((count - remaining)..<(count - remaining + size))
        case .name:
            return byName.page(offset: request.offset, limit: request.limit, descending: descending).map(Int.init)
        }
    }

    /// Adds or replaces the entry of its contact's id: binary searches, and for a new id one
    /// shift of each array and one pass renumbering the name order.
    mutating func put(_ entry: Entry) {
        let (index, found) = position(of: entry.contact.id)
        if found {
            guard !CodePointOrder.same(byID[index].contact.name, entry.contact.name) else {
                byID[index] = entry
                return
            }
            // Found by the old name, so removed before the entry changes.
            byName.remove(at: nameRank(of: byID[index].contact))
            byID[index] = entry
        } else {
            byID.insert(entry, at: index)
            for rank in byName.indices where byName[rank] >= index { byName[rank] += 1 }
        }
        byName.insert(UInt32(index), at: nameRank(of: entry.contact))
    }

    /// Where `id` is in `byID`, or where it would go.
    private func position(of id: String) -> (index: Int, found: Bool) {
        var low = 0, high = byID.count
        while low < high {
            let middle = (low + high) / 2
            if CodePointOrder.precedes(byID[middle].contact.id, id) { low = middle + 1 } else { high = middle }
        }
        return (low, low < byID.count && CodePointOrder.same(byID[low].contact.id, id))
    }

    /// The first rank in `byName` whose entry does not sort before `contact`: where `contact` is,
    /// or would go.
    private func nameRank(of contact: Contact) -> Int {
        let key = ContactNameKey(contact)
        var low = 0, high = byName.count
        while low < high {
            let middle = (low + high) / 2
            if ContactNameKey(byID[Int(byName[middle])].contact) < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Everything the engine serves, in memory. The store is the durable copy; this one is kept
/// sorted so that any page, however deep, is a slice.
struct Snapshot: Sendable {
    /// The store's version when loaded (then advanced by our own commits): when the store's
    /// differs, someone else committed.
    var version: Int64
    var contacts: AddressBookEntries
    var accounts: Set<String>
    var pnByLid: [String: String]
    var lidByPn: [String: String]
    var lidOrder: [String]

    init(version: Int64, entries: consuming [Entry], accounts: [String], lids: [(lid: String, pn: String)]) {
        self.version = version
        // Sorted in Swift rather than by SQL: the binary searches need the SDK's code point
        // order (CodePointOrder), which a database's collation need not keep.
        contacts = AddressBookEntries(entries)
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
