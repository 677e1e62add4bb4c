// Re-exported for the 1.x line only, which promised source compatibility to engines that name
// the C header's types (`sb_engine_descriptor` in their entry function). Engines name
// `EngineDescriptor` now; SDK 2.0, the next plugin ABI major, drops the re-export.
@_exported import CContactsEngine
import Foundation

/// A contacts engine, written in Swift. Publish one with `EngineExport` (see docs/writing-an-engine.md).
///
/// Implement the methods of the features you declare in `features`; every other method keeps
/// its default, which answers not-implemented. The host never calls a feature that
/// `activeFeatures` leaves out: the SDK answers not-implemented for it.
///
/// Each call runs in a Swift task of its own, which the host's `cancel` cancels. An engine that
/// answers reads without waiting can spare them that task: see ``SynchronousContactsEngine``.
public protocol ContactsEngine: Sendable {
    /// Unique engine name: `[a-z0-9][a-z0-9-]{0,31}`.
    static var name: String { get }
    static var version: String { get }
    /// One line for humans.
    static var summary: String { get }
    /// An SPDX license expression, e.g. `Apache-2.0`, shown by `switchboard inspect`; empty when not given.
    static var license: String { get }
    /// A URL for humans (source, issues, documentation), shown by `switchboard inspect`; empty when not given.
    static var homepage: String { get }
    /// What the engine can serve with some configuration.
    static var features: Set<Feature> { get }
    /// What it may need in a sandboxed engine process beyond its state folder; none by default.
    static var needs: Set<EngineNeed> { get }

    /// Must not block on I/O: connect lazily, or in the background.
    init(configuration: EngineConfiguration, host: EngineHost) throws

    /// What this instance serves now. Defaults to `features`.
    var activeFeatures: Set<Feature> { get }
    /// Health, a message and counters, shown per session by the host. Must not block.
    var status: EngineStatus { get }
    /// Called once when the host destroys the instance; calls in flight still complete.
    func shutdown()

    func listContacts(_ request: ContactsPageRequest) async throws -> [Contact]
    /// `listContacts` a piece at a time, as the host streams a whole list: `send` each run of at
    /// most `size` contacts, in order, and stop once it answers false (the client went away).
    /// The default cuts `listContacts`'s answer; an engine that keeps its contacts in memory can
    /// look each piece up as it goes, so the first piece leaves before the last is built.
    func listContacts(_ request: ContactsPageRequest, inPiecesOf size: Int, send: (ArraySlice<Contact>) async -> Bool) async throws
    func contact(_ request: ContactRequest) async throws -> Contact
    func upsertContact(_ request: UpsertContactRequest) async throws
    func checkExists(_ request: CheckExistsRequest) async throws -> CheckExistsResult
    func about(_ request: ContactRequest) async throws -> AboutResult
    func profilePicture(_ request: ProfilePictureRequest) async throws -> ProfilePictureResult
    func block(_ request: ContactRequest) async throws
    func unblock(_ request: ContactRequest) async throws
    func listLids(_ request: LidsPageRequest) async throws -> [LidMapping]
    func countLids() async throws -> Int
    func phoneNumber(forLid request: LidLookupRequest) async throws -> LidMapping
    func lid(forPhoneNumber request: PhoneNumberLookupRequest) async throws -> LidMapping
}

