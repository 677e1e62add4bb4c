import Foundation
import SwitchboardConformance
import SwitchboardTestSupport
import Testing

/// `jsonl`, the engine we ship written in Rust (Plugins/JSONLinesEngine, built by
/// scripts/build-rust-engines beside the Swift engines): it passes verify, and a server serving it
/// sees its file change.
@Suite("jsonl: a shipped engine in Rust passes verify and follows its file", .serialized)
struct JSONLinesEngineTests {
    static let plugin = TestPlugins.product("JSONLinesEngine")

    /// Every key a line may hold, ids in both forms, a group, precomposed and decomposed
    /// accents, names differing only in case, an unnamed contact, a blank line.
    static let lines = """
        {"id": "4930555010", "name": "Konrad Zuse", "isMyContact": true}
        {"id": "14155550100@c.us", "name": "Ada Lovelace", "pushname": "Ada", "shortName": "Ada L."}
        {"id": "120363025246125486@g.us", "name": "Board"}

        {"id": "33123456789", "name": "\u{C9}mile Borel"}
        {"id": "33123456780", "name": "E\u{301}douard Lucas", "isBlocked": true}
        {"id": "14155550102", "name": "ada lovelace"}
        {"id": "5511987654321"}

        """

    @Test("it passes every check of verify, its file named relative to the state folder")
    func verifyPasses() async throws {
        let state = TestPlugins.makeFolder("jsonl-state")
        try Self.lines.write(toFile: "\(state)/contacts.jsonl", atomically: true, encoding: .utf8)
        let checks = await ConformanceKit(path: Self.plugin, configuration: Data(#"{"path": "contacts.jsonl"}"#.utf8), stateDirectory: state).run()
        #expect(checks.first?.name == "loads through dlopen with a valid descriptor: jsonl 1.0.0, ABI \(try EngineTemplateTests.sdkVersion().dropLast(2))")
        #expect(checks.count > 20)
        #expect(checks.filter { !$0.passed }.isEmpty, "\(checks.filter { !$0.passed })")
    }

    @Test("a session sees lines added to its file; a malformed file keeps the last good contacts and degrades the status")
    func followsTheFile() async throws {
        try await SwitchboardProcess.withServer { server in
            let state = "\(server.data)/state/book/jsonl"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            let file = "\(state)/book.jsonl"
            try Self.lines.write(toFile: file, atomically: true, encoding: .utf8)
            try await server.request("POST", "/api/sessions", body: #"{"name": "book", "engine": "jsonl", "engineConfig": {"path": "book.jsonl", "rescanSeconds": 0.05}}"#)
            #expect(try await Self.count(server) == 7)

            try (Self.lines + #"{"id": "819012345678", "name": "Yukihiro"}"# + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await Self.eventually { try await Self.count(server) == 8 })
            let added = try await server.request("GET", "/api/contacts?session=book&contactId=819012345678")
            #expect(added.body.contains(#""name":"Yukihiro""#), "\(added.body)")

            try "{\"id\": \"12ab\"}\n".write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await Self.eventually { try await server.request("GET", "/api/sessions/book").body.contains(#""health":"degraded""#) })
            let session = try await server.request("GET", "/api/sessions/book").body
            #expect(session.contains(#"line 1: \"12ab\" is neither a phone number nor a chat id"#), "\(session)")
            #expect(try await Self.count(server) == 8, "the last good contacts are kept")
        }
    }

    @Test("a missing file or an unknown key refuses the session with 422, naming it")
    func refusesBadConfiguration() async throws {
        try await SwitchboardProcess.withServer { server in
            for (config, says) in [(#"{"path": "missing.jsonl"}"#, "cannot read "), (#"{"path": "x", "color": 1}"#, "unknown field `color`")] {
                let answer = try await server.answer("POST", "/api/sessions", body: #"{"name": "bad", "engine": "jsonl", "engineConfig": \#(config)}"#)
                #expect(answer.status == 422 && answer.body.contains(says), "\(answer.status) \(answer.body)")
            }
        }
    }

    static func count(_ server: SwitchboardProcess) async throws -> Int {
        let list = try await server.request("GET", "/api/contacts/all?session=book")
        return (try JSONSerialization.jsonObject(with: Data(list.body.utf8)) as? [Any])?.count ?? -1
    }

    /// True as soon as `condition` holds, checked every 50 ms for up to 5 s.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
