@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging

/// The host's handle on one engine instance. Everything above it (sessions, HTTP) talks to
/// engines only through this protocol, so an out-of-process proxy can stand in for the
/// in-process implementation.
public protocol EngineHandle: Sendable {
    var engineName: String { get }
    var engineVersion: String { get }
    /// Runs one feature: JSON request in, JSON result out. Errors are `EngineError`s; a call the
    /// engine does not answer within the call timeout fails with kind `.timeout`.
    func perform(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> [UInt8]
    /// `perform`, with a list's result allowed to arrive in pieces (ABI 1.2); the call timeout
    /// covers the wait for each piece. Defaults to the whole result as its only piece.
    func performInPieces(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> ResultPieces
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

    public func performInPieces(_ feature: Feature, request: [UInt8]) async throws(EngineError) -> ResultPieces {
        ResultPieces(whole: try await perform(feature, request: request))
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

extension EngineHandle {
    /// Typed call: encodes the request and decodes the result with the operation's types. A
    /// result that does not decode, or decodes but breaks its operation's contract, fails with
    /// kind internal (HTTP 502) naming the engine and what was wrong, and `onContractBreak` runs.
    /// The conformance kit turns `enforcingContract` off where its own checks examine the result.
    public func perform<Operation: EngineOperation>(
        _: Operation.Type, _ request: Operation.Request, enforcingContract: Bool = true, onContractBreak: () -> Void = {}
    ) async throws(EngineError) -> Operation.Result {
        let bytes = try await perform(Operation.feature, request: try Self.encoded(Operation.self, request))
        return try checked(Operation.self, bytes, for: request, enforcingContract: enforcingContract, onContractBreak: onContractBreak)
    }

    /// The answer's JSON, held to the same contract as `perform`: the engine's own bytes when
    /// they are already what the host would write (`canonicalReading`), so a big list is neither
    /// decoded nor written again; otherwise the result decoded, checked and written again.
    public func performAnswer<Operation: EngineOperation>(
        _: Operation.Type, _ request: Operation.Request, onContractBreak: () -> Void = {}
    ) async throws(EngineError) -> [UInt8] {
        try answer(Operation.self, try await perform(Operation.feature, request: try Self.encoded(Operation.self, request)), for: request,
                   onContractBreak: onContractBreak)
    }

    /// `performAnswer`'s reading of a result's bytes (or of one piece of a list).
    func answer<Operation: EngineOperation>(
        _: Operation.Type, _ bytes: [UInt8], for request: Operation.Request, onContractBreak: () -> Void
    ) throws(EngineError) -> [UInt8] {
        switch Operation.canonicalReading(of: bytes, for: request) {
        case .forward:
            return bytes
        case .violation(let violation):
            onContractBreak()
            throw contractBreak(Operation.self, violation)
        case .decode:
            let result = try checked(Operation.self, bytes, for: request, enforcingContract: true, onContractBreak: onContractBreak)
            do {
                return try JSONCoders.encode(result)
            } catch {
                throw EngineError(.internal, "cannot encode the answer of \(Operation.feature.rawValue): \(error)")
            }
        }
    }

    static func encoded<Operation: EngineOperation>(_: Operation.Type, _ request: Operation.Request) throws(EngineError) -> [UInt8] {
        do {
            return try JSONCoders.encode(request)
        } catch {
            throw EngineError(.internal, "cannot encode \(Operation.feature.rawValue) request: \(error)")
        }
    }

    private func checked<Operation: EngineOperation>(
        _: Operation.Type, _ bytes: [UInt8], for request: Operation.Request, enforcingContract: Bool, onContractBreak: () -> Void
    ) throws(EngineError) -> Operation.Result {
        let result: Operation.Result
        do {
            result = try JSONCoders.decode(Operation.Result.self, from: bytes)
        } catch {
            onContractBreak()
            let reason = (error as? DecodingError)?.readableDescription ?? "\(error)"
            throw EngineError(.internal, "engine \"\(engineName)\" answered \(Operation.feature.rawValue) with a malformed result: \(reason)")
        }
        if enforcingContract, let violation = Operation.contractViolation(of: result, for: request, bytes: bytes) {
            onContractBreak()
            throw contractBreak(Operation.self, violation)
        }
        return result
    }

    private func contractBreak<Operation: EngineOperation>(_: Operation.Type, _ violation: String) -> EngineError {
        EngineError(.internal, "engine \"\(engineName)\" broke the contract of \(Operation.feature.rawValue): \(violation)")
    }
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
