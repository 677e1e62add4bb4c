import ArgumentParser
import Logging
import SwitchboardIsolation

/// How third-party engine processes are confined and limited: shared by `serve` and `verify`, so
/// that `verify` runs a plugin in the sandbox a server gives it.
struct EngineProcessOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "How third-party engine processes are confined: strict (every layer, or the engine does not start), best-effort (what the kernel offers, reported), or off. Default: strict where the kernel offers every layer, else best-effort with a warning naming what is missing.",
        valueName: "mode"))
    var sandbox: String?

    @Option(help: ArgumentHelp("The user engine processes run as when the server runs as root (a name or a uid).", valueName: "user"))
    var engineUser = "nobody"

    @Option(help: ArgumentHelp("Open-file limit of each engine process.", valueName: "count"))
    var engineOpenFiles = SandboxSettings.defaultOpenFiles

    @Option(help: ArgumentHelp("Processes and threads the engine user may have (RLIMIT_NPROC, counted per user).", valueName: "count"))
    var engineProcessLimit = SandboxSettings.defaultProcessLimit

    @Option(help: ArgumentHelp("Largest file an engine process may write, in MiB.", valueName: "MiB"))
    var engineFileSize = SandboxSettings.defaultFileSizeMiB

    @Option(help: ArgumentHelp("Address-space limit of each engine process, in MiB; 0 for none.", valueName: "MiB"))
    var engineMemoryLimit = 4096

    @Option(help: ArgumentHelp("CPU-time limit of each engine process, in seconds; 0 for none.", valueName: "seconds"))
    var engineCPULimit = 0

    func validate() throws {
        if let sandbox, SandboxMode(rawValue: sandbox) == nil { throw ValidationError("--sandbox must be strict, best-effort or off") }
        guard engineMemoryLimit == 0 || engineMemoryLimit >= 256 else { throw ValidationError("--engine-memory-limit must be 0 or at least 256 MiB") }
        guard engineCPULimit >= 0 else { throw ValidationError("--engine-cpu-limit must be 0 or more seconds") }
        guard (16...1_048_576).contains(engineOpenFiles) else { throw ValidationError("--engine-open-files must be from 16 to 1048576") }
        guard (16...1_000_000).contains(engineProcessLimit) else { throw ValidationError("--engine-process-limit must be from 16 to 1000000") }
        guard engineFileSize >= 1 else { throw ValidationError("--engine-file-size must be at least 1 MiB") }
        _ = try SandboxSettings.engineUser(named: engineUser)
    }

    /// The settings these options name. With no `--sandbox`, strict where the kernel offers
    /// every layer; otherwise best-effort, saying once which layer is missing.
    func settings(logger: Logger) throws -> SandboxSettings {
        let missing = SandboxSettings.missingKernelLayers()
        let mode = sandbox.flatMap(SandboxMode.init(rawValue:)) ?? (missing.isEmpty ? .strict : .bestEffort)
        if mode == .off {
            logger.warning("third-party engines run unconfined (--sandbox off)")
        } else if !missing.isEmpty {
            logger.warning("the kernel does not offer every sandbox layer", metadata: [
                "missing": "\(missing.joined(separator: "; "))",
                "consequence": "\(mode == .strict ? "third-party engines will not start (--sandbox strict)" : "engines run with the layers offered")",
            ])
        }
        return SandboxSettings(
            mode: mode, user: try SandboxSettings.engineUser(named: engineUser),
            openFiles: engineOpenFiles, processLimit: engineProcessLimit, fileSizeMiB: engineFileSize)
    }
}
