import Logging
import Synchronization
import SwitchboardEngineRuntime

#if canImport(Glibc)
import Glibc
#endif

/// `serve` ends by returning from its `run`; an `exit()` while it serves comes from code running
/// inside the server, an in-process plugin most likely, and would otherwise end it silently with
/// the plugin's status (often 0, which a supervisor restarting on failure takes for a clean stop).
/// While armed, an exit handler logs which engine and session's call the exiting thread was
/// inside, and ends the process with `status` instead.
enum UnexpectedExit {
    /// EX_SOFTWARE: an internal software error.
    static let status: Int32 = 70

    private static let armed = Mutex<Logger?>(nil)
    private static let registered = Mutex(false)

    static func arm(_ logger: Logger) {
        armed.withLock { $0 = logger }
        let first = registered.withLock { registered in
            defer { registered = true }
            return !registered
        }
        if first { atexit { UnexpectedExit.exiting() } }
    }

    /// Called once `serve` is done: its own exit, with its own status, follows.
    static func disarm() {
        armed.withLock { $0 = nil }
    }

    private static func exiting() {
        guard let logger = armed.withLock({ $0 }) else { return }
        if let inside = PluginEntry.current {
            logger.critical(
                "engine \"\(inside.engine)\" called exit() inside a call of session \"\(inside.session)\": the in-process plugin ended the server; exiting with status \(status)",
                metadata: ["engine": "\(inside.engine)", "session": "\(inside.session)"])
        } else {
            logger.critical("exit() was called while serving, not from inside an engine's call (a thread of an in-process plugin?); exiting with status \(status)")
        }
        // Not `exit`: calling it again from an exit handler is undefined.
        _exit(status)
    }
}
