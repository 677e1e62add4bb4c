import Foundation
import SwitchboardConformance
import SwitchboardEngineRuntime
import SwitchboardTestSupport
import Testing

/// docs/engine-template-rust is the Rust engine docs/writing-an-engine.md shows: copied out of
/// the repository, it must build with cargo against the `switchboard-engine` crate, load into a
/// real server, serve over HTTP a CSV file named by a path relative to its state folder, and pass
/// `switchboard verify`.
@Suite("The Rust engine template builds with cargo, offline, serves over HTTP and passes verify", .serialized)
struct RustTemplateTests {
    static let folder = "\(TestPlugins.repositoryRoot)/docs/engine-template-rust"

    /// The trial's address book: names that sort apart by id and by name, a tie, an unnamed
    /// line, accents precomposed and decomposed, names differing only in case.
    static let csv = """
        id,name
        4930555010,Konrad Zuse
        14155550100,Ada Lovelace
        5511987654321,
        447700900123@c.us,Turing, Alan
        12025550123,Ada Lovelace
        33123456789,\u{C9}mile Borel
        33123456780,E\u{301}douard Lucas
        14155550102,ada lovelace

        """

    /// Built once, for every test of the suite: a cargo build takes most of a minute here.
    static let plugin = Task { try await build() }

    static func build() async throws -> String {
        let copy = "\(TestPlugins.makeFolder("rust-template"))/csv-address-book"
        try FileManager.default.copyItem(atPath: folder, toPath: copy)
        try? FileManager.default.removeItem(atPath: "\(copy)/target")
        return try await Cargo.buildPlugin(copy, library: "csv_address_book")
    }

    @Test("built from a copy, it passes every check of switchboard verify, its file relative to --state")
    func verifyPasses() async throws {
        let plugin = try await Self.plugin.value
        let metadata = try PluginLoader.inspect(plugin)
        // The crate speaks the header's ABI (its version is checked against it in FrozenABITests).
        let abi = try EngineTemplateTests.sdkVersion().dropLast(2)
        #expect(metadata.name == "csv-rust" && metadata.abiVersion == abi && metadata.license == "Apache-2.0", "\(metadata)")
        let state = TestPlugins.makeFolder("rust-state")
        try Self.csv.write(toFile: "\(state)/contacts.csv", atomically: true, encoding: .utf8)
        let report = try await TestPlugins.runOffPool(SwitchboardProcess.binary, ["verify", plugin, "--config", #"{"path": "contacts.csv"}"#, "--state", state])
        #expect(report.contains("PASS  contacts.list pages equal the slices of the full list"), "\(report)")
        #expect(report.contains("PASS  contacts.get invents no contact for ids contacts.list does not hold"), "\(report)")
        #expect(report.hasSuffix(" passed, 0 failed\n"), "\(report)")
    }

    @Test("loaded by a real server, a session on it answers pages in the one name order over HTTP")
    func servesOverHTTP() async throws {
        let plugin = try await Self.plugin.value
        try await SwitchboardProcess.withServer(plugin: plugin) { server in
            let state = "\(server.data)/state/book/csv-rust"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            try Self.csv.write(toFile: "\(state)/contacts.csv", atomically: true, encoding: .utf8)
            try await server.request("POST", "/api/sessions", body: #"{"name": "book", "engine": "csv-rust", "engineConfig": {"path": "contacts.csv"}}"#)
            let page = try await server.request("GET", "/api/contacts/all?session=book&sortBy=name&limit=5")
            let names = try JSONDecoder().decode([Named].self, from: Data(page.body.utf8)).map(\.name)
            #expect(names == ["Ada Lovelace", "Ada Lovelace", "E\u{301}douard Lucas", "Konrad Zuse", "Turing, Alan"], "\(page.body)")
            let contact = try await server.request("GET", "/api/contacts?session=book&contactId=33123456789")
            #expect(contact.body.contains("\"name\":\"\u{C9}mile Borel\""), "\(contact.body)")
            let missing = try await server.answer("GET", "/api/contacts?session=book&contactId=33123456788")
            #expect(missing.status == 404, "\(missing.body)")
        }
    }

    private struct Named: Decodable {
        let name: String?
    }

    @Test("docs/writing-an-engine.md shows the template's src/lib.rs in full, as it is, and its line count")
    func documentShowsTheFile() throws {
        let doc = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/docs/writing-an-engine.md", encoding: .utf8)
        let source = try String(contentsOfFile: "\(Self.folder)/src/lib.rs", encoding: .utf8)
        let shown = doc.firstMatch(of: /<!-- engine-template-rust\/src\/lib.rs begins -->\n```rust\n(?<code>[\s\S]*?)```\n<!-- engine-template-rust\/src\/lib.rs ends -->/)?.code
        #expect(shown.map(String.init) == source, "copy docs/engine-template-rust/src/lib.rs into the document")
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(lines < 80, "the Rust address book is meant to stay under 80 lines")
        #expect(doc.contains("in \(lines) lines of Rust"))
    }
}
