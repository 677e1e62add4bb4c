@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging
import Synchronization
import SwitchboardEngineRuntime

#if canImport(Glibc)
import Glibc
#endif

/// The child side of process isolation: `switchboard-engine-host` loads one plugin file through
/// the C ABI, exactly as the server would in-process, and serves its instances over the socket.
/// Whatever the plugin does to this process (a segfault, an abort, a leak up to the memory limit)
/// ends this process only; the server sees the socket close and learns the signal from waitpid.
public enum WireServer {
    /// Limits this process before any plugin code runs: address space (MiB) and CPU (seconds), 0 for none.
    public static func applyLimits(memoryMiB: Int, cpuSeconds: Int) {
        if memoryMiB > 0 {
            var limit = rlimit(rlim_cur: rlim_t(memoryMiB) << 20, rlim_max: rlim_t(memoryMiB) << 20)
            setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
        }
        if cpuSeconds > 0 {
            var limit = rlimit(rlim_cur: rlim_t(cpuSeconds), rlim_max: rlim_t(cpuSeconds) + 5)
            setrlimit(__rlimit_resource_t(RLIMIT_CPU.rawValue), &limit)
        }
    }

    /// Serves instances of the plugin at `plugin` on `socket` until the server closes it.
    /// Returns the reason when the handshake or the plugin fails before serving.
    /// - Parameter stateDirectory: the path an instance's state folder has in this process.
    public static func serve(
        socket: Int32, plugin: String, policy: PluginPolicy, confinement: ConfinementReport,
        stateDirectory: @escaping @Sendable (String) -> String = { $0 }
    ) async -> String? {
        let writer = FrameWriter(socket: socket)
        writer.send(.hello(magic: WireMessage.magic, versions: WireMessage.versions))
        writer.send(.confined(report: Array((try? JSONEncoder().encode(confinement)) ?? Data())))
        let reader = FrameReader(socket: socket)
        guard case .welcome(let version)? = reader.next(), WireMessage.versions.contains(version) else {
            return "the server did not accept this engine host's protocol versions \(WireMessage.versions)"
        }
        let quiet = Logger(label: "switchboard.engine-host") { _ in SwiftLogNoOpLogHandler() }
        let registry = EngineRegistry(pluginFiles: [plugin], policy: policy, logger: quiet)
        registry.scan()
        guard let engine = registry.engines.first else {
            return registry.listing.first?.reason ?? "no engine in \(plugin)"
        }
        let host = ChildInstances(engine: engine, writer: writer, stateDirectory: stateDirectory)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                while let message = reader.next() { host.handle(message) }
                done.resume()
            }
            thread.name = "switchboard-engine-host-reader"
            thread.start()
        }
        return nil
    }
}

/// The instances one engine host serves, by the numbers the server gave them.
private final class ChildInstances: Sendable {
    let engine: LoadedEngine
    let writer: FrameWriter
    private let instances = Mutex<[UInt64: any EngineHandle]>([:])
    /// Calls in flight, by the server's number, so that `cancel` can reach them (as task
    /// cancellation, which the in-process handle passes to the plugin's `cancel`). A call's task
    /// may finish before it is recorded (it starts at once, on the reader's thread): whichever of
    /// the two comes second removes the entry.
    private enum Call {
        case running(Task<Void, Never>)
        case finishedFirst
    }
    private let calls = Mutex<[UInt64: Call]>([:])
    /// The server enforces every deadline; here a call only needs one so it is not kept forever.
    private static let callTimeout = Duration.seconds(3600)

    let stateDirectory: @Sendable (String) -> String

    init(engine: LoadedEngine, writer: FrameWriter, stateDirectory: @escaping @Sendable (String) -> String) {
        self.engine = engine
        self.writer = writer
        self.stateDirectory = stateDirectory
    }

