import ArgumentParser
import CoreMetrics
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardCore
import SwitchboardHTTP
import SwitchboardIsolation
import SwitchboardPostgresStore
import SwitchboardSQLiteStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API. A fresh data folder starts with session 'default' on the embedded 'local' engine.")

    @Option(help: "Address to listen on.")
    var host = ProcessInfo.processInfo.environment["SWITCHBOARD_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on (WAHA's default, 3000).")
    var port = Int(ProcessInfo.processInfo.environment["WHATSAPP_API_PORT"] ?? "") ?? 3000

    @Option(help: ArgumentHelp("Where sessions and engine state live.", valueName: "dir"))
    var data = ProcessInfo.processInfo.environment["SWITCHBOARD_DATA"] ?? "switchboard-data"

    @Option(help: ArgumentHelp("Seconds an engine may take to answer one call before the API answers 504.", valueName: "seconds"))
    var callTimeout: Double = 10

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = ProcessInfo.processInfo.environment["SWITCHBOARD_LOG_LEVEL"] ?? "info"

    @Option(name: .customLong("engine-paths"), help: ArgumentHelp(
        "A folder engine configurations may point into besides the data folder (a vCard folder, a CA certificate); repeatable.",
        valueName: "dir"))
    var enginePaths: [String] = []

    @Option(help: ArgumentHelp(
        "Where sessions that name no isolation run their engine: process or in-process. Default: engines shipped with Switchboard in-process, every other one in a process of its own.",
        valueName: "mode"))
    var isolation: String?

    @Option(help: ArgumentHelp(
        "How third-party engine processes are confined: strict (every layer, or the engine does not start), best-effort (what the kernel offers, reported), or off. Default: strict where the kernel offers every layer, else best-effort with a warning naming what is missing.",
        valueName: "mode"))
    var sandbox: String?

    @Option(help: ArgumentHelp(
        "per-session (each session's third-party engine in a process and sandbox of its own) or per-engine (one process per engine version, shared by its sessions: weaker).",
        valueName: "mode"))
    var engineProcesses = EngineProcesses.perSession.rawValue

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

    @Option(help: ArgumentHelp(
        "Swagger UI's files for GET /: a folder holding swagger-ui-dist (default: <data>/swagger-ui, which scripts/swagger-ui fills), or cdn:<base URL>.",
        valueName: "folder|cdn:url"))
    var swaggerUI: String?

    @Option(help: ArgumentHelp("Seconds a connection may stay open without a request in progress (an unfinished request head included).", valueName: "seconds"))
    var idleTimeout: Double = Double(ConnectionTimeouts.defaultIdle.components.seconds)

    @Option(help: ArgumentHelp(
        "Where sessions are stored: postgres://user[:password]@host[:port]/database, shared by every server on it ($SWITCHBOARD_STORE). Default: <data>/sessions.sqlite.",
        valueName: "url"))
    var store: String?

    @Option(help: ArgumentHelp(
        "Seconds a session change may wait for a PostgreSQL --store before it answers 503 (and is not applied).", valueName: "seconds"))
    var storeTimeout: Double = Double(PostgresSessionStore.defaultTimeout.components.seconds)

    /// `--store`, else `SWITCHBOARD_STORE`; nil for the SQLite file in the data folder.
    private var storeURL: String? {
        store ?? ProcessInfo.processInfo.environment["SWITCHBOARD_STORE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    @Flag(help: "Serve GET /metrics without the API key, for a Prometheus that does not send one.")
    var metricsPublic = false

    @OptionGroup var plugins: PluginOptions

    func validate() throws {
        if let isolation, EngineIsolation(rawValue: isolation) == nil {
            throw ValidationError("--isolation must be process or in-process")
        }
        guard engineMemoryLimit == 0 || engineMemoryLimit >= 256 else { throw ValidationError("--engine-memory-limit must be 0 or at least 256 MiB") }
        guard engineCPULimit >= 0 else { throw ValidationError("--engine-cpu-limit must be 0 or more seconds") }
        if let sandbox, SandboxMode(rawValue: sandbox) == nil { throw ValidationError("--sandbox must be strict, best-effort or off") }
        guard EngineProcesses(rawValue: engineProcesses) != nil else { throw ValidationError("--engine-processes must be per-session or per-engine") }
        guard (16...1_048_576).contains(engineOpenFiles) else { throw ValidationError("--engine-open-files must be from 16 to 1048576") }
        guard (16...1_000_000).contains(engineProcessLimit) else { throw ValidationError("--engine-process-limit must be from 16 to 1000000") }
        guard engineFileSize >= 1 else { throw ValidationError("--engine-file-size must be at least 1 MiB") }
        _ = try SandboxSettings.engineUser(named: engineUser)
        try plugins.validatePolicy()
        guard (0.001...3600).contains(callTimeout) else { throw ValidationError("--call-timeout must be between 0.001 and 3600 seconds") }
        guard (0.1...600).contains(storeTimeout) else { throw ValidationError("--store-timeout must be between 0.1 and 600 seconds") }
        guard (0.001...3600).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be between 0.001 and 3600 seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if let storeURL {
            do {
                _ = try PostgresSessionStore.configuration(storeURL)
            } catch {
                throw ValidationError("--store: \(error)")
            }
        }
    }

    /// The composition root: logging and metrics once for the process, the engines, the store,
    /// and the server and the sessions as services of one group.
    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, logLevel: level) }
        let logger = Logger(label: "switchboard")
        UnexpectedExit.arm(logger)
        defer { UnexpectedExit.disarm() }
        // Our own parts are handed the factory; the global bootstrap brings the libraries' metrics
        // into the same registry.
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)

        let apiKey: APIKey?
        if let configured = ProcessInfo.processInfo.environment["WAHA_API_KEY"], !configured.isEmpty {
            guard let key = APIKey(configured: configured) else {
                throw ValidationError("WAHA_API_KEY is neither a key nor sha512:<128 hex digits>")
            }
            apiKey = key
        } else {
            apiKey = nil
        }

        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let sandboxSettings = try sandboxSettings(logger: logger)
        let registry = try plugins.loadRegistry(
            logger: logger, scanCache: "\(data)/plugin-scans.json", metrics: metrics.host, sandbox: sandboxSettings)
        let launcher = ProcessIsolation(
            command: plugins.engineHostCommand(memoryLimitMiB: engineMemoryLimit, cpuLimitSeconds: engineCPULimit), sandbox: sandboxSettings,
            stateRoot: "\(data)/state", metrics: metrics.host, logger: logger)
        let sessions = SessionManager(
            registry: registry, store: try await openStore(logger: logger), stateRoot: "\(data)/state",
            callTimeout: .milliseconds(Int(callTimeout * 1000)), enginePaths: .confined(to: [data] + enginePaths),
            isolation: IsolationPolicy(launcher: launcher, serverDefault: isolation.flatMap(EngineIsolation.init(rawValue:))),
            metrics: metrics.host, logger: logger)
        try await sessions.restore()

        let swaggerUI = swaggerUI ?? ProcessInfo.processInfo.environment["SWITCHBOARD_SWAGGER_UI"]
        let swagger: SwaggerUI
        if let swaggerUI, swaggerUI.hasPrefix("cdn:") {
            swagger = SwaggerUI(.cdn(String(swaggerUI.dropFirst("cdn:".count))))
        } else {
            swagger = SwaggerUI(.folder(swaggerUI ?? "\(data)/swagger-ui"))
        }
        if swagger.isComplete {
            logger.info("Swagger UI", metadata: ["source": "\(swagger.source)", "version": "\(swagger.version ?? "unknown")"])
        } else {
            logger.warning("Swagger UI's files are missing; GET / says how to install them", metadata: ["source": "\(swagger.source)"])
        }

        let app = SwitchboardServer.application(
            state: ServerState(sessions: sessions, version: Switchboard.version, metrics: metrics),
            options: .init(
                host: host, port: port, apiKey: apiKey, swaggerUI: swagger,
                timeouts: ConnectionTimeouts(idle: .milliseconds(Int(idleTimeout * 1000))), metricsPublic: metricsPublic),
            logger: logger)
        // Shut down in reverse order: the server stops accepting and finishes the requests in
        // flight, then the sessions stop (destroying their instances) and the store closes.
        let group = ServiceGroup(configuration: .init(
            services: [sessions, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("stopped: every session stopped and the session store closed")
    }

    /// `--sandbox` and its company. With no `--sandbox`, strict where the kernel offers every
    /// layer; otherwise best-effort, saying once at start which layer is missing.
    private func sandboxSettings(logger: Logger) throws -> SandboxSettings {
        let missing = SandboxSettings.missingKernelLayers()
        let mode: SandboxMode
        if let sandbox {
            mode = SandboxMode(rawValue: sandbox) ?? .strict
        } else {
            mode = missing.isEmpty ? .strict : .bestEffort
        }
        if mode == .off {
            logger.warning("third-party engines run unconfined (--sandbox off)")
        } else if !missing.isEmpty {
            logger.warning("the kernel does not offer every sandbox layer", metadata: [
                "missing": "\(missing.joined(separator: "; "))",
                "consequence": "\(mode == .strict ? "third-party engines will not start (--sandbox strict)" : "engines run with the layers offered")",
            ])
        }
        let settings = SandboxSettings(
            mode: mode, processes: EngineProcesses(rawValue: engineProcesses) ?? .perSession, user: try SandboxSettings.engineUser(named: engineUser),
            openFiles: engineOpenFiles, processLimit: engineProcessLimit, fileSizeMiB: engineFileSize)
        if let blocking = settings.unreachableFolder(on: "\(data)/state") {
            logger.warning("engine processes cannot reach their state folders", metadata: [
                "folder": "\(blocking)", "engineUser": "\(engineUser)",
                "fix": "let the engine user enter it (chmod o+x), or keep --data elsewhere",
            ])
        }
        return settings
    }

    private func openStore(logger: Logger) async throws -> any SessionStore {
        guard let storeURL else { return try SQLiteSessionStore(path: "\(data)/sessions.sqlite") }
        return try await PostgresSessionStore(url: storeURL, timeout: .milliseconds(Int(storeTimeout * 1000)), logger: logger)
    }
}
