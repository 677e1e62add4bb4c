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
    /// Where the pieces after the first come from; nil once the first is the last.
    private let source: PieceReceiver?
    private let closeHooks = Mutex<[@Sendable () -> Void]?>([])

    /// A result that came whole.
    public init(whole bytes: [UInt8]) {
        first = .last(bytes)
        source = nil
    }

    init(first: Piece, source: PieceReceiver) {
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

