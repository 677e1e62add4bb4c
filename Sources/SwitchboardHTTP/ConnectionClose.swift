import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Marks every request that does not keep its connection alive with exactly `Connection: close`:
/// HTTP/1.0 without `Connection: keep-alive`, and HTTP/1.1 with `Connection: close` in any case.
/// Hummingbird closes after an answer only when the head's `Connection` field is exactly `close`,
/// and the HTTP version is gone by the time it sees the head, so an HTTP/1.0 client waited for an
/// end of file that never came.
final class ConnectionCloseMarker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), !head.isKeepAlive, head.headers["connection"] != ["close"] else {
            return context.fireChannelRead(data)
        }
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

/// Hummingbird's HTTP/1.1 channel with `ConnectionCloseMarker` right after the request decoder,
/// where the request's version is still known.
struct HTTP1ClosingChannel: ServerChildChannel {
    let inner: HTTP1Channel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(ConnectionCloseMarker(), position: .after(decoder))
            return value
        }
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
