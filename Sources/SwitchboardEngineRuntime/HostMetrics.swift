import ContactsEngineKit
import CoreMetrics
import Synchronization

/// What the host counts, through a metrics factory it is given: engine calls with their
/// latency, plugin loads and refusals, engine restarts. The factory is injected rather than
/// bootstrapped globally, so servers in one process (the tests') keep their counts apart.
public struct HostMetrics: Sendable {
    public let factory: any MetricsFactory
    private let callCounters = MetricHandles<CallOutcome, CoreMetrics.Counter>()
    private let callTimers = MetricHandles<CallOutcome, CoreMetrics.Timer>()
    private let memberCalls = MetricHandles<MemberCall, CoreMetrics.Counter>()

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    private struct CallOutcome: Hashable, Sendable {
        var engine: String
        var feature: Feature
        var outcome: String?
    }

    private struct MemberCall: Hashable, Sendable {
        var session: String
        var member: String
        var feature: Feature
        var outcome: String
    }

    /// Counts nothing: for tools and hosts with no `/metrics`.
    public static let none = HostMetrics(factory: NOOPMetricsHandler.instance)

    /// How a call through a session ended: `ok`, `unsupported`, `not-working` (the session had
    /// no instance), or the engine error's kind (`timeout`, `not-found`, ...).
    public func call(engine: String, feature: Feature, outcome: String, duration: Duration) {
        // The label arrays are built only when a handle is first made, not on every call.
        callCounters.handle(CallOutcome(engine: engine, feature: feature, outcome: outcome)) {
            CoreMetrics.Counter(
                label: "switchboard_engine_calls_total", dimensions: [("engine", engine), ("feature", feature.rawValue), ("outcome", outcome)],
                factory: factory)
        }.increment()
        callTimers.handle(CallOutcome(engine: engine, feature: feature)) {
            CoreMetrics.Timer(
                label: "switchboard_engine_call_duration_seconds", dimensions: [("engine", engine), ("feature", feature.rawValue)], factory: factory)
        }.recordNanoseconds(duration.nanoseconds)
    }

    /// A call to one member of a composite session, by member: which one served, which were
    /// passed over and why.
    public func memberCall(session: String, member: String, feature: Feature, outcome: String) {
        memberCalls.handle(MemberCall(session: session, member: member, feature: feature, outcome: outcome)) {
            CoreMetrics.Counter(
                label: "switchboard_member_calls_total",
                dimensions: [("session", session), ("member", member), ("feature", feature.rawValue), ("outcome", outcome)], factory: factory)
        }.increment()
    }

    /// An engine registered: `embedded`, `loaded` from a file, or `upgraded` to a new file.
    public func pluginLoaded(engine: String, kind: String) {
        CoreMetrics.Counter(label: "switchboard_plugin_loads_total", dimensions: [("engine", engine), ("kind", kind)], factory: factory).increment()
    }

    /// A plugin file refused; its reason is in the log and the engine listing, not a label,
    /// since reasons are free text.
    public func pluginRefused() {
        CoreMetrics.Counter(label: "switchboard_plugin_refusals_total", factory: factory).increment()
    }

    /// An engine's child process ended and is being started again.
    public func engineRestarted(engine: String) {
        CoreMetrics.Counter(label: "switchboard_engine_restarts_total", dimensions: [("engine", engine)], factory: factory).increment()
    }

    /// An engine process that did not start because its sandbox could not be applied in full
    /// (`--sandbox strict`); the missing layer is in the log and the session's failure.
    public func sandboxRefused(engine: String) {
        CoreMetrics.Counter(label: "switchboard_sandbox_refusals_total", dimensions: [("engine", engine)], factory: factory).increment()
    }
}

/// Metric handles made once per set of labels and kept: asking the factory on every call (name
/// checks, label sorting, the registry's lock) cost more than the call it counted.
public final class MetricHandles<Key: Hashable & Sendable, Handle: Sendable>: Sendable {
    private let handles = Mutex<[Key: Handle]>([:])

    public init() {}

    public func handle(_ key: Key, make: () -> Handle) -> Handle {
        if let handle = handles.withLock({ $0[key] }) { return handle }
        // Made outside the lock; two callers racing get handles on the same registry entry.
        let handle = make()
        handles.withLock { $0[key] = handle }
        return handle
    }
}
