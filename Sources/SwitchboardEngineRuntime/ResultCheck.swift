@_spi(SwitchboardHost) import ContactsEngineKit

/// The one checker of results against their operation's contract, for every kind of handle:
/// it encodes the request, calls the handle (the transport), and reads what comes back.
extension EngineHandle {
    /// The result, typed: encodes the request and decodes the result with the operation's
    /// types. A result that does not decode, or decodes but breaks its operation's contract,
    /// fails with kind internal (HTTP 502) naming the engine and what was wrong, and
    /// `onContractBreak` runs. The conformance kit turns `enforcingContract` off where its own
    /// checks examine the result.
    public func checkedResult<Operation: EngineOperation>(
        _: Operation.Type, _ request: Operation.Request, enforcingContract: Bool = true, onContractBreak: () -> Void = {}
    ) async throws(EngineError) -> Operation.Result {
        let bytes = try await call(Operation.feature, request: JSONCoders.encode(writable: request))
        return try checked(Operation.self, bytes, for: request, enforcingContract: enforcingContract, onContractBreak: onContractBreak)
    }

    /// The answer's JSON, held to the same contract as `checkedResult`: the engine's own bytes
    /// when they are already what the host would write (`canonicalReading`), so a big list is
    /// neither decoded nor written again; otherwise the result decoded, checked and written again.
    public func checkedAnswer<Operation: EngineOperation>(
        _: Operation.Type, _ request: Operation.Request, onContractBreak: () -> Void = {}
    ) async throws(EngineError) -> [UInt8] {
        try answer(Operation.self, try await call(Operation.feature, request: JSONCoders.encode(writable: request)), for: request,
                   onContractBreak: onContractBreak)
    }

    /// `checkedAnswer`'s reading of a result's bytes (or of one piece of a list).
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
            return JSONCoders.encode(writable: result)
        }
    }

    private func checked<Operation: EngineOperation>(
        _: Operation.Type, _ bytes: [UInt8], for request: Operation.Request, enforcingContract: Bool, onContractBreak: () -> Void
    ) throws(EngineError) -> Operation.Result {
        let result: Operation.Result
        do {
            result = try JSONCoders.decode(readable: Operation.Result.self, from: bytes)
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

extension EngineHandle {
    /// The answer to a list operation in pieces, each held to the operation's contract as
    /// `checkedAnswer` holds a whole result: the engine's own bytes when they are in the SDK
    /// writer's form, else decoded, checked and written again. A piece that breaks the contract
    /// ends the result with the error `checkedAnswer` would throw.
    public func checkedAnswerInPieces<Operation: EngineOperation>(
        _: Operation.Type, _ request: Operation.Request, onContractBreak: @escaping @Sendable () -> Void = {}
    ) async throws(EngineError) -> CheckedPieces where Operation.Result: RangeReplaceableCollection {
        let raw = try await callInPieces(Operation.feature, request: JSONCoders.encode(writable: request))
        let check: @Sendable ([UInt8]) throws(EngineError) -> [UInt8] = { [self] bytes throws(EngineError) in
            try answer(Operation.self, bytes, for: request, onContractBreak: onContractBreak)
        }
        do {
            return CheckedPieces(raw, first: try raw.first.map(check), check: check)
        } catch {
            raw.close()
            throw error
        }
    }
}

extension ResultPieces.Piece {
    func map(_ transform: ([UInt8]) throws(EngineError) -> [UInt8]) throws(EngineError) -> Self {
        switch self {
        case .more(let bytes): .more(try transform(bytes))
        case .last(let bytes): .last(try transform(bytes))
        }
    }
}

/// A list answer in pieces, each checked (`EngineHandle.checkedAnswerInPieces`): every piece is a JSON
/// array in the SDK writer's form, so the caller can join them into one array.
public final class CheckedPieces: Sendable {
    public let first: ResultPieces.Piece
    private let raw: ResultPieces
    private let check: @Sendable ([UInt8]) throws(EngineError) -> [UInt8]

    init(_ raw: ResultPieces, first: ResultPieces.Piece, check: @escaping @Sendable ([UInt8]) throws(EngineError) -> [UInt8]) {
        self.raw = raw
        self.first = first
        self.check = check
    }

    public var isWhole: Bool { raw.isWhole }

    public func next() async throws(EngineError) -> ResultPieces.Piece {
        try await raw.next().map(check)
    }

    /// Hands `body` the bytes of every piece in order, the first included, each taken only once
    /// `body` is done with the one before; stops at the first failure, the engine's or `body`'s.
    public func forEach(_ body: ([UInt8]) async throws -> Void) async throws {
        var piece = first
        while true {
            try await body(piece.bytes)
            guard case .more = piece else { return }
            piece = try await next()
        }
    }

    public func whenClosed(_ hook: @escaping @Sendable () -> Void) {
        raw.whenClosed(hook)
    }

    public func close() {
        raw.close()
    }
}
