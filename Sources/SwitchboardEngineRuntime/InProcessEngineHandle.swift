import CContactsEngine
@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging
import Synchronization

/// An engine instance living in this process, reached through its C descriptor.
///
/// Plugins shipped with Switchboard are entered directly from the caller's thread: their code
/// keeps the contract (nothing blocks) and a thread hop per call would be pure cost. Every other
/// in-process plugin is entered only from its `PluginThreads`, so a plugin that blocks holds
/// its own threads, never the event loops or the concurrency pool, and its callers still get
/// their answer (504) at the deadline.
final class InProcessEngineHandle: EngineHandle {
    let engineName: String
    let engineVersion: String
    private let descriptor: DescriptorPointer
    private let instance: InstancePointer
    private let threads: PluginThreads?
    private let deadlines: CallDeadlines
    private let callTimeout: Duration
    private let queryTimeout: Duration
    private let issuer: CompletionTable.Issuer
    private let issuerNumber: UInt64
    /// What a thread inside this instance is marked with, for an exit from inside it.
    private let entryLabel: PluginEntry.Label
    private let serials = SerialNumbers()
    private let lastFeatures: LastKnownFeatures

    /// The header promises a plugin that nothing enters it after `destroy`, but a status query
    /// or a late call may race a swap's destroy. So each entry counts itself in, unless the
    /// instance is shut down; `destroy` runs once the last entry has left.
    private struct Gate {
        var inside = 0
        var shutDown = false
        var destroying = false
    }
    private let gate = Mutex(Gate())

    private init(
        engine: LoadedEngine, descriptor: DescriptorPointer, instance: InstancePointer, context: InstanceContext, issuer: CompletionTable.Issuer
    ) {
        engineName = engine.metadata.name
        entryLabel = PluginEntry.Label(engine: engine.metadata.name, session: context.session)
        engineVersion = engine.metadata.version
        self.descriptor = descriptor
        threads = engine.threads
        deadlines = engine.deadlines
        self.instance = instance
        callTimeout = context.callTimeout
        queryTimeout = context.queryTimeout
        lastFeatures = LastKnownFeatures(declared: engine.metadata.features)
        self.issuer = issuer
        issuerNumber = CompletionTable.shared.register(issuer)
    }

    /// Creates an instance. On a plugin's own threads, a `create` that outlasts the call timeout
    /// fails the session; should it finish later, the instance it made is destroyed at once.
    static func make(engine: LoadedEngine, configuration: Data, context: InstanceContext) async throws(EngineError) -> InProcessEngineHandle {
        var logger = context.logger
        logger[metadataKey: "engine"] = "\(engine.metadata.name)"
        logger[metadataKey: "session"] = "\(context.session)"
        let services = HostServices(logger: logger, stateDirectory: context.stateDirectory)
        let json = configuration.isEmpty ? Data("{}".utf8) : configuration
        let descriptor: DescriptorPointer
        do throws(PluginRefusal) {
            descriptor = try engine.library.descriptor()
        } catch {
            throw EngineError(.unavailable, "engine \"\(engine.metadata.name)\" cannot be loaded in-process: \(error.reason)")
        }
        let label = PluginEntry.Label(engine: engine.metadata.name, session: context.session)
        let create: @Sendable () -> Result<InstancePointer, EngineError> = {
            let message = ByteCollector()
            var created: OpaquePointer?
            let status = PluginEntry.inside(label) {
                json.withUnsafeBytes { bytes in
                    descriptor.pointer.pointee.create(
                        descriptor.pointer, services.pointer, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                        &created, collectBytes, Unmanaged.passUnretained(message).toOpaque())
                }
            }
            guard status == SB_STATUS_OK, let created else {
                let kind = EngineError.Kind(status: status) ?? .internal
                let text = message.text.isEmpty ? "engine \"\(engine.metadata.name)\" refused its configuration" : message.text
                return .failure(EngineError(kind == .notImplemented ? .invalidInput : kind, text))
            }
            return .success(InstancePointer(pointer: created))
        }
        let instance: InstancePointer
        if let threads = engine.threads {
            let outcome = try await threads.run(engineName: engine.metadata.name, operation: "create", timeout: context.callTimeout, create) { late in
                if case .success(let orphan) = late { descriptor.pointer.pointee.destroy(orphan.pointer) }
            }
            instance = try outcome.get()
        } else {
            instance = try create().get()
        }
        return InProcessEngineHandle(engine: engine, descriptor: descriptor, instance: instance, context: context, issuer: CompletionTable.Issuer(engineName: engine.metadata.name, logger: logger))
    }

