import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The messages between the server and an engine host child, over one stream socket.
///
/// A frame is a little-endian u32 length, then that many bytes: a kind byte and its fields.
/// Integers are little-endian u64, bytes are a u32 length and the bytes. Binary rather than
/// JSON because every call crosses it twice and the request and result are already JSON bytes:
/// framing them costs a copy, encoding them again would cost a parse.
///
/// The child speaks first: `hello` with the magic and the protocol versions it speaks, then
/// `confined` with the sandbox it applied to itself (JSON, before any plugin code was mapped);
/// the server answers `welcome` with the version it chose, or closes the socket (go-plugin's
/// handshake).
enum WireMessage: Equatable, Sendable {
    // child → server
    case hello(magic: UInt64, versions: [UInt64])
    case created(instance: UInt64, status: UInt64, message: [UInt8])
    case completion(call: UInt64, status: UInt64, bytes: [UInt8])
    case answer(query: UInt64, bytes: [UInt8])
    case log(instance: UInt64, level: UInt64, message: [UInt8])
    /// The layers the child applied to itself, as `ConfinementReport` JSON.
    case confined(report: [UInt8])
    // server → child
    case welcome(version: UInt64)
    case create(instance: UInt64, session: [UInt8], stateDirectory: [UInt8], configuration: [UInt8])
    case destroy(instance: UInt64)
    case call(instance: UInt64, call: UInt64, feature: [UInt8], request: [UInt8])
    case features(instance: UInt64, query: UInt64)
    case status(instance: UInt64, query: UInt64)
    /// The server stopped waiting for `call` (it timed out, or its client went away): the
    /// child passes it to the plugin's `cancel`; the completion still follows.
    case cancel(call: UInt64)

    /// "SBENGINE" read as a little-endian integer.
    static let magic: UInt64 = 0x454E_4947_4E45_4253
    /// 2: `confined` follows `hello`.
    static let versions: [UInt64] = [2]
    /// Larger frames end the connection: no request or result comes near it.
    static let largestFrame = 256 << 20

    private enum Kind: UInt8 {
        case hello = 1, created, completion, answer, log, confined
        case welcome = 101, create, destroy, call, features, status, cancel
    }

    func encoded() -> [UInt8] {
        var out = WireEncoder()
        switch self {
        case .hello(let magic, let versions):
            out.kind(Kind.hello.rawValue); out.number(magic); out.number(UInt64(versions.count)); versions.forEach { out.number($0) }
        case .created(let instance, let status, let message):
            out.kind(Kind.created.rawValue); out.number(instance); out.number(status); out.bytes(message)
        case .completion(let call, let status, let bytes):
            out.kind(Kind.completion.rawValue); out.number(call); out.number(status); out.bytes(bytes)
        case .answer(let query, let bytes):
            out.kind(Kind.answer.rawValue); out.number(query); out.bytes(bytes)
        case .log(let instance, let level, let message):
            out.kind(Kind.log.rawValue); out.number(instance); out.number(level); out.bytes(message)
        case .confined(let report):
            out.kind(Kind.confined.rawValue); out.bytes(report)
        case .welcome(let version):
            out.kind(Kind.welcome.rawValue); out.number(version)
        case .create(let instance, let session, let stateDirectory, let configuration):
            out.kind(Kind.create.rawValue); out.number(instance); out.bytes(session); out.bytes(stateDirectory); out.bytes(configuration)
        case .destroy(let instance):
            out.kind(Kind.destroy.rawValue); out.number(instance)
        case .call(let instance, let call, let feature, let request):
            out.kind(Kind.call.rawValue); out.number(instance); out.number(call); out.bytes(feature); out.bytes(request)
        case .features(let instance, let query):
            out.kind(Kind.features.rawValue); out.number(instance); out.number(query)
        case .status(let instance, let query):
            out.kind(Kind.status.rawValue); out.number(instance); out.number(query)
        case .cancel(let call):
            out.kind(Kind.cancel.rawValue); out.number(call)
        }
        return out.framed()
    }

    /// Decodes one frame's body (without its length); nil for a malformed one.
    static func decode(_ body: ArraySlice<UInt8>) -> WireMessage? {
        var input = WireDecoder(body)
        guard let rawKind = input.kind(), let kind = Kind(rawValue: rawKind) else { return nil }
        let message: WireMessage?
        switch kind {
        case .hello:
            guard let magic = input.number(), let count = input.number(), count <= 64 else { return nil }
            var versions: [UInt64] = []
            for _ in 0..<count {
                guard let version = input.number() else { return nil }
                versions.append(version)
            }
            message = .hello(magic: magic, versions: versions)
        case .created:
            message = input.number().flatMap { i in input.number().flatMap { s in input.bytes().map { .created(instance: i, status: s, message: $0) } } }
        case .completion:
            message = input.number().flatMap { c in input.number().flatMap { s in input.bytes().map { .completion(call: c, status: s, bytes: $0) } } }
        case .answer:
            message = input.number().flatMap { q in input.bytes().map { .answer(query: q, bytes: $0) } }
        case .log:
            message = input.number().flatMap { i in input.number().flatMap { l in input.bytes().map { .log(instance: i, level: l, message: $0) } } }
        case .confined:
            message = input.bytes().map { .confined(report: $0) }
        case .welcome:
            message = input.number().map { .welcome(version: $0) }
        case .create:
            guard let instance = input.number(), let session = input.bytes(), let state = input.bytes(), let configuration = input.bytes() else { return nil }
            message = .create(instance: instance, session: session, stateDirectory: state, configuration: configuration)
        case .destroy:
            message = input.number().map { .destroy(instance: $0) }
        case .call:
            guard let instance = input.number(), let call = input.number(), let feature = input.bytes(), let request = input.bytes() else { return nil }
            message = .call(instance: instance, call: call, feature: feature, request: request)
        case .features:
            message = input.number().flatMap { i in input.number().map { .features(instance: i, query: $0) } }
        case .status:
            message = input.number().flatMap { i in input.number().map { .status(instance: i, query: $0) } }
        case .cancel:
            message = input.number().map { .cancel(call: $0) }
        }
        return input.isAtEnd ? message : nil
    }
}

