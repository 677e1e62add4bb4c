import ContactsEngineKit
import Foundation
import Synchronization

/// The threads of one plugin's own: the only threads that enter that plugin's code.
///
/// A plugin that blocks inside `call`, `status` or `create` holds one of these threads and
/// nothing else: the event loops and the two threads of Swift's concurrency pool never run
/// plugin code, so `/ping` and every other engine keep answering. At most `limit` threads may
/// be inside the plugin at once; further entries wait in a queue of at most `queueLimit`, and
/// past that are refused at once, so a plugin that hangs on every call costs a bounded number
/// of threads and a bounded amount of memory.
public final class PluginThreads: @unchecked Sendable {
    public struct Limits: Sendable, Hashable {
        /// Threads that may be inside one plugin at once.
        public var threads: Int
        /// Entries that may wait for one of those threads.
        public var queue: Int

        public init(threads: Int = 4, queue: Int = 4096) {
            self.threads = threads
            self.queue = queue
        }
    }

    public let limits: Limits
    private let label: String
    /// Where `run`'s waits keep their deadlines.
    private let deadlines: CallDeadlines
    private let condition = NSCondition()
    /// At most `limits.queue` long, so taking the first costs little.
    private var jobs: [@Sendable () -> Void] = []
    private var threadCount = 0
    private var idleCount = 0
    /// How long an idle thread waits for work before it ends.
    private static let idleLifetime: TimeInterval = 30

    public init(label: String, limits: Limits, deadlines: CallDeadlines) {
        self.label = label
        self.deadlines = deadlines
        self.limits = limits
    }

    /// Threads now running plugin code or waiting inside it.
    public var busyThreads: Int {
        condition.lock()
        defer { condition.unlock() }
        return threadCount - idleCount
    }

    /// Runs `job` on one of the plugin's threads; false when the queue is full.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard jobs.count < limits.queue else { return false }
        jobs.append(job)
        if idleCount > 0 {
            condition.signal()
        } else if threadCount < limits.threads {
            threadCount += 1
            let thread = Thread { [self] in work() }
            thread.name = "switchboard-plugin-\(label)"
            thread.start()
        }
        return true
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty {
                idleCount += 1
                let woken = condition.wait(until: Date(timeIntervalSinceNow: Self.idleLifetime))
                idleCount -= 1
                if !woken, jobs.isEmpty {
                    threadCount -= 1
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
            condition.lock()
        }
    }
}

extension PluginThreads {
    func saturated(_ engineName: String) -> EngineError {
        EngineError(.unavailable, "engine \"\(engineName)\" is saturated: \(limits.threads) threads are inside the plugin and \(limits.queue) more entries wait")
    }

    /// Runs `body` on one of the plugin's threads and waits at most `timeout` for what it returns.
    /// When the wait gives up first, `abandoned` gets the value once the plugin returns it.
    func run<T: Sendable>(
        engineName: String, operation: String, timeout: Duration,
        _ body: @escaping @Sendable () -> T, abandoned: @escaping @Sendable (T) -> Void = { _ in }
    ) async throws(EngineError) -> T {
        let call = PendingCall(engineName: engineName, operation: operation, timeout: timeout, deadlines: deadlines)
        let answer = Answer<T>()
        let result = await withUnsafeContinuation { continuation in
            call.install(continuation)
            call.arm()
            let accepted = submit {
                guard !call.isSettled else { return }
                let value = body()
                answer.value.withLock { $0 = value }
                if !call.settle(.success([])) { abandoned(value) }
            }
            if !accepted { call.settle(.failure(saturated(engineName))) }
        }
        _ = try result.get()
        guard let value = answer.value.withLock({ $0 }) else {
            throw EngineError(.internal, "engine \"\(engineName)\": \(operation) settled without a value")
        }
        return value
    }
}

private final class Answer<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}