    func call(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> [UInt8] {
        let context = CompletionTable.context(issuer: issuerNumber, serial: UInt64(serials.next()))
        guard threads == nil else { return try await callOnPluginThreads(feature, request, context: context) }
        // Entered from the caller's thread: an engine answering from memory has completed by the
        // time `call` returns, and its call never touched a shared table, heap or handler.
        issuer.callsStarting.add(1, ordering: .sequentiallyConsistent)
        var entered = true
        let answered = SynchronousCompletion.awaiting(context) {
            entered = enterWholeCall(feature, request, context: context)
        }
        if let answered {
            issuer.callsStarting.subtract(1, ordering: .sequentiallyConsistent)
            return try answered.get()
        }
        guard entered else {
            issuer.callsStarting.subtract(1, ordering: .sequentiallyConsistent)
            throw destroyed
        }
        return try await awaitRunningCall(feature, context: context)
    }

    /// A call still running when `call` returned: from now on it waits in the completion table,
    /// with its deadline, and a caller that goes away tells the plugin (`cancel`).
    private func awaitRunningCall(_ feature: Feature, context: UInt64) async throws(EngineError) -> [UInt8] {
        try await wait(for: feature, context: context) { [self] call in
            // Its completion may have come from another thread meanwhile.
            if let early = CompletionTable.shared.adopt(call, context: context) { call.settle(early) }
            issuer.callsStarting.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    /// A third-party plugin in this process is entered only from its own threads: the call is
    /// completable and under its deadline before it is queued for one.
    private func callOnPluginThreads(_ feature: Feature, _ request: [UInt8], context: UInt64) async throws(EngineError) -> [UInt8] {
        guard let threads else { preconditionFailure("only for a plugin with threads of its own") }
        return try await wait(for: feature, context: context) { [self] call in
            CompletionTable.shared.issue(call, context: context)
            let accepted = threads.submit { [self] in
                // A call whose deadline passed while it waited for a thread never enters the plugin.
                guard !call.isSettled else { return CompletionTable.shared.withdraw(context) }
                if !enterWholeCall(feature, request, context: context) {
                    CompletionTable.shared.complete(context, .failure(destroyed))
                }
            }
            if !accepted {
                CompletionTable.shared.withdraw(context)
                call.settle(.failure(threads.saturated(engineName)))
            }
        }
    }

    /// Waits for a call the plugin completes later. `start` runs once the call can be settled
    /// and its deadline runs; a caller that goes away meanwhile tells the plugin (`cancel`).
    private func wait(
        for feature: Feature, context: UInt64, _ start: @escaping @Sendable (PendingCall) -> Void
    ) async throws(EngineError) -> [UInt8] {
        let call = PendingCall(engineName: engineName, operation: feature.rawValue, timeout: callTimeout, deadlines: deadlines)
        if let cancel = descriptor.cancel {
            call.whenAbandoned { [self] in signal(cancel, context: context) }
        }
        let result = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                call.install(continuation)
                call.arm()
                start(call)
            }
        } onCancel: {
            call.abandon()
        }
        return try result.get()
    }

    private var destroyed: EngineError {
        EngineError(.unavailable, "engine \"\(engineName)\" instance was destroyed")
    }

    /// ABI 1.2: a list's result in pieces, when the plugin offers `call_in_pieces`; else whole.
    func callInPieces(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> ResultPieces {
        guard let (callInPieces, resume) = descriptor.callInPieces else {
            return ResultPieces(whole: try await call(feature, request: request))
        }
        let context = CompletionTable.context(issuer: issuerNumber, serial: UInt64(serials.next()))
        let stream = PieceReceiver(
            engineName: engineName, feature: feature, timeout: callTimeout, deadlines: deadlines,
            resume: { [self] in signal(resume, context: context) },
            cancel: { [self] in if let cancel = descriptor.cancel { signal(cancel, context: context) } })
        CompletionTable.shared.issue(stream, context: context)
        let enterPlugin: @Sendable () -> Void = { [self] in
            // A call given up on while it waited for a plugin thread never enters the plugin.
            guard !stream.hasGivenUp else { return CompletionTable.shared.withdraw(context) }
            let entered = enterCall(feature, request, context: context) { instance, id, body, context in
                callInPieces(instance, id, body.baseAddress, body.count, receivePiece, completeCall, context)
            }
            if !entered { CompletionTable.shared.complete(context, .failure(destroyed)) }
        }
        if let threads {
            guard threads.submit(enterPlugin) else {
                CompletionTable.shared.withdraw(context)
                throw threads.saturated(engineName)
            }
        } else {
            enterPlugin()
        }
        return ResultPieces(first: try await stream.next(), source: stream)
    }

    /// ABI 1.1: tells the plugin the host no longer waits for the call, from the plugin's own
    /// threads when it has them (a third-party `cancel` may block, whatever the header says).
    /// Those threads take work in order, so a call that timed out in the queue has been withdrawn
    /// by then, and the plugin never hears of a context it was not given.
    /// ABI 1.2's `resume` goes the same way.
    private func signal(_ function: DescriptorPointer.CallSignal, context: UInt64) {
        let enterSignal: @Sendable () -> Void = { [self] in
            guard CompletionTable.shared.isOutstanding(context) else { return }
            _ = enter { function(instance.pointer, UnsafeMutableRawPointer(bitPattern: UInt(context))) }
        }
        guard let threads else { return enterSignal() }
        _ = threads.submit(enterSignal)
    }

    private func enterWholeCall(_ feature: Feature, _ request: [UInt8], context: UInt64) -> Bool {
        enterCall(feature, request, context: context) { instance, id, body, context in
            descriptor.pointer.pointee.call(instance, id, body.baseAddress, body.count, completeCall, context)
        }
    }

    /// Hands a call to the plugin through `invoke` (`call` or `call_in_pieces`) with the C forms
    /// of its arguments; false when the instance is shut down and the plugin was not entered.
    private func enterCall(
        _ feature: Feature, _ request: [UInt8], context: UInt64,
        _ invoke: (OpaquePointer, UnsafePointer<CChar>, UnsafeBufferPointer<UInt8>, UnsafeMutableRawPointer?) -> Void
    ) -> Bool {
        enter {
            feature.rawValue.withCString { id in
                request.withUnsafeBufferPointer { body in invoke(instance.pointer, id, body, UnsafeMutableRawPointer(bitPattern: UInt(context))) }
            }
        }
    }

    /// Runs `body`, which calls into the plugin, unless the instance is shut down; says which.
    /// The last entry to leave a shut-down instance destroys it.
    private func enter(_ body: () -> Void) -> Bool {
        let admitted = gate.withLock { gate -> Bool in
            guard !gate.shutDown else { return false }
            gate.inside += 1
            return true
        }
        guard admitted else { return false }
        PluginEntry.inside(entryLabel, body)
        let destroyNow = gate.withLock { gate -> Bool in
            gate.inside -= 1
            guard gate.shutDown, gate.inside == 0, !gate.destroying else { return false }
            gate.destroying = true
            return true
        }
        if destroyNow { destroyInstance() }
        return true
    }

    func activeFeatures() async -> Set<Feature> {
        let ask: @Sendable () -> Set<Feature>? = { [self] in
            let ids = ByteCollector()
            let alive = enter {
                descriptor.pointer.pointee.instance_features(instance.pointer, collectBytes, Unmanaged.passUnretained(ids).toOpaque())
            }
            guard alive else { return nil }
            return Set(ids.chunks.compactMap { Feature(rawValue: String(decoding: $0, as: UTF8.self)) })
        }
        let answer: Set<Feature>??
        if let threads {
            answer = try? await threads.run(engineName: engineName, operation: "instance_features", timeout: queryTimeout, ask)
        } else {
            answer = ask()
        }
        switch answer {
        case .some(.some(let features)): return lastFeatures.remember(features)
        case .some(.none): return []
        case .none: return lastFeatures.fallback
        }
    }

    func status() async -> EngineStatus {
        let ask: @Sendable () -> [UInt8]? = { [self] in
            let json = ByteCollector()
            let alive = enter {
                descriptor.pointer.pointee.status(instance.pointer, collectBytes, Unmanaged.passUnretained(json).toOpaque())
            }
            return alive ? json.bytes : nil
        }
        let bytes: [UInt8]?
        if let threads {
            do throws(EngineError) {
                bytes = try await threads.run(engineName: engineName, operation: "status", timeout: queryTimeout, ask)
            } catch {
                return EngineStatus(health: .degraded, message: error.message, counters: hostCounters)
            }
        } else {
            bytes = ask()
        }
        guard let bytes else { return EngineStatus(health: .down, message: "engine \"\(engineName)\" instance was destroyed") }
        guard var status = try? JSONDecoder().decode(EngineStatus.self, from: Data(bytes)) else {
            return EngineStatus(health: .degraded, message: "engine \"\(engineName)\" reported a malformed status", counters: hostCounters)
        }
        status.counters.merge(hostCounters) { engine, _ in engine }
        return status
    }

    /// What the host counted of this instance's contract breaks, shown beside the engine's counters.
    private var hostCounters: [String: Int] {
        CompletionTable.shared.reportStrays()
        let stray = issuer.strayCompletions.load(ordering: .relaxed)
        return stray == 0 ? [:] : ["host.strayCompletions": stray]
    }

    /// The ABI's `destroy`, once; the instance's completion contexts are retired with it.
    private func destroyInstance() {
        descriptor.pointer.pointee.destroy(instance.pointer)
        CompletionTable.shared.retire(issuerNumber)
    }

    func shutdown() {
        let destroyNow = gate.withLock { gate -> Bool in
            guard !gate.shutDown else { return false }
            gate.shutDown = true
            guard gate.inside == 0 else { return false }
            gate.destroying = true
            return true
        }
        guard destroyNow else { return }
        let destroy: @Sendable () -> Void = { [self] in destroyInstance() }
        guard let threads else { return destroy() }
        // A destroy is never dropped: with every plugin thread stuck, it gets a thread of its own.
        if !threads.submit(destroy) { Thread(block: destroy).start() }
    }
}

struct InstancePointer: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The `sb_host_services` of one instance.
final class HostServices: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<sb_host_services>
    let logger: Logger

    /// Never freed. The header promises the services only until `destroy` returns, but a plugin
    /// whose background work outlives its instance may still log through them (a folder scan
    /// started at create, say); a few hundred bytes per instance make that harmless.
    init(logger: Logger, stateDirectory: String?) {
        self.logger = logger
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: sb_host_services(
            struct_size: UInt32(MemoryLayout<sb_host_services>.size),
            host_context: nil, log: logFromPlugin, state_directory: stateDirectory.map { strdup($0) }))
        pointer.pointee.host_context = Unmanaged.passRetained(self).toOpaque()
    }
}

