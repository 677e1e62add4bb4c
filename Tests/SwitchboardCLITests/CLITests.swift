import Foundation
import SwitchboardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `switchboard` executable SwiftPM built, run as a user runs it.
@Suite("The switchboard command", .serialized)
struct CLITests {
    static let executable = SwitchboardProcess.binary

    @Test("engines lists local (Swift) and fixed (C) with their features, as a table and as JSON")
    func engines() throws {
        let table = try TestPlugins.run(Self.executable, ["engines"])
        let lines = table.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.contains { $0.hasPrefix("local ") && $0.contains("contacts.upsert") && $0.hasSuffix("loaded") })
        #expect(lines.contains { $0.hasPrefix("fixed ") && $0.contains("contacts.list,contacts.get,contacts.check-exists ") && $0.hasSuffix("loaded") })

        let json = try TestPlugins.run(Self.executable, ["engines", "--json"])
        let listing = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        let local = listing.first { $0["name"] as? String == "local" }
        #expect((local?["features"] as? [String])?.count == 12)
        #expect(local?["abiVersion"] as? String == "1.3")
    }

    @Test("engines --plugins lists a refused file with its reason next to the loaded ones")
    func refusedInListing() throws {
        let folder = TestPlugins.makeFolder("cli-engines")
        try FileManager.default.copyItem(atPath: TestPlugins.product("FixedEngine"), toPath: "\(folder)/fixed.so")
        try "text".write(toFile: "\(folder)/notes.so", atomically: true, encoding: .utf8)
        let table = try TestPlugins.run(Self.executable, ["engines", "--plugins", folder])
        #expect(table.contains("refused: not a shared object: no ELF header"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("fixed ") && $0.hasSuffix("loaded") })
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("local ") && $0.contains("embedded") })
    }

    @Test("docs/engines.md holds the matrix of the engines we ship, as `switchboard engines --matrix` prints it")
    func matrixDocIsCurrent() throws {
        let generated = try TestPlugins.run(Self.executable, ["engines", "--matrix", "--plugins", TestPlugins.buildProducts])
        let doc = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/docs/engines.md", encoding: .utf8)
        let marker = "<!-- generated: switchboard engines --matrix; everything below this line -->\n"
        let range = try #require(doc.range(of: marker), "docs/engines.md lost its marker line")
        #expect(String(doc[range.upperBound...]) == generated, "docs/engines.md is stale: regenerate it with scripts/update-engines-doc")
    }

    @Test("inspect prints a plugin's metadata; a bad file exits 2 with the reason")
    func inspect() throws {
        let good = try TestPlugins.run(Self.executable, ["inspect", TestPlugins.product("FixedEngine")])
        #expect(good.contains("name:        fixed"))
        #expect(good.contains("features:    contacts.list, contacts.get, contacts.check-exists"))

        let text = "\(TestPlugins.makeFolder("cli-inspect"))/bad.so"
        try "text".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: TestPlugins.CommandFailed(
            command: "\(Self.executable) inspect \(text)", status: 2,
            output: "switchboard: \(text): refused: not a shared object: no ELF header\n"
        )) { try TestPlugins.run(Self.executable, ["inspect", text]) }
    }

    @Test("import finds sessions in a PostgreSQL --store, fills a composite's local member named with --member, and says why without one")
    func importIntoSharedStoreAndComposite() async throws {
        let url = try await PostgresServer.shared().createDatabase()
        let server = try await SwitchboardProcess.start(arguments: ["--store", url])
        defer { server.stop() }
        try await server.request("POST", "/api/sessions", body: #"{"name": "book", "engine": "local"}"#)
        try await server.request("POST", "/api/sessions", body: #"""
            {"name": "mixed", "members": [{"name": "dir", "engine": "fixed"}, {"name": "cards", "engine": "local"}],
             "routes": {"contacts.about": ["cards"], "*": ["dir"]}}
            """#)
        let seed = "\(server.directory.path)/seed.json"
        try #"{"contacts": [{"id": "5511987654321", "name": "Ana Souza", "about": "Oi!"}]}"#.write(toFile: seed, atomically: true, encoding: .utf8)

        let book = try await TestPlugins.runOffPool(Self.executable, ["import", seed, "--data", server.data, "--store", url, "--session", "book"])
        #expect(book.hasPrefix("imported 1 contacts"), "\(book)")
        // The running engine sees an import within about a second.
        try await ReplicaTests.waitFor(on: server, limit: .seconds(3)) {
            try await server.answer("GET", "/api/contacts/about?contactId=5511987654321&session=book").body == #"{"about":"Oi!"}"#
        }

        do {
            _ = try await TestPlugins.runOffPool(Self.executable, ["import", seed, "--data", server.data, "--store", url, "--session", "mixed"])
            Issue.record("a composite was filled without naming its member")
        } catch let failure as TestPlugins.CommandFailed {
            #expect(failure.output.contains("name the member to fill with --member (members: dir (fixed), cards (local))"), "\(failure.output)")
        }
        do {
            _ = try await TestPlugins.runOffPool(Self.executable, ["import", seed, "--data", server.data, "--store", url, "--session", "mixed", "--member", "dir"])
            Issue.record("a fixed member was filled")
        } catch let failure as TestPlugins.CommandFailed {
            #expect(failure.output.contains(#"member "dir" of session "mixed" runs engine "fixed""#), "\(failure.output)")
        }
        let cards = try await TestPlugins.runOffPool(
            Self.executable, ["import", seed, "--data", server.data, "--store", url, "--session", "mixed", "--member", "cards"])
        #expect(cards.contains("/state/mixed/members/cards/local.sqlite"), "\(cards)")
        try await ReplicaTests.waitFor(on: server, limit: .seconds(3)) {
            try await server.answer("GET", "/api/contacts/about?contactId=5511987654321&session=mixed").body == #"{"about":"Oi!"}"#
        }
    }

    /// README's composite example, its body read from README itself: refused without the vCard
    /// folder (naming the absolute path tried, leaving no folder), created once README's steps made it.
    @Test("README's composite example answers as README says, and its refusal names the absolute path")
    func readmeCompositeExample() async throws {
        let readme = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "-d '{\n  \"name\": \"mixed\""))
        let end = try #require(readme[start.upperBound...].range(of: "}}'"))
        let body = String(readme[readme.index(start.lowerBound, offsetBy: 4)..<end.lowerBound]) + "}}"
        let server = try await SwitchboardProcess.start()
        defer { server.stop() }
        let folder = "\(server.data)/state/mixed/members/cards/vcards"

        let refused = try await server.answer("POST", "/api/sessions", body: body)
        #expect(refused.status == 422)
        #expect(refused.body.contains("\(folder) is not a directory"), "\(refused.body)")
        #expect(!FileManager.default.fileExists(atPath: "\(server.data)/state/mixed"), "the failed create left folders behind")

        // README's two preparing commands.
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nTEL:+14155550101\nEND:VCARD\n".write(toFile: "\(folder)/ada.vcf", atomically: true, encoding: .utf8)
        let created = try await server.answer("POST", "/api/sessions", body: body)
        #expect(created.status == 201, "\(created.body)")
        let listed = try await server.answer("GET", "/api/contacts/all?session=mixed")
        #expect(listed.body.contains("Ada Lovelace") && listed.body.contains("14155550101@c.us"), "\(listed.body)")
        #expect(try await server.answer("GET", "/api/contacts/about?contactId=14155550101&session=mixed").status == 200)
    }

    @Test("a sessions.sqlite that is not a database stops serve with an error naming the file")
    func corruptedSessionStore() throws {
        let data = TestPlugins.makeFolder("cli-corrupt-store")
        try Data(repeating: UInt8(ascii: "A"), count: 8192).write(to: URL(fileURLWithPath: "\(data)/sessions.sqlite"))
        do {
            try TestPlugins.run(Self.executable, ["serve", "--data", data, "--port", "\(try TestPlugins.freePort())"])
            Issue.record("serve started on a corrupted session store")
        } catch let failure as TestPlugins.CommandFailed {
            #expect(failure.status != 0)
            let path = URL(fileURLWithPath: "\(data)/sessions.sqlite").standardizedFileURL.path
            #expect(failure.output.contains("cannot open the session store \(path): SQLite error 26"), "\(failure.output)")
        }
    }

    @Test("verify passes a shipped engine with exit 0 and fails a wrong one with exit 1, a report line per check")
    func verify() throws {
        let report = try TestPlugins.run(Self.executable, ["verify", TestPlugins.product("FixedEngine")])
        #expect(report.contains("PASS  contacts.upsert, not served, answers not-implemented"))
        #expect(report.hasSuffix(" passed, 0 failed\n"))

        let liar = try TestPlugins.compile("honest_engine.c", defines: ["LIES_ABOUT_FEATURE"], libraries: ["-ljansson"])
        do {
            try TestPlugins.run(Self.executable, ["verify", liar])
            Issue.record("verify passed an engine that lies about contacts.about")
        } catch let failure as TestPlugins.CommandFailed {
            #expect(failure.status == 1)
            #expect(failure.output.contains("FAIL  contacts.about answers in the documented shape: not-implemented"))
            #expect(failure.output.hasSuffix(" passed, 3 failed\n"), "the shape check and both bad-input checks of contacts.about")
        }
        #expect(throws: TestPlugins.CommandFailed.self) { try TestPlugins.run(Self.executable, ["verify", liar, "--config", "[]"]) }
    }

    @Test("serve answers on 127.0.0.1, stops cleanly on SIGTERM, and after kill -9 keeps what it had stored")
    func serveLifecycle() async throws {
        let data = TestPlugins.makeFolder("cli-serve")
        let first = try await SwitchboardProcess.start(data: data)
        defer { first.stop() }
        #expect(try await first.request("GET", "/ping").status == 200)
        #expect(try await first.request("PUT", "/api/default/contacts/4915112345678@c.us", body: #"{"firstName": "Kept"}"#).status == 200)
        #expect(try await first.request("POST", "/api/sessions", body: #"{"name": "second", "engine": "fixed"}"#).status == 201)
        first.signal(SIGKILL)
        #expect(first.waitForExit() == SIGKILL)

        let second = try await SwitchboardProcess.start(data: data)
        defer { second.stop() }
        let kept = try await second.request("GET", "/api/contacts?contactId=4915112345678")
        #expect(kept.status == 200)
        #expect(kept.body.contains(#""name":"Kept""#))
        #expect(try await second.request("GET", "/api/sessions/second").body.contains(#""status":"WORKING""#))
        second.signal(SIGTERM)
        #expect(second.waitForExit() == 0)
        #expect(second.output.contains("Server started and listening on 127.0.0.1:\(second.port)"))
        #expect(second.output.contains("stopped: every session stopped and the session store closed"), "a line says it stopped")
    }

    /// What README's `scripts/serve` runs once it has built: every shipped engine is found with no
    /// plugin option, the one written in Rust (scripts/build-rust-engines) too, and the matrix page
    /// lists all six.
    @Test func serveFindsEveryShippedEngineBesideItself() async throws {
        let server = try await SwitchboardProcess.start(findsPluginsItself: true)
        defer { server.stop() }
        let matrix = try await server.request("GET", "/api/engines/matrix?format=markdown")
        #expect(matrix.status == 200)
        let page = try await server.request("GET", "/engines").body
        for engine in ["local", "fixed", "vcard", "carddav", "waha", "jsonl"] {
            #expect(matrix.body.contains("- **\(engine)**"), "\(engine) missing from the matrix")
            #expect(page.contains(#"id="engine-\#(engine)">\#(engine)</th>"#), "\(engine) missing from the page")
        }
    }

    @Test("import loads a seed file into the default session's local database, and serve answers from it")
    func importSeed() async throws {
        let data = TestPlugins.makeFolder("cli-import")
        let seed = "\(data)/seed.json"
        try #"""
        {"contacts": [{"id": "5511987654321", "name": "Ana Souza", "about": "Oi!"}, {"id": "4930555010@c.us", "name": "Konrad"}],
         "accounts": ["553187654321"],
         "lids": [{"lid": "123456789@lid", "pn": "5511987654321@c.us"}]}
        """#.write(toFile: seed, atomically: true, encoding: .utf8)
        let output = try TestPlugins.run(Self.executable, ["import", seed, "--data", data])
        #expect(output.hasPrefix("imported 2 contacts, 1 accounts, 1 LIDs into \(data)/state/default/local/local.sqlite"))

        let server = try await SwitchboardProcess.start(data: data)
        defer { server.stop() }
        #expect(try await server.request("GET", "/api/contacts/about?contactId=5511987654321").body == #"{"about":"Oi!"}"#)
        #expect(try await server.request("GET", "/api/default/lids/count").body == #"{"count":1}"#)
        let brazil = try await server.request("GET", "/api/contacts/check-exists?phone=5531987654321")
        #expect(brazil.body == #"{"chatId":"553187654321@c.us","numberExists":true,"pn":"553187654321@c.us"}"#, "registered before 2012 without the 9")

        let bad = "\(data)/bad.json"
        try #"{"contacts": [{"id": "not a phone"}]}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(throws: TestPlugins.CommandFailed.self) { try TestPlugins.run(Self.executable, ["import", bad, "--data", data]) }
    }
}
