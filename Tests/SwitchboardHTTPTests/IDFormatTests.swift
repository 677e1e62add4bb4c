import Testing

@testable import SwitchboardHTTP

/// The handlers check ids with a byte-by-byte reading of each format's grammar; the OpenAPI
/// document publishes the format as a regular expression. Both must say the same of every input.
@Suite struct IDFormatTests {
    /// Strings built from the pieces the grammars are made of, plus the characters next to them
    /// (a letter, `+`, a space, a non-ASCII digit, a combining mark), up to five pieces long.
    static let inputs: [String] = {
        let pieces = ["1", "12345", "1415555010", "0", "-", "@c.us", "@lid", "@g.us", "@s.whatsapp.net", "a", "Z", "_", "+", " ", "١", "\u{301}", ".", "@", "\n"]
        var generator = SystemRandomNumberGenerator()
        var made: Set<String> = ["", String(repeating: "1", count: 15), String(repeating: "1", count: 16), String(repeating: "a", count: 64), String(repeating: "a", count: 65)]
        for piece in pieces { made.insert(piece) }
        for first in pieces { for second in pieces { made.insert(first + second) } }
        while made.count < 20_000 {
            made.insert((0..<Int.random(in: 1...5, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined())
        }
        return made.sorted()
    }()

    @Test("each format accepts exactly what its published pattern accepts", arguments: IDFormat.allCases)
    func matchesItsPattern(_ format: IDFormat) throws {
        let regex = try Regex(format.pattern)
        var accepted = 0
        for input in Self.inputs {
            let byPattern = (try regex.wholeMatch(in: input)) != nil
            #expect(format.matches(input) == byPattern, "\(format) on \(input.debugDescription): pattern says \(byPattern)")
            if byPattern { accepted += 1 }
        }
        // The inputs reach both sides of every format.
        #expect(accepted > 0)
        #expect(accepted < Self.inputs.count)
    }
}
