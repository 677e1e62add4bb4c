import CContactsEngine

/// An error an engine reports for one call. Its kind crosses the ABI as an `sb_status`.
public struct EngineError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Int32, Sendable, CaseIterable, Codable {
        case notImplemented = 1
        case notFound = 2
        case invalidInput = 3
        case unavailable = 4
        case `internal` = 5
        case conflict = 6
        case timeout = 7

        public init?(status: sb_status) {
            self.init(rawValue: status)
        }

        public var status: sb_status { rawValue }

        /// The stable name used in logs and JSON bodies.
        public var name: String {
            switch self {
            case .notImplemented: "not-implemented"
            case .notFound: "not-found"
            case .invalidInput: "invalid-input"
            case .unavailable: "unavailable"
            case .internal: "internal"
            case .conflict: "conflict"
            case .timeout: "timeout"
            }
        }
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func notImplemented(_ feature: Feature) -> EngineError {
        EngineError(.notImplemented, "\(feature.rawValue) is not implemented")
    }

    public var description: String { "\(kind.name): \(message)" }
}
