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
///
/// The server reads and writes these on a SwiftNIO channel (`SwitchboardEngineProcesses`); the
/// engine host, which links no NIO, on blocking descriptors (`WireServer`).
package enum WireMessage: Equatable, Sendable {
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
    package static let magic: UInt64 = 0x454E_4947_4E45_4253
    /// 2: `confined` follows `hello`.
    package static let versions: [UInt64] = [2]
    /// Larger frames end the connection: no request or result comes near it.
    package static let largestFrame = 256 << 20

    private enum Kind: UInt8 {
        case hello = 1, created, completion, answer, log, confined
        case welcome = 101, create, destroy, call, features, status, cancel
    }

    /// The whole frame: its length, then its body.
    func encoded() -> [UInt8] {
        var out = WireEncoder()
        write(to: &out)
        return out.framed()
    }

    /// Writes the frame's body (kind and fields, without the length) to `out`.
    package func write<Output: WireOutput>(to out: inout Output) {
        switch self {
        case .hello(let magic, let versions):
            out.wireKind(Kind.hello.rawValue); out.wireNumber(magic); out.wireNumber(UInt64(versions.count)); versions.forEach { out.wireNumber($0) }
        case .created(let instance, let status, let message):
            out.wireKind(Kind.created.rawValue); out.wireNumber(instance); out.wireNumber(status); out.wireBytes(message)
        case .completion(let call, let status, let bytes):
            out.wireKind(Kind.completion.rawValue); out.wireNumber(call); out.wireNumber(status); out.wireBytes(bytes)
        case .answer(let query, let bytes):
            out.wireKind(Kind.answer.rawValue); out.wireNumber(query); out.wireBytes(bytes)
        case .log(let instance, let level, let message):
            out.wireKind(Kind.log.rawValue); out.wireNumber(instance); out.wireNumber(level); out.wireBytes(message)
        case .confined(let report):
            out.wireKind(Kind.confined.rawValue); out.wireBytes(report)
        case .welcome(let version):
            out.wireKind(Kind.welcome.rawValue); out.wireNumber(version)
        case .create(let instance, let session, let stateDirectory, let configuration):
            out.wireKind(Kind.create.rawValue); out.wireNumber(instance); out.wireBytes(session); out.wireBytes(stateDirectory); out.wireBytes(configuration)
        case .destroy(let instance):
            out.wireKind(Kind.destroy.rawValue); out.wireNumber(instance)
        case .call(let instance, let call, let feature, let request):
            out.wireKind(Kind.call.rawValue); out.wireNumber(instance); out.wireNumber(call); out.wireBytes(feature); out.wireBytes(request)
        case .features(let instance, let query):
            out.wireKind(Kind.features.rawValue); out.wireNumber(instance); out.wireNumber(query)
        case .status(let instance, let query):
            out.wireKind(Kind.status.rawValue); out.wireNumber(instance); out.wireNumber(query)
        case .cancel(let call):
            out.wireKind(Kind.cancel.rawValue); out.wireNumber(call)
        }
    }

    /// Decodes one frame's body (without its length); nil for a malformed one.
    package static func decode(_ body: UnsafeRawBufferPointer) -> WireMessage? {
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

/// Where a frame's body is written: an array here, a `ByteBuffer` on the server's channel.
package protocol WireOutput {
    mutating func wireKind(_ value: UInt8)
    /// A little-endian u64.
    mutating func wireNumber(_ value: UInt64)
    /// A little-endian u32 length, then the bytes.
    mutating func wireBytes(_ value: [UInt8])
}

private struct WireEncoder: WireOutput {
    private var buffer: [UInt8] = [0, 0, 0, 0]

    mutating func wireKind(_ value: UInt8) { buffer.append(value) }

    mutating func wireNumber(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func wireBytes(_ value: [UInt8]) {
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
    private let body: UnsafeRawBufferPointer
    private var position: Int

    init(_ body: UnsafeRawBufferPointer) {
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
        return Array(UnsafeRawBufferPointer(rebasing: body[position..<position + length]))
    }
}
