@_spi(SwitchboardHost) import ContactsEngineKit
import SwitchboardEngineRuntime

/// Why a call through a session did not produce a result.
public enum SessionCallError: Error, Sendable {
    case session(SessionError)
    /// The session's engine does not serve the feature (its descriptor or its instance says so).
    case unsupported(engine: String, feature: Feature)
    case engine(engine: String, EngineError)
    /// No member of a composite's route serves the feature now; `route` is what the route names.
    case unrouted(session: String, feature: Feature, route: [String])
    /// A composite's member failed, and the call could not go on to another member.
    case member(MemberFailure)
    /// A mirrored write that not every member acknowledged; what the others did is not undone.
    case mirrorIncomplete(feature: Feature, acknowledged: [String], failed: [MemberFailure])
}

/// One member's failure in a composite session.
public struct MemberFailure: Sendable {
    public let member: String
    public let engine: String
    public let error: EngineError
}

/// A result, and the composite member that answered it (nil on a single-engine session; every
/// member, in route order, for a mirrored write).
public struct RoutedResult<Result: Sendable>: Sendable {
    public let result: Result
    public let members: [String]
}

extension Session {
    /// One operation's result, typed, from the session's current engine instance (or the
    /// composite member its routing plan names). A swap that happens meanwhile does not affect
    /// it: the instance it entered stays alive until it leaves.
    public func route<Operation: EngineOperation>(
        _ operation: Operation.Type, _ request: Operation.Request
    ) async throws(SessionCallError) -> RoutedResult<Operation.Result> {
        try await routeCall(operation) { active, onContractBreak async throws(EngineError) in
            try await active.handle.checkedResult(operation, request, onContractBreak: onContractBreak)
        }
    }

    /// `route`, giving the answer's JSON (`EngineHandle.checkedAnswer`).
    public func routeAnswer<Operation: EngineOperation>(
        _ operation: Operation.Type, _ request: Operation.Request
    ) async throws(SessionCallError) -> RoutedResult<[UInt8]> {
        try await routeCall(operation) { active, onContractBreak async throws(EngineError) in
            try await active.handle.checkedAnswer(operation, request, onContractBreak: onContractBreak)
        }
    }

    /// A list operation's answer in checked pieces (`EngineHandle.checkedAnswerInPieces`),
    /// routed as `routeAnswer` is: a member that fails before its first piece is passed over as
    /// there. The instance that answers stays entered (a swap drains it) until the pieces are closed.
    public func routeAnswerInPieces<Operation: EngineOperation>(
        _ operation: Operation.Type, _ request: Operation.Request
    ) async throws(SessionCallError) -> RoutedResult<CheckedPieces> where Operation.Result: RangeReplaceableCollection {
        try await routeCall(operation) { active, onContractBreak async throws(EngineError) in
            let pieces = try await active.handle.checkedAnswerInPieces(operation, request, onContractBreak: onContractBreak)
            if !pieces.isWhole {
                active.enter()
                pieces.whenClosed { active.leave() }
            }
            return pieces
        }
    }

    /// What one instance is asked: the operation, typed, as its answer's JSON, or in pieces.
    private typealias Call<Answer> = @Sendable (ActiveInstance, @escaping @Sendable () -> Void) async throws(EngineError) -> Answer

    /// Enters the session's route for the operation's feature and asks the instance, the
    /// members in order, or every member of a mirrored write.
    private func routeCall<Operation: EngineOperation, Answer: Sendable>(
        _ operation: Operation.Type, _ body: @escaping Call<Answer>
    ) async throws(SessionCallError) -> RoutedResult<Answer> {
        let start = ContinuousClock.now
        let entered: EnteredRoute
        switch enter(for: Operation.feature) {
        case .success(let route): entered = route
        case .failure(let error):
            metrics.call(engine: record.engine, feature: Operation.feature, outcome: "not-working", duration: .now - start)
            throw .session(error)
        }
        defer { entered.leave() }
        switch entered {
        case .single(let active):
            return RoutedResult(result: try await single(operation, body, on: active, start: start), members: [])
        case .members(let members, let mirror, let route):
            if mirror, !Operation.feature.isIdempotentRead {
                return try await mirrored(operation, body, to: members, route: route, start: start)
            }
            return try await routed(operation, body, through: members, route: route, start: start)
        }
    }

