import ContactsEngineKit
import CoreMetrics
import Synchronization

/// What the host counts, through a metrics factory it is given: engine calls with their
/// latency, plugin loads and refusals, engine restarts. The factory is injected rather than
/// bootstrapped globally, so servers in one process (the tests') keep their counts apart.
public struct HostMetrics: Sendable {
    public let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Counts nothing: for tools and hosts with no `/metrics`.
    public static let none = HostMetrics(factory: NOOPMetricsHandler.instance)

    /// How a call through a session ended: `ok`, `unsupported`, `not-working` (the session had
    /// no instance), or the engine error's kind (`timeout`, `not-found`, ...).
    public func call(engine: String, feature: Feature, outcome: String, duration: Duration) {
        let labels = [("engine", engine), ("feature", feature.rawValue)]
        CoreMetrics.Counter(label: "switchboard_engine_calls_total", dimensions: labels + [("outcome", outcome)], factory: factory).increment()
        let (seconds, attoseconds) = duration.components
        CoreMetrics.Timer(label: "switchboard_engine_call_duration_seconds", dimensions: labels, factory: factory)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
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
}

/// One session's count of calls to each of its composite members: which member served, which
/// were passed over and why. Each counter is made once and kept, so that counting costs a call
/// less than the routing it counts.
final class MemberCallCounters: Sendable {
    private struct Key: Hashable {
        let member: String
        let feature: Feature
        let outcome: String
    }

    private let session: String
    private let factory: any MetricsFactory
    private let counters = Mutex<[Key: CoreMetrics.Counter]>([:])

    init(session: String, metrics: HostMetrics) {
        self.session = session
        factory = metrics.factory
    }

    func increment(member: String, feature: Feature, outcome: String) {
        let key = Key(member: member, feature: feature, outcome: outcome)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "switchboard_member_calls_total",
                dimensions: [("session", session), ("member", member), ("feature", feature.rawValue), ("outcome", outcome)], factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }
}
