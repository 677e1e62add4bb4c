import ContactsEngineKit

/// Why a call through a session did not produce a result.
public enum SessionCallError: Error, Sendable {
    case session(SessionError)
    /// The session's engine does not serve the feature (its descriptor or its instance says so).
    case unsupported(engine: String, feature: Feature)
    case engine(engine: String, EngineError)
}

extension Session {
    /// Runs one operation on the session's current engine instance. A swap that happens
    /// meanwhile does not affect it: the instance it entered stays alive until it leaves.
    public func perform<Operation: EngineOperation>(
        _ operation: Operation.Type, _ request: Operation.Request
    ) async throws(SessionCallError) -> Operation.Result {
        try await call(operation) { handle, onContractBreak async throws(EngineError) in
            try await handle.perform(operation, request, onContractBreak: onContractBreak)
        }
    }

    /// Runs one operation as `perform` does, giving the answer's JSON (`EngineHandle.performAnswer`).
    public func performAnswer<Operation: EngineOperation>(
        _ operation: Operation.Type, _ request: Operation.Request
    ) async throws(SessionCallError) -> [UInt8] {
        try await call(operation) { handle, onContractBreak async throws(EngineError) in
            try await handle.performAnswer(operation, request, onContractBreak: onContractBreak)
        }
    }

    private func call<Operation: EngineOperation, Answer>(
        _: Operation.Type, _ body: (any EngineHandle, () -> Void) async throws(EngineError) -> Answer
    ) async throws(SessionCallError) -> Answer {
        let start = ContinuousClock.now
        let active: ActiveInstance
        switch enterActive() {
        case .success(let instance): active = instance
        case .failure(let error):
            metrics.call(engine: record.engine, feature: Operation.feature, outcome: "not-working", duration: .now - start)
            throw .session(error)
        }
        defer { active.leave() }
        let engine = active.engine.metadata.name
        func count(_ outcome: String) {
            metrics.call(engine: engine, feature: Operation.feature, outcome: outcome, duration: .now - start)
        }
        guard active.engine.metadata.features.contains(Operation.feature) else {
            count("unsupported")
            throw .unsupported(engine: engine, feature: Operation.feature)
        }
        do {
            let answer = try await body(active.handle) { active.contractBreaks.add(1, ordering: .relaxed) }
            count("ok")
            return answer
        } catch where error.kind == .notImplemented {
            count("unsupported")
            throw .unsupported(engine: engine, feature: Operation.feature)
        } catch {
            count(error.kind.name)
            throw .engine(engine: engine, error)
        }
    }
}
