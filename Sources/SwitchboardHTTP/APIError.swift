import ContactsEngineKit
import Foundation
import Hummingbird
import SwitchboardCore

/// Every error the API answers, in one documented JSON shape:
/// `{"statusCode": 400, "error": "Bad Request", "message": "...", ...context}`.
/// Context keys name what the error is about: `parameter`, `engine`, `feature`, `session`,
/// `status`, `expected`, `kind`.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    /// WAHA puts the message of session errors in `error`; every other error has the reason phrase there.
    let errorField: String?
    let context: [String: JSONValue]

    init(_ status: HTTPResponse.Status, _ message: String, error: String? = nil, context: [String: JSONValue] = [:]) {
        self.status = status
        self.message = message
        self.errorField = error
        self.context = context
    }

    public var body: [String: JSONValue] {
        var body = context
        body["statusCode"] = .integer(status.code)
        body["message"] = .string(message)
        body["error"] = .string(errorField ?? status.reasonPhrase)
        return body
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONBody.response(body, status: status)
    }

    // MARK: The errors, each built in one place.

    static func badParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, message, context: ["parameter": .string(name)])
    }

    static func missingParameter(_ name: String) -> APIError {
        badParameter(name, "query parameter '\(name)' is required")
    }

    static func unsupported(engine: String, feature: Feature) -> APIError {
        let endpoints = feature.endpoints.map(\.description).joined(separator: ", ")
        return APIError(
            .notImplemented,
            "The method is not implemented by '\(engine)' engine. Feature '\(feature.rawValue)' (\(endpoints)) is not supported by this session's engine; GET /api/engines/matrix lists the engines that support it.",
            context: ["engine": .string(engine), "feature": .string(feature.rawValue)])
    }

    static func session(_ error: SessionError) -> APIError {
        switch error {
        case .notFound(let name):
            return APIError(.unprocessableContent, "Session \"\(name)\" does not exist", error: "Session \"\(name)\" does not exist",
                            context: ["session": .string(name)])
        case .notWorking(let name, let status):
            let text = "Session status is not as expected. Try again later or restart the session."
            return APIError(.unprocessableContent, text, error: text, context: [
                "session": .string(name), "status": .string(status.rawValue), "expected": .array([.string(SessionStatus.working.rawValue)]),
            ])
        case .alreadyExists(let name):
            let text = "Session \"\(name)\" already exists"
            return APIError(.unprocessableContent, text, error: text, context: ["session": .string(name)])
        case .invalidName(let name):
            return APIError(.badRequest, "invalid session name \"\(name)\": use 1 to 64 of A-Z a-z 0-9 _ -, not one of \(SessionManager.reservedNames.sorted().joined(separator: ", "))",
                            context: ["parameter": "name", "session": .string(name)])
        case .unknownEngine(let engine):
            return APIError(.unprocessableContent, "engine \"\(engine)\" is not loaded; GET /api/engines lists the engines",
                            context: ["engine": .string(engine)])
        case .engineRefused(let engine, let engineError):
            return APIError(.unprocessableContent, "engine \"\(engine)\" refused the configuration: \(engineError.message)",
                            context: ["engine": .string(engine), "kind": .string(engineError.kind.name), "parameter": "engineConfig"])
        case .storage(let message):
            return APIError(.serviceUnavailable, message)
        }
    }

    static func call(_ error: SessionCallError) -> APIError {
        switch error {
        case .session(let sessionError): return session(sessionError)
        case .unsupported(let engine, let feature): return unsupported(engine: engine, feature: feature)
        case .engine(let engine, let engineError): return APIError.engine(engine, engineError)
        }
    }

    /// Engine error kinds → documented status codes.
    static func engine(_ engine: String, _ error: EngineError) -> APIError {
        let status: HTTPResponse.Status = switch error.kind {
        case .notImplemented: .notImplemented
        case .notFound: .notFound
        case .invalidInput: .badRequest
        case .unavailable: .serviceUnavailable
        case .conflict: .conflict
        case .timeout: .gatewayTimeout
        case .internal: .badGateway
        }
        return APIError(status, error.message, context: ["engine": .string(engine), "kind": .string(error.kind.name)])
    }
}

extension HTTPResponse.Status {
    static let unprocessableContent = HTTPResponse.Status(code: 422, reasonPhrase: "Unprocessable Entity")
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

/// JSON responses and request bodies.
enum JSONBody {
    /// The largest request body the API reads (`PUT` contact, sessions, block): 64 KiB.
    static let maxRequestBytes = 64 * 1024

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws(APIError) -> Response {
        let bytes: [UInt8]
        do {
            bytes = try JSONCoders.encode(value)
        } catch {
            throw APIError(.badGateway, "cannot encode the answer: \(error)")
        }
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Reads and decodes a JSON body, answering 400 naming `body` past the size limit (as the
    /// API's contract says for every malformed input) and for bad JSON.
    static func decode<T: Decodable>(_ type: T.Type, from request: inout Request) async throws(APIError) -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxRequestBytes)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.badRequest, "request body is larger than \(maxRequestBytes) bytes", context: ["parameter": "body"])
        } catch {
            throw APIError(.badRequest, "cannot read request body: \(error)", context: ["parameter": "body"])
        }
        guard buffer.readableBytes > 0 else {
            throw APIError(.badRequest, "request body is required (a JSON object)", context: ["parameter": "body"])
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
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
