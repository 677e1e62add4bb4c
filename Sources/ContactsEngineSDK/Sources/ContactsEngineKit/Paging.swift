/// The rule every page request keeps: no negative offset or limit.
public enum PageBounds {
    public static func check(offset: Int, limit: Int?) throws(EngineError) {
        if offset < 0 { throw EngineError(.invalidInput, "offset must not be negative: \(offset)") }
        if let limit, limit < 0 { throw EngineError(.invalidInput, "limit must not be negative: \(limit)") }
    }
}

extension Array {
    /// The page of a list that `limit` and `offset` ask for, in ascending or descending order;
    /// `limit` nil means all the rest, and an offset past the end an empty page. Costs O(page),
    /// wherever the page is, so engines answer deep pages as fast as the first.
    @inlinable
    public func page(offset: Int, limit: Int?, descending: Bool = false) -> [Element] {
        let remaining = Swift.max(count - Swift.max(offset, 0), 0)
        let size = Swift.max(Swift.min(limit ?? remaining, remaining), 0)
        guard size > 0 else { return [] }
        return descending ? self[(remaining - size)..<remaining].reversed() : Array(self[(count - remaining)..<(count - remaining + size)])
    }

    /// Hands `body` each run of at most `size` elements (at least one), in order, until it
    /// answers false: how a list goes out in pieces.
    public func forEachPiece(of size: Int, _ body: (ArraySlice<Element>) async -> Bool) async {
        var start = startIndex
        while start < endIndex {
            let end = Swift.min(start + Swift.max(size, 1), endIndex)
            guard await body(self[start..<end]) else { return }
            start = end
        }
    }
}

/// The order of `sortBy=name`, the same in every engine and every language: named contacts
/// first, by name in `CodePointOrder`, then unnamed ones (`nil`); ties, and the unnamed among
/// themselves, by id in the same order. `""` is a name, the first of all names: only `nil` is
/// unnamed. Engines keep their contacts sorted by it to answer any page as a slice.
public struct ContactNameKey: Comparable, Hashable, Sendable {
    public let name: String?
    public let id: String

    public init(_ contact: Contact) {
        name = contact.name
        id = contact.id
    }

    public static func < (lhs: ContactNameKey, rhs: ContactNameKey) -> Bool {
        switch (lhs.name, rhs.name) {
        case let (left?, right?):
            let names = CodePointOrder.compare(left, right)
            return names != 0 ? names < 0 : CodePointOrder.precedes(lhs.id, rhs.id)
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return CodePointOrder.precedes(lhs.id, rhs.id)
        }
    }

    /// Equal exactly when neither sorts before the other: the same code points, not Swift's
    /// canonical equivalence.
    public static func == (lhs: ContactNameKey, rhs: ContactNameKey) -> Bool {
        CodePointOrder.same(lhs.name, rhs.name) && CodePointOrder.same(lhs.id, rhs.id)
    }

    public func hash(into hasher: inout Hasher) {
        var name = name, id = id
        hasher.combine(name?.utf8.count ?? -1)
        name?.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        id.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
