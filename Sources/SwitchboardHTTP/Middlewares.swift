import Crypto
import Foundation
import Hummingbird
import Logging
import SwitchboardEngineRuntime

/// One info line per request: method, path, status and duration, and the composite member that answered.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        // In the autoclosure: below the info level, nothing is formatted.
        context.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: Self.metadata(elapsed, member: response.headers[AnsweringMembers.header]))
        return response
    }

    private static func metadata(_ elapsed: Duration, member: String?) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["ms": "\(elapsed.seconds * 1000)"]
        if let member { metadata["member"] = "\(member)" }
        return metadata
    }
}

/// Every error leaves as the documented JSON shape: the router's own 404s and any error a
/// handler did not map become JSON too. An unmapped error is a bug: logged, answered 500.
/// A path the router knows, asked with a method it does not have, is a 405 with `Allow`.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods the routes declare for a path (empty: no route has that path).
    let allowedMethods: @Sendable (String) -> [HTTPRequest.Method]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPResponseError where error.status == .notFound {
            let allowed = allowedMethods(request.uri.path)
            guard !allowed.isEmpty else {
                return try APIError(.notFound, "Cannot \(request.method) \(request.uri.path)").response(from: request, context: context)
            }
            let names = allowed.map(\.rawValue)
            var response = try APIError(
                .methodNotAllowed, "\(request.method) is not a method of \(request.uri.path); it has \(names.joined(separator: ", "))",
                context: ["allowed": .array(names.map { .string($0) })]
            ).response(from: request, context: context)
            response.headers[.allow] = names.joined(separator: ", ")
            return response
        } catch let error as HTTPResponseError {
            let message = error.status == .notFound ? "Cannot \(request.method) \(request.uri.path)" : error.status.reasonPhrase
            return try APIError(error.status, message).response(from: request, context: context)
        } catch {
            context.logger.error("unmapped error", metadata: ["error": "\(error)"])
            return try APIError(.internalServerError, "internal error").response(from: request, context: context)
        }
    }
}

/// `X-Api-Key` check when a key is configured. Compares SHA-512 digests in constant time, so
/// neither the key's length nor its bytes leak through timing.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let expectedDigest: [UInt8]
    let openPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        let presented = request.headers.first { $0.name.canonicalName == "x-api-key" }?.value ?? ""
        guard Self.constantTimeEqual(Array(SHA512.hash(data: Data(presented.utf8))), expectedDigest) else {
            return try JSONBody.response(["message": JSONValue.string("Unauthorized"), "statusCode": .integer(401)], status: .unauthorized)
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// `WAHA_API_KEY` as WAHA reads it: the key itself, or `sha512:<hex>` of it.
public struct APIKey: Sendable, Equatable {
    let digest: [UInt8]

    public init?(configured: String) {
        let trimmed = configured.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if trimmed.lowercased().hasPrefix("sha512:") {
            let hex = Array(trimmed.dropFirst("sha512:".count).lowercased().utf8)
            guard hex.count == 128 else { return nil }
            var bytes: [UInt8] = []
            for index in stride(from: 0, to: hex.count, by: 2) {
                guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(byte)
            }
            digest = bytes
        } else {
            digest = Array(SHA512.hash(data: Data(trimmed.utf8)))
        }
    }
}
