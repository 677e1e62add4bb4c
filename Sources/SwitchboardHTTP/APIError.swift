@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Hummingbird
import SwitchboardEngineRuntime
import SwitchboardSessions

/// Every error the API answers, in one documented JSON shape:
/// `{"statusCode": 400, "error": "Bad Request", "message": "...", ...context}`.
/// Context keys name what the error is about: `parameter`, `engine`, `feature`, `session`,
/// `status`, `expected`, `kind`; in a composite session `member`, `route`, `acknowledged`, `failed`.
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

    static let bodyTooLarge = APIError(
        .contentTooLarge, "request body is larger than \(BodyLimit.maxBytes) bytes", context: ["parameter": "body"])

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
            return APIError(.badRequest, "invalid session name \"\(name)\": \(SessionName.advice)",
                            context: ["parameter": "name", "session": .string(name)])
        case .unknownEngine(let engine):
            return APIError(.unprocessableContent, "engine \"\(engine)\" is not loaded; GET /api/engines lists the engines",
                            context: ["engine": .string(engine)])
        case .engineRefused(let engine, let engineError):
            return APIError(.unprocessableContent, "engine \"\(engine)\" refused the configuration: \(engineError.message)",
                            context: ["engine": .string(engine), "kind": .string(engineError.kind.name), "parameter": "engineConfig"])
        case .storage(let message):
            return APIError(.serviceUnavailable, message)
        case .invalidComposition(let parameter, let message):
            // 422, not 400: the body has the documented shape, its parts do not fit together.
            return APIError(.unprocessableContent, message, context: ["parameter": .string(parameter)])
        case .invalidGrant(let parameter, let message):
            return APIError(.unprocessableContent, "sandbox grant refused: \(message)", context: ["parameter": .string(parameter)])
        }
    }

    static func call(_ error: SessionCallError) -> APIError {
        switch error {
        case .session(let sessionError): return session(sessionError)
        case .unsupported(let engine, let feature): return unsupported(engine: engine, feature: feature)
        case .engine(let engine, let engineError): return APIError.engine(engine, engineError)
        case .unrouted(let session, let feature, let route): return unrouted(session: session, feature: feature, route: route)
        case .member(let failure):
            let error = APIError.engine(failure.engine, failure.error)
            var context = error.context
            context["member"] = .string(failure.member)
            return APIError(error.status, "member \"\(failure.member)\" (engine \(failure.engine)): \(failure.error.message)", context: context)
        case .mirrorIncomplete(let feature, let acknowledged, let failed): return mirrorIncomplete(feature, acknowledged, failed)
        }
    }

    static func unrouted(session: String, feature: Feature, route: [String]) -> APIError {
        let endpoints = feature.endpoints.map(\.description).joined(separator: ", ")
        let why = route.isEmpty
            ? "has no route for it and no \"\(SessionComposition.anyFeature)\" route"
            : "routes it to \(route.joined(separator: ", ")), and none of them serves it now"
        return APIError(
            .notImplemented,
            "Feature '\(feature.rawValue)' (\(endpoints)) is not served by composite session \"\(session)\": it \(why). GET /api/sessions/\(session)/features shows its routes.",
            context: [
                "engine": .string(SessionComposition.engineName), "feature": .string(feature.rawValue), "session": .string(session),
                "route": .array(route.map { .string($0) }),
            ])
    }

    /// A mirrored write not every member acknowledged: the status of the first failure, and who did what.
    static func mirrorIncomplete(_ feature: Feature, _ acknowledged: [String], _ failed: [MemberFailure]) -> APIError {
        let first = failed.first.map { APIError.engine($0.engine, $0.error) }
        let failures = failed.map { "\($0.member) (\($0.error.kind.name): \($0.error.message))" }.joined(separator: "; ")
        let done = acknowledged.isEmpty ? "no member acknowledged it" : "acknowledged by \(acknowledged.joined(separator: ", ")), not undone"
        return APIError(
            first?.status ?? .badGateway, "mirrored \(feature.rawValue) failed on \(failures); \(done)",
            context: [
                "feature": .string(feature.rawValue), "kind": first?.context["kind"] ?? "internal",
                "member": .string(failed.first?.member ?? ""),
                "acknowledged": .array(acknowledged.map { .string($0) }),
                "failed": .array(failed.map { .string($0.member) }),
            ])
    }

    /// An engine's error, with the status its kind's documented case has.
    static func engine(_ engine: String, _ error: EngineError) -> APIError {
        APIError(
            HTTPResponse.Status(code: APIErrorCase(error.kind).status), error.message,
            context: ["engine": .string(engine), "kind": .string(error.kind.name)])
    }
}