private struct WireEncoder {
    private var buffer: [UInt8] = [0, 0, 0, 0]

    mutating func kind(_ value: UInt8) { buffer.append(value) }

    mutating func number(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func bytes(_ value: [UInt8]) {
        withUnsafeBytes(of: UInt32(value.count).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: value)
    }

    func framed() -> [UInt8] {
        var out = buffer
        let length = UInt32(out.count - 4).littleEndian
        withUnsafeBytes(of: length) { for (index, byte) in $0.enumerated() { out[index] = byte } }
        return out
    }
}

private struct WireDecoder {
    private let body: ArraySlice<UInt8>
    private var position: Int

    init(_ body: ArraySlice<UInt8>) {
        self.body = body
        position = body.startIndex
    }

    var isAtEnd: Bool { position == body.endIndex }

    mutating func kind() -> UInt8? {
        guard position < body.endIndex else { return nil }
        defer { position += 1 }
        return body[position]
    }

    mutating func number() -> UInt64? {
        guard body.endIndex - position >= 8 else { return nil }
        var value: UInt64 = 0
        for offset in (0..<8).reversed() { value = value << 8 | UInt64(body[position + offset]) }
        position += 8
        return value
    }

    mutating func bytes() -> [UInt8]? {
        guard body.endIndex - position >= 4 else { return nil }
        var length = 0
        for offset in (0..<4).reversed() { length = length << 8 | Int(body[position + offset]) }
        position += 4
        guard body.endIndex - position >= length else { return nil }
        defer { position += length }
        return Array(body[position..<position + length])
    }
}

/// Reads frames from a blocking socket, on one reader thread of its own.
final class FrameReader: @unchecked Sendable {
    private let socket: Int32
    /// The peer process's pidfd, when known: readable once it has exited. A process that forked
    /// a child holding its end of the socket never closes it, so the socket alone cannot say.
    private let pidfd: Int32?
    private var buffer: [UInt8] = []
    private var start = 0

    init(socket: Int32, pidfd: Int32? = nil) {
        self.socket = socket
        self.pidfd = pidfd
    }

    /// Waits until the socket has bytes (true) or the peer process has exited with nothing left to read (false).
    private func waitForBytes() -> Bool {
        guard let pidfd else { return true }
        while true {
            var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0), pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { return false }
            if fds[0].revents != 0 { return true }
            if fds[1].revents != 0 { return false }
        }
    }

    /// The next message; nil when the peer closed the socket or sent something malformed.
    func next() -> WireMessage? {
        while true {
            let available = buffer.count - start
            if available >= 4 {
                var length = 0
                for offset in (0..<4).reversed() { length = length << 8 | Int(buffer[start + offset]) }
                guard length <= WireMessage.largestFrame else { return nil }
                if available >= 4 + length {
                    let body = buffer[(start + 4)..<(start + 4 + length)]
                    start += 4 + length
                    return WireMessage.decode(body)
                }
            }
            if start > 0, start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            } else if start > 1 << 20 {
                buffer.removeFirst(start)
                start = 0
            }
            guard waitForBytes() else { return nil }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }
}

/// Writes frames to a socket in order, on a thread of its own: a caller never blocks on a peer
/// that stopped reading, and frames queued meanwhile leave in one write.
final class FrameWriter: @unchecked Sendable {
    private let socket: Int32
    private let condition = NSCondition()
    private var queued: [UInt8] = []
    private var closed = false

    init(socket: Int32, label: String) {
        self.socket = socket
        let thread = Thread { [self] in drain() }
        thread.name = label
        thread.start()
    }

    func send(_ message: WireMessage) {
        let frame = message.encoded()
        condition.lock()
        if !closed {
            queued.append(contentsOf: frame)
            condition.signal()
        }
        condition.unlock()
    }

    /// Stops writing; what is still queued is dropped.
    func close() {
        condition.lock()
        closed = true
        queued = []
        condition.signal()
        condition.unlock()
    }

    private func drain() {
        while true {
            condition.lock()
            while queued.isEmpty, !closed { condition.wait() }
            if closed {
                condition.unlock()
                return
            }
            let bytes = queued
            queued = []
            condition.unlock()
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return close() }
                offset += written
            }
        }
    }
}
