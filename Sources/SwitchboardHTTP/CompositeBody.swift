import ContactsEngineKit
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import SwitchboardEngineRuntime
import SwitchboardSessions

/// A member in a session body: `{"name", "engine", "engineConfig", "isolation"}`.
struct MemberBody: Decodable, Sendable {
    var name: String
    var engine: String
    var engineConfig: JSONValue?
    var isolation: EngineIsolation?
    var sandbox: SandboxGrants?

    func member() throws(APIError) -> SessionComposition.Member {
        guard let config = JSONValue.objectData(engineConfig) else {
            throw .badParameter("members", "member \"\(name)\": 'engineConfig' must be a JSON object")
        }
        return SessionComposition.Member(
            name: name, engine: engine, engineConfig: config, isolation: isolation, sandbox: sandbox.flatMap { $0.isEmpty ? nil : $0 })
    }
}

/// A route in a session body: a list of member names, or `{"members": [...], "mirror": true}`.
struct RouteBody: Decodable, Sendable {
    var route: SessionComposition.Route

    private enum CodingKeys: String, CodingKey { case members, mirror }

    init(from decoder: any Decoder) throws {
        if let members = try? decoder.singleValueContainer().decode([String].self) {
            route = SessionComposition.Route(members: members)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        route = SessionComposition.Route(
            members: try container.decode([String].self, forKey: .members),
            mirror: try container.decodeIfPresent(Bool.self, forKey: .mirror) ?? false)
    }
}

extension [MemberBody] {
    func members() throws(APIError) -> [SessionComposition.Member] {
        var members: [SessionComposition.Member] = []
        for body in self { members.append(try body.member()) }
        return members
    }
}

extension [String: RouteBody] {
    var routes: [String: SessionComposition.Route] { mapValues(\.route) }
}

/// Which composite members answered the request, for `X-Switchboard-Member`: the contacts
/// routes note it, the router writes it on the response.
final class AnsweringMembers: Sendable {
    static let header = HTTPField.Name("X-Switchboard-Member")!

    @TaskLocal static var current: AnsweringMembers?

    private let members = Mutex<[String]>([])

    func note(_ served: [String]) {
        guard !served.isEmpty else { return }
        members.withLock { $0 = served }
    }

    /// `a`, or `a, b` for a mirrored write; nil when no member answered (a single-engine session).
    var headerValue: String? {
        let served = members.withLock { $0 }
        return served.isEmpty ? nil : served.joined(separator: ", ")
    }
}
