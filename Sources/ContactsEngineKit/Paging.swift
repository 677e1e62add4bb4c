extension Array {
    /// The page of a list that `limit` and `offset` ask for, in ascending or descending order;
    /// `limit` nil means all the rest, and an offset past the end an empty page. Costs O(page),
    /// wherever the page is, so engines answer deep pages as fast as the first.
    public func page(offset: Int, limit: Int?, descending: Bool = false) -> [Element] {
        let remaining = Swift.max(count - Swift.max(offset, 0), 0)
        let size = Swift.max(Swift.min(limit ?? remaining, remaining), 0)
        guard size > 0 else { return [] }
        return descending ? self[(remaining - size)..<remaining].reversed() : Array(self[(count - remaining)..<(count - remaining + size)])
    }
}
