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
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                for index in 0..<Swift.min(x.count, y.count) where x[index] != y[index] {
                    return Int(x[index]) - Int(y[index])
                }
                return x.count - y.count
            }
        }
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
