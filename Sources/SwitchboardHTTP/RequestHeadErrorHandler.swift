@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request head the HTTP decoder cannot take: `431` when its headers are over the
/// decoder's limit (`HeaderLimit.maxBytes`), `400` when it is malformed. Without it the
/// connection is dropped with no answer while the client is still writing, and the client
/// hangs or sees a reset. The answer says `Connection: close` and is followed at once by the end
/// of the server's side of the connection (a request whose framing is ambiguous, such as both
/// `Content-Length` and `Transfer-Encoding`, must not leave a connection that could be read in
/// two ways). It goes on reading, and discards, what the client still sends (up to
/// `BodyLimit.maxDrainBytes`), so the client reaches the point where it reads the answer
/// rather than meeting a reset; the connection ends when the client closes its side, or at the
/// idle timeout.
final class RequestHeadErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false
    private var discarded = 0

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if answered, case ByteToMessageDecoderError.dataReceivedInErrorState(_, let buffer) = error {
            discarded += buffer.readableBytes
            if discarded > BodyLimit.maxDrainBytes { context.close(promise: nil) }
            return
        }
        guard !answered, let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        answered = true
        let tooLarge = parserError == .headerOverflow
        let error = tooLarge
            ? APIError(Self.headerFieldsTooLarge, "request headers are larger than \(HeaderLimit.maxBytes) bytes", context: ["parameter": "headers"])
            : APIError(.badRequest, "malformed HTTP request: \(parserError)")
        let body = ByteBuffer(bytes: (try? JSONCoders.encode(error.body)) ?? [])
        var head = HTTPResponse(status: error.status)
        head.headerFields[.contentType] = JSONBody.responseContentType
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenSuccess {
            channel.close(mode: .output, promise: nil)
        }
    }

    static let headerFieldsTooLarge = HTTPResponse.Status(code: 431, reasonPhrase: "Request Header Fields Too Large")
}

public enum HeaderLimit {
    /// The largest request head (all header fields) the decoder takes: Hummingbird's and
    /// Node's default, 80 KiB and 16 KiB being the usual range; 431 past it.
    public static let maxBytes = 80 * 1024
}
