import ContactsEngineKit
import Foundation
import Synchronization
import SwitchboardEngineRuntime

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

/// What serves a session now: one engine instance, or one per member of its composition.
enum RunningInstances: Sendable {
    case single(ActiveInstance)
    case composite(CompositeInstances)

    var instances: [ActiveInstance] {
        switch self {
        case .single(let instance): [instance]
        case .composite(let composite): Array(composite.instances.values)
        }
    }
}

/// A composite's instances, with each feature's route resolved to them once, when they are
/// made, so that a call finds its members without looking up a name.
struct CompositeInstances: Sendable {
    struct Route: Sendable {
        /// The route's members whose engines declare the feature, in route order.
        let members: [(name: String, instance: ActiveInstance)]
        let mirror: Bool
        /// Every member the route names.
        let names: [String]
    }

    let composition: SessionComposition
    /// Member name → its instance.
    let instances: [String: ActiveInstance]
    let routes: [Feature: Route]

    init(_ composition: SessionComposition, _ instances: [String: ActiveInstance]) {
        self.composition = composition
        self.instances = instances
        var routes: [Feature: Route] = [:]
        for feature in Feature.allCases {
            guard let route = composition.route(for: feature) else { continue }
            let members = route.members.compactMap { name in
                instances[name].flatMap { $0.engine.metadata.features.contains(feature) ? (name, $0) : nil }
            }
            routes[feature] = Route(members: members, mirror: route.mirror, names: route.members)
        }
        self.routes = routes
    }
}

/// The instances one call may use, entered: the caller must leave each one.
enum EnteredRoute {
    case single(ActiveInstance)
    /// The route's members that declare the feature, in route order. `route` is every member
    /// the route names, for an error that says where the feature would have gone.
    case members([(name: String, instance: ActiveInstance)], mirror: Bool, route: [String])

    func leave() {
        switch self {
        case .single(let instance): instance.leave()
        case .members(let members, _, _): for member in members { member.instance.leave() }
        }
    }
}

/// A session at run time: its record, status and current engine instance (or instances).
public final class Session: Sendable {
    public let name: String

    struct State {
        var record: SessionRecord
        var status: SessionStatus
        var failure: String?
        var serving: RunningInstances?
    }

    let state: Mutex<State>
    let metrics: HostMetrics

    init(record: SessionRecord, metrics: HostMetrics) {
        name = record.name
        state = Mutex(State(record: record, status: .stopped))
        self.metrics = metrics
    }

    public var record: SessionRecord { state.withLock { $0.record } }
    /// FAILED, too, while a working session's engine process is down and being restarted. A
    /// composite stays WORKING while a member is down: its routes fall back to the others.
    public var status: SessionStatus {
        state.withLock { state in
            guard state.status == .working, case .single(let active)? = state.serving else { return state.status }
            return active.handle.failure != nil ? .failed : state.status
        }
    }

    public var failure: String? {
        state.withLock { state in
            guard case .single(let active)? = state.serving else { return state.failure }
            return active.handle.failure ?? state.failure
        }
    }

    /// Where the running instance lives, or nil when none runs (or when members run, each its own way).
    public var isolation: EngineIsolation? {
        state.withLock { state in
            guard case .single(let active)? = state.serving else { return nil }
            return active.isolation
        }
    }

    /// The engine a single-engine session runs now and its sandbox, read without asking the
    /// engine anything; nil when none runs, or when members run.
    public var runningEngine: (engine: LoadedEngine, sandbox: SandboxReport?)? {
        state.withLock { state in
            guard case .single(let active)? = state.serving else { return nil }
            return (active.engine, active.handle.sandbox)
        }
    }

    /// The engine serving now, with its version, features and status; nil when not working or composite.
    public var engineReport: (engine: LoadedEngine, features: Set<Feature>, status: EngineStatus, sandbox: SandboxReport?)? {
        get async {
            guard case .single(let active)? = state.withLock({ $0.serving }) else { return nil }
            let (engine, features, status) = await Self.report(active)
            return (engine, features, status, active.handle.sandbox)
        }
    }

    /// One member of a composite as it runs now.
    public struct MemberReport: Sendable {
        public let member: SessionComposition.Member
        public let engine: LoadedEngine
        /// Live features that the engine also declares: what the member serves now.
        public let features: Set<Feature>
        public let status: EngineStatus
        public let isolation: EngineIsolation
        /// The sandbox of the member's engine process; nil in the server's process.
        public let sandbox: SandboxReport?
    }

    /// Each member of a running composite, in the composition's order; empty otherwise.
    public var memberReports: [MemberReport] {
        get async {
            guard case .composite(let composite)? = state.withLock({ $0.serving }) else { return [] }
            var reports: [MemberReport] = []
            for member in composite.composition.members {
                guard let instance = composite.instances[member.name] else { continue }
                let (engine, features, status) = await Self.report(instance)
                reports.append(MemberReport(
                    member: member, engine: engine, features: features.intersection(engine.metadata.features), status: status,
                    isolation: instance.isolation, sandbox: instance.handle.sandbox))
            }
            return reports
        }
    }

    private static func report(_ active: ActiveInstance) async -> (engine: LoadedEngine, features: Set<Feature>, status: EngineStatus) {
        var status = await active.handle.status()
        let breaks = active.contractBreaks.load(ordering: .relaxed)
        if breaks > 0 { status.counters["host.contractBreaks"] = breaks }
        return (active.engine, await active.handle.activeFeatures(), status)
    }

    /// The instances running now, for a swap that keeps the members it does not change.
    var serving: RunningInstances? { state.withLock { $0.serving } }

    /// Takes the instances one call of `feature` may use; the caller must `leave()` them.
    func enter(for feature: Feature) -> Result<EnteredRoute, SessionError> {
        state.withLock { state in
            guard state.status == .working, let serving = state.serving else {
                return .failure(.notWorking(session: name, status: state.status))
            }
            switch serving {
            case .single(let active):
                active.enter()
                return .success(.single(active))
            case .composite(let composite):
                guard let route = composite.routes[feature] else { return .success(.members([], mirror: false, route: [])) }
                for member in route.members { member.instance.enter() }
                return .success(.members(route.members, mirror: route.mirror, route: route.names))
            }
        }
    }

    /// Installs new instances; the old ones that the new do not keep drain. Returns those.
    @discardableResult
    func install(_ serving: RunningInstances?, status: SessionStatus, failure: String? = nil) -> [ActiveInstance] {
        let old = state.withLock { state in
            let old = state.serving
            state.serving = serving
            state.status = status
            state.failure = failure
            return old
        }
        let kept = serving?.instances ?? []
        let replaced = (old?.instances ?? []).filter { instance in !kept.contains { $0 === instance } }
        for instance in replaced { instance.drain() }
        return replaced
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
    /// The members or routes of a composite cannot be served; `parameter` names the body key.
    case invalidComposition(parameter: String, String)
    /// A sandbox grant is malformed or answers no need the engine declares; `parameter` names the body key.
    case invalidGrant(parameter: String, String)
}
