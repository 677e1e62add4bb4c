import Hummingbird
import HTTPTypes
import NIOCore
import Synchronization

/// `HEAD` is answered as the `GET` of its path without the body (RFC 9110 §9.3.2): the router
/// sends it to the `GET` route's handler (`SwitchboardServer.methods(answering:)`), and this
/// keeps the answer's status and headers, with `Content-Length` the length the body would have.
/// The body is still produced and counted, not sent: so the length is the GET's, and a streamed
/// list releases its session's instance as it would after writing. Any other answer to `HEAD`
/// (404, 405) loses its body too: a `HEAD` answer never has one.
struct HeadRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        guard request.method == .head else { return response }
        let length = ByteCount()
        try await response.body.write(CountingWriter(count: length))
        var headers = response.headers
        headers[.transferEncoding] = nil
        headers[.contentLength] = String(length.value.load(ordering: .relaxed))
        return Response(status: response.status, headers: headers, body: ResponseBody())
    }
}

private final class ByteCount: Sendable {
    let value = Atomic<Int>(0)
}

private struct CountingWriter: ResponseBodyWriter {
    let count: ByteCount

    mutating func write(_ buffer: ByteBuffer) async throws {
        count.value.add(buffer.readableBytes, ordering: .relaxed)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