extension ContactsEngine {
    public static var license: String { "" }
    public static var homepage: String { "" }
    public static var needs: Set<EngineNeed> { [] }
    public var activeFeatures: Set<Feature> { Self.features }
    public var status: EngineStatus { EngineStatus() }
    public func shutdown() {}

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] { throw EngineError.notImplemented(.contactsList) }
    public func listContacts(_ request: ContactsPageRequest, inPiecesOf size: Int, send: (ArraySlice<Contact>) async -> Bool) async throws {
        try await listContacts(request).forEachPiece(of: size, send)
    }
    public func contact(_ request: ContactRequest) async throws -> Contact { throw EngineError.notImplemented(.contactsGet) }
    public func upsertContact(_ request: UpsertContactRequest) async throws { throw EngineError.notImplemented(.contactsUpsert) }
    public func checkExists(_ request: CheckExistsRequest) async throws -> CheckExistsResult { throw EngineError.notImplemented(.contactsCheckExists) }
    public func about(_ request: ContactRequest) async throws -> AboutResult { throw EngineError.notImplemented(.contactsAbout) }
    public func profilePicture(_ request: ProfilePictureRequest) async throws -> ProfilePictureResult { throw EngineError.notImplemented(.contactsProfilePicture) }
    public func block(_ request: ContactRequest) async throws { throw EngineError.notImplemented(.contactsBlock) }
    public func unblock(_ request: ContactRequest) async throws { throw EngineError.notImplemented(.contactsUnblock) }
    public func listLids(_ request: LidsPageRequest) async throws -> [LidMapping] { throw EngineError.notImplemented(.lidsList) }
    public func countLids() async throws -> Int { throw EngineError.notImplemented(.lidsCount) }
    public func phoneNumber(forLid request: LidLookupRequest) async throws -> LidMapping { throw EngineError.notImplemented(.lidsGetByLid) }
    public func lid(forPhoneNumber request: PhoneNumberLookupRequest) async throws -> LidMapping { throw EngineError.notImplemented(.lidsGetByPhoneNumber) }
}

/// What `status` reports; crosses the ABI as JSON.
public struct EngineStatus: Codable, Hashable, Sendable {
    public enum Health: String, Codable, Sendable { case ok, degraded, down }

    public var health: Health
    public var message: String
    public var counters: [String: Int]

    public init(health: Health = .ok, message: String = "", counters: [String: Int] = [:]) {
        self.health = health
        self.message = message
        self.counters = counters
    }
}

/// The JSON configuration a session gives its engine.
public struct EngineConfiguration: Sendable {
    public let json: Data

    public init(json: Data) { self.json = json }

    /// Decodes a configuration that names its keys, refusing any key it does not name (invalid
    /// input naming the key and the keys it reads), then as `decode(_:)` does.
    public func decode<T: StrictConfiguration>(_ type: T.Type) throws(EngineError) -> T {
        if let object = (try? JSONSerialization.jsonObject(with: json.isEmpty ? Data("{}".utf8) : json)) as? [String: Any] {
            let known = T.CodingKeys.allCases.map(\.stringValue)
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw EngineError(.invalidInput, "invalid configuration: unknown key '\(unknown)'; this engine reads \(known.joined(separator: ", "))")
            }
        }
        return try decodeAnyKeys(type)
    }

    /// Decodes the configuration; a mismatch becomes an invalid-input error naming the problem.
    /// Keys `T` does not read are ignored: prefer a `StrictConfiguration`.
    public func decode<T: Decodable>(_ type: T.Type) throws(EngineError) -> T {
        try decodeAnyKeys(type)
    }

    private func decodeAnyKeys<T: Decodable>(_ type: T.Type) throws(EngineError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: json.isEmpty ? Data("{}".utf8) : json)
        } catch let error as DecodingError {
            throw EngineError(.invalidInput, "invalid configuration: \(error.readableDescription)")
        } catch {
            throw EngineError(.invalidInput, "invalid configuration: \(error)")
        }
    }
}

/// A configuration type that names every key it reads in its `CodingKeys`, so that
/// `EngineConfiguration.decode` refuses any other key: a misspelt one, or one left over from the
/// engine a session was swapped from, is an error naming it rather than a setting silently
/// ignored. Declaring the keys is all it takes:
///
/// ```swift
/// struct Configuration: StrictConfiguration {
///     var directory: String
///     enum CodingKeys: String, CodingKey, CaseIterable { case directory }
/// }
/// ```
public protocol StrictConfiguration: Decodable {
    associatedtype CodingKeys: CodingKey & CaseIterable
}

extension DecodingError {
    /// "limit: expected Int" rather than Foundation's multi-line dump.
    @_spi(SwitchboardHost) public var readableDescription: String {
        func path(_ context: Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "document" : keys.joined(separator: ".")
        }
        switch self {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return parent == "document" ? "missing key '\(key.stringValue)'" : "\(parent): missing key '\(key.stringValue)'"
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(type), found null"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}
