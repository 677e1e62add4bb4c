import Foundation
import SwitchboardTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Plugins that block, complete twice, crash, hang or hog memory, against a real `switchboard
/// serve`: the server keeps answering `/ping` and session `default` on `local` throughout, and the
/// broken case gets its documented status and reason.
// One case at a time: each starts a server and engine processes, and all at once would load the
// 2 cores enough to push unrelated suites' deadlines.
@Suite("The server outlives its plugins' faults", .serialized)
struct FaultyPluginTests {
    static func faulty(_ defines: [String] = []) async throws -> String {
        try await TestPlugins.compileOffPool("faulty_engine.c", defines: defines)
    }

    /// `/ping` and a `default` contact, back to back for `duration`, from 4 clients; every
    /// failure is returned (none is the expected number).
    static func loadRun(
        _ server: SwitchboardProcess, for duration: Duration,
        paths: [String] = ["/ping", "/api/contacts?contactId=14155550101&session=default"]
    ) async -> [String] {
        await withTaskGroup(of: [String].self) { group in
            for client in 0..<4 {
                group.addTask {
                    var failures: [String] = []
                    let end = ContinuousClock.now + duration
                    var count = 0
                    while ContinuousClock.now < end, count < 2_000 {
                        count += 1
                        let path = paths[client % paths.count]
                        do {
                            try await server.request("GET", path, timeout: .seconds(5))
                        } catch {
                            failures.append("\(path): \(error)")
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
    }

    static func createSession(_ server: SwitchboardProcess, _ name: String, config: String, isolation: String? = nil) async throws -> SwitchboardProcess.Reply {
        let isolationField = isolation.map { #", "isolation": "\#($0)""# } ?? ""
        return try await server.answer("POST", "/api/sessions", body: #"{"name": "\#(name)", "engine": "faulty", "engineConfig": \#(config)\#(isolationField)}"#)
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test("calls that block inside an in-process plugin answer 504 at the timeout; /ping and default keep answering", arguments: ["in-process", "process"])
    func blockingCalls(isolation: String) async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.faulty(), arguments: ["--call-timeout", "1", "--plugin-threads", "2", "--plugin-queue", "3"])
        defer { server.stop() }
        #expect(try await Self.createSession(server, "slow", config: #"{"blockCallMs": 30000}"#, isolation: isolation).status == 201)
        // Six calls, more than the cores and than the plugin's threads: all answer 504 or 503, none hangs.
        async let stuck = withTaskGroup(of: Int.self) { group in
            for number in 0..<6 {
                group.addTask { (try? await server.answer("GET", "/api/contacts?contactId=\(number)&session=slow", timeout: .seconds(20)))?.status ?? 0 }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let failures = await Self.loadRun(server, for: .seconds(2))
        let statuses = await stuck
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        #expect(statuses.allSatisfy { $0 == 504 || $0 == 503 }, "\(statuses)")
        #expect(statuses.contains(504))
        let answer = try await server.answer("GET", "/api/contacts?contactId=1&session=slow", timeout: .seconds(20))
        #expect([503, 504].contains(answer.status))
        #expect(answer.body.contains("faulty"), "the error names the engine: \(answer.body)")
    }

    @Test("a status query that blocks leaves GET /api/sessions answering, the session reported degraded", arguments: ["in-process", "process"])
    func blockingStatus(isolation: String) async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.faulty())
        defer { server.stop() }
        #expect(try await Self.createSession(server, "mute", config: #"{"blockStatusMs": 30000}"#, isolation: isolation).status == 201)
        let sessions = try await server.request("GET", "/api/sessions", timeout: .seconds(10))
        #expect(sessions.body.contains("did not answer status within 2.0 s"), "\(sessions.body)")
        #expect(await Self.loadRun(server, for: .seconds(1)).isEmpty)
    }

    @Test("completions called twice, at once or late from another thread, under 50 parallel requests: logged, counted, never a crash",
          arguments: ["sync", "late"])
    func doubleCompletion(mode: String) async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.faulty())
        defer { server.stop() }
        #expect(try await Self.createSession(server, "twice", config: #"{"doubleComplete": "\#(mode)"}"#, isolation: "in-process").status == 201)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for number in 0..<50 {
                group.addTask { (try? await server.answer("GET", "/api/contacts?contactId=\(number)&session=twice"))?.status ?? 0 }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        try await Task.sleep(for: .milliseconds(200))  // the late second completions
        #expect(await Self.loadRun(server, for: .milliseconds(500)).isEmpty)
        let session = Self.json(try await server.request("GET", "/api/sessions/twice").body)
        let counters = ((session["engine"] as? [String: Any])?["health"] as? [String: Any])?["counters"] as? [String: Any]
        #expect(counters?["host.strayCompletions"] as? Int == 50)
        #expect(server.output.contains("plugin bug: engine completed a call that was already completed"))
    }

    @Test("a plugin that segfaults in a call: 503 naming the signal, the session FAILED then WORKING again, default unharmed")
    func segfaultInCall() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.faulty())
        defer { server.stop() }
        let created = try await Self.createSession(server, "crashy", config: #"{"segfault": true}"#)
        #expect(created.status == 201)
        #expect(Self.json(created.body)["engine"].flatMap { ($0 as? [String: Any])?["isolation"] as? String } == "process",
                "a third-party plugin runs in a process of its own by default")
        async let load = Self.loadRun(server, for: .seconds(2))
        let crashed = try await server.answer("GET", "/api/contacts?contactId=1&session=crashy")
        #expect(crashed.status == 503)
        #expect(crashed.body.contains(#"engine \"faulty\" crashed (SIGSEGV)"#), "\(crashed.body)")
        #expect(await load.isEmpty)
        // Back to WORKING once the child is restarted (0.1 s after the first crash).
        var status = ""
        for _ in 0..<50 {
            status = Self.json(try await server.request("GET", "/api/sessions/crashy").body)["status"] as? String ?? ""
            if status == "WORKING" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == "WORKING")
        #expect(try await server.request("GET", "/api/contacts/all?session=crashy").body == "[]", "contacts.list does not crash")
    }

    @Test("swapping a session between process and in-process isolation under load fails no request")
    func swapIsolation() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.faulty())
        defer { server.stop() }
        #expect(try await Self.createSession(server, "swing", config: "{}").status == 201)
        async let load = Self.loadRun(server, for: .seconds(2), paths: ["/api/contacts?contactId=7&session=swing", "/ping"])
        var shown: [String] = []
        for isolation in ["in-process", "process", "in-process", "process"] {
            let swapped = try await server.request("PUT", "/api/sessions/swing", body: #"{"isolation": "\#(isolation)"}"#)
            shown.append((Self.json(swapped.body)["engine"] as? [String: Any])?["isolation"] as? String ?? "")
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(await load.isEmpty)
        #expect(shown == ["in-process", "process", "in-process", "process"])
    }

    @Test("a plugin that aborts in create: the session is refused with the signal; the server serves on")
    func abortInCreate() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.faulty())
        defer { server.stop() }
        let created = try await Self.createSession(server, "doomed", config: #"{"abortInCreate": true}"#)
        #expect(created.status >= 400 && created.status < 600)
        #expect(created.body.contains("SIGABRT"), "\(created.body)")
        #expect(await Self.loadRun(server, for: .milliseconds(500)).isEmpty)
    }

    @Test("an in-process plugin that calls exit(0) inside a call: a line naming its engine and session, and status 70, not 0")
    func exitInCall() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.faulty())
        defer { server.stop() }
        #expect(try await Self.createSession(server, "quitter", config: #"{"exitInCall": true}"#, isolation: "in-process").status == 201)
        // The server ends under this call: no answer comes.
        _ = try? await server.answer("GET", "/api/contacts?contactId=14155550101&session=quitter", timeout: .seconds(20))
        #expect(server.waitForExit() == 70, "a supervisor restarting on failure must see one")
        #expect(server.output.contains(#"engine "faulty" called exit() inside a call of session "quitter""#), "\(server.output)")
    }

    @Test("a memory hog over the engine process's limit ends that process, not the server")
    func memoryHog() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.faulty(), arguments: ["--engine-memory-limit", "1024"])
        defer { server.stop() }
        #expect(try await Self.createSession(server, "hog", config: #"{"hogMib": 4096}"#).status == 201)
        let answer = try await server.answer("GET", "/api/contacts?contactId=1&session=hog", timeout: .seconds(30))
        #expect(answer.status == 503)
        #expect(answer.body.contains("crashed"), "\(answer.body)")
        #expect(await Self.loadRun(server, for: .milliseconds(500)).isEmpty)
    }

    @Test("plugins that crash or hang while loading are refused with the reason, at start-up and on rescan; a fixed file recovers")
    func crashAndHangAtLoad() async throws {
        let folder = TestPlugins.makeFolder("faulty-plugins")
        try FileManager.default.copyItem(atPath: try await Self.faulty(["CRASH_IN_ENTRY", "ENGINE_NAME=\"crasher\""]), toPath: "\(folder)/crasher.so")
        let server = try await SwitchboardProcess.start(arguments: ["--plugins", folder, "--plugin-scan-timeout", "5"])
        defer { server.stop() }
        var engines = try await server.request("GET", "/api/engines").body
        #expect(engines.contains("crashed while loading: SIGSEGV"), "\(engines)")

        try FileManager.default.copyItem(atPath: try await Self.faulty(["HANG_IN_ENTRY", "ENGINE_NAME=\"hanger\""]), toPath: "\(folder)/hanger.so")
        async let load = Self.loadRun(server, for: .seconds(1))
        _ = try await server.request("POST", "/api/engines/rescan", timeout: .seconds(20))
        #expect(await load.isEmpty)
        engines = try await server.request("GET", "/api/engines").body
        #expect(engines.contains("timed out while loading"), "\(engines)")

        // The author fixes the plugin; a rescan loads it, and a session on it works.
        try FileManager.default.removeItem(atPath: "\(folder)/crasher.so")
        try FileManager.default.copyItem(atPath: try await Self.faulty(["ENGINE_NAME=\"crasher\""]), toPath: "\(folder)/crasher.so")
        _ = try await server.request("POST", "/api/engines/rescan", timeout: .seconds(20))
        _ = try await server.request("POST", "/api/sessions", body: #"{"name": "fixed", "engine": "crasher"}"#)
        #expect(try await server.request("GET", "/api/contacts?contactId=5&session=fixed").body.contains("Faulty"))
    }

    @Test("a plugin's constructor never runs in the server: not when scanned, not when its sessions run")
    func constructorRunsElsewhere() async throws {
        let marker = "\(TestPlugins.makeFolder("marker"))/pids"
        let plugin = try await Self.faulty(["CONSTRUCTOR_MARKER=\"\(marker)\""])
        // This checks where the code runs, not what it may do: in its sandbox the constructor
        // could not write the marker at all (SandboxTests).
        let server = try await SwitchboardProcess.start(plugin: plugin, arguments: ["--sandbox", "off"])
        defer { server.stop() }
        _ = try await server.request("POST", "/api/sessions", body: #"{"name": "marked", "engine": "faulty"}"#)
        _ = try await server.request("GET", "/api/contacts?contactId=1&session=marked")
        let pids = try String(contentsOfFile: marker, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        #expect(pids.count >= 2, "the scanner child and the engine host both mapped it: \(pids)")
        #expect(!pids.contains(server.pid))
    }

    @Test("engine configurations cannot point outside the data folder unless the operator allows it")
    func confinedEnginePaths() async throws {
        let allowed = TestPlugins.makeFolder("allowed-cards")
        let server = try await SwitchboardProcess.start(arguments: ["--engine-paths", allowed])
        defer { server.stop() }
        let outside = TestPlugins.makeFolder("outside")
        for config in [#"{"database": "\#(outside)/x.sqlite"}"#, #"{"database": "file:\#(outside)/x.sqlite?mode=rwc"}"#, #"{"database": "../../x.sqlite"}"#] {
            let refused = try await server.answer("POST", "/api/sessions", body: #"{"name": "escape", "engine": "local", "engineConfig": \#(config)}"#)
            #expect(refused.status == 422, "\(config): \(refused.body)")
            #expect(refused.body.contains("--engine-paths"), "\(refused.body)")
        }
        #expect(try await server.answer("POST", "/api/sessions", body: #"{"name": "cards", "engine": "vcard", "engineConfig": {"directory": "\#(outside)"}}"#).status == 422)
        #expect(try await server.answer("POST", "/api/sessions", body: #"{"name": "cards", "engine": "vcard", "engineConfig": {"directory": "\#(allowed)"}}"#).status == 201)
        #expect(try await server.answer("POST", "/api/sessions", body: #"{"name": "inside", "engine": "local", "engineConfig": {"database": "book.sqlite"}}"#).status == 201)
        #expect(FileManager.default.fileExists(atPath: "\(server.data)/state/inside/local/book.sqlite"), "relative paths stay in the state folder")
    }
}

@Suite("Plugin files the operator can trust", .serialized)
struct PluginTrustTests {
    /// `switchboard engines`, waited for on a thread of its own, not the concurrency pool's.
    static func engines(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        try await TestPlugins.runOffPool("/usr/bin/env", environment.map { "\($0)=\($1)" } + [SwitchboardProcess.binary, "engines"] + arguments)
    }

    @Test("files or folders writable by others, or owned by another user, are refused unless allowed")
    func unsafePermissions() async throws {
        let folder = TestPlugins.makeFolder("unsafe")
        let plugin = "\(folder)/faulty.so"
        try FileManager.default.copyItem(atPath: try await FaultyPluginTests.faulty(), toPath: plugin)
        chmod(plugin, 0o666)
        #expect(try await Self.engines(["--plugin", plugin]).contains("refused: unsafe plugin file: writable by group or others (mode 666)"))
        #expect(try await Self.engines(["--plugin", plugin, "--allow-unsafe-plugin-permissions"]).contains("loaded"))
        chmod(plugin, 0o755)
        chmod(folder, 0o777)
        #expect(try await Self.engines(["--plugin", plugin]).contains("refused: unsafe plugin folder \(folder): writable by group or others (mode 777)"))
        chmod(folder, 0o755)
        if geteuid() == 0 {
            chown(plugin, 65534, 65534)
            #expect(try await Self.engines(["--plugin", plugin]).contains("refused: unsafe plugin file: owned by uid 65534"))
        }
    }

    @Test("a pinned SHA-256 is enforced: the right hash loads, any other is refused with both hashes")
    func pinnedHashes() async throws {
        let plugin = try await FaultyPluginTests.faulty()
        let hash = try await TestPlugins.runOffPool("/usr/bin/env", ["sha256sum", plugin]).prefix(64)
        #expect(try await Self.engines(["--plugin", plugin, "--plugin-sha256", "faulty=\(hash)"]).contains("loaded"))
        let wrong = String(repeating: "0", count: 64)
        let refused = try await Self.engines(["--plugin", plugin, "--plugin-sha256", "faulty=\(wrong)"])
        #expect(refused.contains("engine \"faulty\" is pinned to SHA-256 \(wrong), but this file has \(hash)"))
    }

    @Test("the staging folder is private, new for each process, and gone when it exits")
    func stagingFolder() async throws {
        let temporary = TestPlugins.makeFolder("tmpdir")
        // A folder planted under the old predictable name changes nothing.
        try FileManager.default.createDirectory(atPath: "\(temporary)/switchboard-plugins-1", withIntermediateDirectories: true)
        let listing = try await Self.engines(["--plugins", TestPlugins.buildProducts], environment: ["TMPDIR": temporary])
        #expect(listing.contains("fixed "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary) == ["switchboard-plugins-1"])
    }
}
