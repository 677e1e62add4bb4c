import Synchronization

/// A thread-safe increasing number, for unique names and generations.
public final class Counter: Sendable {
    public init() {}

    private let value = Atomic<Int>(0)

    public func next() -> Int {
        value.add(1, ordering: .relaxed).newValue
    }
}