private let logFromPlugin: @convention(c) (UnsafeMutableRawPointer?, sb_log_level, UnsafePointer<CChar>?) -> Void = {
    context, level, message in
    guard let context, let message else { return }
    let services = Unmanaged<HostServices>.fromOpaque(context).takeUnretainedValue()
    services.logger.log(level: Logger.Level(pluginLevel: Int64(level)), "\(String(cString: message))")
}

/// Receives bytes a plugin writes to an `sb_bytes_sink` during one synchronous call.
final class ByteCollector {
    var chunks: [[UInt8]] = []
    var bytes: [UInt8] { chunks.flatMap { $0 } }
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

let collectBytes: sb_bytes_sink = { context, bytes, length in
    guard let context else { return }
    let collector = Unmanaged<ByteCollector>.fromOpaque(context).takeUnretainedValue()
    collector.chunks.append(bytes.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? [])
}

/// The piece sink the host hands to every call in pieces; its context is the call's number, as
/// the completion's is.
private let receivePiece: sb_piece_sink = { context, bytes, length in
    CompletionTable.shared.piece(UInt64(UInt(bitPattern: context)), UnsafeBufferPointer(start: bytes, count: bytes == nil ? 0 : length))
}

/// The completion the host hands to every call: its context is the call's number, which the
/// caller waiting on this thread takes (`SynchronousCompletion`), or else the `CompletionTable`;
/// either settles the call once and counts whatever follows as a stray.
private let completeCall: sb_completion = { context, status, bytes, length in
    let number = UInt64(UInt(bitPattern: context))
    let outcome = { EngineError.outcome(status: Int64(status), payload: bytes.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []) }
    switch SynchronousCompletion.offer(number, outcome) {
    case .taken: return
    case .repeated: CompletionTable.shared.stray(number, "completed a call that was already completed")
    case .notHere: CompletionTable.shared.complete(number, outcome())
    }
}
