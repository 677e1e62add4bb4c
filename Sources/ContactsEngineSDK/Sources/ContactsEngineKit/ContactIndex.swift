/// What a `ContactIndex` holds: anything that carries a contact (the engine's own record, with
/// whatever else it keeps beside the contact), or the contact itself.
public protocol ContactIndexEntry: Sendable {
    var contact: Contact { get }
}

extension Contact: ContactIndexEntry {
    public var contact: Contact { self }
}

/// An engine's contacts, kept in both orders a page request may ask for, so that any page
/// (`limit`, `offset`, `sortBy` id or name, `sortOrder` asc or desc) is a slice, however deep.
///
/// `sortBy=name` is the same in every engine (`ContactNameKey`): named contacts first, by name
/// in Unicode scalar order, then unnamed ones; ties, and unnamed contacts, by id. Both orders
/// descend as the exact reverse of ascending.
///
/// The reads are `@inlinable` so that they are specialized for the engine's own `Entry`:
/// unspecialized, a 100,000-contact page spent most of its time in generic dictionary lookups.
public struct ContactIndex<Entry: ContactIndexEntry>: Sendable {
    public private(set) var entries: [String: Entry]
    @usableFromInline var idOrder: [String]
    @usableFromInline var nameOrder: [ContactNameKey]

    /// Entries with the same contact id: the last one wins.
    public init(_ entries: some Sequence<Entry>) {
        var byID: [String: Entry] = [:]
        for entry in entries { byID[entry.contact.id] = entry }
        self.entries = byID
        idOrder = byID.keys.sorted()
        nameOrder = byID.values.map { ContactNameKey($0.contact) }.sorted()
    }

    @inlinable
    public var count: Int { entries.count }

    @inlinable
    public subscript(id: String) -> Entry? { entries[id] }

    /// The page `request` asks for; a negative offset or limit is invalid input.
    @inlinable
    public func page(_ request: ContactsPageRequest) throws(EngineError) -> [Entry] {
        try pageIDs(request).map { entries[$0]! }
    }

    /// The ids of the page `request` asks for, in order: for an engine that looks the entries up
    /// a piece at a time (`ContactsEngine.listContacts(_:inPiecesOf:send:)`).
    @inlinable
    public func pageIDs(_ request: ContactsPageRequest) throws(EngineError) -> [String] {
        try PageBounds.check(offset: request.offset, limit: request.limit)
        let descending = request.sortOrder == .desc
        switch request.sortBy ?? .id {
        case .id: return idOrder.page(offset: request.offset, limit: request.limit, descending: descending)
        case .name: return nameOrder.page(offset: request.offset, limit: request.limit, descending: descending).map(\.id)
        }
    }

    /// Adds or replaces the entry of its contact's id: O(log n) searches and one array shift.
    public mutating func put(_ entry: Entry) {
        let id = entry.contact.id
        if let old = entries.updateValue(entry, forKey: id) {
            guard old.contact.name != entry.contact.name else { return }
            nameOrder.removeSorted(ContactNameKey(old.contact))
        } else {
            idOrder.insertSorted(id)
        }
        nameOrder.insertSorted(ContactNameKey(entry.contact))
    }

    public mutating func remove(id: String) {
        guard let old = entries.removeValue(forKey: id) else { return }
        idOrder.removeSorted(id)
        nameOrder.removeSorted(ContactNameKey(old.contact))
    }
}

extension Array where Element: Comparable {
    /// The index of the first element not less than `element`, by binary search.
    func lowerBound(of element: Element) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < element { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func insertSorted(_ element: Element) {
        insert(element, at: lowerBound(of: element))
    }

    mutating func removeSorted(_ element: Element) {
        let index = lowerBound(of: element)
        if index < count, self[index] == element { remove(at: index) }
    }
}
