import Dispatch
import Synchronization
import SwitchboardIsolation

#if canImport(Glibc)
import Glibc
#endif

/// Says when a child has exited, from its pidfd, which becomes readable then whatever the child's
/// own children hold open (a plugin that forked keeps the socket open after the engine host died).
/// The pidfd is watched by Dispatch like any readable descriptor: no thread waits on it, and the
/// child is not reaped (`ChildProcess.waitForExit` still reads its status).
final class ChildExit: Sendable {
    private let state = Mutex(State())

    private struct State {
        var exited = false
        var waiting: [@Sendable () -> Void] = []
        var source: (any DispatchSourceRead)?
    }

    /// Watches a copy of `process`'s pidfd, closed when the watch ends; the pidfd itself stays the process's.
    init(_ process: ChildProcess) throws {
        let descriptor = dup(process.pidfd)
        guard descriptor >= 0 else { throw ChildExitFailure(errno: errno) }
        state.withLock { state in
            let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: .global())
            source.setEventHandler { [weak self] in self?.exited() }
            source.setCancelHandler { close(descriptor) }
            source.resume()
            state.source = source
        }
    }

    deinit {
        state.withLock { $0.source?.cancel() }
    }

    /// Runs `body` once the child has exited: now if it has, else on a Dispatch thread when it does.
    func whenExited(_ body: @escaping @Sendable () -> Void) {
        let now = state.withLock { state in
            if !state.exited { state.waiting.append(body) }
            return state.exited
        }
        if now { body() }
    }

    private func exited() {
        let waiting = state.withLock { state -> [@Sendable () -> Void] in
            state.exited = true
            state.source?.cancel()
            state.source = nil
            defer { state.waiting = [] }
            return state.waiting
        }
        for body in waiting { body() }
    }
}

struct ChildExitFailure: Error, CustomStringConvertible {
    let errno: Int32
    var description: String { "cannot watch the engine process's pidfd: \(String(cString: strerror(errno)))" }
}
