import ContactsEngineKit
import Foundation
import Synchronization

/// One call in flight (or one query or create waiting on a plugin thread). Settled exactly once:
/// by the plugin's answer, by its deadline, or by its caller going away, whichever comes first;
/// the others are ignored. When the host stops waiting, the abandon hook tells the engine (the
/// ABI's `cancel`).
public final class PendingCall: @unchecked Sendable {
    public typealias Continuation = UnsafeContinuation<Result<[UInt8], EngineError>, Never>

    let deadline: ContinuousClock.Instant
    /// The watchdog that settles the call at its deadline, once the call is `armed`.
    private let deadlines: CallDeadlines
    // What the timeout message names; the message itself is written only if the call times out.
    private let engineName: String
    private let operation: String
    private let timeout: Duration
    private let continuation = Mutex<Continuation?>(nil)
    private let abandonHook = Mutex<(@Sendable () -> Void)?>(nil)
    /// Position in `CallDeadlines`' heap; only touched under its lock.
    var heapIndex = -1

    public init(engineName: String, operation: String, timeout: Duration, deadlines: CallDeadlines) {
        self.deadline = .now + timeout
        self.deadlines = deadlines
        self.engineName = engineName
        self.operation = operation
        self.timeout = timeout
    }

    public func install(_ continuation: Continuation) {
        self.continuation.withLock { $0 = continuation }
    }

    public var isSettled: Bool { continuation.withLock { $0 == nil } }

    /// Starts the clock's watch: from now on the call expires at its deadline if nothing settles it first.
    public func arm() {
        deadlines.add(self)
    }

    /// What to run if the host stops waiting before the answer: at the deadline, or on `abandon`.
    public func whenAbandoned(_ hook: @escaping @Sendable () -> Void) {
        abandonHook.withLock { $0 = hook }
    }

    /// The caller went away (its task was cancelled): settles the call and runs the abandon hook.
    public func abandon() {
        guard let waiting = continuation.withLock({ $0.take() }) else { return }
        deadlines.remove(self)
        waiting.resume(returning: .failure(EngineError(.unavailable, "the caller of \(operation) went away")))
        abandonHook.withLock { $0.take() }?()
    }

    /// False when the call was already settled, by its deadline or before.
    @discardableResult
    public func settle(_ result: Result<[UInt8], EngineError>) -> Bool {
        guard let waiting = continuation.withLock({ $0.take() }) else { return false }
        deadlines.remove(self)
        abandonHook.withLock { $0 = nil }
        waiting.resume(returning: result)
        return true
    }

    func expire() {
        guard let waiting = continuation.withLock({ $0.take() }) else { return }
        let message = "engine \"\(engineName)\" did not answer \(operation) within \(timeout.seconds) s"
        waiting.resume(returning: .failure(EngineError(.timeout, message)))
        abandonHook.withLock { $0.take() }?()
    }
}

/// The deadlines of one runtime's calls: a min-heap ordered by deadline, so adding and removing
/// a call costs O(log n) and no timer or task is created per call.
///
/// Its watchdog thread runs only while some call waits on a deadline: it starts with the first
/// one and ends once the heap has stayed empty for a second. A call answered before `call`
/// returns (every in-memory engine's) is never added, so an idle or fast server has no watchdog
/// at all, and a runtime that is dropped leaves no thread behind.
public final class CallDeadlines: @unchecked Sendable {
    private let condition = NSCondition()
    private var heap: [PendingCall] = []
    private var watching = false
    /// When the watchdog will next look; a call due earlier must wake it.
    private var plannedWake = ContinuousClock.Instant.now
    private static let idleWait = Duration.seconds(1)

    public init() {}

    /// Whether the watchdog thread is running now.
    public var isWatching: Bool {
        condition.lock()
        defer { condition.unlock() }
        return watching
    }

    func add(_ call: PendingCall) {
        condition.lock()
        call.heapIndex = heap.count
        heap.append(call)
        siftUp(heap.count - 1)
        if !watching {
            watching = true
            let thread = Thread { [self] in watch() }
            thread.name = "switchboard-call-deadlines"
            thread.start()
        } else if call.deadline < plannedWake {
            condition.signal()
        }
        condition.unlock()
    }

    func remove(_ call: PendingCall) {
        condition.lock()
        defer { condition.unlock() }
        let index = call.heapIndex
        guard index >= 0, index < heap.count, heap[index] === call else { return }
        let last = heap.removeLast()
        call.heapIndex = -1
        guard index < heap.count else { return }
        heap[index] = last
        last.heapIndex = index
        siftDown(index)
        siftUp(index)
    }

    private func watch() {
        condition.lock()
        while true {
            let now = ContinuousClock.Instant.now
            var expired: [PendingCall] = []
            while let first = heap.first, first.deadline <= now {
                expired.append(first)
                removeFirst()
            }
            if !expired.isEmpty {
                condition.unlock()
                expired.forEach { $0.expire() }
                condition.lock()
                continue
            }
            if heap.isEmpty, now >= plannedWake {
                watching = false
                condition.unlock()
                return
            }
            plannedWake = min(heap.first?.deadline ?? now + Self.idleWait, now + Self.idleWait)
            _ = condition.wait(until: Date(timeIntervalSinceNow: (plannedWake - now).seconds))
        }
    }

    private func removeFirst() {
        let first = heap[0]
        let last = heap.removeLast()
        first.heapIndex = -1
        guard !heap.isEmpty else { return }
        heap[0] = last
        last.heapIndex = 0
        siftDown(0)
    }

    private func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }

    private func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        heap[a].heapIndex = a
        heap[b].heapIndex = b
    }
}
