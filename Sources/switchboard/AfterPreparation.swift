import ServiceLifecycle

/// Runs a service once a preparation has succeeded: `serve` opens its port only after the
/// sessions are restored, and the restore needs services of the group (the session store's
/// connections) already running. A failed preparation ends the group with its error.
struct AfterPreparation<Wrapped: Service>: Service {
    let wrapped: Wrapped
    let prepare: @Sendable () async throws -> Void

    init(_ wrapped: Wrapped, prepare: @escaping @Sendable () async throws -> Void) {
        self.wrapped = wrapped
        self.prepare = prepare
    }

    func run() async throws {
        try await prepare()
        try await wrapped.run()
    }
}
