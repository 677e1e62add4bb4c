import ArgumentParser
import Foundation
import LocalEngineCore
import Logging
import SwitchboardEngineRuntime
import SwitchboardIsolation

/// Where plugins come from, shared by every command that loads engines.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugins"), help: ArgumentHelp(
        "A folder of engine plugins (*.so); repeatable. Default: $SWITCHBOARD_PLUGINS, else the folder of this executable (where the engines shipped with it are built) and ./plugins.",
        valueName: "dir"))
    var directories: [String] = []

    @Option(name: .customLong("plugin"), help: ArgumentHelp("One plugin file to load; repeatable.", valueName: "file"))
    var files: [String] = []

    @Flag(help: "Load plugin files and folders that others may write to or that another user owns (development only).")
    var allowUnsafePluginPermissions = false

    @Option(name: .customLong("plugin-sha256"), help: ArgumentHelp(
        "Pin an engine to the SHA-256 of its plugin file (NAME=HEX); a file that differs is refused. Repeatable.", valueName: "name=hex"))
    var pins: [String] = []

    @Option(help: ArgumentHelp("Threads that may be inside one third-party in-process plugin at once.", valueName: "count"))
    var pluginThreads = PluginThreads.Limits().threads

    @Option(help: ArgumentHelp("Calls that may wait for one of those threads; past that a call answers 503.", valueName: "count"))
    var pluginQueue = PluginThreads.Limits().queue

    @Option(help: ArgumentHelp("Seconds a third-party plugin may take to load in the scanner child before it is refused.", valueName: "seconds"))
    var pluginScanTimeout: Double = 10

    func validatePolicy() throws {
        guard (0.1...600).contains(pluginScanTimeout) else { throw ValidationError("--plugin-scan-timeout must be from 0.1 to 600 seconds") }
        guard (1...256).contains(pluginThreads) else { throw ValidationError("--plugin-threads must be from 1 to 256") }
        guard (1...100_000).contains(pluginQueue) else { throw ValidationError("--plugin-queue must be from 1 to 100000") }
        _ = try pinnedSHA256()
    }

    func pinnedSHA256() throws -> [String: String] {
        var pinned: [String: String] = [:]
        for pin in pins {
            let parts = pin.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, EngineMetadata.isValidName(parts[0]), parts[1].count == 64,
                  parts[1].allSatisfy(\.isHexDigit) else {
                throw ValidationError("--plugin-sha256 takes NAME=HEX with an engine name and 64 hex digits: \(pin)")
            }
            pinned[parts[0]] = parts[1].lowercased()
        }
        return pinned
    }

    /// The engines built with this executable live beside it.
    static var executableFolder: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    func policy(scanner: (any PluginScanner)? = nil) throws -> PluginPolicy {
        PluginPolicy(
            shippedDirectories: [Self.executableFolder],
            trust: PluginTrust(allowUnsafePermissions: allowUnsafePluginPermissions, pinnedSHA256: try pinnedSHA256()),
            threads: PluginThreads.Limits(threads: pluginThreads, queue: pluginQueue),
            scanner: scanner)
    }

    static var engineHostExecutable: String { "\(executableFolder)/switchboard-engine-host" }

    /// `switchboard-engine-host`, built beside this executable, with these options: the child
    /// that scans plugins or serves one.
    func engineHostCommand(memoryLimitMiB: Int = 0, cpuLimitSeconds: Int = 0) -> EngineProcessCommand {
        EngineProcessCommand(
            executable: Self.engineHostExecutable,
            arguments: EngineProcessArguments.arguments(
                memoryLimitMiB: memoryLimitMiB, cpuLimitSeconds: cpuLimitSeconds, allowUnsafePluginPermissions: allowUnsafePluginPermissions,
                pins: pins, pluginThreads: pluginThreads, pluginQueue: pluginQueue))
    }

    var resolvedDirectories: [String] {
        if !directories.isEmpty { return directories }
        if let configured = ProcessInfo.processInfo.environment["SWITCHBOARD_PLUGINS"], !configured.isEmpty {
            return configured.split(separator: ":").map(String.init)
        }
        return [Self.executableFolder, "plugins"].filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// A registry with the embedded engines, then every plugin found; third-party plugins are read
    /// by a scanner child, never mapped here.
    func loadRegistry(
        logger: Logger, scanCache: String? = nil, metrics: HostMetrics = .none, sandbox: SandboxSettings = .off
    ) throws -> EngineRegistry {
        let scanner = ChildScanner(
            command: engineHostCommand(), sandbox: sandbox, timeout: .milliseconds(Int(pluginScanTimeout * 1000)), cacheFile: scanCache,
            logger: logger)
        if let scanCache, let reason = scanner.unreadableCache {
            logger.warning(
                "the plugin scan cache is not one: every plugin is scanned again and the file rewritten",
                metadata: ["file": "\(URL(fileURLWithPath: scanCache).standardizedFileURL.path)", "reason": "\(reason)"])
        }
        let registry = EngineRegistry(
            pluginDirectories: resolvedDirectories, pluginFiles: files, policy: try policy(scanner: scanner), metrics: metrics, logger: logger)
        // `local`, the default engine, is compiled in: a fresh install serves with no plugin file.
        try registry.registerEmbedded(LocalEngine.descriptor)
        registry.scan()
        return registry
    }
}
