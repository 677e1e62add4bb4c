import ContactsEngineKit

/// What a plugin says about itself, read from its descriptor before any instance exists.
public struct EngineMetadata: Codable, Hashable, Sendable {
    public let name: String
    public let version: String
    public let summary: String
    /// "major.minor" of the ABI the plugin was built against.
    public let abiVersion: String
    public let features: [Feature]
    /// ABI 1.1: an SPDX expression and a URL for humans; `nil` when the plugin gives none.
    public let license: String?
    public let homepage: String?
    /// ABI 1.3: what the engine may need in a sandbox beyond its state folder; empty before 1.3.
    public let needs: [EngineNeed]

    /// The name no plugin may take: a session made of several engines reports it as its engine.
    public static let compositeName = "composite"

    /// `[a-z0-9][a-z0-9-]{0,31}`: safe in URLs, file names and logs.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count) else { return false }
        func isLowerAlphanumeric(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        return isLowerAlphanumeric(bytes[0]) && bytes.dropFirst().allSatisfy { isLowerAlphanumeric($0) || $0 == 0x2D }
    }
}
