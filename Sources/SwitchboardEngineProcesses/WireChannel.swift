import NIOCore
import NIOPosix
import Synchronization
import SwitchboardIsolation

/// The server's end of an engine host's socket, as a SwiftNIO channel on the server's event loop
/// group: frames in (`WireFrameDecoder`) and out (`WireFrameEncoder`), no thread of its own.
///
/// `send` may be called from any thread, even before the channel is open. Messages leave in the
/// order `send` was called; those sent while a flush is already on its way to the event loop join
/// it, so a burst of them costs one wake-up of the loop and one `writev`.
final class WireConnection: Sendable {
    let eventLoop: any EventLoop
    private let state = Mutex(State())

    private struct State {
        var channel: (any Channel)?
        var queued: [WireMessage] = []
        /// A flush is on its way to the event loop, and will take what is queued by then.
        var scheduled = false
        var closed = false
    }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Makes `socket` (which it then owns) this connection's channel, `handler` reading its messages.
    func open(socket: Int32, handler: @escaping @Sendable () -> any ChannelHandler) -> EventLoopFuture<Void> {
        ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(WireFrameDecoder()), MessageToByteHandler(WireFrameEncoder()), handler())
                    self.attach(channel)
                }
            }
            .withConnectedSocket(socket)
            .map { _ in }
    }

    /// On the event loop, before the channel is registered and reads anything.
    private func attach(_ channel: any Channel) {
        let closed = state.withLock { state in
            state.channel = channel
            return state.closed
        }
        flush()
        // Closed already (the child exited at once): once registered, so that its end is seen as any other.
        if closed { eventLoop.execute { channel.close(promise: nil) } }
    }

    func send(_ message: WireMessage) {
        let schedule = state.withLock { state in
            state.queued.append(message)
            defer { state.scheduled = true }
            return !state.scheduled
        }
        guard schedule else { return }
        if eventLoop.inEventLoop {
            flush()
        } else {
            eventLoop.execute { self.flush() }
        }
    }

    /// Writes what is queued, then flushes once: one `writev` for all of it. On the event loop.
    private func flush() {
        let (channel, messages) = state.withLock { state -> ((any Channel)?, [WireMessage]) in
            state.scheduled = false
            guard let channel = state.channel else { return (nil, []) }  // `attach` flushes them
            defer { state.queued = [] }
            return (channel, state.queued)
        }
        guard let channel, !messages.isEmpty else { return }
        for message in messages { channel.write(message, promise: nil) }
        channel.flush()
    }

    /// Closes the socket, after writing what was sent before (as far as the socket takes it).
    func close() {
        guard eventLoop.inEventLoop else { return eventLoop.execute { self.close() } }
        flush()
        let channel = state.withLock { state in
            state.closed = true
            return state.channel
        }
        channel?.close(promise: nil)
    }
}

/// Frames to messages: a little-endian u32 length, then that many bytes of body. A frame longer
/// than `WireMessage.largestFrame`, or one that does not decode, is an error, and the connection
/// ends (`EngineProcess.ChildHandler.errorCaught`).
struct WireFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = WireMessage

    enum Failure: Error {
        case tooLarge(Int)
        case malformed
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self).map(Int.init) else {
            return .needMoreData
        }
        guard length <= WireMessage.largestFrame else { throw Failure.tooLarge(length) }
        guard buffer.readableBytes >= 4 + length else { return .needMoreData }
        let message = buffer.withUnsafeReadableBytes { WireMessage.decode(UnsafeRawBufferPointer(rebasing: $0[4..<(4 + length)])) }
        buffer.moveReaderIndex(forwardBy: 4 + length)
        guard let message else { throw Failure.malformed }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    /// Whole frames still arrive after the peer closed; a partial one is dropped.
    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Messages to frames, written straight into the channel's buffer.
struct WireFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = WireMessage

    func encode(data: WireMessage, out: inout ByteBuffer) throws {
        let start = out.writerIndex
        out.writeInteger(UInt32(0))
        data.write(to: &out)
        out.setInteger(UInt32(out.writerIndex - start - 4), at: start, endianness: .little)
    }
}

extension ByteBuffer: WireOutput {
    package mutating func wireKind(_ value: UInt8) { writeInteger(value) }
    package mutating func wireNumber(_ value: UInt64) { writeInteger(value, endianness: .little) }

    package mutating func wireBytes(_ value: [UInt8]) {
        writeInteger(UInt32(value.count), endianness: .little)
        writeBytes(value)
    }
}
