import Foundation
import SwitchboardEngineRuntime

/// What a create or update body asks of a session, each part optional: a part left out keeps what
/// the session has (on create, the default). The rules of a body that makes a session composite,
/// or one engine again, live here, for create and update alike.
public struct SessionChange: Sendable {
    public var engine: String?
    public var engineConfig: Data?
    /// WAHA's session `config`.
    public var config: Data?
    public var isolation: EngineIsolation?
    public var sandbox: SandboxGrants?
    public var members: [SessionComposition.Member]?
    public var routes: [String: SessionComposition.Route]?

    public init(
        engine: String? = nil, engineConfig: Data? = nil, config: Data? = nil, isolation: EngineIsolation? = nil, sandbox: SandboxGrants? = nil,
        members: [SessionComposition.Member]? = nil, routes: [String: SessionComposition.Route]? = nil
    ) {
        (self.engine, self.engineConfig, self.config, self.isolation, self.sandbox) = (engine, engineConfig, config, isolation, sandbox)
        (self.members, self.routes) = (members, routes)
    }

    /// The record a new session `name` gets: the default engine (`local`) with `{}` unless the
    /// change says otherwise.
    public func record(creating name: String, started: Bool) throws(SessionError) -> SessionRecord {
        try applied(to: SessionRecord(name: name, engine: SessionManager.defaultEngineName, started: started))
    }

    /// `record` as this change leaves it. `engine` turns a composite back into one engine, and a
    /// new engine without `engineConfig` starts from `{}` (another engine's configuration means
    /// nothing to it); `members` or `routes` make or change a composite, either alone keeping the
    /// other half as it was; a composite has no engine configuration, isolation or sandbox of its
    /// own (each member has its own).
    public func applied(to record: SessionRecord) throws(SessionError) -> SessionRecord {
        var record = record
        if let engine {
            guard members == nil, routes == nil else {
                throw .invalidComposition(parameter: "engine", "give 'engine' for one engine or 'members' and 'routes' for a composite, not both")
            }
            if engine != record.engine, engineConfig == nil { record.engineConfig = Data("{}".utf8) }
            record.engine = engine
            record.composition = nil
        }
        if members != nil || routes != nil {
            guard let members = members ?? record.composition?.members else {
                throw .invalidComposition(parameter: "members", "'routes' needs 'members': the engines the routes name")
            }
            guard let routes = routes ?? record.composition?.routes else {
                throw .invalidComposition(parameter: "routes", "'members' needs 'routes': which member serves which feature (\"*\" for any)")
            }
            record = SessionRecord.composite(
                name: record.name, SessionComposition(members: members, routes: routes), config: record.config, started: record.started)
        }
        if record.composition != nil, let parameter = engineConfig != nil ? "engineConfig" : isolation != nil ? "isolation" : sandbox != nil ? "sandbox" : nil {
            throw .invalidComposition(
                parameter: parameter, "a composite session has no \(parameter) of its own: each member has its own engine, engineConfig, isolation and sandbox")
        }
        if let engineConfig { record.engineConfig = engineConfig }
        if let config { record.config = config }
        if let isolation { record.isolation = isolation }
        if let sandbox { record.sandbox = sandbox }
        return record
    }
}
