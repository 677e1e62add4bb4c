/// What an engine may need when it runs in a sandboxed engine process, beyond its own session's
/// state folder (ABI 1.3's `needs`, the header's `SB_NEED_*`). Declaring a need grants nothing:
/// the operator grants each per session, with concrete values, and an engine whose need was not
/// granted should answer `unavailable` rather than fail in another way.
public enum EngineNeed: String, Codable, Hashable, Sendable, CaseIterable, Comparable {
    /// TCP connections to the `host:port` pairs the session grants.
    case network
    /// Reading the files and folders the session grants.
    case readPaths = "read-paths"
    /// Starting programs.
    case exec

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
