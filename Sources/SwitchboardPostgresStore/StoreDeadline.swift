import Logging
import Synchronization

/// Every operation of the session store within one bound, and no write applied after its caller
/// was told it failed. PostgreSQL's client waits for a connection for as long as the database is
/// down, so without a bound a session change would hang for the whole outage and then be applied
/// behind its client's back.
///
/// - A write runs in a transaction and must `claim` its commit before COMMIT is sent. The
///   deadline and the claim are decided under one lock: a write the deadline answered first
///   rolls back instead of committing, whenever its connection comes.
/// - Once an operation has gone unanswered, the database is known to be down: later operations
///   fail at once (so changes queued behind the first do not each wait out the bound) until a
///   probe of its own sees the database answer again.
final class StoreDeadline: Sendable {
    let timeout: Duration
    private let database: String
    /// A cheap query that succeeds when the database answers (`SELECT 1`).
    private let probe: @Sendable () async throws -> Void
    private let logger: Logger
    /// Since when the database has not answered; nil while it does.
    private let down = Mutex<ContinuousClock.Instant?>(nil)

    init(timeout: Duration, database: String, logger: Logger, probe: @escaping @Sendable () async throws -> Void) {
        self.timeout = timeout
        self.database = database
        self.logger = logger
        self.probe = probe
    }

    /// Runs `body` within the bound; past it, or while the database is known to be down, throws
    /// `StoreUnavailable`. A write calls `claim()` on its `WriteClaim` right before committing.
    func run<T: Sendable>(_ body: @escaping @Sendable (WriteClaim) async throws -> T) async throws -> T {
        if let since = down.withLock({ $0 }) { throw StoreUnavailable(database: database, reason: .down(since: since), outcome: .notApplied) }
        let claim = WriteClaim()
        do {
            return try await Self.first(of: { try await body(claim) }, within: timeout) {
                let outcome = claim.abandon()
                // A write still waiting for its connection gives it up (cancelled); one already
                // committing is left to finish, since cancelling would not make its outcome known.
                return (StoreUnavailable(database: self.database, reason: .noAnswer(within: self.timeout), outcome: outcome), outcome == .notApplied)
            }
        } catch let error as StoreUnavailable {
            wentDown()
            throw error
        } catch {
            // A connection cut under the query, a server refusing it: the caller learns whether
            // the commit had been sent.
            throw StoreUnavailable(database: database, reason: .failed(String(reflecting: error)), outcome: claim.outcomeOfFailure)
        }
    }

    /// Marks the database down, once, and probes it until it answers again.
    private func wentDown() {
        let first = down.withLock { since in
            guard since == nil else { return false }
            since = .now
            return true
        }
        guard first else { return }
        logger.error("session store unavailable: session changes answer 503 until it answers again", metadata: [
            "store": "\(database)", "timeout": "\(timeout)",
        ])
        Task {
            while true {
                try? await Task.sleep(for: .seconds(1))
                let probe = self.probe
                let answered = (try? await Self.first(of: { try await probe() }, within: timeout) { (Late(), true) }) != nil
                if answered { break }
            }
            let since = down.withLock { $0.take() }
            logger.notice("session store answers again", metadata: [
                "store": "\(database)", "unavailableFor": "\(since.map { ContinuousClock.now - $0 } ?? .zero)",
            ])
        }
    }

    private struct Late: Error {}

    /// The answer of `work`, or past `timeout` the error `late` gives, cancelling the work if it
    /// says so. Not a task group: a group would wait for its children, and a query waiting for a
    /// connection is the very thing that must not be waited for.
    private static func first<T: Sendable>(
        of work: @escaping @Sendable () async throws -> T, within timeout: Duration,
        late: @escaping @Sendable () -> (any Error, cancel: Bool)
    ) async throws -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
            let answer = FirstAnswer(continuation)
            let running = Task {
                let result: Result<T, any Error>
                do { result = .success(try await work()) } catch { result = .failure(error) }
                answer.give(result)
            }
            Task {
                try? await Task.sleep(for: timeout)
                // When the work answered first, `late` still runs; it only marks a claim that is no longer used.
                let (error, cancel) = late()
                if answer.give(.failure(error)), cancel { running.cancel() }
            }
        }
        return try result.get()
    }
}

/// Whether a write may still commit: decided once, by the write claiming it or by the deadline.
final class WriteClaim: Sendable {
    private let state = Mutex(State.pending)
    private enum State { case pending, committing, abandoned }

    /// Called inside the transaction right before COMMIT; throws (rolling the transaction back)
    /// when the deadline has answered the caller already.
    func claim() throws {
        let claimed = state.withLock { state in
            guard state == .pending else { return false }
            state = .committing
            return true
        }
        guard claimed else { throw Abandoned() }
    }

    /// What a write that failed may have done: only one that failed during COMMIT may have been applied.
    var outcomeOfFailure: StoreUnavailable.Outcome {
        state.withLock { $0 == .committing ? .unknown : .notApplied }
    }

    /// Called by the deadline: what the caller may be told about the write.
    func abandon() -> StoreUnavailable.Outcome {
        state.withLock { state in
            switch state {
            case .pending, .abandoned:
                state = .abandoned
                return .notApplied
            case .committing:
                return .unknown
            }
        }
    }

    /// Thrown inside the transaction, which rolls it back.
    struct Abandoned: Error {}
}

/// The answer to a session change the store could not make in time; the API answers it `503`.
public struct StoreUnavailable: Error, CustomStringConvertible {
    enum Reason {
        case noAnswer(within: Duration)
        case down(since: ContinuousClock.Instant)
        case failed(String)
    }

    public enum Outcome: Sendable, Equatable {
        /// Rolled back or never sent: retrying is safe.
        case notApplied
        /// The commit was on its way when the bound ran out: it may have been applied.
        case unknown
    }

    let database: String
    let reason: Reason
    public let outcome: Outcome

    public var description: String {
        let why = switch reason {
        case .noAnswer(let timeout): "\(database) did not answer within \(timeout)"
        case .down(let since): "\(database) has not answered for \(ContinuousClock.now - since)"
        case .failed(let error): "\(database) failed: \(error)"
        }
        let applied = switch outcome {
        case .notApplied: "the change was not applied"
        case .unknown: "the change was being committed and may have been applied; read the session to see"
        }
        return "\(why); \(applied)"
    }
}

/// Resumes a continuation with the first of several answers.
private final class FirstAnswer<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Result<T, any Error>, Never>?>

    init(_ continuation: CheckedContinuation<Result<T, any Error>, Never>) { self.continuation = Mutex(continuation) }

    /// Whether this answer was the first.
    @discardableResult
    func give(_ result: Result<T, any Error>) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(returning: result)
        return true
    }
}
