@_spi(SwitchboardHost) import ContactsEngineKit
import Synchronization

/// A result that may arrive in pieces (ABI 1.2's `call_in_pieces`): the first piece, then the
/// others as the caller asks for them. A caller that stops before the last piece calls `close`,
/// which tells the engine; the host never holds more than a few pieces of one result.
public final class ResultPieces: Sendable {
    public enum Piece: Sendable {
        /// A JSON array of the result's next elements; more follow.
        case more([UInt8])
        /// The last piece.
        case last([UInt8])

        public var bytes: [UInt8] {
            switch self {
            case .more(let bytes), .last(let bytes): bytes
            }
        }
    }

    public let first: Piece
    private let source: (any PieceSource)?
    private let closeHooks = Mutex<[@Sendable () -> Void]?>([])

    /// A result that came whole.
    public init(whole bytes: [UInt8]) {
        first = .last(bytes)
        source = nil
    }

    init(first: Piece, source: any PieceSource) {
        self.first = first
        self.source = first.isLast ? nil : source
    }

    public var isWhole: Bool { source == nil }

    /// The piece after the last one given (the first is `first`); a failure ends the result.
    public func next() async throws(EngineError) -> Piece {
        guard let source else { throw EngineError(.internal, "the result has no piece after its last") }
        return try await source.next()
    }

    /// Runs `hook` once the result is closed (at once, if it is).
    public func whenClosed(_ hook: @escaping @Sendable () -> Void) {
        let closed = closeHooks.withLock { hooks -> Bool in
            guard hooks != nil else { return true }
            hooks?.append(hook)
            return false
        }
        if closed { hook() }
    }

    /// Ends the result: an engine still sending is told to stop. Safe to call more than once.
    public func close() {
        guard let hooks = closeHooks.withLock({ $0.take() }) else { return }
        source?.giveUp()
        hooks.forEach { $0() }
    }

    deinit {
        close()
    }
}

extension ResultPieces.Piece {
    var isLast: Bool {
        if case .last = self { return true }
        return false
    }
}

/// Where the pieces after the first come from.
protocol PieceSource: Sendable {
    func next() async throws(EngineError) -> ResultPieces.Piece
    /// The caller wants no more; idempotent, and harmless after the last piece.
    func giveUp()
}

extension EngineHandle {
    /// The answer to a list operation in pieces, each held to the operation's contract as
    /// `performAnswer` holds a whole result: the engine's own bytes when they are in the SDK
    /// writer's form, else decoded, checked and written again. A piece that breaks the contract
    /// ends the result with the error `performAnswer` would throw.
    public func answerInPieces<Operation: EngineOperation>(
        _: Operation.Type, _ request: Operation.Request, onContractBreak: @escaping @Sendable () -> Void = {}
    ) async throws(EngineError) -> CheckedPieces where Operation.Result: RangeReplaceableCollection {
        let raw = try await performInPieces(Operation.feature, request: try Self.encoded(Operation.self, request))
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

/// A list answer in pieces, each checked (`EngineHandle.answerInPieces`): every piece is a JSON
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
