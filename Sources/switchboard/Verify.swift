import ArgumentParser
import Foundation
import Logging
import SwitchboardConformance
import SwitchboardEngineRuntime
import SwitchboardEngineProcesses
import SwitchboardIsolation

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a plugin keeps the engine contract; exits 1 when a check fails.",
        discussion: """
            Loads the plugin, creates an engine from --config, and checks that every feature it serves \
            answers in the documented shape and every other one answers not-implemented, that malformed \
            input (and every phone number or id of a battery of malformed ones) gets invalid-input, that \
            every page of contacts.list for every limit from 1 to 25 and a few more, several offsets, both sort \
            keys and both orders is the matching slice of the engine's own full list, that every id it \
            answers is a chat id, that contacts.get answers each listed contact field by field and invents \
            none it does not list, that check-exists gives each listed number its own chat id, that \
            concurrent calls are safe, and that destroying an instance \
            with calls in flight completes them. A failing check prints the request that showed it and the first position or field that differs. The \
            checks call upsert, block and unblock too: point the engine at a test backend. The engine gets \
            a state folder, as a session does on a server, where a relative path in --config points: a new \
            temporary one, removed afterwards, unless --state names one. The plugin runs as a server runs a \
            third-party engine, none of its code in this process: its metadata read by a sandboxed scanner, \
            its instances in a sandboxed engine process that reaches its state folder and what --grant \
            gives, and nothing else (run as root, the engine user is given the state folder, as a \
            session's is). Its output goes to standard error.
            """)

    @Argument(help: "The plugin file (.so).")
    var file: String

    @Option(help: ArgumentHelp("The engine's configuration, a JSON object.", valueName: "json"))
    var config = "{}"

    @Option(help: ArgumentHelp("The engine's state folder, kept (default: a temporary one, removed afterwards).", valueName: "folder"))
    var state: String?

    @Option(help: ArgumentHelp("Seconds one call may take.", valueName: "seconds"))
    var callTimeout: Double = 10

    @Option(name: .customLong("grant"), help: ArgumentHelp(
        "What the engine process may reach besides its state folder, as a session's \"sandbox\" grants it: network=host:port, read=/path or exec; repeatable.",
        valueName: "grant"))
    var grantArguments: [String] = []

    @OptionGroup var engineProcess: EngineProcessOptions

    /// `--grant`s as a session's grants.
    var grants: SandboxGrants {
        get throws {
            var grants = SandboxGrants.none
            for grant in grantArguments {
                let parts = grant.split(separator: "=", maxSplits: 1).map(String.init)
                switch (parts.first, parts.count) {
                case ("network", 2): grants.network.append(parts[1])
                case ("read", 2): grants.read.append(parts[1])
                case ("exec", 1): grants.exec = true
                default: throw ValidationError("--grant takes network=host:port, read=/path or exec: \(grant)")
                }
            }
            if let problem = grants.problem { throw ValidationError("--grant: \(problem)") }
            return grants
        }
    }

    func validate() throws {
        guard (try? JSONSerialization.jsonObject(with: Data(config.utf8))) is [String: Any] else {
            throw ValidationError("--config must be a JSON object")
        }
        guard (0.001...3600).contains(callTimeout) else { throw ValidationError("--call-timeout must be between 0.001 and 3600 seconds") }
        _ = try grants
    }

    func run() async throws {
        let stateDirectory = try state ?? Self.temporaryFolder()
        defer { if state == nil { try? FileManager.default.removeItem(atPath: stateDirectory) } }
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let logger = Logger(label: "switchboard.verify") { StandardErrorLogHandler(label: $0, logLevel: .notice) }
        let sandbox = try engineProcess.settings(logger: logger)
        // The folder itself is handed to the engine user; the folders above it must let it in.
        if let blocking = sandbox.unreachableFolder(on: (stateDirectory as NSString).deletingLastPathComponent) {
            logger.warning("the engine process cannot reach its state folder", metadata: ["folder": "\(blocking)", "engineUser": "\(engineProcess.engineUser)"])
        }
        let limits = PluginThreads.Limits()
        let command = EngineProcessCommand(
            executable: PluginOptions.engineHostExecutable,
            arguments: EngineProcessArguments.arguments(
                memoryLimitMiB: engineProcess.engineMemoryLimit, cpuLimitSeconds: engineProcess.engineCPULimit, allowUnsafePluginPermissions: false,
                pins: [], pluginThreads: limits.threads, pluginQueue: limits.queue))
        let kit = ConformanceKit(
            path: file, configuration: Data(config.utf8), stateDirectory: stateDirectory, callTimeout: .milliseconds(Int(callTimeout * 1000)),
            scanner: ChildScanner(command: command, sandbox: sandbox, logger: logger),
            launcher: ProcessIsolation(command: command, sandbox: sandbox, stateRoot: nil, logger: logger), grants: try grants)
        let checks = await kit.run()
        for check in checks {
            print(check.passed ? "PASS  \(check.name)" : "FAIL  \(check.name): \(check.failure ?? "")")
        }
        let failed = checks.filter { !$0.passed }.count
        print("\(checks.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }

    /// A new folder of this run's own (mkdtemp: no other process can have made it).
    static func temporaryFolder() throws -> String {
        var template = Array((NSTemporaryDirectory() + "switchboard-verify-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ValidationError("cannot make a temporary state folder: errno \(errno)") }
        return String(cString: made)
    }
}
