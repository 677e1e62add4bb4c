import NIOCore
import NIOEmbedded
import Testing

@testable import SwitchboardEngineProcesses
@testable import SwitchboardIsolation

/// The server's frame codec on an `EmbeddedChannel`: the same bytes as the engine host's blocking
/// writer, frames cut wherever the reads fall, and a frame too large or malformed ends the connection.
@Suite("The server's wire codec reads and writes the engine host's frames")
struct WireFrameTests {
    static let messages: [WireMessage] = [
        .hello(magic: WireMessage.magic, versions: WireMessage.versions),
        .confined(report: Array(#"{"applied":[],"missing":[]}"#.utf8)),
        .completion(call: 7, status: 0, bytes: Array(repeating: 0x41, count: 20_000)),
        .answer(query: 3, bytes: []),
        .log(instance: 1, level: 2, message: Array("line".utf8)),
    ]

    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(WireFrameDecoder()), MessageToByteHandler(WireFrameEncoder()))
        return channel
    }

    @Test("frames the engine host wrote decode whole, whatever pieces they arrive in")
    func decodesAcrossReads() throws {
        let bytes = Self.messages.flatMap { $0.encoded() }
        for piece in [1, 7, 4096, bytes.count] {
            let channel = try Self.channel()
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + piece, bytes.count)
                try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
            }
            var read: [WireMessage] = []
            while let message = try channel.readInbound(as: WireMessage.self) { read.append(message) }
            #expect(read == Self.messages, "in pieces of \(piece) bytes")
            #expect(try channel.finish().isClean)
        }
    }

    @Test("what the server writes is byte for byte what the engine host's reader expects")
    func encodesAsTheEngineHost() throws {
        let channel = try Self.channel()
        let sent: [WireMessage] = [
            .welcome(version: 2), .call(instance: 1, call: 2, feature: Array("contacts.get".utf8), request: Array("{}".utf8)), .cancel(call: 2),
        ]
        for message in sent { try channel.writeOutbound(message) }
        var written: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { written += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        #expect(written == sent.flatMap { $0.encoded() })
        _ = try channel.finish()
    }

    @Test("a frame longer than the largest, or one that does not decode, is an error")
    func refusesBadFrames() throws {
        var tooLong = ByteBuffer()
        tooLong.writeInteger(UInt32(WireMessage.largestFrame + 1), endianness: .little)
        var malformed = ByteBuffer()
        malformed.writeInteger(UInt32(2), endianness: .little)
        malformed.writeBytes([200, 0])  // no such kind
        var trailing = ByteBuffer()
        let welcome = WireMessage.welcome(version: 2).encoded()
        trailing.writeInteger(UInt32(welcome.count - 4 + 1), endianness: .little)
        trailing.writeBytes(welcome.dropFirst(4) + [0])  // a byte past the message's fields
        for bad in [tooLong, malformed, trailing] {
            let channel = try Self.channel()
            #expect(throws: WireFrameDecoder.Failure.self) { try channel.writeInbound(bad) }
            _ = try? channel.finish()
        }
    }
}
