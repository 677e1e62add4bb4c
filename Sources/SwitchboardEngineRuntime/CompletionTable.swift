import CContactsEngine
import ContactsEngineKit
import Logging
import Synchronization

/// The calls that plugins may still complete, by the number passed to them as completion context.
///
/// A plugin receives a number, never a pointer to host memory: a completion called twice, or
/// with a context the host never issued, finds nothing in the table and is logged as the plugin
/// bug it is instead of resuming a continuation twice or releasing freed memory. The number
/// carries the instance it belongs to (upper bits), so the log can name the engine and session.
///
/// The one table of the process, and deliberately so: the ABI's completion is a C function whose
/// only state is that number, and a plugin may call it after the runtime that issued the number
/// is gone. It holds no thread and starts nothing; a call answered before `call` returns (see
/// `SynchronousCompletion`) never enters it.
final class CompletionTable: Sendable {
    static let shared = CompletionTable()

    /// Who issued a context, kept a while after the instance is gone (`retire`), because a
    /// broken plugin may complete long after its instance was destroyed.
    final class Issuer: Sendable {
        let engineName: String
        let logger: Logger
        let strayCompletions = Atomic<Int>(0)
        /// Calls of this instance between entering `call` and being either answered at once or
        /// `adopt`ed: a completion from another thread meanwhile is kept for its call to adopt.
        let callsStarting = Atomic<Int>(0)

        init(engineName: String, logger: Logger) {
            self.engineName = engineName
            self.logger = logger
        }
    }

    private struct State {
        var pending: [UInt64: PendingCall] = [:]
        /// Calls whose result may come in pieces (`call_in_pieces`).
        var inPieces: [UInt64: PieceReceiver] = [:]
        /// Completions that came from another thread while their call was still inside `call`.
        var early: [UInt64: Result<[UInt8], EngineError>] = [:]
        var issuers: [UInt64: Issuer] = [:]
        /// Destroyed instances' issuers, oldest first; past `retiredKept`, the oldest is forgotten.
        var retired: [UInt64] = []
        var nextIssuer: UInt64 = 1
    }

    /// How many destroyed instances stay known by name to the stray-completion log: a server
    /// that creates and destroys sessions all day keeps a bounded table.
    static let retiredKept = 1024

    private static let callBits: UInt64 = 40
    private let state = Mutex(State())

    /// A number for a new instance; its calls' contexts carry it.
    func register(_ issuer: Issuer) -> UInt64 {
        state.withLock { state in
            let id = state.nextIssuer
            state.nextIssuer += 1
            state.issuers[id] = issuer
            return id
        }
    }

    /// The instance is destroyed: its issuer is forgotten once `retiredKept` newer ones were
    /// retired, and a completion after that is logged without the engine's name.
    func retire(_ issuer: UInt64) {
        state.withLock { state in
            state.retired.append(issuer)
            guard state.retired.count > Self.retiredKept else { return }
            state.issuers.removeValue(forKey: state.retired.removeFirst())
        }
    }

    /// The completion context of an instance's call.
    static func context(issuer: UInt64, serial: UInt64) -> UInt64 {
        issuer << callBits | (serial & (1 << callBits - 1))
    }

    /// Makes `call` completable under its `context` before the plugin is entered.
    func issue(_ call: PendingCall, context: UInt64) {
        state.withLock { _ = $0.pending.updateValue(call, forKey: context) }
    }

    /// Makes a call that was still running when `call` returned completable, unless its
    /// completion already came from another thread meanwhile: then that completion is returned
    /// and nothing is registered.
    func adopt(_ call: PendingCall, context: UInt64) -> Result<[UInt8], EngineError>? {
        state.withLock { state in
            if let early = state.early.removeValue(forKey: context) { return early }
            state.pending[context] = call
            return nil
        }
    }

    /// Makes a call whose result may come in pieces completable, under its `context`.
    func issue(_ stream: PieceReceiver, context: UInt64) {
        state.withLock { _ = $0.inPieces.updateValue(stream, forKey: context) }
    }

    /// Whether the plugin may still complete the call with this context.
    func isOutstanding(_ context: UInt64) -> Bool {
        state.withLock { $0.pending[context] != nil || $0.inPieces[context] != nil }
    }

    /// Forgets a call the plugin never received (refused before entering it).
    func withdraw(_ context: UInt64) {
        state.withLock { state in
            state.pending.removeValue(forKey: context)
            state.inPieces.removeValue(forKey: context)
        }
    }

    /// Hands a piece to its call; a piece for a call already completed, or never issued, is
    /// logged as the plugin bug it is and answered with stop.
    func piece(_ context: UInt64, _ bytes: UnsafeBufferPointer<UInt8>) -> sb_piece_reply {
        guard let stream = state.withLock({ $0.inPieces[context] }) else {
            stray(context, "sent a piece of a call that was already completed")
            return SB_PIECE_STOP
        }
        return stream.receive(Array(bytes))
    }

    /// Hands a plugin's completion to its call, once; any further one is logged and ignored.
    func complete(_ context: UInt64, _ result: @autoclosure () -> Result<[UInt8], EngineError>) {
        enum Found { case call(PendingCall), stream(PieceReceiver), kept, nothing }
        var strays: [UInt64] = []
        let found = state.withLock { state -> Found in
            if let call = state.pending.removeValue(forKey: context) { return .call(call) }
            if let stream = state.inPieces.removeValue(forKey: context) { return .stream(stream) }
            strays = Self.removeStrays(&state)
            guard let issuer = state.issuers[context >> Self.callBits], issuer.callsStarting.load(ordering: .acquiring) > 0,
                  state.early[context] == nil else { return .nothing }
            state.early[context] = result()
            return .kept
        }
        strays.forEach { stray($0, "completed a call that was already completed") }
        switch found {
        case .call(let call): _ = call.settle(result())
        case .stream(let stream): stream.finish(result())
        case .kept: return
        case .nothing: stray(context, "completed a call that was already completed")
        }
    }

    /// Completions kept for a call to adopt whose instance has no call starting any more: no
    /// call will adopt them, so they were a plugin's second completion of a call answered at once.
    private static func removeStrays(_ state: inout State) -> [UInt64] {
        guard !state.early.isEmpty else { return [] }
        let strays = state.early.keys.filter { context in
            (state.issuers[context >> callBits]?.callsStarting.load(ordering: .acquiring) ?? 0) == 0
        }
        strays.forEach { state.early.removeValue(forKey: $0) }
        return strays
    }

    /// Logs the kept completions that turned out to be strays (`removeStrays`); the status query
    /// looks, so that its count of stray completions is current.
    func reportStrays() {
        let strays = state.withLock { Self.removeStrays(&$0) }
        strays.forEach { stray($0, "completed a call that was already completed") }
    }

    /// Logs and counts a plugin's completion (or piece) that no call waits for.
    func stray(_ context: UInt64, _ what: String) {
        let serial = context & (1 << Self.callBits - 1)
        guard let issuer = state.withLock({ $0.issuers[context >> Self.callBits] }) else {
            Logger(label: "switchboard.engines").error("a plugin answered a call with a context the host never issued; ignored", metadata: ["context": "\(context)"])
            return
        }
        issuer.strayCompletions.add(1, ordering: .relaxed)
        issuer.logger.error("plugin bug: engine \(what); ignored", metadata: [
            "engine": "\(issuer.engineName)", "call": "\(serial)",
        ])
    }
}
