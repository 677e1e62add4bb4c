import ContactsEngineKit
import Foundation
import Hummingbird
import SwitchboardSessions

/// What a handler gets: the server's dependencies and the request's path and query parameters.
struct APIContext: Sendable {
    let server: ServerDependencies
    /// Hummingbird's context of this request: its body limit and decoder.
    let http: SwitchboardRequestContext
    let pathParameters: Parameters
    /// WAHA's path parameter names to the router's (see `APIRoute.routerPath`).
    let pathParameterNames: [String: String]
    let query: Query

    /// A path parameter, by its WAHA name, percent-decoded.
    func path(_ name: String) -> String {
        let raw = pathParameterNames[name].flatMap { pathParameters.get($0) } ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    /// The JSON body, decoded by the request context's decoder.
    func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws(APIError) -> T {
        do {
            return try await request.decode(as: T.self, context: http)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "invalid JSON body: \(error)", context: ["parameter": "body"])
        }
    }

    /// Whether the request has a body (for routes whose body is optional).
    func hasBody(_ request: inout Request) async throws(APIError) -> Bool {
        do {
            return try await request.collectBody(upTo: http.maxUploadSize).readableBytes > 0
        } catch {
            throw APIError.bodyTooLarge
        }
    }

    /// The named session, or WAHA's 422 when it does not exist.
    func session(_ name: String) throws(APIError) -> Session {
        guard let session = server.sessions.session(named: name) else { throw .session(.notFound(session: name)) }
        server.activity.touch(session.name)
        return session
    }

    /// The session a contacts request names (`?session=`, or a body's `session`): `default`
    /// when the name is omitted or empty.
    func session(orDefault name: String?) throws(APIError) -> Session {
        try session(name.flatMap { $0.isEmpty ? nil : $0 } ?? SessionManager.defaultSessionName)
    }

    /// The session named by `?session=`.
    func querySession() throws(APIError) -> Session {
        try session(orDefault: try query.string("session", format: .optionalSessionName))
    }
}

/// Typed access to query parameters; every failure names the parameter. A parameter given
/// empty (`?limit=`) is invalid for every type but a string whose format allows empty.
struct Query: Sendable {
    private let parameters: Parameters

    init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    func raw(_ name: String) -> String? {
        parameters[name[...]].map(String.init)
    }

    func all(_ name: String) -> [String] {
        parameters.getAll(name).map { String($0) }
    }

    func string(_ name: String, format: IDFormat) throws(APIError) -> String? {
        guard let text = raw(name) else { return nil }
        return try format.validate(text, parameter: name)
    }

    func required(_ name: String, format: IDFormat) throws(APIError) -> String {
        guard let text = raw(name), !text.isEmpty else { throw .missingParameter(name) }
        return try format.validate(text, parameter: name)
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text = raw(name) else { return nil }
        guard let value = Int(text), range.contains(value), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 || $0 == 0x2D }) else {
            throw .badParameter(name, "query parameter '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound); got '\(text)'")
        }
        return value
    }

    /// `true` or `false`, as the document's boolean type serializes.
    func boolean(_ name: String) throws(APIError) -> Bool? {
        guard let text = raw(name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw .badParameter(name, "query parameter '\(name)' must be true or false; got '\(text)'")
        }
    }

    func oneOf<Value: RawRepresentable & CaseIterable>(_ name: String, _: Value.Type) throws(APIError) -> Value? where Value.RawValue == String {
        guard let text = raw(name) else { return nil }
        return try Self.member(text, of: Value.self, parameter: name)
    }

    /// A repeatable parameter (`expand=apps&expand=...`), each value one of `Value`'s.
    func list<Value: RawRepresentable & CaseIterable>(_ name: String, _: Value.Type) throws(APIError) -> [Value] where Value.RawValue == String {
        var values: [Value] = []
        for text in all(name) { values.append(try Self.member(text, of: Value.self, parameter: name)) }
        return values
    }

    private static func member<Value: RawRepresentable & CaseIterable>(_ text: String, of _: Value.Type, parameter name: String) throws(APIError) -> Value where Value.RawValue == String {
        guard let value = Value(rawValue: text) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badParameter(name, "query parameter '\(name)' must be one of \(allowed); got '\(text)'")
        }
        return value
    }
}

/// The formats of the ids clients send, each one regular expression: the OpenAPI document
/// declares it as the parameter's `pattern`, and the handlers validate by the same grammar read
/// byte by byte (`matches`; Swift's Regex took a tenth of the contact route's time), which a
/// test holds to the pattern over generated inputs: a request the document calls valid is never
/// refused for its format, and the reverse.
enum IDFormat: Sendable, CaseIterable {
    /// `contactId`, `{id}`: a person, a LID or a group.
    case contactID
    /// `{chatId}` of PUT and `{phoneNumber}`: a phone number chat id, or a LID.
    case phoneNumberOrLid
    case lid
    /// `phone` of check-exists: E.164 allows at most 15 digits; fewer than 6 is no phone number.
    case phone
    case sessionName
    /// `?session=`: empty means `default`.
    case optionalSessionName

    var pattern: String {
        switch self {
        case .contactID: #"^([0-9]+(@c\.us|@lid|@g\.us)?|[0-9]+-[0-9]+@g\.us)$"#
        case .phoneNumberOrLid: #"^[0-9]+(@c\.us|@lid)?$"#
        case .lid: #"^[0-9]+(@lid)?$"#
        case .phone: #"^[0-9]{6,15}$"#
        case .sessionName: #"^[A-Za-z0-9_-]{1,64}$"#
        case .optionalSessionName: #"^[A-Za-z0-9_-]{0,64}$"#
        }
    }

    var schema: Schema { .pattern(pattern) }

    /// The example every description of a value of this format shows.
    var example: String {
        switch self {
        case .contactID: "11231231231 or 11231231231@c.us"
        case .phoneNumberOrLid: "11231231231, 11231231231@c.us or 123123123@lid"
        case .lid: "123123123 or 123123123@lid"
        case .phone: "6 to 15 digits, country code first"
        case .sessionName, .optionalSessionName: SessionName.characters
        }
    }

    func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8(matches)
    }

    private func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let digits = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
        let rest = bytes[digits...]
        switch self {
        case .contactID:
            guard digits > 0 else { return false }
            if rest.isEmpty || Self.equals(rest, "@c.us") || Self.equals(rest, "@lid") || Self.equals(rest, "@g.us") { return true }
            // A group's `<creator>-<timestamp>@g.us`.
            guard rest.first == UInt8(ascii: "-") else { return false }
            let afterDash = rest.dropFirst()
            let more = afterDash.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            return more > 0 && Self.equals(afterDash.dropFirst(more), "@g.us")
        case .phoneNumberOrLid: return digits > 0 && (rest.isEmpty || Self.equals(rest, "@c.us") || Self.equals(rest, "@lid"))
        case .lid: return digits > 0 && (rest.isEmpty || Self.equals(rest, "@lid"))
        case .phone: return (6...15).contains(digits) && rest.isEmpty
        case .sessionName, .optionalSessionName:
            let minimum = self == .sessionName ? 1 : 0
            return (minimum...SessionName.maxLength).contains(bytes.count) && bytes.allSatisfy(SessionName.isNameByte)
        }
    }

    private static func equals(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { bytes.elementsEqual($0) }
    }

    func validate(_ text: String, parameter: String) throws(APIError) -> String {
        guard matches(text) else { throw .badParameter(parameter, "'\(parameter)' must be \(example); got '\(text)'") }
        return text
    }
}