    private func single<Operation: EngineOperation, Answer: Sendable>(
        _ operation: Operation.Type, _ body: Call<Answer>, on active: ActiveInstance, start: ContinuousClock.Instant
    ) async throws(SessionCallError) -> Answer {
        let engine = active.engine.metadata.name
        guard active.engine.metadata.features.contains(Operation.feature) else {
            metrics.call(engine: engine, feature: Operation.feature, outcome: "unsupported", duration: .now - start)
            throw .unsupported(engine: engine, feature: Operation.feature)
        }
        switch await attempt(operation, body, on: active, member: nil, start: start) {
        case .success(let result): return result
        case .failure(let error) where error.kind == .notImplemented: throw .unsupported(engine: engine, feature: Operation.feature)
        case .failure(let error): throw .engine(engine: engine, error)
        }
    }

    /// The route's members in order: one that does not serve the feature now (it answers
    /// not-implemented, having done nothing) is passed over; one that is unavailable or times out
    /// is passed over for a read only; any other answer is the call's.
    private func routed<Operation: EngineOperation, Answer: Sendable>(
        _ operation: Operation.Type, _ body: Call<Answer>, through members: [(name: String, instance: ActiveInstance)],
        route: [String], start: ContinuousClock.Instant
    ) async throws(SessionCallError) -> RoutedResult<Answer> {
        var fellThrough: MemberFailure?
        for (member, instance) in members {
            let failure: MemberFailure
            switch await attempt(operation, body, on: instance, member: member, start: start) {
            case .success(let result): return RoutedResult(result: result, members: [member])
            case .failure(let error) where error.kind == .notImplemented: continue
            case .failure(let error): failure = MemberFailure(member: member, engine: instance.engine.metadata.name, error: error)
            }
            guard Operation.feature.isIdempotentRead, [.unavailable, .timeout].contains(failure.error.kind) else { throw .member(failure) }
            fellThrough = failure
        }
        if let fellThrough { throw .member(fellThrough) }
        throw .unrouted(session: name, feature: Operation.feature, route: route)
    }

    /// A write sent to every member of the route at once; it succeeds when all acknowledge.
    private func mirrored<Operation: EngineOperation, Answer: Sendable>(
        _ operation: Operation.Type, _ body: @escaping Call<Answer>, to members: [(name: String, instance: ActiveInstance)],
        route: [String], start: ContinuousClock.Instant
    ) async throws(SessionCallError) -> RoutedResult<Answer> {
        guard !members.isEmpty else { throw .unrouted(session: name, feature: Operation.feature, route: route) }
        let outcomes = await withTaskGroup(of: (Int, Result<Answer, EngineError>).self) { group in
            for (index, member) in members.enumerated() {
                group.addTask { (index, await self.attempt(operation, body, on: member.instance, member: member.name, start: start)) }
            }
            var outcomes: [Result<Answer, EngineError>?] = Array(repeating: nil, count: members.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.compactMap { $0 }
        }
        var acknowledged: [String] = []
        var failed: [MemberFailure] = []
        var result: Answer?
        for (member, outcome) in zip(members, outcomes) {
            switch outcome {
            case .success(let answer):
                acknowledged.append(member.name)
                result = result ?? answer
            case .failure(let error):
                failed.append(MemberFailure(member: member.name, engine: member.instance.engine.metadata.name, error: error))
            }
        }
        if let result, failed.isEmpty { return RoutedResult(result: result, members: acknowledged) }
        if acknowledged.isEmpty, failed.count == 1 { throw .member(failed[0]) }
        throw .mirrorIncomplete(feature: Operation.feature, acknowledged: acknowledged, failed: failed)
    }

    /// One call to one instance, counted by engine (and member, in a composite).
    private func attempt<Operation: EngineOperation, Answer: Sendable>(
        _: Operation.Type, _ body: Call<Answer>, on active: ActiveInstance, member: String?, start: ContinuousClock.Instant
    ) async -> Result<Answer, EngineError> {
        let engine = active.engine.metadata.name
        let outcome: Result<Answer, EngineError>
        do {
            outcome = .success(try await body(active) { active.contractBreaks.add(1, ordering: .relaxed) })
        } catch {
            outcome = .failure(error)
        }
        let label = switch outcome {
        case .success: "ok"
        case .failure(let error) where error.kind == .notImplemented: "unsupported"
        case .failure(let error): error.kind.name
        }
        metrics.call(engine: engine, feature: Operation.feature, outcome: label, duration: .now - start)
        if let member { metrics.memberCall(session: name, member: member, feature: Operation.feature, outcome: label) }
        return outcome
    }
}
