import ArgumentParser
import Foundation
import SwitchboardEngineRuntime

/// The command line of `switchboard-engine-host`, which only the server writes: the plugin, its
/// trust and thread limits, the resource limits, and the sandbox (`SandboxSettings.arguments`).
public struct EngineProcessArguments: ParsableArguments {
    @Argument(help: "The plugin file (.so).")
    public var file: String

    @Flag(help: "Only read the plugin's metadata, write it to descriptor 3 as JSON, and exit.")
    public var scan = false

    @Option(help: "Address-space limit of this process, in MiB; 0 for none.")
    public var memoryLimit = 0

    @Option(help: "CPU-time limit of this process, in seconds; 0 for none.")
    public var cpuLimit = 0

    @Flag(help: "Load a plugin that others may write to or that another user owns.")
    public var allowUnsafePluginPermissions = false

    @Option(name: .customLong("plugin-sha256"), help: "NAME=HEX, as the server checked it.")
    public var pins: [String] = []

    @Option(help: "Threads that may be inside the plugin at once.")
    public var pluginThreads = PluginThreads.Limits().threads

    @Option(help: "Calls that may wait for one of those threads.")
    public var pluginQueue = PluginThreads.Limits().queue

    @Option(help: "strict, best-effort or off.")
    public var sandbox = SandboxMode.strict.rawValue

    @Option(help: "per-session or per-engine, for the report.")
    public var processes = EngineProcesses.perSession.rawValue

    @Option(help: "The user to run as, when started as root.")
    public var uid: UInt32?

    @Option(help: "The group to run as, when started as root.")
    public var gid: UInt32?

    @Option(name: .customLong("write"), help: "A folder the engine may write; repeatable.")
    public var writable: [String] = []

    @Option(name: .customLong("read"), help: "A granted path the engine may read; repeatable.")
    public var readable: [String] = []

    @Option(name: .customLong("connect"), help: "A granted host:port; repeatable.")
    public var connect: [String] = []

    @Flag(help: "The engine may start programs.")
    public var allowExec = false

    @Option(help: "Open-file limit; 0 to leave as is.")
    public var openFiles = 0

    @Option(help: "Process and thread limit of the engine's user; 0 to leave as is.")
    public var processLimit = 0

    @Option(help: "File-size limit in MiB; 0 to leave as is.")
    public var fileSize = 0

    public init() {}

    public var confinement: EngineConfinement.Request {
        EngineConfinement.Request(
            mode: SandboxMode(rawValue: sandbox) ?? .strict, plugin: file, user: uid.map { ($0, gid ?? $0) }, writable: writable,
            readable: readable, connect: connect, allowExec: allowExec, openFiles: openFiles, processLimit: processLimit,
            fileSizeMiB: fileSize)
    }

    /// The server validated the pins; here they are only split.
    public var policy: PluginPolicy {
        let pinned = Dictionary(pins.compactMap { pin -> (String, String)? in
            let parts = pin.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1].lowercased()) : nil
        }, uniquingKeysWith: { $1 })
        // Shipped plugins sit beside this executable, as beside the server's.
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        return PluginPolicy(
            shippedDirectories: [folder], trust: PluginTrust(allowUnsafePermissions: allowUnsafePluginPermissions, pinnedSHA256: pinned),
            threads: PluginThreads.Limits(threads: pluginThreads, queue: pluginQueue), scanner: nil)
    }

    /// The arguments for trust, threads and limits, as the server writes them for every child.
    public static func arguments(
        memoryLimitMiB: Int, cpuLimitSeconds: Int, allowUnsafePluginPermissions: Bool, pins: [String], pluginThreads: Int, pluginQueue: Int
    ) -> [String] {
        ["--memory-limit", String(memoryLimitMiB), "--cpu-limit", String(cpuLimitSeconds)]
            + (allowUnsafePluginPermissions ? ["--allow-unsafe-plugin-permissions"] : []) + pins.flatMap { ["--plugin-sha256", $0] }
            + ["--plugin-threads", String(pluginThreads), "--plugin-queue", String(pluginQueue)]
    }
}
