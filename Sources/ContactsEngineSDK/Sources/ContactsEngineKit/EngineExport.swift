import CContactsEngine
import Foundation
import Synchronization

/// What a plugin's entry function returns: the engine's descriptor, as `EngineExport` makes it.
///
/// Name this type rather than the C header's `sb_engine_descriptor`: from SDK 2.0 on,
/// `ContactsEngineKit` no longer re-exports the C module, and an engine that names only Swift
/// types keeps compiling.
public typealias EngineDescriptor = UnsafePointer<sb_engine_descriptor>

/// Publishes a Swift `ContactsEngine` through the C ABI. A plugin's whole export is:
///
/// ```swift
/// import ContactsEngineKit
///
/// @_cdecl("switchboard_engine_abi_v1")
/// public func switchboardEngine() -> EngineDescriptor {
///     EngineExport.descriptor(for: MyEngine.self)
/// }
/// ```
public enum EngineExport {
    /// The descriptor for `engine`, built once and kept for the life of the process (the ABI
    /// requires its strings to outlive every caller, and plugins are never unloaded).
    public static func descriptor<Engine: ContactsEngine>(for engine: Engine.Type) -> EngineDescriptor {
        exported.withLock { table in
            if let existing = table.first(where: { $0.value == ObjectIdentifier(engine) }) {
                return UnsafePointer(bitPattern: existing.key)!
            }
            let descriptor = UnsafeMutablePointer<sb_engine_descriptor>.allocate(capacity: 1)
            let features = Engine.features.sorted()
            let featureArray = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(features.count, 1))
            for (index, feature) in features.enumerated() {
                featureArray[index] = UnsafePointer(strdup(feature.rawValue))
            }
            let needs = Engine.needs.sorted()
            let needArray = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(needs.count, 1))
            for (index, need) in needs.enumerated() {
                needArray[index] = UnsafePointer(strdup(need.rawValue))
            }
            descriptor.initialize(to: sb_engine_descriptor(
                struct_size: UInt32(MemoryLayout<sb_engine_descriptor>.size),
                abi_version_major: UInt32(SB_ABI_VERSION_MAJOR),
                abi_version_minor: UInt32(SB_ABI_VERSION_MINOR),
                name: UnsafePointer(strdup(Engine.name)),
                version: UnsafePointer(strdup(Engine.version)),
                description: UnsafePointer(strdup(Engine.summary)),
                features: UnsafePointer(featureArray),
                feature_count: features.count,
                create: createInstance,
                destroy: destroyInstance,
                call: callInstance,
                instance_features: reportInstanceFeatures,
                status: reportInstanceStatus,
                license: Engine.license.isEmpty ? nil : UnsafePointer(strdup(Engine.license)),
                homepage: Engine.homepage.isEmpty ? nil : UnsafePointer(strdup(Engine.homepage)),
                cancel: cancelCall,
                call_in_pieces: callInstanceInPieces,
                resume: resumeCall,
                needs: UnsafePointer(needArray),
                need_count: needs.count
            ))
            table[UInt(bitPattern: descriptor)] = ObjectIdentifier(engine)
            factories.withLock { $0[UInt(bitPattern: descriptor)] = { try Engine(configuration: $0, host: $1) } }
            return UnsafePointer(descriptor)
        }
    }
}

private typealias EngineFactory = @Sendable (EngineConfiguration, EngineHost) throws -> any ContactsEngine

// Keyed by descriptor address: `create` receives its descriptor, which is how one set of C
// functions serves every engine type exported from one image.
private let exported = Mutex<[UInt: ObjectIdentifier]>([:])
private let factories = Mutex<[UInt: EngineFactory]>([:])

/// What an `sb_engine_instance *` points to: the engine, retained until `destroy`, and the
/// tasks of its calls in flight, by completion context, for `cancel`.
final class ExportedInstance: Sendable {
    let engine: any ContactsEngine
    /// The engine again when it answers some reads at once: asked first, with no task.
    let atOnce: (any SynchronousContactsEngine)?
    let calls = RunningCalls()

    init(engine: any ContactsEngine) {
        self.engine = engine
        atOnce = engine as? any SynchronousContactsEngine
    }
}

/// The task of each call in flight on the asynchronous path, by its completion context. A call
/// may finish before its task is recorded (an engine answers inside `call` when it never
/// suspends), so whichever of `finished` and `started` comes second cleans up; the host never
/// reuses a context while its call is outstanding. A call answered at once
/// (`SynchronousContactsEngine`) has no task and is never recorded: a `cancel` for it finds
/// nothing, as the ABI allows for a call already completed.
final class RunningCalls: Sendable {
    private enum Entry {
        case running(Task<Void, Never>)
        case finishedFirst
    }
    private let entries = Mutex<[UInt: Entry]>([:])

    func started(_ context: UInt, _ task: Task<Void, Never>) {
        entries.withLock { entries in
            if case .finishedFirst? = entries[context] {
                entries[context] = nil
            } else {
                entries[context] = .running(task)
            }
        }
    }

