import ContactsEngineKit
import Foundation
import Logging
import Synchronization
import SwitchboardCore

/// Runs engine instances in child processes: one `switchboard engine-host` per engine version,
/// serving every process-isolated session of that engine.
public final class ProcessIsolation: IsolatedEngineLauncher {
    private let command: EngineHostCommand
    private let restarts: EngineHostProcess.Restarts
    private let metrics: HostMetrics
    private let logger: Logger
    private let processes = Mutex<[String: EngineHostProcess]>([:])

    public init(command: EngineHostCommand, metrics: HostMetrics = .none, logger: Logger) {
        self.command = command
        restarts = EngineHostProcess.Restarts()
        self.metrics = metrics
        self.logger = logger
    }

    public func makeInstance(of engine: LoadedEngine, configuration: Data, context: InstanceContext) async throws(EngineError) -> any EngineHandle {
        guard let plugin = engine.file else {
            throw EngineError(.invalidInput, "engine \"\(engine.metadata.name)\" is built into the server and cannot run in a process of its own")
        }
        let key = "\(engine.metadata.name)#\(engine.generation)"
        let process = processes.withLock { processes in
            if let existing = processes[key] { return existing }
            let made = EngineHostProcess(
                engineName: engine.metadata.name, plugin: plugin, command: command, restarts: restarts, metrics: metrics, logger: logger)
            processes[key] = made
            return made
        }
        let id = try await process.createInstance(configuration: configuration, context: context)
        return ProcessEngineHandle(engine: engine, process: process, instance: id, context: context)
    }
}

/// An engine instance in a child process, behind the same protocol as an in-process one.
final class ProcessEngineHandle: EngineHandle {
    let engineName: String
    let engineVersion: String
    private let process: EngineHostProcess
    private let instance: UInt64
    private let callTimeout: Duration
    private let queryTimeout: Duration
    private let declaredFeatures: Set<Feature>
    private let lastFeatures = Mutex<Set<Feature>?>(nil)

    init(engine: LoadedEngine, process: EngineHostProcess, instance: UInt64, context: InstanceContext) {
        engineName = engine.metadata.name
        engineVersion = engine.metadata.version
        self.process = process
        self.instance = instance
        callTimeout = context.callTimeout
        queryTimeout = context.queryTimeout
        declaredFeatures = Set(engine.metadata.features)
    }

    func perform(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> [UInt8] {
        if let failure = process.failure(of: instance) { throw EngineError(.unavailable, failure) }
        return try await process.call(instance, feature, request: request, timeout: callTimeout)
    }

    func activeFeatures() async -> Set<Feature> {
        guard let bytes = try? await process.query(instance, features: true, timeout: queryTimeout) else {
            return lastFeatures.withLock { $0 } ?? declaredFeatures
        }
        let features = Set(String(decoding: bytes, as: UTF8.self).split(separator: ",").compactMap { Feature(rawValue: String($0)) })
        lastFeatures.withLock { $0 = features }
        return features
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

    func shutdown() { process.destroy(instance) }
}