extension HTTPResponse.Status {
    static let unprocessableContent = HTTPResponse.Status(code: 422, reasonPhrase: "Unprocessable Entity")
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

/// Every error a route can answer, for the OpenAPI document's responses and docs/api.md's
/// error table; `APIError` builds the bodies.
enum APIErrorCase: String, Sendable, CaseIterable {
    case invalidParameter, unauthorized, sessionNotFound, engineNotFound, engineNotLoaded, engineConflict
    case bodyTooLarge, sessionUnavailable, sessionConflict, notImplemented, engineFailed, engineUnavailable
    case storageUnavailable, engineTimeout

    /// Every route can answer these, whatever it declares.
    static let everyRoute: Set<APIErrorCase> = [.bodyTooLarge]
    /// What a call to a session's engine can answer.
    static let engineCall: Set<APIErrorCase> = [
        .engineNotFound, .engineConflict, .sessionUnavailable, .notImplemented, .engineFailed, .engineUnavailable, .engineTimeout,
    ]

    /// The case an engine error of `kind` answers as: the one place kinds meet status codes.
    init(_ kind: EngineError.Kind) {
        self = switch kind {
        case .notImplemented: .notImplemented
        case .notFound: .engineNotFound
        case .invalidInput: .invalidParameter
        case .unavailable: .engineUnavailable
        case .conflict: .engineConflict
        case .timeout: .engineTimeout
        case .internal: .engineFailed
        }
    }

    var status: Int {
        switch self {
        case .invalidParameter: 400
        case .unauthorized: 401
        case .sessionNotFound, .engineNotFound, .engineNotLoaded: 404
        case .engineConflict: 409
        case .bodyTooLarge: 413
        case .sessionUnavailable, .sessionConflict: 422
        case .notImplemented: 501
        case .engineFailed: 502
        case .engineUnavailable, .storageUnavailable: 503
        case .engineTimeout: 504
        }
    }

    var description: String {
        switch self {
        case .invalidParameter: "A parameter or the body is missing, malformed or out of range (`parameter` names it)"
        case .unauthorized: "Missing or wrong X-Api-Key"
        case .sessionNotFound: "No session of that name (session routes)"
        case .engineNotFound: "The engine found no such contact or resource (kind not-found)"
        case .engineNotLoaded: "No loaded engine of that name"
        case .engineConflict: "A conflicting concurrent change (kind conflict)"
        case .bodyTooLarge: "The request body is over \(BodyLimit.maxBytes) bytes"
        case .sessionUnavailable: "The session does not exist or is not WORKING"
        case .sessionConflict:
            "The session exists already, its engine (or a member's) is not loaded, the engine refused its engineConfig, or its members and routes do not fit together"
        case .notImplemented: "The session's engine does not serve this endpoint"
        case .engineFailed: "The engine failed or answered something malformed (kind internal)"
        case .engineUnavailable: "A backend the engine needs is unavailable (kind unavailable)"
        case .storageUnavailable: "The session store could not be written"
        case .engineTimeout: "The engine or its backend did not answer in time"
        }
    }
}

/// JSON responses.
enum JSONBody {
    static let contentType = "application/json"

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws(APIError) -> Response {
        let bytes: [UInt8]
        do {
            bytes = try JSONCoders.encode(value)
        } catch {
            throw APIError(.badGateway, "cannot encode the answer: \(error)")
        }
        return response(bytes: bytes, status: status)
    }

    /// An answer whose JSON is already written.
    static func response(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: responseContentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The media type of every JSON answer, as its header says it.
    static let responseContentType = "application/json; charset=utf-8"
}
