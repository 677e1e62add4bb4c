import CEngineSandbox
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// An engine process's standard output and error, read from a pipe on a thread of its own and
/// logged line by line with the engine and session, at most `linesPerSecond` lines a second of
/// at most `lineBytes` bytes each; what is dropped is counted and said. An engine that writes
/// without end costs the server one thread reading and discarding, never its log or its routes.
package final class EngineOutput: Sendable {
    static let linesPerSecond = 50
    static let lineBytes = 2048

    /// The end the child writes to (its descriptors 1 and 2); close it once the child has it.
    package let writeEnd: Int32

    package init(logger: Logger, label: String) throws {
        var ends: [Int32] = [0, 0]
        guard sbx_pipe(&ends) == 0 else { throw ChildFailure("pipe: \(String(cString: strerror(errno)))") }
        writeEnd = ends[1]
        let readEnd = ends[0]
        let thread = Thread { Self.relay(readEnd, to: logger) }
        thread.name = "switchboard-\(label)-output"
        thread.start()
    }

    /// Closes the server's copy of the write end, so the reader sees the end of the output when
    /// the child (and whatever it started) has gone.
    package func childHasIt() { close(writeEnd) }

    private static func relay(_ descriptor: Int32, to logger: Logger) {
        defer { close(descriptor) }
        var pending: [UInt8] = []
        var windowStart = ContinuousClock.now
        var logged = 0
        var dropped = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        func emit(_ line: ArraySlice<UInt8>) {
            let now = ContinuousClock.now
            if now - windowStart >= .seconds(1) {
                if dropped > 0 { logger.warning("engine output over the limit; lines dropped", metadata: ["dropped": "\(dropped)"]) }
                windowStart = now
                logged = 0
                dropped = 0
            }
            guard logged < linesPerSecond else {
                dropped += 1
                return
            }
            logged += 1
            let shown = line.prefix(lineBytes)
            var text = String(decoding: shown, as: UTF8.self)
            if line.count > lineBytes { text += " … (cut at \(lineBytes) bytes)" }
            logger.notice("\(text)")
        }
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            var start = 0
            for index in 0..<count where chunk[index] == UInt8(ascii: "\n") {
                if pending.isEmpty {
                    emit(chunk[start..<index])
                } else {
                    pending.append(contentsOf: chunk[start..<index])
                    emit(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
                start = index + 1
            }
            // A line longer than the limit is cut there: what follows is counted, not kept.
            if pending.count < lineBytes { pending.append(contentsOf: chunk[start..<count].prefix(lineBytes - pending.count + 1)) }
        }
        if !pending.isEmpty { emit(pending[...]) }
        if dropped > 0 { logger.warning("engine output over the limit; lines dropped", metadata: ["dropped": "\(dropped)"]) }
    }
}
