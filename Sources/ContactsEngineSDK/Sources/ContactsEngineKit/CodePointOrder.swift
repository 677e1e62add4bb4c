import Foundation

/// The one order of text that every engine keeps, in every language: Unicode code point order,
/// which is the order of the UTF-8 bytes (C's `strcmp`, Rust's `str` ordering, Go's `<`). No
/// normalization and no case folding: `"E\u{301}"` (E and a combining acute) and `"É"` (one code
/// point) are different names, and `"Zoë"` sorts before `"ada"`.
///
/// Swift's own `String` comparison is not this order: it treats canonically equivalent strings
/// as equal and compares their normalized forms, which no other language does without Unicode's
/// normalization tables. So names and ids are compared here by their UTF-8 bytes.
public enum CodePointOrder {
    /// Negative when `a` comes first, zero when the two are the same bytes, positive otherwise.
    @inlinable
    public static func compare(_ a: String, _ b: String) -> Int {
        // Native strings are stored as UTF-8: compared in place with memcmp, as fast as `<`.
        let inPlace = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Int in
                let common = Swift.min(x.count, y.count)  // both non-empty, so both have an address
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? Int(order) : x.count - y.count
            }
        }
        if let inPlace, let order = inPlace { return order }
        // Others (bridged strings), a byte at a time.
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : a.utf8.elementsEqual(b.utf8) ? 0 : 1
    }

    /// `a` comes before `b`: the predicate for `sorted(by:)`.
    @inlinable
    public static func precedes(_ a: String, _ b: String) -> Bool {
        compare(a, b) < 0
    }

    /// The same code points: unlike `==` on `String`, `"É"` is not `"E\u{301}"`.
    @inlinable
    public static func same(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case let (a?, b?): compare(a, b) == 0
        case (nil, nil): true
        default: false
        }
    }
}
