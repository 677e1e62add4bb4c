import Synchronization

/// Increasing numbers handed out once each, from any thread: call and instance numbers, unique
/// file names. (Not a metric: swift-metrics' `Counter` counts; this numbers.)
public final class SerialNumbers: Sendable {
    public init() {}

    private let value = Atomic<Int>(0)

    public func next() -> Int {
        value.add(1, ordering: .relaxed).newValue
    }
}
