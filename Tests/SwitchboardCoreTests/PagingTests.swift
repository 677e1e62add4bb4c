import ContactsEngineKit
import Testing

@Suite("Pages of a list, as every engine answers limit and offset")
struct PagingTests {
    let letters = ["a", "b", "c", "d"]

    @Test("ascending and descending pages, offsets past the end, no limit", arguments: [
        (0, 2, false, ["a", "b"]), (1, 2, false, ["b", "c"]), (3, 5, false, ["d"]), (4, 1, false, []), (5, 1, false, []),
        (Int(Int32.max), 10, false, []), (0, nil, false, ["a", "b", "c", "d"]), (2, nil, false, ["c", "d"]), (9, nil, false, []),
        (0, 2, true, ["d", "c"]), (1, 2, true, ["c", "b"]), (3, 5, true, ["a"]), (4, 1, true, []), (Int(Int32.max), nil, true, []),
        (0, 0, false, []), (0, 0, true, []),
    ] as [(Int, Int?, Bool, [String])])
    func pages(offset: Int, limit: Int?, descending: Bool, expected: [String]) {
        #expect(letters.page(offset: offset, limit: limit, descending: descending) == expected)
    }
}
