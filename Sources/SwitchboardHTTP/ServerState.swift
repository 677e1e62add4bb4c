import Foundation
import SwitchboardCore

/// What the routes share: the sessions (and through them the engines) and the server's settings.
public struct ServerState: Sendable {
    public let sessions: SessionManager
    public var registry: EngineRegistry { sessions.registry }
    public let version: String

    public init(sessions: SessionManager, version: String) {
        self.sessions = sessions
        self.version = version
    }
}
