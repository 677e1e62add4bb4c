import Synchronization

/// Defers an engine's teardown until its last call has returned.
///
/// The host may destroy an instance while calls are still in flight (after they timed out, or
/// in a swap), and the ABI requires each of them to complete. An engine holding a resource
/// those calls use (an HTTP client that must be shut down, a database) runs every call through
/// `serve` and calls `close` from `shutdown()`: `release` then runs once, when the instance is
/// closed and no call is inside, and a call that arrives after `close` answers unavailable.
///
/// ```swift
/// private let gate = ShutdownGate()
///
/// func shutdown() { gate.close { try? await http.shutdown() } }
/// func contact(_ request: ContactRequest) async throws -> Contact {
///     try await gate.serve { try await fetch(request) }
/// }
/// ```
public final class ShutdownGate: Sendable {
    private struct State {
        var inside = 0
        var release: (@Sendable () async -> Void)?
        var closed = false
    }
    private let state = Mutex(State())
    private let closedMessage: String

    /// `closedMessage` is what a call arriving after `close` answers, as unavailable.
    public init(closedMessage: String = "the engine is shut down") {
        self.closedMessage = closedMessage
    }

    /// Calls in flight now.
    public var callsInside: Int { state.withLock { $0.inside } }

    /// Runs one call, counted, unless the gate is closed.
    public func serve<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try enter()
        defer { leave() }
        return try await body()
    }

    /// Counts one call in, for code that cannot pass a closure to `serve`; pair it with `leave`.
    public func enter() throws(EngineError) {
        try state.withLock { (state) throws(EngineError) in
            guard !state.closed else { throw EngineError(.unavailable, closedMessage) }
            state.inside += 1
        }
    }

    /// Closes the gate; `release` runs once the last call inside has returned (at once when none is).
    public func close(release: @escaping @Sendable () async -> Void) {
        let releaseNow = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.closed = true
            guard state.inside == 0 else {
                state.release = release
                return false
            }
            return true
        }
        if releaseNow { Task { await release() } }
    }

    /// Counts one call out; the last one out of a closed gate runs its release.
    public func leave() {
        let release = state.withLock { state -> (@Sendable () async -> Void)? in
            state.inside -= 1
            guard state.inside == 0 else { return nil }
            return state.release.take()
        }
        if let release { Task { await release() } }
    }
}
