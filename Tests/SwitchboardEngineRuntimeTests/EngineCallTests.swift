@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging
import Synchronization
import SwitchboardEngineRuntime
import SwitchboardTestSupport
import Testing

@Suite("Calls through the C ABI: results, errors, timeouts, late completions")
struct EngineCallTests {
    let registry: EngineRegistry

    init() throws {
        registry = EngineRegistry(pluginFiles: [
            try TestPlugins.compile("test_engine.c"), try TestPlugins.compileFixedEngine(), TestPlugins.product("LocalEngine"),
        ])
        registry.scan()
    }

    func instance(_ engine: String, config: String = "{}", timeout: Duration = .seconds(5), logger: Logger = Logger(label: "test")) async throws -> any EngineHandle {
        let loaded = try #require(registry.engine(named: engine))
        return try await loaded.makeInstance(configuration: Data(config.utf8), context: InstanceContext(session: "s", callTimeout: timeout, logger: logger))
    }

    @Test("a C engine answers; fields it leaves out get the documented defaults")
    func cEngineAnswers() async throws {
        let fixed = try await instance("fixed")
        defer { fixed.shutdown() }
        let contact = try await fixed.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "4930555010@c.us"))
        #expect(contact == Contact(id: "4930555010@c.us", number: "4930555010", name: "Konrad Zuse", isMyContact: true))
        let page = try await fixed.checkedResult(Operations.ListContacts.self, ContactsPageRequest(limit: 2, offset: 1, sortBy: .name))
        #expect(page.map(\.name) == ["Alan Turing", "Grace Hopper"])
        let exists = try await fixed.checkedResult(Operations.CheckExists.self, CheckExistsRequest(phone: "14155550101"))
        #expect(exists == CheckExistsResult(numberExists: true, chatId: "14155550101@c.us"))
        await #expect(throws: EngineError(.notFound, "no such contact in the fixed directory")) {
            try await fixed.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "1@c.us"))
        }
        await #expect(throws: EngineError(.notImplemented, "the fixed engine does not serve this feature")) {
            try await fixed.checkedResult(Operations.Block.self, ContactRequest(contactId: "1@c.us"))
        }
        #expect(await fixed.status().counters["calls"] == 5)
    }

    @Test("a configuration can narrow what an instance serves below what the engine declares")
    func instanceFeatures() async throws {
        let full = try await instance("fixed")
        let narrowed = try await instance("fixed", config: #"{"checkExists": false}"#)
        defer { full.shutdown(); narrowed.shutdown() }
        #expect(await full.activeFeatures() == [.contactsList, .contactsGet, .contactsCheckExists])
        #expect(await narrowed.activeFeatures() == [.contactsList, .contactsGet])
    }

    @Test("a refused configuration gives the engine's message as invalid-input")
    func badConfiguration() async throws {
        await #expect(throws: EngineError(.invalidInput, "the option 'bad' is not accepted")) { try await instance("test", config: #"{"bad": 1}"#) }
        await #expect(throws: EngineError(.invalidInput, "configuration must be a JSON object")) { try await instance("fixed", config: "[]") }
    }

    @Test("a call that completes too late times out, and its late completion is ignored safely")
    func lateCompletion() async throws {
        // The engine answers after 2 s, forty times the timeout.
        let engine = try await instance("test", config: #"{"aboutDelayMs": 2000}"#, timeout: .milliseconds(50))
        defer { engine.shutdown() }
        await #expect(throws: EngineError(.timeout, "engine \"test\" did not answer contacts.about within 0.05 s")) {
            try await engine.checkedResult(Operations.About.self, ContactRequest(contactId: "1@c.us"))
        }
        // A timeout, not the engine's answer: the deadline settled the call first. The engine's
        // completion arrives later, into a call already settled, and must change nothing.
        for _ in 0..<100 where await engine.status().counters["aboutCompleted"] != 1 {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await engine.status().counters["aboutCompleted"] == 1)
        let contact = try await engine.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "2@c.us"))
        #expect(contact.id == "2@c.us")
    }

    @Test("a call that never completes times out; destroy completes it later without harm")
    func hungCall() async throws {
        let engine = try await instance("test", timeout: .milliseconds(100))
        await #expect(throws: EngineError(.timeout, "engine \"test\" did not answer contacts.block within 0.1 s")) {
            try await engine.checkedResult(Operations.Block.self, ContactRequest(contactId: "1@c.us"))
        }
        engine.shutdown()  // completes the hung call with `unavailable`, into a settled call
        await #expect(throws: EngineError(.unavailable, "engine \"test\" instance was destroyed")) {
            try await engine.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "1@c.us"))
        }
    }

    @Test("a completion inside the timeout wins over the deadline")
    func delayedButInTime() async throws {
        let engine = try await instance("test", timeout: .seconds(5))
        defer { engine.shutdown() }
        let about = try await engine.checkedResult(Operations.About.self, ContactRequest(contactId: "1@c.us"))
        #expect(about.about == "late but here")
    }

    @Test("a malformed result is an internal error naming the engine, not a crash")
    func malformedResult() async throws {
        let engine = try await instance("test")
        defer { engine.shutdown() }
        do {
            _ = try await engine.checkedResult(Operations.ListContacts.self, ContactsPageRequest())
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .internal)
            #expect(error.message.hasPrefix("engine \"test\" answered contacts.list with a malformed result"))
        }
    }

    @Test("status crosses as JSON; plugin log lines reach the host's logger with engine and session")
    func statusAndLogs() async throws {
        let lines = LogCapture()
        let engine = try await instance("test", logger: Logger(label: "capture") { _ in lines })
        defer { engine.shutdown() }
        #expect(await engine.status() == EngineStatus(health: .degraded, message: "testing", counters: ["x": 1, "aboutCompleted": 0]))
        let line = try #require(lines.lines.first)
        #expect(line.message == "test engine created")
        #expect(line.metadata["engine"] == "test")
        #expect(line.metadata["session"] == "s")
    }

    @Test("many concurrent calls through a Swift plugin all complete")
    func concurrentCalls() async throws {
        let folder = TestPlugins.makeFolder("concurrent")
        let engine = try await instance("local", config: #"{"database": "\#(folder)/db.sqlite"}"#)
        defer { engine.shutdown() }
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<500 {
                group.addTask {
                    try await engine.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "\(1000 + index)@c.us")).id
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 500)
    }

    @Test("an engine entered directly that completes each call twice, at once or 20 ms later from a thread: one answer each, every second completion a stray",
          arguments: ["sync", "late"])
    func doubleCompletionOnTheDirectPath(mode: String) async throws {
        let plugin = try TestPlugins.compile("faulty_engine.c")
        let registry = EngineRegistry(
            pluginFiles: [plugin], policy: PluginPolicy(shippedDirectories: [URL(fileURLWithPath: plugin).deletingLastPathComponent().path]))
        registry.scan()
        let engine = try #require(registry.engine(named: "faulty"))
        #expect(engine.isShipped)
        let handle = try await engine.makeInstance(
            configuration: Data(#"{"doubleComplete":"\#(mode)"}"#.utf8), context: InstanceContext(session: "s", logger: Logger(label: "test")))
        defer { handle.shutdown() }
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<50 {
                group.addTask { try await handle.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "\(1000 + index)@c.us")).id }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 50)
        // The late ones come 20 ms after their answers.
        var strays = 0
        for _ in 0..<50 where strays < 50 {
            strays = await handle.status().counters["host.strayCompletions"] ?? 0
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(strays == 50)
    }

    @Test("the deadline watchdog runs only while a call waits on a deadline, and each registry has its own")
    func watchdogRunsOnlyWhileNeeded() async throws {
        let plugin = try TestPlugins.compile("test_engine.c")
        let registry = EngineRegistry(
            pluginFiles: [plugin], policy: PluginPolicy(shippedDirectories: [URL(fileURLWithPath: plugin).deletingLastPathComponent().path]))
        registry.scan()
        let engine = try await #require(registry.engine(named: "test")).makeInstance(
            configuration: Data(#"{"aboutDelayMs": 300}"#.utf8), context: InstanceContext(session: "s", logger: Logger(label: "test")))
        defer { engine.shutdown() }
        #expect(!registry.deadlines.isWatching)
        _ = try await engine.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "1@c.us"))
        // Answered before `call` returned: no deadline was set.
        #expect(!registry.deadlines.isWatching)
        async let about = engine.checkedResult(Operations.About.self, ContactRequest(contactId: "1@c.us"))
        var watched = false
        for _ in 0..<100 where !watched {
            watched = registry.deadlines.isWatching
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(watched)
        _ = try await about
        var ended = false
        for _ in 0..<300 where !ended {
            ended = !registry.deadlines.isWatching
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(ended)
        #expect(registry.deadlines !== self.registry.deadlines)
    }
}

/// Collects log lines, to check what plugins log through the host.
final class LogCapture: LogHandler, @unchecked Sendable {
    struct Line { let message: String; let metadata: [String: String] }
    private let storage = Mutex<[Line]>([])
    var lines: [Line] { storage.withLock { $0 } }
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
        storage.withLock { $0.append(Line(message: "\(event.message)", metadata: merged)) }
    }
}
