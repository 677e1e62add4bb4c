import ContactsEngineKit
import Foundation
import Synchronization

/// WAHA's session statuses (SCAN_QR_CODE never applies to a contacts engine).
public enum SessionStatus: String, Codable, Sendable, CaseIterable {
    case stopped = "STOPPED"
    case starting = "STARTING"
    case working = "WORKING"
    case failed = "FAILED"
}

/// One engine instance serving a session, with the calls it has in flight. When a swap
/// replaces it, it drains: it is destroyed as soon as its last call returns.
final class ActiveInstance: Sendable {
    let handle: any EngineHandle
    let engine: LoadedEngine
    let isolation: EngineIsolation
    /// Results of this instance that broke the contract (answered 502), shown in its status.
    let contractBreaks = Atomic<Int>(0)
    private let usage = Mutex<(inFlight: Int, draining: Bool)>((0, false))

    init(handle: any EngineHandle, engine: LoadedEngine, isolation: EngineIsolation) {
        self.handle = handle
        self.engine = engine
        self.isolation = isolation
    }

    func enter() {
        usage.withLock { $0.inFlight += 1 }
    }

    func leave() {
        let drained = usage.withLock { usage -> Bool in
            usage.inFlight -= 1
            return usage.draining && usage.inFlight == 0
        }
        if drained { handle.shutdown() }
    }

    /// No new call will enter; destroy once the calls in flight have left.
    func drain() {
        let drained = usage.withLock { usage -> Bool in
            usage.draining = true
            return usage.inFlight == 0
        }
        if drained { handle.shutdown() }
    }
}

/// A session at run time: its record, status and current engine instance.
public final class Session: Sendable {
    public let name: String

    struct State {
        var record: SessionRecord
        var status: SessionStatus
        var failure: String?
        var active: ActiveInstance?
    }

    let state: Mutex<State>
    let metrics: HostMetrics

    init(record: SessionRecord, metrics: HostMetrics) {
        name = record.name
        state = Mutex(State(record: record, status: .stopped))
        self.metrics = metrics
    }

    public var record: SessionRecord { state.withLock { $0.record } }
    /// FAILED, too, while a working session's engine process is down and being restarted.
    public var status: SessionStatus {
        state.withLock { state in
            state.status == .working && state.active?.handle.failure != nil ? .failed : state.status
        }
    }

    public var failure: String? {
        state.withLock { state in state.active?.handle.failure ?? state.failure }
    }

    /// Where the running instance lives, or nil when none runs.
    public var isolation: EngineIsolation? {
        state.withLock { $0.active?.isolation }
    }

    /// The engine serving now, with its version, features and status; nil when not working.
    public var engineReport: (engine: LoadedEngine, features: Set<Feature>, status: EngineStatus)? {
        get async {
            guard let active = state.withLock({ $0.active }) else { return nil }
            var status = await active.handle.status()
            let breaks = active.contractBreaks.load(ordering: .relaxed)
            if breaks > 0 { status.counters["host.contractBreaks"] = breaks }
            return (active.engine, await active.handle.activeFeatures(), status)
        }
    }

    /// Takes the current instance for one call; the caller must `leave()` it.
    func enterActive() -> Result<ActiveInstance, SessionError> {
        state.withLock { state in
            guard state.status == .working, let active = state.active else {
                return .failure(.notWorking(session: name, status: state.status))
            }
            active.enter()
            return .success(active)
        }
    }

    /// Installs a new instance; the old one drains. Returns the old one for logging.
    @discardableResult
    func install(_ instance: ActiveInstance?, status: SessionStatus, failure: String? = nil) -> ActiveInstance? {
        let old = state.withLock { state in
            let old = state.active
            state.active = instance
            state.status = status
            state.failure = failure
            return old
        }
        old?.drain()
        return old
    }
}

/// What the session layer refuses, each mapped to one HTTP answer.
public enum SessionError: Error, Equatable, Sendable {
    case notFound(session: String)
    case alreadyExists(session: String)
    case invalidName(String)
    case unknownEngine(String)
    case engineRefused(engine: String, EngineError)
    case notWorking(session: String, status: SessionStatus)
    case storage(String)
}
