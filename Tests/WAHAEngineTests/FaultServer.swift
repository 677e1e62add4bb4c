import Foundation
import SwitchboardTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP server of one test's own on 127.0.0.1, answering each request as `answer` says:
/// the upstream that misbehaves on purpose.
final class FaultServer: Sendable {
    enum Answer: Sendable {
        case json(Int, String)
        /// The answer, after `seconds`: an upstream slower than the engine's timeout.
        case slow(Double, Int, String)
        /// The head at once, then the body a byte every 200 ms: slow, but never silent long enough
        /// for a read timeout.
        case trickle(String)
        /// Closes the connection without answering.
        case hangUp
    }

    struct Request: Sendable {
        var method: String
        /// Path and query, as sent.
        var uri: String
        var headers: [String: String]
        var body: String
    }

    /// Shared with the connections' handlers, which record what they receive.
    private final class Log: Sendable {
        let requests = Mutex<[Request]>([])
    }

    let port: Int
    private let channel: any Channel
    private let log = Log()

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { log.requests.withLock { $0 } }

    /// `answer` sees every request (path without query) in turn.
    static func withServer<T>(
        _ answer: @escaping @Sendable (Request, String) -> Answer, _ body: (FaultServer) async throws -> T
    ) async throws -> T {
        let server = try await FaultServer(answer)
        do {
            let result = try await body(server)
            try await server.channel.close()
            return result
        } catch {
            try? await server.channel.close()
            throw error
        }
    }

    private init(_ answer: @escaping @Sendable (Request, String) -> Answer) async throws {
        let log = self.log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(answer: answer, log: log))
                }
            }
            // From the tests' pool: a kernel-chosen port could be one another test was told is free.
            .bind(host: "127.0.0.1", port: try TestPlugins.freePort())
            .get()
        port = channel.localAddress!.port!
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let answer: @Sendable (Request, String) -> Answer
        let log: Log
        var head: HTTPRequestHead?
        var body = ""

        init(answer: @escaping @Sendable (Request, String) -> Answer, log: Log) {
            self.answer = answer
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = ""
            case .body(let buffer):
                body += String(buffer: buffer)
            case .end:
                guard let head else { return }
                let request = Request(
                    method: head.method.rawValue, uri: head.uri,
                    headers: Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 }),
                    body: body
                )
                log.requests.withLock { $0.append(request) }
                let path = String(head.uri.prefix { $0 != "?" })
                switch answer(request, path) {
                case .json(let status, let text):
                    respond(context, status, text)
                case .slow(let seconds, let status, let text):
                    let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                    context.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
                        let (handler, context) = loopBound.value
                        handler.respond(context, status, text)
                    }
                case .trickle(let text):
                    writeHead(context, 200, length: text.utf8.count)
                    trickle(NIOLoopBound((self, context), eventLoop: context.eventLoop), Array(text.utf8)[...])
                case .hangUp:
                    context.close(promise: nil)
                }
            }
        }

        private func respond(_ context: ChannelHandlerContext, _ status: Int, _ text: String) {
            guard context.channel.isActive else { return }
            writeHead(context, status, length: text.utf8.count)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }

        private func writeHead(_ context: ChannelHandlerContext, _ status: Int, length: Int) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(length))
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
        }

        private func trickle(_ bound: NIOLoopBound<(Handler, ChannelHandlerContext)>, _ rest: ArraySlice<UInt8>) {
            let (handler, context) = bound.value
            guard context.channel.isActive else { return }
            guard let byte = rest.first else {
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: [byte])))), promise: nil)
            context.eventLoop.scheduleTask(in: .milliseconds(200)) { handler.trickle(bound, rest.dropFirst()) }
        }
    }
}
