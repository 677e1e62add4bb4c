import ContactsEngineKit

#if canImport(Glibc)
import Glibc
#endif

/// The call a thread is inside, so that a plugin that completes it on that thread before `call`
/// returns (every engine answering from memory does) hands its result straight to the caller:
/// no continuation, no entry in the `CompletionTable`, no deadline, no cancellation handler.
/// Only a call still running when `call` returns pays for those (`InProcessEngineHandle`).
///
/// The slot lives on the caller's stack; the thread-specific value points to it only while the
/// plugin's `call` runs, and a completion for any other context, or from any other thread, does
/// not see it.
enum SynchronousCompletion {
    struct Slot {
        let context: UInt64
        var result: Result<[UInt8], EngineError>?
    }

    enum Offer {
        /// The result is the waiting caller's now.
        case taken
        /// The call was completed already, on this thread, inside this same `call`.
        case repeated
        /// No caller on this thread waits for this context: the completion goes to the table.
        case notHere
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `enter`, which calls into the plugin with `context`; the result, if the plugin
    /// completed the call on this thread before returning.
    static func awaiting(_ context: UInt64, _ enter: () -> Void) -> Result<[UInt8], EngineError>? {
        var slot = Slot(context: context)
        let outer = pthread_getspecific(key)
        withUnsafeMutablePointer(to: &slot) { pointer in
            pthread_setspecific(key, pointer)
            enter()
            pthread_setspecific(key, outer)
        }
        return slot.result
    }

    /// Offers a completion to the caller waiting on this thread, if it is this context's.
    static func offer(_ context: UInt64, _ result: () -> Result<[UInt8], EngineError>) -> Offer {
        guard let raw = pthread_getspecific(key) else { return .notHere }
        let slot = raw.assumingMemoryBound(to: Slot.self)
        guard slot.pointee.context == context else { return .notHere }
        guard slot.pointee.result == nil else { return .repeated }
        slot.pointee.result = result()
        return .taken
    }
}
