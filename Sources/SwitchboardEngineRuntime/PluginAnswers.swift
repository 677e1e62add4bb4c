import CContactsEngine
import ContactsEngineKit
import Logging
import Synchronization

/// How the host reads what a plugin answers, wherever the plugin runs (in the server, or in an
/// engine process whose answers cross the wire protocol): one rule each, for both handles.
extension EngineError {
    /// A completion's status and bytes: `SB_STATUS_OK` gives the bytes; a known status, that kind
    /// with the bytes as its message; any other number, internal naming it.
    package static func outcome(status: Int64, payload: [UInt8]) -> Result<[UInt8], EngineError> {
        if status == Int64(SB_STATUS_OK) { return .success(payload) }
        let message = String(decoding: payload, as: UTF8.self)
        guard let raw = Int32(exactly: status), let kind = EngineError.Kind(status: raw) else {
            return .failure(EngineError(.internal, "unknown status \(status): \(message)"))
        }
        return .failure(EngineError(kind, message))
    }
}

extension Logger.Level {
    /// A plugin's `sb_log_level` (`SB_LOG_*`); an unknown one is an error.
    package init(pluginLevel: Int64) {
        self = switch pluginLevel {
        case Int64(SB_LOG_DEBUG): .debug
        case Int64(SB_LOG_INFO): .info
        case Int64(SB_LOG_WARNING): .warning
        default: .error
        }
    }

    /// The `sb_log_level` a line at this level travels as.
    package var pluginLevel: Int64 {
        switch self {
        case .trace, .debug: Int64(SB_LOG_DEBUG)
        case .info, .notice: Int64(SB_LOG_INFO)
        case .warning: Int64(SB_LOG_WARNING)
        case .error, .critical: Int64(SB_LOG_ERROR)
        }
    }
}

/// An instance's features as it last said them: what to answer when it cannot be asked now (it
/// hangs, or its process is down), falling back to what the descriptor declares.
package final class LastKnownFeatures: Sendable {
    private let declared: Set<Feature>
    private let said = Mutex<Set<Feature>?>(nil)

    package init(declared: [Feature]) {
        self.declared = Set(declared)
    }

    /// Keeps `features` as the instance's latest answer and returns it.
    package func remember(_ features: Set<Feature>) -> Set<Feature> {
        said.withLock { $0 = features }
        return features
    }

    package var fallback: Set<Feature> { said.withLock { $0 } ?? declared }
}