    func handle(_ message: WireMessage) {
        switch message {
        case .create(let id, let session, let stateDirectory, let configuration):
            let logger = Logger(label: "switchboard.engine") { _ in ForwardingLogHandler(instance: id, writer: self.writer) }
            let context = InstanceContext(
                session: String(decoding: session, as: UTF8.self),
                stateDirectory: stateDirectory.isEmpty ? nil : self.stateDirectory(String(decoding: stateDirectory, as: UTF8.self)),
                callTimeout: Self.callTimeout, queryTimeout: Self.callTimeout, logger: logger)
            Task {
                do throws(EngineError) {
                    let handle = try await engine.makeInstance(configuration: Data(configuration), context: context)
                    instances.withLock { $0[id] = handle }
                    writer.send(.created(instance: id, status: 0, message: []))
                } catch {
                    writer.send(.created(instance: id, status: UInt64(error.kind.status), message: Array(error.message.utf8)))
                }
            }
        case .destroy(let id):
            instances.withLock { $0.removeValue(forKey: id) }?.shutdown()
        case .call(let id, let call, let featureID, let request):
            guard let handle = instances.withLock({ $0[id] }), let feature = Feature(rawValue: String(decoding: featureID, as: UTF8.self)) else {
                return writer.send(.completion(call: call, status: UInt64(EngineError.Kind.unavailable.status), bytes: Array("no such instance or feature".utf8)))
            }
            // Runs on this thread until it first waits (for the plugin's thread): no hop to reach the plugin.
            let task = Task.immediate {
                let completion: WireMessage
                do throws(EngineError) {
                    completion = .completion(call: call, status: 0, bytes: try await handle.call(feature, request: request))
                } catch {
                    completion = .completion(call: call, status: UInt64(error.kind.status), bytes: Array(error.message.utf8))
                }
                self.calls.withLock { calls in
                    if case .running? = calls[call] { calls[call] = nil } else { calls[call] = .finishedFirst }
                }
                writer.send(completion)
            }
            calls.withLock { calls in
                if case .finishedFirst? = calls[call] { calls[call] = nil } else { calls[call] = .running(task) }
            }
        case .cancel(let call):
            if case .running(let task)? = calls.withLock({ $0[call] }) { task.cancel() }
        case .features(let id, let query):
            let handle = instances.withLock { $0[id] }
            Task {
                let features = await handle?.activeFeatures() ?? []
                writer.send(.answer(query: query, bytes: Array(features.map(\.rawValue).sorted().joined(separator: ",").utf8)))
            }
        case .status(let id, let query):
            let handle = instances.withLock { $0[id] }
            Task {
                let status = await handle?.status() ?? EngineStatus(health: .down, message: "no such instance")
                writer.send(.answer(query: query, bytes: (try? JSONCoders.encode(status)) ?? []))
            }
        case .hello, .created, .completion, .answer, .log, .confined, .welcome:
            return
        }
    }
}

/// An instance's log lines, sent to the server, which logs them with the engine and session.
private struct ForwardingLogHandler: LogHandler {
    let instance: UInt64
    let writer: FrameWriter
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        writer.send(.log(instance: instance, level: UInt64(event.level.pluginLevel), message: Array(event.message.description.utf8)))
    }
}

// The engine host's side of the wire stays on blocking descriptors, with a thread each way: it
// serves one server over one socket, and links no NIO (the server's side is a SwiftNIO channel).

/// Reads frames from a blocking socket, on one reader thread of its own.
private final class FrameReader: @unchecked Sendable {
    private let socket: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    /// Room for one read, made once: a fresh, zeroed 64 KiB array for every read was paid on
    /// every call.
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    init(socket: Int32) {
        self.socket = socket
    }

    /// The next message; nil when the peer closed the socket or sent something malformed.
    func next() -> WireMessage? {
        while true {
            let available = buffer.count - start
            if available >= 4 {
                var length = 0
                for offset in (0..<4).reversed() { length = length << 8 | Int(buffer[start + offset]) }
                guard length <= WireMessage.largestFrame else { return nil }
                if available >= 4 + length {
                    let body = (start + 4)..<(start + 4 + length)
                    start += 4 + length
                    return buffer.withUnsafeBytes { WireMessage.decode(UnsafeRawBufferPointer(rebasing: $0[body])) }
                }
            }
            if start > 0, start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            } else if start > 1 << 20 {
                buffer.removeFirst(start)
                start = 0
            }
            let count = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }
}

/// Writes frames to the socket in order, from the thread that has one to send: a completion
/// leaves from the thread that completed it, with no hand-off to a writer thread (one wake-up
/// less per call). A server that stops reading blocks the sender, which here holds back only
/// this engine's own threads; the server reads its engine processes on its event loops, always.
private final class FrameWriter: Sendable {
    private let socket: Int32
    /// Held for a whole frame, so that frames from different threads never interleave; true once
    /// a write failed (the server is gone), after which nothing more is written.
    private let failed = Mutex(false)

    init(socket: Int32) {
        self.socket = socket
    }

    func send(_ message: WireMessage) {
        let frame = message.encoded()
        failed.withLock { failed in
            guard !failed else { return }
            var offset = 0
            while offset < frame.count {
                let written = frame[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return failed = true }
                offset += written
            }
        }
    }
}
