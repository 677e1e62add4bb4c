import ContactsEngineKit
import Foundation

/// What an operator grants a session's engine beyond its own state folder, when it runs in a
/// sandboxed engine process. Each kind answers a need the engine declares (ABI 1.3); granting
/// what the engine does not declare is refused.
public struct SandboxGrants: Codable, Hashable, Sendable {
    /// `host:port` or `port` pairs the engine may connect to over TCP. The kernel (Landlock)
    /// enforces the port; the host part is recorded and shown, not enforced (docs/security.md).
    public var network: [String]
    /// Files or folders the engine may read, with what is beneath them.
    public var read: [String]
    /// Whether the engine may start programs.
    public var exec: Bool

    public init(network: [String] = [], read: [String] = [], exec: Bool = false) {
        self.network = network
        self.read = read
        self.exec = exec
    }

    public static let none = SandboxGrants()

    public var isEmpty: Bool { network.isEmpty && read.isEmpty && !exec }

    /// The needs these grants answer, by their ids in the ABI (`SB_NEED_*`).
    public var needs: Set<EngineNeed> {
        var needs: Set<EngineNeed> = []
        if !network.isEmpty { needs.insert(.network) }
        if !read.isEmpty { needs.insert(.readPaths) }
        if exec { needs.insert(.exec) }
        return needs
    }

    /// The TCP ports of the network grants.
    public var tcpPorts: [UInt16] {
        network.compactMap { Self.port(of: $0) }
    }

    /// The port of `host:port`, `[v6]:port` or `port`; nil when there is none in 1...65535.
    public static func port(of grant: String) -> UInt16? {
        let digits = grant.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? grant
        guard let port = UInt16(digits), port > 0 else { return nil }
        return port
    }

    /// Why a grant is malformed, or nil: a port on every network grant, absolute read paths.
    public var problem: String? {
        if let bad = network.first(where: { Self.port(of: $0) == nil }) {
            return "network grant \"\(bad)\" is not host:port or port (1-65535)"
        }
        if let bad = read.first(where: { !$0.hasPrefix("/") }) {
            return "read grant \"\(bad)\" is not an absolute path"
        }
        return nil
    }

    /// Why these grants cannot be given to an engine declaring `needs`, or nil: a malformed grant,
    /// or one answering a need the engine does not declare (granting more than an engine asked for
    /// widens its sandbox for nothing).
    public func problem(forEngine name: String, declaring declared: [EngineNeed]) -> String? {
        if let problem { return problem }
        let undeclared = needs.subtracting(declared).sorted()
        guard undeclared.isEmpty else {
            let declaring = declared.isEmpty ? "none" : declared.map(\.rawValue).joined(separator: ", ")
            return "engine \"\(name)\" does not declare \(undeclared.map(\.rawValue).joined(separator: ", ")) (it declares \(declaring))"
        }
        return nil
    }

    enum CodingKeys: String, CodingKey { case network, read, exec }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        network = try container.decodeIfPresent([String].self, forKey: .network) ?? []
        read = try container.decodeIfPresent([String].self, forKey: .read) ?? []
        exec = try container.decodeIfPresent(Bool.self, forKey: .exec) ?? false
    }
}

extension SandboxGrants {
    /// How the stores keep grants: JSON in a nullable column of the session's row, NULL for none.
    public var stored: Data? {
        get throws { isEmpty ? nil : try JSONEncoder().encode(self) }
    }

    public static func stored(_ data: Data?) throws -> SandboxGrants {
        try data.map { try JSONDecoder().decode(SandboxGrants.self, from: $0) } ?? .none
    }
}

/// The sandbox an engine process runs in, as applied: shown in the session's JSON.
public struct SandboxReport: Codable, Hashable, Sendable {
    /// `strict`, `best-effort` or `off`.
    public var mode: String
    /// The layers the kernel accepted, by name (docs/security.md lists them).
    public var layers: [String]
    /// Layers asked for that could not be applied, with the first reason.
    public var missing: [String]
    public var failure: String?
    /// `uid:gid` the engine runs as.
    public var user: String?
    public var grants: SandboxGrants
    /// Whether this process serves this session alone (`per-session`) or every session of its engine version.
    public var processes: String

    public init(
        mode: String, layers: [String], missing: [String] = [], failure: String? = nil, user: String? = nil, grants: SandboxGrants,
        processes: String
    ) {
        self.mode = mode
        self.layers = layers
        self.missing = missing
        self.failure = failure
        self.user = user
        self.grants = grants
        self.processes = processes
    }

    /// A few words for a page: "strict, per-session, 16 layers as 65534:65534", and what is missing.
    public var summary: String {
        var words = "\(mode), \(processes), \(layers.count) layers"
        if let user { words += " as \(user)" }
        if !missing.isEmpty { words += "; missing \(missing.joined(separator: ", "))" }
        return words
    }
}
