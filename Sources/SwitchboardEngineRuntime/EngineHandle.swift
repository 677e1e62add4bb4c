@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging

/// The host's handle on one engine instance: a transport, which carries a feature and its
/// request's bytes to the instance and its result back, and knows nothing of what they mean
/// (`ResultCheck` holds results to their operation's contract, the same for every handle).
/// Everything above it (sessions, HTTP) talks to engines only through this protocol, so an
/// engine process's proxy stands in for an instance in this process.
public protocol EngineHandle: Sendable {
    var engineName: String { get }
    var engineVersion: String { get }
    /// The ABI's `call`: JSON request in, JSON result out. Errors are `EngineError`s; a call the
    /// engine does not answer within the call timeout fails with kind `.timeout`.
    func call(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> [UInt8]
    /// The ABI's `call_in_pieces` (1.2): `call`, with a list's result allowed to arrive in
    /// pieces; the call timeout covers the wait for each piece. Defaults to the whole result as
    /// its only piece.
    func callInPieces(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> ResultPieces
    /// The features this instance serves now. Never waits longer than the query timeout: an
    /// instance that cannot say answers what it said last.
    func activeFeatures() async -> Set<Feature>
    /// The instance's health and counters; one that does not answer in the query timeout is
    /// reported degraded with the reason.
    func status() async -> EngineStatus
    /// Destroys the instance. Calls in flight still complete (or time out); no call may follow.
    func shutdown()
    /// Why the instance cannot serve now (its process crashed and is being restarted), or nil.
    var failure: String? { get }
    /// The sandbox its engine process runs in, as applied; nil in the server's own process.
    var sandbox: SandboxReport? { get }
}

extension EngineHandle {
    public var failure: String? { nil }
    public var sandbox: SandboxReport? { nil }

    public func callInPieces(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> ResultPieces {
        ResultPieces(whole: try await call(feature, request: request))
    }
}

/// Makes engine instances that run in a process of their own. Core knows it only through this
/// protocol; the executable composes the implementation.
public protocol IsolatedEngineLauncher: Sendable {
    /// `shared`: in the one process of the engine's version, with every other shared instance,
    /// rather than in a process of the instance's own.
    func makeInstance(of engine: LoadedEngine, configuration: Data, context: InstanceContext, shared: Bool) async throws(EngineError)
        -> any EngineHandle
}

/// What the host gives an instance besides its configuration.
public struct InstanceContext: Sendable {
    public var session: String
    /// The instance's own folder (created if missing), or nil.
    public var stateDirectory: String?
    public var callTimeout: Duration
    /// How long a status or features query may take.
    public var queryTimeout: Duration
    public var logger: Logger
    /// What the session grants its engine in a sandboxed engine process.
    public var grants: SandboxGrants

    public init(
        session: String, stateDirectory: String? = nil, callTimeout: Duration = .seconds(10), queryTimeout: Duration = .seconds(2),
        logger: Logger = Logger(label: "switchboard.engine"), grants: SandboxGrants = .none
    ) {
        self.grants = grants
        self.session = session
        self.stateDirectory = stateDirectory
        self.callTimeout = callTimeout
        self.queryTimeout = queryTimeout
        self.logger = logger
    }
}
