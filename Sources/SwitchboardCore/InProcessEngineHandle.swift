import CContactsEngine
import ContactsEngineKit
import Foundation
import Logging
import Synchronization

/// An engine instance living in this process, reached through its C descriptor.
final class InProcessEngineHandle: EngineHandle {
    let engineName: String
    let engineVersion: String
    private let descriptor: DescriptorPointer
    private let instance: InstancePointer
    private let callTimeout: Duration
    /// The header promises a plugin that nothing enters it after `destroy`, but a status query
    /// or a late call may race a swap's destroy. So each entry first counts itself here, then
    /// checks `isDestroyed`; `shutdown` sets `isDestroyed`, then waits for the count to reach
    /// zero. With sequentially consistent order one of the two always sees the other, and the
    /// hot path takes no lock.
    private let isDestroyed = Atomic<Bool>(false)
    private let entering = Atomic<Int>(0)

    init(engine: LoadedEngine, configuration: Data, context: InstanceContext) throws(EngineError) {
        engineName = engine.metadata.name
        engineVersion = engine.metadata.version
        descriptor = engine.descriptor
        callTimeout = context.callTimeout
        var logger = context.logger
        logger[metadataKey: "engine"] = "\(engine.metadata.name)"
        logger[metadataKey: "session"] = "\(context.session)"
        let services = HostServices(logger: logger, stateDirectory: context.stateDirectory)

        let message = ByteCollector()
        var created: OpaquePointer?
        let json = configuration.isEmpty ? Data("{}".utf8) : configuration
        let status = json.withUnsafeBytes { bytes in
            engine.descriptor.pointer.pointee.create(
                engine.descriptor.pointer, services.pointer, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                &created, collectBytes, Unmanaged.passUnretained(message).toOpaque())
        }
        guard status == SB_STATUS_OK, let created else {
            let kind = EngineError.Kind(status: status) ?? .internal
            let text = message.text.isEmpty ? "engine \"\(engine.metadata.name)\" refused its configuration" : message.text
            throw EngineError(kind == .notImplemented ? .invalidInput : kind, text)
        }
        instance = InstancePointer(pointer: created)
    }

    func perform(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> [UInt8] {
        let call = PendingCall(engineName: engineName, feature: feature, timeout: callTimeout)
        let result = await withUnsafeContinuation { continuation in
            call.install(continuation)
            let entered = enter {
                // One reference travels with the completion context; the completion releases it.
                let context = Unmanaged.passRetained(call).toOpaque()
                feature.rawValue.withCString { id in
                    request.withUnsafeBufferPointer { body in
                        descriptor.pointer.pointee.call(instance.pointer, id, body.baseAddress, body.count, completeCall, context)
                    }
                }
            }
            guard entered else {
                return call.settle(.failure(EngineError(.unavailable, "engine \"\(engineName)\" instance was destroyed")))
            }
            // An engine answering from memory has completed by now: its call never needs the
            // watchdog. One completing meanwhile from another thread just leaves a settled call
            // in the heap until its deadline, where expiring it does nothing.
            if !call.isSettled { CallDeadlines.shared.add(call) }
        }
        return try result.get()
    }

    /// Runs `body`, which calls into the plugin, unless the instance is destroyed; says which.
    private func enter(_ body: () -> Void) -> Bool {
        entering.add(1, ordering: .sequentiallyConsistent)
        defer { entering.subtract(1, ordering: .sequentiallyConsistent) }
        guard !isDestroyed.load(ordering: .sequentiallyConsistent) else { return false }
        body()
        return true
    }

    func activeFeatures() -> Set<Feature> {
        let ids = ByteCollector()
        let alive = enter {
            descriptor.pointer.pointee.instance_features(instance.pointer, collectBytes, Unmanaged.passUnretained(ids).toOpaque())
        }
        guard alive else { return [] }
        return Set(ids.chunks.compactMap { Feature(rawValue: String(decoding: $0, as: UTF8.self)) })
    }

    func status() -> EngineStatus {
        let json = ByteCollector()
        let alive = enter {
            descriptor.pointer.pointee.status(instance.pointer, collectBytes, Unmanaged.passUnretained(json).toOpaque())
        }
        guard alive else { return EngineStatus(health: .down, message: "engine \"\(engineName)\" instance was destroyed") }
        if let status = try? JSONDecoder().decode(EngineStatus.self, from: Data(json.bytes)) { return status }
        return EngineStatus(health: .degraded, message: "engine \"\(engineName)\" reported a malformed status")
    }

    func shutdown() {
        guard !isDestroyed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        // Entries already inside finish quickly: `call` only starts work, and status must not block.
        while entering.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        descriptor.pointer.pointee.destroy(instance.pointer)
    }
}

private struct InstancePointer: @unchecked Sendable {
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
    let swiftLevel: Logger.Level = switch level {
    case SB_LOG_DEBUG: .debug
    case SB_LOG_INFO: .info
    case SB_LOG_WARNING: .warning
    default: .error
    }
    services.logger.log(level: swiftLevel, "\(String(cString: message))")
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

/// The completion the host hands to every call: settles the call unless it already timed out.
private let completeCall: sb_completion = { context, status, bytes, length in
    guard let context else { return }
    let call = Unmanaged<PendingCall>.fromOpaque(context).takeRetainedValue()
    let payload = bytes.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
    if status == SB_STATUS_OK {
        call.settle(.success(payload))
    } else {
        let message = String(decoding: payload, as: UTF8.self)
        if let kind = EngineError.Kind(status: status) {
            call.settle(.failure(EngineError(kind, message)))
        } else {
            call.settle(.failure(EngineError(.internal, "unknown status \(status.rawValue): \(message)")))
        }
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
