import ServiceLifecycle

/// The session manager as a service of the server's `ServiceGroup`. Listed before the HTTP
/// server, it shuts down after it: by then no request is in flight, so stopping every session
/// destroys its instances at once, and only then is the store closed.
extension SessionManager: Service {
    public func run() async throws {
        // Cancellation ends the wait too; either way the sessions are stopped and the store closed.
        try? await gracefulShutdown()
        await shutDown()
    }
}
