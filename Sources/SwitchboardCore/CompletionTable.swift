import ContactsEngineKit
import Logging
import Synchronization

/// The calls that plugins may still complete, by the number passed to them as completion context.
///
/// A plugin receives a number, never a pointer to host memory: a completion called twice, or
/// with a context the host never issued, finds nothing in the table and is logged as the plugin
/// bug it is instead of resuming a continuation twice or releasing freed memory. The number
/// carries the instance it belongs to (upper bits), so the log can name the engine and session.
final class CompletionTable: Sendable {
    static let shared = CompletionTable()

    /// Who issued a context, kept after the instance is gone (a few bytes each), because a
    /// broken plugin may complete long after its instance was destroyed.
    final class Issuer: Sendable {
        let engineName: String
        let logger: Logger
        let strayCompletions = Atomic<Int>(0)

        init(engineName: String, logger: Logger) {
            self.engineName = engineName
            self.logger = logger
        }
    }

    private struct State {
        var pending: [UInt64: PendingCall] = [:]
        var issuers: [UInt64: Issuer] = [:]
        var nextIssuer: UInt64 = 1
    }

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

    /// Makes `call` completable; the returned number is the completion context.
    func issue(_ call: PendingCall, issuer: UInt64, serial: UInt64) -> UInt64 {
        let context = issuer << Self.callBits | (serial & (1 << Self.callBits - 1))
        state.withLock { _ = $0.pending.updateValue(call, forKey: context) }
        return context
    }

    /// Whether the plugin may still complete the call with this context.
    func isOutstanding(_ context: UInt64) -> Bool {
        state.withLock { $0.pending[context] != nil }
    }

    /// Forgets a call the plugin never received (refused before entering it).
    func withdraw(_ context: UInt64) {
        state.withLock { _ = $0.pending.removeValue(forKey: context) }
    }

    /// Hands a plugin's completion to its call, once; any further one is logged and ignored.
    func complete(_ context: UInt64, _ result: @autoclosure () -> Result<[UInt8], EngineError>) {
        let found = state.withLock { state -> (PendingCall?, Issuer?) in
            if let call = state.pending.removeValue(forKey: context) { return (call, nil) }
            return (nil, state.issuers[context >> Self.callBits])
        }
        if let call = found.0 {
            call.settle(result())
            return
        }
        let serial = context & (1 << Self.callBits - 1)
        guard let issuer = found.1 else {
            Logger(label: "switchboard.engines").error("a plugin completed a call with a context the host never issued; ignored", metadata: ["context": "\(context)"])
            return
        }
        issuer.strayCompletions.add(1, ordering: .relaxed)
        issuer.logger.error("plugin bug: engine completed a call that was already completed; ignored", metadata: [
            "engine": "\(issuer.engineName)", "call": "\(serial)",
        ])
    }
}
