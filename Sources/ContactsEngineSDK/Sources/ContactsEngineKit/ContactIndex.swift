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
/// Both orders are the same in every engine and every language: `sortBy=id` by id in
/// `CodePointOrder`; `sortBy=name` by `ContactNameKey`, named contacts first, by name in the
/// same order, then unnamed ones; ties, and unnamed contacts, by id. Both descend as the exact
/// reverse of ascending.
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
        idOrder = byID.keys.sorted(by: CodePointOrder.precedes)
        nameOrder = byID.values.map { ContactNameKey($0.contact) }.sorted(by: <)
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
            guard !CodePointOrder.same(old.contact.name, entry.contact.name) else { return }
            nameOrder.removeSorted(ContactNameKey(old.contact), by: <)
        } else {
            idOrder.insertSorted(id, by: CodePointOrder.precedes)
        }
        nameOrder.insertSorted(ContactNameKey(entry.contact), by: <)
    }

    public mutating func remove(id: String) {
        guard let old = entries.removeValue(forKey: id) else { return }
        idOrder.removeSorted(id, by: CodePointOrder.precedes)
        nameOrder.removeSorted(ContactNameKey(old.contact), by: <)
    }
}

extension Array {
    /// The index of the first element not ordered before `element`, by binary search.
    func lowerBound(of element: Element, by precedes: (Element, Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if precedes(self[middle], element) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func insertSorted(_ element: Element, by precedes: (Element, Element) -> Bool) {
        insert(element, at: lowerBound(of: element, by: precedes))
    }

    /// Removes the element that neither precedes nor follows `element`, if there is one.
    mutating func removeSorted(_ element: Element, by precedes: (Element, Element) -> Bool) {
        let index = lowerBound(of: element, by: precedes)
        if index < count, !precedes(element, self[index]) { remove(at: index) }
    }
}
