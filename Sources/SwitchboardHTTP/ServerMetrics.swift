import CoreMetrics
import Hummingbird
import Prometheus
import SwitchboardEngineRuntime
import SwitchboardSessions

/// One server's metrics: a Prometheus registry, the factory that fills it (given to the host's
/// parts as `host`), and the exposition `GET /metrics` answers. Nothing is bootstrapped
/// globally here, so every server in a process (the tests') has a registry of its own.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    /// For the engine registry, the sessions and the process launcher.
    public let host: HostMetrics
    private let requestCounters = MetricHandles<RequestOutcome, CoreMetrics.Counter>()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        factory = PrometheusMetricsFactory(registry: registry)
        host = HostMetrics(factory: factory)
    }

    private struct RequestOutcome: Hashable, Sendable {
        var method: HTTPRequest.Method
        var route: String
        var status: Int
    }

    /// The text exposition format, with the session gauges read as of now.
    func exposition(sessions: SessionManager) -> [UInt8] {
        var counts: [String: [SessionStatus: Int]] = [:]
        // Every known engine gets every status, zeros included, so a status a session left
        // drops to zero instead of keeping its last value.
        for engine in sessions.registry.engines { counts[engine.metadata.name] = [:] }
        counts[SessionComposition.engineName] = [:]
        for session in sessions.sessions { counts[session.record.engine, default: [:]][session.status, default: 0] += 1 }
        for (engine, byStatus) in counts {
            for status in SessionStatus.allCases {
                Gauge(label: "switchboard_sessions", dimensions: [("engine", engine), ("status", status.rawValue)], factory: factory)
                    .record(byStatus[status] ?? 0)
            }
        }
        return registry.emitToBuffer()
    }

    func countRequest(method: HTTPRequest.Method, route: String, status: HTTPResponse.Status) {
        requestCounters.handle(RequestOutcome(method: method, route: route, status: status.code)) {
            CoreMetrics.Counter(
                label: "switchboard_http_requests_total",
                dimensions: [("method", method.rawValue), ("route", route), ("status", String(status.code))], factory: factory)
        }.increment()
    }
}

/// A route as the router knows it, by method and router path.
struct RouterRoute: Hashable, Sendable {
    var method: HTTPRequest.Method
    var routerPath: String
}

/// Counts each request by method, declared route (WAHA's template, so `{session}` rather than
/// every session's name) and status. Outside the error middleware, so it sees the status the
/// client gets.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    /// Each route's declared path, by its method and router path (GET and PUT of one router path
    /// name their parameter differently).
    let templates: [RouterRoute: String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        // A path no route has is one label, not one per path a client made up.
        let route = context.endpointPath.flatMap { templates[RouterRoute(method: request.method, routerPath: $0)] } ?? "unmatched"
        metrics.countRequest(method: request.method, route: route, status: response.status)
        return response
    }
}
