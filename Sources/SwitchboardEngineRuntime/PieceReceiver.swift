import CContactsEngine
import ContactsEngineKit
import Synchronization

/// One call in pieces (`call_in_pieces`) between the plugin, which sends pieces from any thread,
/// and the one caller that takes them. The plugin is asked to pause while the host holds
/// `pauseAbove` bytes and resumed once the caller has taken them down to `resumeBelow`, so a
/// slow client holds the engine back instead of the host's memory filling up. Each wait of the
/// caller is a `PendingCall` of its own, with the call timeout as its deadline: the time the
/// host keeps the plugin paused never counts against it.
final class PieceReceiver: Sendable {
    /// What the host holds of one result before it asks the plugin to pause: about five pieces
    /// of the SDK's size.
    static let pauseAbove = 1 << 20
    static let resumeBelow = pauseAbove / 2
    /// A plugin that keeps sending after it was asked to pause fails its call here.
    static let holdLimit = 16 << 20

    private struct State {
        var held: [[UInt8]] = []
        var heldBytes = 0
        /// The completion, once it came: the last piece, or the call's failure.
        var end: Result<[UInt8], EngineError>?
        /// The caller, waiting for the next piece.
        var waiter: PendingCall?
        /// Whether the piece just handed to the waiter was the completion.
        var handedEnd = false
        var paused = false
        var gaveUp = false
    }
    private let state = Mutex(State())
    private let engineName: String
    private let feature: Feature
    private let timeout: Duration
    private let deadlines: CallDeadlines
    /// Lets a paused plugin go on (the ABI's `resume`), and tells it the host stopped waiting (`cancel`).
    private let resumePlugin: @Sendable () -> Void
    private let cancelPlugin: @Sendable () -> Void

    init(
        engineName: String, feature: Feature, timeout: Duration, deadlines: CallDeadlines,
        resume: @escaping @Sendable () -> Void, cancel: @escaping @Sendable () -> Void
    ) {
        self.engineName = engineName
        self.feature = feature
        self.timeout = timeout
        self.deadlines = deadlines
        resumePlugin = resume
        cancelPlugin = cancel
    }

    // MARK: The plugin's side

    func receive(_ piece: [UInt8]) -> sb_piece_reply {
        enum Next { case hand(PendingCall), reply(sb_piece_reply), overflow }
        let next = state.withLock { state -> Next in
            if state.gaveUp { return .reply(SB_PIECE_STOP) }
            if let waiter = state.waiter {
                state.waiter = nil
                state.handedEnd = false
                return .hand(waiter)
            }
            state.held.append(piece)
            state.heldBytes += piece.count
            if state.heldBytes > Self.holdLimit {
                state.gaveUp = true
                state.held = []
                state.end = .failure(EngineError(.internal, "engine \"\(engineName)\" sent more than \(Self.holdLimit) bytes of \(feature.rawValue) while asked to pause"))
                return .overflow
            }
            guard state.heldBytes >= Self.pauseAbove else { return .reply(SB_PIECE_MORE) }
            state.paused = true
            return .reply(SB_PIECE_PAUSE)
        }
        switch next {
        case .hand(let waiter):
            waiter.settle(.success(piece))
            return SB_PIECE_MORE
        case .reply(let reply):
            return reply
        case .overflow:
            cancelPlugin()
            return SB_PIECE_STOP
        }
    }

    func finish(_ result: Result<[UInt8], EngineError>) {
        let waiter = state.withLock { state -> PendingCall? in
            guard let waiter = state.waiter else {
                if state.end == nil { state.end = result }
                return nil
            }
            state.waiter = nil
            state.handedEnd = true
            state.end = .failure(pastTheEnd)
            return waiter
        }
        waiter?.settle(result)
    }

    private var pastTheEnd: EngineError {
        EngineError(.internal, "the result of \(feature.rawValue) has no piece after its last")
    }

    var hasGivenUp: Bool { state.withLock { $0.gaveUp } }

    // MARK: The caller's side

    func next() async throws(EngineError) -> ResultPieces.Piece {
        enum Ready { case piece([UInt8], resume: Bool), end(Result<[UInt8], EngineError>) }
        func take(_ state: inout State) -> Ready? {
            if !state.held.isEmpty {
                let piece = state.held.removeFirst()
                state.heldBytes -= piece.count
                let resume = state.paused && state.heldBytes <= Self.resumeBelow
                if resume { state.paused = false }
                return .piece(piece, resume: resume)
            }
            if let end = state.end {
                state.end = .failure(pastTheEnd)
                return .end(end)
            }
            return nil
        }
        func piece(_ ready: Ready) throws(EngineError) -> ResultPieces.Piece {
            switch ready {
            case .piece(let bytes, let resume):
                if resume { resumePlugin() }
                return .more(bytes)
            case .end(let result):
                return .last(try result.get())
            }
        }
        if let ready = state.withLock({ take(&$0) }) { return try piece(ready) }

        let wait = PendingCall(engineName: engineName, operation: feature.rawValue, timeout: timeout, deadlines: deadlines)
        wait.whenAbandoned { [self] in giveUp() }
        let outcome = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                wait.install(continuation)
                // A piece may have come since the look above.
                let ready = state.withLock { state -> Ready? in
                    if let ready = take(&state) { return ready }
                    state.waiter = wait
                    return nil
                }
                switch ready {
                case .piece(let bytes, let resume)?:
                    if resume { resumePlugin() }
                    wait.settle(.success(bytes))
                case .end(let result)?:
                    state.withLock { $0.handedEnd = true }
                    wait.settle(result)
                case nil:
                    wait.arm()
                }
            }
        } onCancel: {
            wait.abandon()
        }
        let bytes = try outcome.get()
        return state.withLock { $0.handedEnd } ? .last(bytes) : .more(bytes)
    }

    /// The caller wants no more; idempotent, and harmless after the last piece.
    func giveUp() {
        let wasPaused = state.withLock { state -> Bool? in
            guard !state.gaveUp else { return nil }
            state.gaveUp = true
            state.held = []
            state.heldBytes = 0
            defer { state.paused = false }
            return state.paused
        }
        guard let wasPaused else { return }
        // Resumed first, so a plugin with no `cancel` still reaches its next piece and hears stop.
        if wasPaused { resumePlugin() }
        cancelPlugin()
    }
}
