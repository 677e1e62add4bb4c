import ContactsEngineKit
import Foundation
import Hummingbird
import SwitchboardCore

/// What a handler gets: the server's state and the request's path and query parameters.
struct APIContext: Sendable {
    let server: ServerState
    let pathParameters: Parameters
    /// WAHA's path parameter names to the router's (see `APIRoute.routerPath`).
    let pathParameterNames: [String: String]
    let query: Query

    /// A path parameter, by its WAHA name, percent-decoded.
    func path(_ name: String) -> String {
        let raw = pathParameterNames[name].flatMap { pathParameters.get($0) } ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    /// The named session, or WAHA's 422 when it does not exist.
    func session(_ name: String) throws(APIError) -> Session {
        guard let session = server.sessions.session(named: name) else { throw .session(.notFound(session: name)) }
        return session
    }

    /// The session named by `?session=`, `default` when omitted.
    func querySession() throws(APIError) -> Session {
        try session(query.string("session") ?? SessionManager.defaultSessionName)
    }
}

/// Typed access to query parameters; every failure names the parameter.
struct Query: Sendable {
    private let parameters: Parameters

    init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    func string(_ name: String) -> String? {
        parameters[name[...]].flatMap { $0.isEmpty ? nil : String($0) }
    }

    func required(_ name: String) throws(APIError) -> String {
        guard let value = string(name) else { throw .missingParameter(name) }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw .badParameter(name, "query parameter '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound); got '\(text)'")
        }
        return value
    }

    func boolean(_ name: String) throws(APIError) -> Bool? {
        guard let text = string(name) else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw .badParameter(name, "query parameter '\(name)' must be true or false; got '\(text)'")
        }
    }

    func oneOf<Value: RawRepresentable & CaseIterable>(_ name: String, _: Value.Type) throws(APIError) -> Value? where Value.RawValue == String {
        guard let text = string(name) else { return nil }
        guard let value = Value(rawValue: text) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badParameter(name, "query parameter '\(name)' must be one of \(allowed); got '\(text)'")
        }
        return value
    }
}

/// Validation of the ids clients send, shared by query, path and body parameters.
enum IDParameter {
    static func contactID(_ raw: String, parameter: String) throws(APIError) -> String {
        guard let id = ChatID.normalizedContactID(raw) else {
            throw .badParameter(parameter, "'\(parameter)' must be a chat id such as 11231231231 or 11231231231@c.us; got '\(raw)'")
        }
        return id
    }

    /// E.164 allows at most 15 digits; fewer than 6 is no phone number.
    static let phoneDigits = 6...15

    static func phone(_ raw: String, parameter: String) throws(APIError) -> String {
        guard ChatID.isDigits(raw), phoneDigits.contains(raw.count) else {
            throw .badParameter(parameter, "'\(parameter)' must be \(phoneDigits.lowerBound) to \(phoneDigits.upperBound) digits, country code first; got '\(raw)'")
        }
        return raw
    }

    static func lid(_ raw: String, parameter: String) throws(APIError) -> String {
        guard let lid = ChatID.normalizedLid(raw) else {
            throw .badParameter(parameter, "'\(parameter)' must be a LID such as 123123123 or 123123123@lid; got '\(raw)'")
        }
        return lid
    }

    static func phoneNumberID(_ raw: String, parameter: String) throws(APIError) -> String {
        guard let id = ChatID.normalizedPhoneNumberID(raw) else {
            throw .badParameter(parameter, "'\(parameter)' must be a phone number such as 11231231231 or 11231231231@c.us; got '\(raw)'")
        }
        return id
    }
}
