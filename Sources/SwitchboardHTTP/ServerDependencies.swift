import Foundation
import Synchronization
import SwitchboardEngineRuntime
import SwitchboardSessions

/// What the routes share: the sessions (and through them the engines) and the server's settings.
public struct ServerDependencies: Sendable {
    public let sessions: SessionManager
    public var registry: EngineRegistry { sessions.registry }
    public let version: String
    /// When this server started: `GET /api/server/status` and the activity of untouched sessions.
    public let startedAt: Date
    let activity: SessionActivity
    /// The same registry the sessions and engines count into (`metrics.host`).
    public let metrics: ServerMetrics

    public init(sessions: SessionManager, version: String, metrics: ServerMetrics, startedAt: Date = Date()) {
        self.sessions = sessions
        self.version = version
        self.metrics = metrics
        self.startedAt = startedAt
        self.activity = SessionActivity(since: startedAt)
    }
}

/// WAHA's `timestamps.activity`: when the API last did something with a session (a call to
/// its engine, a start, a stop, an update), in milliseconds since 1970. A session untouched
/// since the server started reports the server's start.
final class SessionActivity: Sendable {
    private let since: Date
    private let last = Mutex<[String: Date]>([:])

    init(since: Date) { self.since = since }

    func touch(_ session: String) {
        let now = Date()
        last.withLock { $0[session] = now }
    }

    func forget(_ session: String) {
        _ = last.withLock { $0.removeValue(forKey: session) }
    }

    func milliseconds(_ session: String) -> Double {
        let date = last.withLock { $0[session] } ?? since
        return (date.timeIntervalSince1970 * 1000).rounded()
    }
}
