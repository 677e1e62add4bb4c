import ServiceLifecycle
import SwitchboardEngineRuntime

/// The session manager as a service of the server's `ServiceGroup`. Listed before the HTTP
/// server, it shuts down after it: by then no request is in flight, so stopping every session
/// destroys its instances at once, and only then is the store closed. On a store shared with
/// other servers it follows their changes meanwhile.
extension SessionManager: Service {
    public func run() async throws {
        if let shared = store as? any SharedSessionStore {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.follow(shared) }
                // Cancellation ends the wait too; either way the sessions are stopped and the store closed.
                try? await gracefulShutdown()
                group.cancelAll()
            }
        } else {
            try? await gracefulShutdown()
        }
        await shutDown()
    }

    /// Serves each session the way the shared store now holds it: at every notification, and
    /// every `reconcileInterval` in case a notification was lost.
    private nonisolated func follow(_ store: any SharedSessionStore) async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await name in store.changes() {
                    if name.isEmpty { await self.reconcileAll() } else { await self.adopt(named: name) }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.reconcileInterval)
                    await self.reconcileAll()
                }
            }
        }
    }
}
