import Foundation
import SwitchboardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Third-party engines in their sandbox, against a real `switchboard serve`: a plugin that tries
/// every item of the attack list from its constructor, its `create` and its `call` reaches none
/// of them with default options and all of them under `--sandbox off`; shipped engines work
/// with their grants and fail clearly without; an engine process's death is seen at once.
// One case at a time: each starts a server and engine processes.
@Suite("Third-party engines run in a sandbox of their own", .serialized)
struct SandboxTests {
    static func hostile() async throws -> String {
        try await TestPlugins.compileOffPool("hostile_engine.c")
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Creates session `name` on the hostile engine, aimed at `server` and at session
    /// `default`'s SQLite file, and returns what `contacts.about` reports: stage → attempt → outcome.
    static func attack(_ server: SwitchboardProcess, session name: String = "hostile", extra: String = "") async throws -> [String: [String: String]] {
        // `default` writes its file on the first change.
        _ = try await server.answer(
            "PUT", "/api/default/contacts/14155550101@c.us", body: #"{"firstName": "Ada"}"#)
        let other = "\(server.data)/state/default/local/local.sqlite"
        #expect(FileManager.default.fileExists(atPath: other))
        let config = #"{"serverPid": \#(server.pid), "port": \#(server.port), "data": "\#(server.data)", "other": "\#(other)"\#(extra)}"#
        let created = try await server.answer("POST", "/api/sessions", body: #"{"name": "\#(name)", "engine": "hostile", "engineConfig": \#(config)}"#)
        #expect(created.status == 201, "\(created.body)")
        let about = try await server.answer("GET", "/api/contacts/about?contactId=14155550101&session=\(name)")
        #expect(about.status == 200, "\(about.body)")
        let report = json(json(about.body)["about"] as? String ?? "{}")
        return report.compactMapValues { $0 as? [String: String] }
    }

    /// Needs nothing but the process: tried from the constructor too.
    static let generic = ["readShadow", "writeTmp", "execShell"]
    /// Reaches the server, its files, another session and the network.
    static let targeted = [
        "readServerEnviron", "openServerMemory", "ptraceServer", "signalServer", "readSessionStore", "listStateFolders",
        "readOtherSession", "writeOtherSession", "connectServerPort", "unixSocket",
    ]

    @Test("with default options, a hostile engine reaches nothing of the server's, the machine's or another session's, and writes its own folder")
    func hostileEngineIsContained() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.hostile())
        defer { server.stop() }
        let report = try await Self.attack(server)
        #expect(Set(report.keys) == ["constructor", "create", "call"], "\(report)")
        for attempt in Self.generic + ["unshare"] {
            #expect(report["constructor"]?[attempt] != "ok", "constructor: \(attempt) worked")
        }
        for stage in ["create", "call"] {
            for attempt in Self.generic + Self.targeted + ["unshare"] {
                #expect(report[stage]?[attempt] != nil && report[stage]?[attempt] != "ok", "\(stage): \(attempt) worked: \(report[stage] ?? [:])")
            }
            #expect(report[stage]?["serverSockets"] != "ok", "\(stage): a socket of the server is open in the engine process")
            #expect(report[stage]?["writeOwnState"] == "ok", "\(stage): its own state folder: \(report[stage]?["writeOwnState"] ?? "-")")
        }

        // The session says what was applied, and the engine process is the session's own.
        let session = Self.json(try await server.answer("GET", "/api/sessions/hostile").body)
        let sandbox = ((session["engine"] as? [String: Any])?["sandbox"] as? [String: Any])?["applied"] as? [String: Any]
        #expect(sandbox?["mode"] as? String == "strict")
        #expect(sandbox?["processes"] as? String == "per-session")
        #expect(sandbox?["missing"] as? [String] == [])
        let layers = Set(sandbox?["layers"] as? [String] ?? [])
        for layer in [
            "descriptors", "environment", "pid-namespace", "mount-namespace", "ipc-namespace", "network-namespace", "proc", "limits",
            "user", "capabilities", "no-new-privs", "landlock-fs", "landlock-net", "landlock-scope", "seccomp",
        ] {
            #expect(layers.contains(layer), "layer \(layer) not applied: \(layers.sorted())")
        }
        if geteuid() == 0 { #expect(sandbox?["user"] as? String == "65534:65534") }
    }

    @Test("under --sandbox off the same engine reaches all of it, so the contained case above can fail")
    func unconfinedEngineReachesEverything() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.hostile(), arguments: ["--sandbox", "off"])
        defer { server.stop() }
        let report = try await Self.attack(server)
        for attempt in Self.generic { #expect(report["constructor"]?[attempt] == "ok", "constructor: \(attempt): \(report["constructor"] ?? [:])") }
        for attempt in Self.generic + Self.targeted where attempt != "ptraceServer" || geteuid() == 0 {
            #expect(report["create"]?[attempt] == "ok", "create: \(attempt): \(report["create"] ?? [:])")
        }
        // Descriptor hygiene is not a sandbox layer: even unconfined, nothing of the server's is open.
        #expect(report["create"]?["serverSockets"] != "ok")
    }

    @Test("no descriptor of the server is open in any engine process")
    func noServerDescriptorInEngineProcesses() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.hostile())
        defer { server.stop() }
        _ = try await Self.attack(server)
        let engines = Self.children(of: server.pid).flatMap { [$0] + Self.children(of: $0) }
        #expect(engines.count >= 2, "an init and its engine host")
        // Sockets (the listening one among them) and files, by inode or path; not pipes (the
        // engine's output pipe has one end on each side by design) nor anonymous inodes, whose
        // names are not unique.
        let serverFiles = Self.openFiles(of: server.pid).filter { $0.hasPrefix("socket:") || ($0.hasPrefix("/") && $0 != "/dev/null") }
        #expect(serverFiles.contains { $0.hasPrefix("socket:") }, "the server's own sockets are seen")
        for engine in engines {
            let shared = Self.openFiles(of: engine).intersection(serverFiles)
            #expect(shared.isEmpty, "engine process \(engine) holds the server's \(shared.sorted())")
            // Nothing of the server's environment either: only the fixed variables.
            let environment = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(engine)/environ"))) ?? Data()
            let names = Set(environment.split(separator: 0).compactMap { String(decoding: $0, as: UTF8.self).split(separator: "=").first.map(String.init) })
            #expect(names.isSubset(of: ["PATH", "LANG", "HOME", "TMPDIR", "SWIFT_BACKTRACE"]), "engine process \(engine) has \(names.sorted())")
        }
    }

    @Test("an engine process that forked a child holding its socket: its death is seen at once, the child dies with it, the port is free after the server")
    func forkedChildHoldsNothing() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.hostile(), arguments: ["--call-timeout", "20"])
        let port = server.port
        defer { server.stop() }
        _ = try await Self.attack(server, session: "forker", extra: #", "forkChild": true, "crash": true"#)
        // The server's child is the namespace's init; the engine host is the init's child.
        guard let initProcess = Self.children(of: server.pid).first, let engine = Self.children(of: initProcess).first else {
            Issue.record("no engine process")
            return
        }
        let forked = Self.children(of: engine)
        #expect(!forked.isEmpty, "the plugin's child is running")

        let started = ContinuousClock.now
        let crashed = try await server.answer("GET", "/api/contacts?contactId=1&session=forker", timeout: .seconds(30))
        let waited = ContinuousClock.now - started
        // 503 names the crash; a death noticed only when the socket closed would be 504 at the 20 s timeout.
        #expect(crashed.status == 503, "\(crashed.body)")
        #expect(crashed.body.contains("SIGABRT"), "\(crashed.body)")
        #expect(waited < .seconds(15), "death seen after \(waited)")
        for pid in forked + [engine, initProcess] {
            #expect(await Self.gone(pid), "process \(pid) still exists (or is a zombie)")
        }

        server.stop()
        #expect(Self.canBind(port), "port \(port) still taken after the server stopped")
    }

    @Test("two sessions on one third-party engine run in two processes: a crash in one leaves the other's calls at 200")
    func sessionsDoNotShareACrash() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.hostile())
        defer { server.stop() }
        for (name, crash) in [("steady", false), ("crashing", true)] {
            let created = try await server.answer(
                "POST", "/api/sessions", body: #"{"name": "\#(name)", "engine": "hostile", "engineConfig": {"crash": \#(crash)}}"#)
            #expect(created.status == 201, "\(created.body)")
        }
        #expect(Self.children(of: server.pid).count == 2, "one engine process per session")
        let crashed = try await server.answer("GET", "/api/contacts?contactId=1&session=crashing")
        #expect(crashed.status == 503, "\(crashed.body)")
        for _ in 0..<20 {
            let steady = try await server.answer("GET", "/api/contacts?contactId=1&session=steady")
            #expect(steady.status == 200, "\(steady.body)")
        }
    }

    @Test("a session chooses its own process or its engine's shared one, whatever --engine-processes says; the processes end with their last session")
    func sessionsChooseHowProcessesAreShared() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.hostile(), arguments: ["--engine-processes", "per-engine"])
        defer { server.stop() }
        for (name, isolation) in [("first", nil), ("second", "shared-process"), ("own", "process")] {
            let chosen = isolation.map { #", "isolation": "\#($0)""# } ?? ""
            let created = try await server.answer("POST", "/api/sessions", body: #"{"name": "\#(name)", "engine": "hostile"\#(chosen)}"#)
            #expect(created.status == 201, "\(created.body)")
            let engine = Self.json(created.body)["engine"] as? [String: Any]
            let processes = (engine?["sandbox"] as? [String: Any])?["applied"].flatMap { $0 as? [String: Any] }?["processes"] as? String
            #expect(engine?["isolation"] as? String == (isolation ?? "shared-process"), "\(created.body)")
            #expect(processes == (name == "own" ? "per-session" : "per-engine"), "\(created.body)")
        }
        #expect(Self.children(of: server.pid).count == 2, "first and second share one engine process; own has its own")
        for name in ["own", "first", "second"] {
            #expect(try await server.answer("DELETE", "/api/sessions/\(name)").status == 200)
        }
        var left = Self.children(of: server.pid)
        for _ in 0..<40 where !left.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            left = Self.children(of: server.pid)
        }
        #expect(left.isEmpty, "engine processes outlived their sessions: \(left)")
    }

    @Test("a grant the engine does not declare is refused with 422; a need left ungranted is shown")
    func grantsAnswerDeclaredNeeds() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.hostile())
        defer { server.stop() }
        let refused = try await server.answer(
            "POST", "/api/sessions", body: #"{"name": "greedy", "engine": "hostile", "sandbox": {"network": ["example.org:443"]}}"#)
        #expect(refused.status == 422, "\(refused.body)")
        #expect(refused.body.contains("does not declare network"), "\(refused.body)")
        let malformed = try await server.answer(
            "POST", "/api/sessions", body: #"{"name": "book", "engine": "carddav", "sandbox": {"network": ["example.org"]}}"#)
        #expect(malformed.status == 422, "\(malformed.body)")
        #expect(malformed.body.contains("not host:port"), "\(malformed.body)")

        let ungranted = try await server.answer(
            "POST", "/api/sessions",
            body: #"{"name": "book", "engine": "carddav", "isolation": "process", "engineConfig": {"url": "http://127.0.0.1:9/"}}"#)
        #expect(ungranted.status == 201, "\(ungranted.body)")
        let sandbox = (Self.json(ungranted.body)["engine"] as? [String: Any])?["sandbox"] as? [String: Any]
        #expect(sandbox?["needs"] as? [String] == ["network"])
        #expect(sandbox?["ungranted"] as? [String] == ["network"])
    }

    @Test("carddav in its sandbox reaches a real Radicale with the port granted, and answers unavailable without")
    func cardDAVWithAndWithoutGrant() async throws {
        try await Radicale.withServer { radicale in
            try await radicale.putCard("grace.vcf", "BEGIN:VCARD\nVERSION:3.0\nUID:grace\nFN:Grace Hopper\nTEL;TYPE=CELL:+1 415 555 0101\nEND:VCARD\n")
            let server = try await SwitchboardProcess.start()
            defer { server.stop() }
            let config = #"{"url": "\#(radicale.root.absoluteString)", "username": "\#(Radicale.user)", "password": "\#(Radicale.password)", "refreshSeconds": 0}"#
            let port = radicale.root.port ?? 0
            let granted = try await server.answer(
                "POST", "/api/sessions",
                body: #"{"name": "granted", "engine": "carddav", "isolation": "process", "engineConfig": \#(config), "sandbox": {"network": ["127.0.0.1:\#(port)"]}}"#)
            #expect(granted.status == 201, "\(granted.body)")
            let grace = try await server.answer("GET", "/api/contacts?contactId=14155550101&session=granted")
            #expect(grace.status == 200, "\(grace.body)")
            #expect(grace.body.contains("Grace Hopper"))
            let layers = ((Self.json(granted.body)["engine"] as? [String: Any])?["sandbox"] as? [String: Any])
                .flatMap { $0["applied"] as? [String: Any] }?["layers"] as? [String] ?? []
            #expect(layers.contains("landlock-net") && !layers.contains("network-namespace"), "\(layers)")

            let denied = try await server.answer(
                "POST", "/api/sessions", body: #"{"name": "denied", "engine": "carddav", "isolation": "process", "engineConfig": \#(config)}"#)
            #expect(denied.status == 201, "\(denied.body)")
            let blocked = try await server.answer("GET", "/api/contacts?contactId=14155550101&session=denied")
            #expect(blocked.status == 503, "\(blocked.body)")
            #expect(blocked.body.contains("carddav"), "\(blocked.body)")
        }
    }

    @Test("vcard in its sandbox reads a granted folder, and not the folder beside it")
    func vCardReadsOnlyItsGrant() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-vcards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for folder in ["cards", "secret"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
            try Data("BEGIN:VCARD\nVERSION:3.0\nFN:From \(folder)\nTEL:+1 415 555 0101\nEND:VCARD\n".utf8)
                .write(to: root.appendingPathComponent("\(folder)/one.vcf"))
        }
        let server = try await SwitchboardProcess.start(arguments: ["--engine-paths", root.path])
        defer { server.stop() }
        let grant = #""sandbox": {"read": ["\#(root.path)/cards"]}"#
        for (name, folder) in [("cards", "cards"), ("sibling", "secret")] {
            let created = try await server.answer(
                "POST", "/api/sessions",
                body: #"{"name": "\#(name)", "engine": "vcard", "isolation": "process", "engineConfig": {"directory": "\#(root.path)/\#(folder)"}, \#(grant)}"#)
            #expect(created.status == 201 || name == "sibling", "\(created.body)")
        }
        let read = try await server.answer("GET", "/api/contacts?contactId=14155550101&session=cards")
        #expect(read.status == 200 && read.body.contains("From cards"), "\(read.body)")
        let sibling = try await server.answer("GET", "/api/contacts?contactId=14155550101&session=sibling")
        #expect(!sibling.body.contains("From secret"), "the sibling folder was read: \(sibling.body)")
        #expect(sibling.status == 503, "\(sibling.body)")
        #expect(sibling.body.contains("Permission denied") || sibling.body.contains("permission"), "the answer says why: \(sibling.body)")
    }

    @Test("verify runs the plugin as a server does: sandboxed, with what --grant gives, its code never in verify's process")
    func verifyRunsInTheSandbox() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("verify-vcards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data("BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nTEL:+1 415 555 0101\nEND:VCARD\n".utf8).write(to: root.appendingPathComponent("one.vcf"))
        // vcard as a third party's plugin: a copy outside the folder shipped engines live in.
        let plugin = "\(TestPlugins.makeFolder("verify-vcard"))/libVCardEngine.so"
        try FileManager.default.copyItem(atPath: TestPlugins.product("VCardEngine"), toPath: plugin)
        let config = #"{"directory": "\#(root.path)"}"#

        let denied = await #expect(throws: TestPlugins.CommandFailed.self) {
            try await TestPlugins.runOffPool(SwitchboardProcess.binary, ["verify", plugin, "--config", config])
        }
        #expect(denied?.output.contains("runs in an engine process: strict") == true, "\(denied?.output ?? "")")
        #expect(denied?.output.contains("not granted: read-paths") == true, "\(denied?.output ?? "")")
        #expect(denied?.output.contains("FAIL  contacts.list answers in the documented shape: unavailable") == true, "\(denied?.output ?? "")")

        let granted = try await TestPlugins.runOffPool(SwitchboardProcess.binary, ["verify", plugin, "--config", config, "--grant", "read=\(root.path)"])
        #expect(granted.contains("runs in an engine process: strict"), "\(granted)")
        #expect(granted.contains(" 0 failed"), "\(granted)")

        let undeclared = await #expect(throws: TestPlugins.CommandFailed.self) {
            try await TestPlugins.runOffPool(SwitchboardProcess.binary, ["verify", plugin, "--config", config, "--grant", "network=127.0.0.1:80"])
        }
        #expect(denied?.status == 1 && undeclared?.status == 1)
        #expect(undeclared?.output.contains(#"engine "vcard" does not declare network (it declares read-paths)"#) == true, "\(undeclared?.output ?? "")")

        // Where the plugin's code runs: its constructor writes the pid of each process that maps
        // it (unconfined, so that it may write the marker at all). verify prints its own pid first.
        let marker = "\(TestPlugins.makeFolder("verify-marker"))/pids"
        let marked = try await FaultyPluginTests.faulty(["CONSTRUCTOR_MARKER=\"\(marker)\""])
        let report: String
        do {
            report = try await TestPlugins.runOffPool("/bin/sh", ["-c", "echo $$; exec \"$0\" verify \"$1\" --sandbox off", SwitchboardProcess.binary, marked])
        } catch let failed as TestPlugins.CommandFailed {
            report = failed.output // a check may fail: this case is about where the code ran
        }
        let verifyPID = try #require(report.split(separator: "\n").first.flatMap { Int32($0) })
        let pids = try String(contentsOfFile: marker, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        #expect(pids.count >= 2, "the scanner and the engine process mapped it: \(pids)")
        #expect(!pids.contains(verifyPID), "verify (\(verifyPID)) mapped the plugin: \(pids)")
    }

    @Test("an engine that writes 100 MB to its output reaches the log rate-limited, and the server's routes keep answering")
    func boundedOutput() async throws {
        let server = try await SwitchboardProcess.start(plugin: try await Self.hostile())
        defer { server.stop() }
        let created = try await server.answer(
            "POST", "/api/sessions", body: #"{"name": "loud", "engine": "hostile", "engineConfig": {"spewMiB": 100}}"#)
        #expect(created.status == 201, "\(created.body)")
        let failures = await FaultyPluginTests.loadRun(server, for: .seconds(3))
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        // The log: a bounded number of the engine's lines, each cut, and a count of what was dropped.
        try await Task.sleep(for: .seconds(1.5))
        let log = server.output
        let logged = log.split(separator: "\n").filter { $0.contains("engine output") && $0.contains("xxxx") }
        #expect(!logged.isEmpty, "the engine's output reaches the log")
        #expect(logged.count < 1_000, "\(logged.count) lines of output logged")
        #expect(logged.allSatisfy { $0.count < 2_400 }, "lines are cut at 2,048 bytes")
        #expect(log.contains("lines dropped"), "what was dropped is counted")
        #expect(log.utf8.count < 8 << 20, "the log holds \(log.utf8.count) bytes")
    }

    @Test("under --sandbox strict an engine process that cannot apply a layer does not start: the session says which layer, and the refusal is counted")
    func strictRefusesAMissingLayer() async throws {
        // This kernel offers every layer, so the server is given an engine host that reports one
        // missing, as on an older kernel: the server's own copy, beside a script that speaks the
        // handshake of the wire protocol (docs/architecture.md) and scans through the real one.
        let folder = TestPlugins.makeFolder("missing-layer")
        let server = "\(folder)/switchboard"
        guard link(SwitchboardProcess.binary, server) == 0 else { throw SwitchboardProcess.Failure(description: "cannot link the server") }
        let host = "\(folder)/switchboard-engine-host"
        try Data(Self.hostMissingALayer(real: "\(TestPlugins.buildProducts)/switchboard-engine-host").utf8).write(to: URL(fileURLWithPath: host))
        chmod(host, 0o755)
        let process = try await SwitchboardProcess.start(
            plugin: try await Self.hostile(), arguments: ["--sandbox", "strict", "--plugins", TestPlugins.buildProducts], executable: server)
        defer { process.stop() }
        let refused = try await process.answer("POST", "/api/sessions", body: #"{"name": "confined", "engine": "hostile"}"#)
        #expect(refused.status == 422, "\(refused.body)")
        #expect(refused.body.contains("--sandbox strict"), "\(refused.body)")
        #expect(refused.body.contains("landlock-net"), "the missing layer is named: \(refused.body)")
        let metrics = try await process.answer("GET", "/metrics")
        #expect(metrics.body.contains(#"switchboard_sandbox_refusals_total{engine="hostile"} 1"#), "\(metrics.body.prefix(2000))")
    }

    /// An engine host that says hello, reports `landlock-net` missing, and waits to be ended; a scan goes to `real`.
    static func hostMissingALayer(real: String) -> String {
        """
        #!/usr/bin/python3
        import json, os, struct, sys
        if "--scan" in sys.argv:
            os.execv("\(real)", ["\(real)"] + sys.argv[1:])
        def frame(body):
            os.write(3, struct.pack("<I", len(body)) + body)
        frame(bytes([1]) + struct.pack("<QQQ", 0x454E49474E454253, 1, 2))
        report = json.dumps({"applied": ["landlock-fs"], "missing": ["landlock-net"],
                             "failure": "landlock-net: needs Landlock ABI 4", "user": "65534:65534"}).encode()
        frame(bytes([6]) + struct.pack("<I", len(report)) + report)
        while os.read(3, 65536):
            pass

        """
    }

    // MARK: Processes, from /proc

    /// Processes whose parent is `pid`.
    static func children(of pid: Int32) -> [Int32] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return all.compactMap(Int32.init).filter { candidate in
            guard let status = try? String(contentsOfFile: "/proc/\(candidate)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") }) else { return false }
            return Int32(line.dropFirst(5).trimmingCharacters(in: .whitespaces)) == pid
        }
    }

    /// What each descriptor of `pid` points to (`socket:[inode]`, a path).
    static func openFiles(of pid: Int32) -> Set<String> {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return Set(fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") })
    }

    /// Whether `pid` is gone, reaped too, within two seconds.
    static func gone(_ pid: Int32) async -> Bool {
        for _ in 0..<40 {
            if !FileManager.default.fileExists(atPath: "/proc/\(pid)") { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    static func canBind(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
