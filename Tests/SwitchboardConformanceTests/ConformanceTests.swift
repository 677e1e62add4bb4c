import Foundation
import Logging
import SwitchboardConformance
import SwitchboardEngineRuntime
import SwitchboardEngineProcesses
import SwitchboardIsolation
import SwitchboardTestSupport
import Testing

@Suite("The conformance kit: shipped engines pass, wrong ones are caught")
struct ConformanceTests {
    static let vcardFolder = "\(TestPlugins.repositoryRoot)/Tests/VCardEngineTests/Fixtures"

    @Test("every engine we ship passes every check", arguments: [
        ("LocalEngine", "{}"),
        ("FixedEngine", "{}"),
        ("VCardEngine", #"{"directory": "\#(vcardFolder)"}"#),
    ])
    func shippedEnginesPass(product: String, config: String) async throws {
        let checks = await ConformanceKit(path: TestPlugins.product(product), configuration: Data(config.utf8)).run()
        #expect(checks.count >= 17, "12 features, load, create, subset, status, concurrency, destroy")
        for check in checks where !check.passed {
            Issue.record("\(product): \(check.name): \(check.failure ?? "")")
        }
    }

    @Test("through a launcher the kit runs the engine in sandboxed engine processes, and the launcher keeps none once the instances are gone")
    func throughALauncher() async throws {
        let state = TestPlugins.makeFolder("kit-launcher")
        let launcher = ProcessIsolation(
            command: EngineProcessCommand(
                executable: "\(TestPlugins.buildProducts)/switchboard-engine-host",
                arguments: EngineProcessArguments.arguments(
                    memoryLimitMiB: 0, cpuLimitSeconds: 0, allowUnsafePluginPermissions: false, pins: [], pluginThreads: 4, pluginQueue: 64)),
            sandbox: SandboxSettings(mode: .strict, user: try SandboxSettings.engineUser(named: "nobody")), stateRoot: nil,
            logger: Logger(label: "kit") { _ in SwiftLogNoOpLogHandler() })
        let checks = await ConformanceKit(path: TestPlugins.product("FixedEngine"), stateDirectory: state, launcher: launcher).run()
        #expect(checks.contains { $0.passed && $0.name.hasPrefix("runs in an engine process: strict, per-session") }, "\(checks.map(\.name))")
        #expect(checks.filter { !$0.passed }.isEmpty, "\(checks.filter { !$0.passed })")
        #expect(launcher.processCount == 0, "the table keeps only processes that serve instances")
    }

    @Test("the kit joins a C engine's list pieces and holds them to its whole list")
    func piecesAgainstWholeList() async throws {
        let plugin = try await TestPlugins.compileOffPool("piecewise_engine.c")
        let check = "contacts.list in pieces is the full list, in order"
        let honest = await ConformanceKit(path: plugin, configuration: Data(#"{"count": 2500}"#.utf8)).run()
        let passed = honest.first { $0.name == check }
        #expect(passed?.passed == true, "\(String(describing: passed))")
        // Its third piece starts with a contact whose id is no chat id; its whole answer is right.
        let broken = await ConformanceKit(path: plugin, configuration: Data(#"{"count": 2500, "mode": "break"}"#.utf8)).run()
        let failed = broken.first { $0.name == check }
        #expect(failed?.failure?.contains("x49000000200@c.us") == true, "\(String(describing: failed))")
    }

    @Test("a feature declared but not served by the instance gets only the not-implemented check")
    func unservedFeatureIsOnlyAskedOnce() async throws {
        // The fixed engine declares check-exists; {"checkExists": false} narrows the instance to list and get.
        let checks = await ConformanceKit(path: TestPlugins.product("FixedEngine"), configuration: Data(#"{"checkExists": false}"#.utf8)).run()
        #expect(checks.filter { !$0.passed }.isEmpty, "\(checks.filter { !$0.passed })")
        let checkExists = checks.filter { $0.name.hasPrefix("contacts.check-exists") }.map(\.name)
        #expect(checkExists == ["contacts.check-exists, not served, answers not-implemented"])
        #expect(checks.contains { $0.name == "contacts.get answers every malformed phone number or id with invalid-input" })
    }

    @Test("carddav passes every check against a real Radicale")
    func cardDAVPasses() async throws {
        try await Radicale.withServer { radicale in
            let config = #"{"url": "\#(radicale.root.absoluteString)", "username": "\#(Radicale.user)", "password": "\#(Radicale.password)"}"#
            let checks = await ConformanceKit(path: TestPlugins.product("CardDAVEngine"), configuration: Data(config.utf8)).run()
            #expect(checks.count >= 17)
            for check in checks where !check.passed {
                Issue.record("carddav: \(check.name): \(check.failure ?? "")")
            }
        }
    }

    @Test("the fixture engine passes when built plain, so each flaw below is the only one")
    func plainFixturePasses() async throws {
        let checks = await ConformanceKit(path: try await TestPlugins.compileOffPool("honest_engine.c", libraries: ["-ljansson"])).run()
        let failed = checks.filter { !$0.passed }
        #expect(checks.count > 20)
        #expect(failed.isEmpty, "\(failed)")
    }

    @Test("each wrong engine fails exactly the checks for its flaw", arguments: [
        ("LIES_ABOUT_FEATURE", [
            ("contacts.about answers in the documented shape", "not-implemented: not served"),
            ("contacts.about answers malformed input with invalid-input", "answered not-implemented (not served)"),
            ("contacts.about answers every malformed phone number or id with invalid-input",
             #"contacts.about {"contactId":"12ab"} answered not-implemented (not served); expected invalid-input"#),
        ]),
        ("WRONG_SHAPE", [
            ("contacts.list answers in the documented shape", "internal: engine \"honest\" answered contacts.list with a malformed result"),
            ("contacts.list pages equal the slices of the full list, for every limit, offset, sortBy and sortOrder",
             #"contacts.list {"offset":0,"sortOrder":"asc"} answered internal: engine "honest" answered contacts.list with a malformed result"#),
        ]),
        ("ACCEPTS_GARBAGE", [
            ("contacts.get answers in the documented shape", "asked for 12025550123@c.us, answered 4930555010@c.us"),
            ("contacts.get answers malformed input with invalid-input", #"accepted {"contactId": 42}"#),
            ("contacts.get answers every malformed phone number or id with invalid-input",
             #"contacts.get {"contactId":"12ab"} answered success; expected invalid-input"#),
            ("contacts.get answers each listed contact as listed, field by field",
             #"contacts.get {"contactId":"12025550123@c.us"} answered id "4930555010@c.us"; expected id "12025550123@c.us", as contacts.list holds it"#),
            ("contacts.get invents no contact for ids contacts.list does not hold",
             #"contacts.get {"contactId":"10000000000@c.us"} answered contact 4930555010@c.us (name "Konrad Zuse", isMyContact true); expected not-found, or a stranger"#),
        ]),
    ])
    func wrongEnginesAreCaught(flaw: String, expected: [(check: String, failure: String)]) async throws {
        let checks = await ConformanceKit(path: try await TestPlugins.compileOffPool("honest_engine.c", defines: [flaw], libraries: ["-ljansson"])).run()
        let failed = checks.filter { !$0.passed }
        #expect(failed.map(\.name) == expected.map(\.check))
        for (check, wanted) in zip(failed, expected) {
            #expect(check.failure?.hasPrefix(wanted.failure) == true, "\(check.failure ?? "")")
        }
    }

    @Test("a file that is not a plugin fails the first check with the loader's reason")
    func notAPlugin() async throws {
        let text = "\(TestPlugins.makeFolder("verify"))/text.so"
        try "text".write(toFile: text, atomically: true, encoding: .utf8)
        let checks = await ConformanceKit(path: text).run()
        #expect(checks == [.init(name: "loads through dlopen with a valid descriptor", failure: "not a shared object: no ELF header")])
    }
}
