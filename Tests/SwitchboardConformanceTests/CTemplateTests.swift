import Foundation
import SwitchboardConformance
import SwitchboardTestSupport
import Testing

/// docs/engine-template-c holds the C engines docs/writing-an-engine.md shows: each must build
/// with the header and jansson alone, warning-free, and pass every conformance check.
@Suite("The C engines of docs/engine-template-c build with jansson and pass verify", .serialized)
struct CTemplateTests {
    static let folder = "\(TestPlugins.repositoryRoot)/docs/engine-template-c"

    static func build(_ file: String) async throws -> String {
        try await TestPlugins.compileCOffPool("\(folder)/\(file)", flags: ["-std=c11", "-Wall", "-Wextra", "-Werror"], libraries: ["-ljansson"])
    }

    @Test("hello_engine.c passes every check")
    func hello() async throws {
        let checks = await ConformanceKit(path: try await Self.build("hello_engine.c")).run()
        #expect(checks.count > 15)
        #expect(checks.filter { !$0.passed }.isEmpty, "\(checks.filter { !$0.passed })")
    }

    /// Names that sort differently by id and by name, a tie, unnamed lines, a comma in a name,
    /// accented names precomposed (É, U+00C9) and decomposed (E and U+0301, which Swift's `String`
    /// order would put beside É), and names differing only in case: `strcmp` in C and the kit's
    /// code point order must agree on every page.
    static let csv = """
        id,name
        4930555010,Konrad Zuse
        14155550100,Ada Lovelace
        5511987654321,
        447700900123@c.us,Turing, Alan
        12025550123,Ada Lovelace
        33612345678,
        819012345678,Zoë
        33123456789,Émile Borel
        14155550101,Grace Hopper
        33123456780,E\u{301}douard Lucas
        14155550102,ada lovelace

        """

    @Test("csv_engine.c passes every check on a file of eleven contacts, and its pages are the documented slices")
    func csvPasses() async throws {
        let file = "\(TestPlugins.makeFolder("csv"))/contacts.csv"
        try Self.csv.write(toFile: file, atomically: true, encoding: .utf8)
        let checks = await ConformanceKit(path: try await Self.build("csv_engine.c"), configuration: Data(#"{"path": "\#(file)"}"#.utf8)).run()
        #expect(checks.contains { $0.name.hasPrefix("contacts.list pages equal the slices") && $0.passed })
        #expect(checks.contains { $0.name == "contacts.get answers every malformed phone number or id with invalid-input" && $0.passed })
        #expect(checks.contains { $0.name == "contacts.check-exists, not served, answers not-implemented" && $0.passed },
                "check-exists means registered on WhatsApp, which a CSV file cannot know")
        #expect(checks.filter { !$0.passed }.isEmpty, "\(checks.filter { !$0.passed })")
    }

    @Test("csv_engine.c refuses a bad configuration or file at create, naming what is wrong", arguments: [
        ("{}", nil as String?, "configuration must be {\"path\": \"<a readable CSV file>\"}"),
        (#"{"path": "/nonexistent/contacts.csv"}"#, nil, "not /nonexistent/contacts.csv"),
        (#"{"path": "FILE"}"#, "id,name\n14155550100,Ada\n12ab,Bad\n", "line 3: the id is not 6 to 15 digits"),
        (#"{"path": "FILE"}"#, "14155550100,Ada\n14155550100@c.us,Ada again\n", "14155550100@c.us is there twice"),
    ])
    func csvRefuses(config: String, contents: String?, reason: String) async throws {
        let file = "\(TestPlugins.makeFolder("csv-bad"))/contacts.csv"
        try contents?.write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = Data(config.replacingOccurrences(of: "FILE", with: file).utf8)
        let checks = await ConformanceKit(path: try await Self.build("csv_engine.c"), configuration: configuration).run()
        let create = checks.first { $0.name == "creates an instance from the configuration" }
        #expect(create?.failure?.hasPrefix("invalid-input: ") == true, "\(checks)")
        #expect(create?.failure?.contains(reason) == true, "\(create?.failure ?? "")")
    }

    @Test("docs/writing-an-engine.md shows csv_engine.c in full, as it is, and its line count")
    func documentShowsTheFile() throws {
        let doc = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/docs/writing-an-engine.md", encoding: .utf8)
        let source = try String(contentsOfFile: "\(Self.folder)/csv_engine.c", encoding: .utf8)
        let shown = doc.firstMatch(of: /<!-- csv_engine.c begins -->\n```c\n(?<code>[\s\S]*?)```\n<!-- csv_engine.c ends -->/)?.code
        #expect(shown.map(String.init) == source, "copy docs/engine-template-c/csv_engine.c into the document")
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(lines < 150, "the CSV engine is meant to stay under 150 lines")
        #expect(doc.contains("in \(lines) lines"))
    }
}