    func finished(_ context: UInt) {
        entries.withLock { entries in
            if case .running? = entries[context] {
                entries[context] = nil
            } else {
                entries[context] = .finishedFirst
            }
        }
    }

    func cancel(_ context: UInt) {
        let entry = entries.withLock { $0[context] }
        if case .running(let task)? = entry { task.cancel() }
    }

    /// A call the host paused (`SB_PIECE_PAUSE`): waiting for its `resume`, or resumed before it
    /// began to wait (the host may drain what it holds and resume as soon as the reply is out).
    private enum Pause {
        case waiting(CheckedContinuation<Void, Never>)
        case resumedEarly
    }
    private let pauses = Mutex<[UInt: Pause]>([:])

    /// Returns at the host's `resume`, or when the call's task is cancelled (the host's `cancel`).
    func pause(_ context: UInt) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumed = pauses.withLock { pauses -> Bool in
                    if case .resumedEarly? = pauses.removeValue(forKey: context) { return true }
                    pauses[context] = .waiting(continuation)
                    return false
                }
                if resumed { continuation.resume() }
            }
        } onCancel: {
            resume(context)
        }
    }

    func resume(_ context: UInt) {
        let waiting = pauses.withLock { pauses -> CheckedContinuation<Void, Never>? in
            if case .waiting(let continuation)? = pauses.removeValue(forKey: context) { return continuation }
            pauses[context] = .resumedEarly
            return nil
        }
        waiting?.resume()
    }

    /// Forgets a resume that came for a call that no longer waits for one.
    func endPauses(_ context: UInt) {
        pauses.withLock { _ = $0.removeValue(forKey: context) }
    }
}

/// A completion callback and its context, carried to the task that finishes the call.
private struct PendingCompletion: @unchecked Sendable {
    let completion: sb_completion
    let context: UnsafeMutableRawPointer?

    func callAsFunction(_ status: sb_status, _ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { completion(context, status, $0.baseAddress, $0.count) }
    }

    func fail(_ error: EngineError) {
        self(error.kind.status, Array(error.message.utf8))
    }
}

private func writeBytes(_ bytes: some Collection<UInt8>, to sink: sb_bytes_sink?, _ context: UnsafeMutableRawPointer?) {
    guard let sink else { return }
    Array(bytes).withUnsafeBufferPointer { sink(context, $0.baseAddress, $0.count) }
}

private let createInstance: @convention(c) (
    UnsafePointer<sb_engine_descriptor>?, UnsafePointer<sb_host_services>?, UnsafePointer<UInt8>?, Int,
    UnsafeMutablePointer<OpaquePointer?>?, sb_bytes_sink?, UnsafeMutableRawPointer?
) -> sb_status = { descriptor, host, config, configLength, out, errorSink, errorContext in
    guard let descriptor, let out,
          let factory = factories.withLock({ $0[UInt(bitPattern: descriptor)] })
    else {
        writeBytes("unknown descriptor".utf8, to: errorSink, errorContext)
        return SB_STATUS_INTERNAL
    }
    let json = config.map { Data(bytes: $0, count: configLength) } ?? Data()
    do {
        let engine = try factory(EngineConfiguration(json: json), EngineHost(services: host))
        out.pointee = OpaquePointer(Unmanaged.passRetained(ExportedInstance(engine: engine)).toOpaque())
        return SB_STATUS_OK
    } catch let error as EngineError {
        writeBytes(error.message.utf8, to: errorSink, errorContext)
        return error.kind.status
    } catch {
        writeBytes("\(error)".utf8, to: errorSink, errorContext)
        return SB_STATUS_INVALID_INPUT
    }
}

