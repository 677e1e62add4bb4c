@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Hummingbird

/// The request context of every route: the body limit, and JSON in and out the way the API
/// documents it (errors as `APIError`, answers with sorted keys).
public struct SwitchboardRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { BodyLimit.maxBytes }
    public var requestDecoder: APIRequestDecoder { APIRequestDecoder() }
    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }
}

public enum BodyLimit {
    /// The largest request body any route reads: 64 KiB. Larger ones are answered 413.
    public static let maxBytes = 64 * 1024
    /// Past the limit the server goes on reading, and discards, up to this much, so that a
    /// client still writing its body (Python's urllib, Node's fetch) gets to read the 413;
    /// after that it closes the connection.
    public static let maxDrainBytes = 16 * 1024 * 1024
}

/// Decodes a JSON body that `BodyLimitMiddleware` has already read; every failure is a 400
/// naming the key at fault, or `body`.
public struct APIRequestDecoder: RequestDecoder {
    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            throw APIError.bodyTooLarge
        }
        guard buffer.readableBytes > 0 else {
            throw APIError(.badRequest, "request body is required (a JSON object)", context: ["parameter": "body"])
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as APIError {
            throw error
        } catch let error as DecodingError {
            let parameter: String = switch error {
            case .keyNotFound(let key, _): key.stringValue
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                context.codingPath.last?.stringValue ?? "body"
            @unknown default: "body"
            }
            throw APIError(.badRequest, "invalid JSON body: \(error.readableDescription)", context: ["parameter": .string(parameter)])
        } catch {
            throw APIError(.badRequest, "invalid JSON body", context: ["parameter": "body"])
        }
    }
}

/// Encodes answers as the API documents them: JSON, keys sorted, `charset=utf-8`.
public struct APIResponseEncoder: ResponseEncoder {
    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        try JSONBody.response(value)
    }
}

/// Reads every request body, on every route and on paths no route has, up to the limit, so
/// that no client is left writing into a connection nobody reads. Over the limit: 413.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let limit = context.maxUploadSize
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit {
            // A client that waits for `100 Continue` has not sent the body: answer at once.
            let waiting = request.headers[.expect]?.lowercased() == "100-continue"
            if !waiting { try await Self.drain(request.body, alreadyRead: 0) }
            return try Self.tooLarge(request: request, context: context)
        }
        var collected = ByteBuffer()
        var iterator = request.body.makeAsyncIterator()
        while let chunk = try await iterator.next() {
            guard collected.readableBytes + chunk.readableBytes <= limit else {
                try await Self.drain(iterator: &iterator, alreadyRead: collected.readableBytes + chunk.readableBytes)
                return try Self.tooLarge(request: request, context: context)
            }
            collected.writeImmutableBuffer(chunk)
        }
        var request = request
        request.body = RequestBody(buffer: collected)
        return try await next(request, context)
    }

    private static func tooLarge(request: Request, context: Context) throws -> Response {
        var response = try APIError.bodyTooLarge.response(from: request, context: context)
        // The rest of an oversized body may not have been read: never reuse the connection.
        response.headers[.connection] = "close"
        return response
    }

    private static func drain(_ body: RequestBody, alreadyRead: Int) async throws {
        var iterator = body.makeAsyncIterator()
        try await drain(iterator: &iterator, alreadyRead: alreadyRead)
    }

    private static func drain(iterator: inout RequestBody.AsyncIterator, alreadyRead: Int) async throws {
        var read = alreadyRead
        while read <= BodyLimit.maxDrainBytes, let chunk = try await iterator.next() {
            read += chunk.readableBytes
        }
    }
}
