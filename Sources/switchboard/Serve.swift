import ArgumentParser
import CoreMetrics
import Foundation
import Hummingbird
import Logging
import PostgresURL
import ServiceLifecycle
import SwitchboardEngineRuntime
import SwitchboardHTTP
import SwitchboardEngineProcesses
import SwitchboardIsolation
import SwitchboardPostgresStore
import SwitchboardSQLiteStore
import SwitchboardSessions

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
        "Where sessions that name no isolation run their engine: process, shared-process or in-process. Default: engines shipped with Switchboard in-process, every other one in a process of its own.",
        valueName: "mode"))
    var isolation: String?

    @Option(help: ArgumentHelp(
        "per-session (each session's third-party engine in a process and sandbox of its own) or per-engine (one process per engine version, shared by its sessions: weaker). A session's \"isolation\" (process or shared-process) overrides it.",
        valueName: "mode"))
    var engineProcesses = EngineProcesses.perSession.rawValue

    @OptionGroup var engineProcess: EngineProcessOptions

    @Option(help: ArgumentHelp(
        "Swagger UI's files for GET /: a folder holding swagger-ui-dist (default: <data>/swagger-ui, which scripts/swagger-ui fills), or cdn:<base URL>.",
        valueName: "folder|cdn:url"))
    var swaggerUI: String?

    @Option(help: ArgumentHelp("Seconds a connection may stay open without a request in progress (an unfinished request head included).", valueName: "seconds"))
    var idleTimeout: Double = ConnectionTimeouts.defaultIdle.seconds

    @Option(help: ArgumentHelp(
        "Where sessions are stored: postgres://user[:password]@host[:port]/database, shared by every server on it ($SWITCHBOARD_STORE). Default: <data>/sessions.sqlite.",
        valueName: "url"))
    var store: String?

    @Option(help: ArgumentHelp(
        "Seconds a session change may wait for a PostgreSQL --store before it answers 503 (and is not applied).", valueName: "seconds"))
    var storeTimeout: Double = PostgresSessionStore.defaultTimeout.seconds

    /// `--store`, else `SWITCHBOARD_STORE`; nil for the SQLite file in the data folder.
    private var storeURL: String? {
        store ?? ProcessInfo.processInfo.environment["SWITCHBOARD_STORE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    @Flag(help: "Serve GET /metrics without the API key, for a Prometheus that does not send one.")
    var metricsPublic = false

    @OptionGroup var plugins: PluginOptions

    func validate() throws {
        if let isolation, EngineIsolation(rawValue: isolation) == nil {
            throw ValidationError("--isolation must be process, shared-process or in-process")
        }
        guard EngineProcesses(rawValue: engineProcesses) != nil else { throw ValidationError("--engine-processes must be per-session or per-engine") }
        try plugins.validatePolicy()
        guard (0.001...3600).contains(callTimeout) else { throw ValidationError("--call-timeout must be between 0.001 and 3600 seconds") }
        guard (0.1...600).contains(storeTimeout) else { throw ValidationError("--store-timeout must be between 0.1 and 600 seconds") }
        guard (0.001...3600).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be between 0.001 and 3600 seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if let storeURL {
            do {
                _ = try PostgresURL.configuration(storeURL)
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
            command: plugins.engineHostCommand(memoryLimitMiB: engineProcess.engineMemoryLimit, cpuLimitSeconds: engineProcess.engineCPULimit), sandbox: sandboxSettings,
            stateRoot: "\(data)/state", metrics: metrics.host, logger: logger)
        let store = try openStore(logger: logger)
        let sessions = SessionManager(
            registry: registry, store: store, stateRoot: "\(data)/state",
            callTimeout: .milliseconds(Int(callTimeout * 1000)), enginePaths: .confined(to: [data] + enginePaths),
            isolation: IsolationPolicy(
                launcher: launcher, serverDefault: isolation.flatMap(EngineIsolation.init(rawValue:)),
                sharedByDefault: EngineProcesses(rawValue: engineProcesses) == .perEngine),
            metrics: metrics.host, logger: logger)

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
            dependencies: ServerDependencies(sessions: sessions, version: Switchboard.version, metrics: metrics),
            options: .init(
                host: host, port: port, apiKey: apiKey, swaggerUI: swagger,
                timeouts: ConnectionTimeouts(idle: .milliseconds(Int(idleTimeout * 1000))), metricsPublic: metricsPublic),
            logger: logger)
        // Shut down in reverse order: the server stops accepting and finishes the requests in
        // flight, then the sessions stop (destroying their instances) and the store closes, and
        // last the store's connections. The port opens only once the sessions are restored,
        // which takes the store's connections running: so the sessions and the server are a
        // group of their own, started after the restore.
        let postgres = store as? PostgresSessionStore
        let serving = AfterPreparation(ServiceGroup(configuration: .init(services: [sessions, app], logger: logger))) {
            try await postgres?.migrate()
            try await sessions.restore()
        }
        let group = ServiceGroup(configuration: .init(
            services: (postgres.map { [$0.client] } ?? []) + [serving], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("stopped: every session stopped and the session store closed")
    }

    /// `--sandbox` and its company, and a warning when engine processes cannot reach the data
    /// folder's state folders.
    private func sandboxSettings(logger: Logger) throws -> SandboxSettings {
        let settings = try engineProcess.settings(logger: logger)
        if let blocking = settings.unreachableFolder(on: "\(data)/state") {
            logger.warning("engine processes cannot reach their state folders", metadata: [
                "folder": "\(blocking)", "engineUser": "\(engineProcess.engineUser)",
                "fix": "let the engine user enter it (chmod o+x), or keep --data elsewhere",
            ])
        }
        return settings
    }

    private func openStore(logger: Logger) throws -> any SessionStore {
        guard let storeURL else { return try SQLiteSessionStore(path: "\(data)/sessions.sqlite") }
        return try PostgresSessionStore(url: storeURL, timeout: .milliseconds(Int(storeTimeout * 1000)), logger: logger)
    }
}
