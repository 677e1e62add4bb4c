@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import SwitchboardEngineRuntime
import SwitchboardIsolation

/// Runs engine instances in sandboxed child processes (`switchboard-engine-host`): one per
/// instance, so that a session reaches only its own state folder, or, for a shared instance, one
/// per engine version serving every shared instance of it.
public final class ProcessIsolation: IsolatedEngineLauncher {
    private let command: EngineProcessCommand
    private let sandbox: SandboxSettings
    /// Where every session's state folders are: what a shared (per-engine) process may write.
    private let stateRoot: String?
    private let restarts: EngineProcess.Restarts
    private let metrics: HostMetrics
    private let logger: Logger
    private let group: any EventLoopGroup
    /// The processes that serve instances now, each with how many: an entry leaves with its last
    /// instance (the process itself ends then too), so the table holds only what runs.
    private let processes = Mutex<[String: (process: EngineProcess, instances: Int)]>([:])

    /// - Parameter group: where the engine processes' sockets are read and written; by default the
    ///   group Hummingbird serves HTTP on.
    public init(
        command: EngineProcessCommand, sandbox: SandboxSettings, stateRoot: String?, metrics: HostMetrics = .none, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.sandbox = sandbox
        self.stateRoot = stateRoot
        self.command = command
        restarts = EngineProcess.Restarts()
        self.metrics = metrics
        self.logger = logger
        self.group = group
    }

    public func makeInstance(
        of engine: LoadedEngine, configuration: Data, context: InstanceContext, shared: Bool
    ) async throws(EngineError) -> any EngineHandle {
        guard let plugin = engine.file else {
            throw EngineError(.invalidInput, "engine \"\(engine.metadata.name)\" is built into the server and cannot run in a process of its own")
        }
        // Per session, each instance is keyed by its own state folder (a composite's two members
        // on one engine have two); shared, by engine version. Both by grants too: a sandbox is
        // fixed once applied, so other grants need another process.
        let key = "\(engine.metadata.name)#\(engine.generation)#\(context.grants.hashValue)" + (shared ? "" : "@\(context.stateDirectory ?? context.session)")
        let writable = [shared ? stateRoot : context.stateDirectory].compactMap { $0 }
        writable.forEach(sandbox.handOver)
        let process = processes.withLock { processes in
            let process = processes[key]?.process ?? EngineProcess(
                engineName: engine.metadata.name, plugin: plugin, command: command, restarts: restarts, metrics: metrics, logger: logger,
                sandbox: sandbox.sharing(shared ? .perEngine : .perSession), writable: writable, grants: context.grants,
                deadlines: engine.deadlines, group: group)
            processes[key] = (process, (processes[key]?.instances ?? 0) + 1)
            return process
        }
        let id: UInt64
        do {
            id = try await process.createInstance(configuration: configuration, context: context)
        } catch {
            release(key)
            throw error
        }
        return ProcessEngineHandle(engine: engine, process: process, instance: id, context: context) { [weak self] in self?.release(key) }
    }

    /// How many engine processes serve instances now.
    public var processCount: Int { processes.withLock { $0.count } }

    private func release(_ key: String) {
        processes.withLock { processes in
            guard let entry = processes[key] else { return }
            processes[key] = entry.instances > 1 ? (entry.process, entry.instances - 1) : nil
        }
    }
}

/// An engine instance in a child process, behind the same protocol as an in-process one.
final class ProcessEngineHandle: EngineHandle {
    let engineName: String
    let engineVersion: String
    private let process: EngineProcess
    private let instance: UInt64
    private let callTimeout: Duration
    private let queryTimeout: Duration
    private let lastFeatures: LastKnownFeatures
    /// Tells the launcher, once, that this instance no longer needs its process.
    private let release: Mutex<(@Sendable () -> Void)?>

    init(engine: LoadedEngine, process: EngineProcess, instance: UInt64, context: InstanceContext, release: @escaping @Sendable () -> Void) {
        self.release = Mutex(release)
        engineName = engine.metadata.name
        engineVersion = engine.metadata.version
        self.process = process
        self.instance = instance
        callTimeout = context.callTimeout
        queryTimeout = context.queryTimeout
        lastFeatures = LastKnownFeatures(declared: engine.metadata.features)
    }

    func call(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> [UInt8] {
        if let failure = process.failure(of: instance) { throw EngineError(.unavailable, failure) }
        return try await process.call(instance, feature, request: request, timeout: callTimeout)
    }

    func activeFeatures() async -> Set<Feature> {
        guard let bytes = try? await process.query(instance, features: true, timeout: queryTimeout) else {
            return lastFeatures.fallback
        }
        return lastFeatures.remember(Set(String(decoding: bytes, as: UTF8.self).split(separator: ",").compactMap { Feature(rawValue: String($0)) }))
    }

    func status() async -> EngineStatus {
        if let failure = process.failure(of: instance) { return EngineStatus(health: .down, message: failure) }
        do throws(EngineError) {
            let bytes = try await process.query(instance, features: false, timeout: queryTimeout)
            return (try? JSONCoders.decode(EngineStatus.self, from: bytes))
                ?? EngineStatus(health: .degraded, message: "engine \"\(engineName)\" reported a malformed status")
        } catch {
            return EngineStatus(health: .degraded, message: error.message)
        }
    }

    var failure: String? { process.failure(of: instance) }

    var sandbox: SandboxReport? { process.confinement }

    func shutdown() {
        process.destroy(instance)
        release.withLock { release in
            defer { release = nil }
            return release
        }?()
    }
}