private func instance(_ pointer: OpaquePointer) -> ExportedInstance {
    Unmanaged<ExportedInstance>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

private let destroyInstance: @convention(c) (OpaquePointer?) -> Void = { pointer in
    guard let pointer else { return }
    // Tasks of calls in flight hold their own reference, so they still complete after this.
    let box = Unmanaged<ExportedInstance>.fromOpaque(UnsafeRawPointer(pointer)).takeRetainedValue()
    box.engine.shutdown()
}

private let callInstance: @convention(c) (
    OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<UInt8>?, Int, sb_completion?, UnsafeMutableRawPointer?
) -> Void = { pointer, featureID, request, requestLength, completion, context in
    startCall(pointer, featureID, request, requestLength, completion, context, inPieces: false) { engine, feature, body, _ in
        try await engine.perform(feature, request: body)
    }
}

private let callInstanceInPieces: @convention(c) (
    OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<UInt8>?, Int, sb_piece_sink?, sb_completion?, UnsafeMutableRawPointer?
) -> Void = { pointer, featureID, request, requestLength, piece, completion, context in
    guard let piece else { return callInstance(pointer, featureID, request, requestLength, completion, context) }
    let sink = PieceSink(sink: piece, context: context), key = UInt(bitPattern: context)
    startCall(pointer, featureID, request, requestLength, completion, context, inPieces: true) { engine, feature, body, calls in
        try await engine.performInPieces(feature, request: body) { bytes in
            switch sink(bytes) {
            case SB_PIECE_MORE: return !Task.isCancelled
            case SB_PIECE_PAUSE:
                await calls.pause(key)
                return !Task.isCancelled
            default: return false
            }
        }
    }
}

/// The host's piece sink and the call's context, carried to the task that sends the pieces.
private struct PieceSink: @unchecked Sendable {
    let sink: sb_piece_sink
    let context: UnsafeMutableRawPointer?

    func callAsFunction(_ bytes: [UInt8]) -> sb_piece_reply {
        bytes.withUnsafeBufferPointer { sink(context, $0.baseAddress, $0.count) }
    }
}

private typealias CallWork = @Sendable (any ContactsEngine, Feature, [UInt8], RunningCalls) async throws -> [UInt8]

/// Starts one call and completes it exactly once: at once, inside `call`, when the engine
/// answers without waiting (a `SynchronousContactsEngine`); otherwise from a task, which the
/// host's `cancel` cancels. A list asked for in pieces always has a task: it may have to wait
/// for the host's `resume`. Any other feature asked for in pieces is answered whole, as by `call`.
private func startCall(
    _ pointer: OpaquePointer?, _ featureID: UnsafePointer<CChar>?, _ request: UnsafePointer<UInt8>?, _ requestLength: Int,
    _ completion: sb_completion?, _ context: UnsafeMutableRawPointer?, inPieces: Bool, _ work: @escaping CallWork
) {
    guard let completion else { return }
    let complete = PendingCompletion(completion: completion, context: context)
    guard let pointer else { return complete.fail(EngineError(.internal, "no instance")) }
    guard let featureID, let feature = Feature(rawValue: String(cString: featureID)) else {
        return complete.fail(EngineError(.notImplemented, "unknown feature \(featureID.map { String(cString: $0) } ?? "(null)")"))
    }
    let box = instance(pointer), engine = box.engine
    guard engine.activeFeatures.contains(feature) else { return complete.fail(.notImplemented(feature)) }
    let requestBytes = UnsafeBufferPointer(start: request, count: request == nil ? 0 : requestLength)
    // The fast path: no task, nothing recorded, the request read where the host holds it, the
    // completion called before `call` returns. Nil from the engine means it must wait: the call
    // goes on as below, where the request is read again (rarely: `local` asks its store once a second).
    if let synchronous = box.atOnce, !(inPieces && feature == .contactsList) {
        do {
            if let bytes = try synchronous.performAtOnce(feature, request: requestBytes) { return complete(SB_STATUS_OK, bytes) }
        } catch {
            return complete.fail(EngineError(failure: error))
        }
    }
    // The task outlives `call`, and the host's buffer with it: it gets a copy.
    let body = Array(requestBytes)
    // Runs on the caller's thread until the engine first suspends (on I/O, say, or a pause the
    // host asked for), then on the global pool: an engine answering from memory completes
    // without a thread hop, and one that waits never holds the caller's thread while it waits.
    // Cancellation (the host's `cancel`) reaches the engine as Swift task cancellation: an
    // engine awaiting AsyncHTTPClient or `Task.sleep` stops waiting.
    let calls = box.calls, key = UInt(bitPattern: context)
    let task = Task.immediate {
        let outcome: Result<[UInt8], EngineError>
        do {
            outcome = .success(try await work(engine, feature, body, calls))
        } catch {
            outcome = .failure(EngineError(failure: error))
        }
        // Before completing: once completed, the host may issue this context again.
        calls.finished(key)
        calls.endPauses(key)
        switch outcome {
        case .success(let bytes): complete(SB_STATUS_OK, bytes)
        case .failure(let error): complete.fail(error)
        }
    }
    calls.started(key, task)
}

extension EngineError {
    /// What a call's failure answers: the engine's own error as it is, a cancellation as the
    /// host's (`cancel`), anything else as internal.
    fileprivate init(failure error: any Error) {
        switch error {
        case let error as EngineError: self = error
        case is CancellationError: self = EngineError(.timeout, "cancelled by the host")
        default: self = EngineError(.internal, "\(error)")
        }
    }
}

private let resumeCall: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { pointer, context in
    guard let pointer else { return }
    instance(pointer).calls.resume(UInt(bitPattern: context))
}

private let cancelCall: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { pointer, context in
    guard let pointer else { return }
    instance(pointer).calls.cancel(UInt(bitPattern: context))
}

private let reportInstanceFeatures: @convention(c) (OpaquePointer?, sb_bytes_sink?, UnsafeMutableRawPointer?) -> Void = {
    pointer, sink, context in
    guard let pointer else { return }
    for feature in instance(pointer).engine.activeFeatures.sorted() {
        writeBytes(feature.rawValue.utf8, to: sink, context)
    }
}

private let reportInstanceStatus: @convention(c) (OpaquePointer?, sb_bytes_sink?, UnsafeMutableRawPointer?) -> Void = {
    pointer, sink, context in
    guard let pointer else { return }
    let status = instance(pointer).engine.status
    writeBytes((try? JSONEncoder().encode(status)) ?? Data(#"{"health":"ok","message":"","counters":{}}"#.utf8), to: sink, context)
}
