import CContactsEngine
import Foundation

/// The host's services as an engine sees them: today, logging into the host's log.
public struct EngineHost: @unchecked Sendable {
    public enum LogLevel: Int32, Sendable {
        case debug = 0, info, warning, error
    }

    // The host keeps the services alive until the instance is destroyed, and `log` is thread-safe.
    private let services: UnsafePointer<sb_host_services>?

    public init(services: UnsafePointer<sb_host_services>?) {
        self.services = services
    }

    /// A folder of this engine's own in this session, kept across restarts; `nil` when the host gives none.
    public var stateDirectory: String? {
        guard let services, services.pointee.covers(\.state_directory), let path = services.pointee.state_directory else { return nil }
        return String(cString: path)
    }

    /// A path from the configuration, with a relative one taken inside the state folder (not the
    /// server's working directory, which an API client cannot know and the host cannot confine).
    public func resolve(configuredPath path: String) -> String {
        guard !path.hasPrefix("/"), !path.hasPrefix("~"), !path.lowercased().hasPrefix("file:"), let stateDirectory else { return path }
        return URL(fileURLWithPath: stateDirectory).appendingPathComponent(path).path
    }

    /// Writes one line to the host's log, tagged by the host with the engine's name and session.
    public func log(_ level: LogLevel, _ message: String) {
        guard let services, services.pointee.covers(\.log), let log = services.pointee.log else { return }
        message.withCString { log(services.pointee.host_context, level.rawValue, $0) }
    }
}

/// The ABI's growth rule: a member exists only when the struct's size covers it.
// Public because the host reads its descriptors by the same rule and the C structs conform to it
// (a conformance cannot be SPI); hidden from the engine author's reference.
@_documentation(visibility: internal)
public protocol SizedABIStruct {
    var struct_size: UInt32 { get }
}

extension SizedABIStruct {
    public func covers<Member>(_ member: KeyPath<Self, Member>) -> Bool {
        guard let offset = MemoryLayout<Self>.offset(of: member) else { return false }
        return Int(struct_size) >= offset + MemoryLayout<Member>.size
    }
}

extension sb_host_services: SizedABIStruct {}
extension sb_engine_descriptor: SizedABIStruct {}
