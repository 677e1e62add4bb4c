import Foundation

extension UnsafeBufferPointer<UInt8> {
    /// Whether these bytes are exactly `text`'s UTF-8: the one comparison of bytes with a literal
    /// for the readers and checkers of the hot path (keys, `null`, id suffixes, canonical JSON).
    func equals(_ text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount else { return false }
        guard let start = baseAddress, !isEmpty else { return true }
        return memcmp(start, text.utf8Start, count) == 0
    }

    /// The bytes from `start` for at most `length` of them: what a literal of that length would
    /// be compared with there.
    func prefix(from start: Int, length: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: self[start..<Swift.min(start + length, count)])
    }
}
