import ContactsEngineKit
import SwitchboardEngineRuntime
import SwitchboardSessions

/// Builds the OpenAPI 3 document from the route table: every route served is described, and
/// nothing else is.
enum OpenAPIDocument {
    static func build(routes: [APIRoute], version: String, apiKeyRequired: Bool) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for route in routes {
            var operations: [String: JSONValue]
            if case .object(let existing)? = paths[route.path] { operations = existing } else { operations = [:] }
            operations[route.method.rawValue.lowercased()] = operation(route, apiKeyRequired: apiKeyRequired)
            paths[route.path] = .object(operations)
        }
        return [
            "openapi": "3.0.3",
            "info": [
                "title": "Switchboard",
                "version": .string(version),
                "description": "WAHA's contacts, LIDs, sessions and server API over pluggable engines. GET /api/engines/matrix tells which engine serves which endpoint.",
            ],
            "tags": .array(APITag.allCases.map { ["name": .string($0.rawValue)] }),
            "paths": .object(paths),
            "components": [
                "schemas": .object(schemas),
                "securitySchemes": ["api_key": ["type": "apiKey", "in": "header", "name": "X-Api-Key"]],
            ],
        ]
    }

    private static func operation(_ route: APIRoute, apiKeyRequired: Bool) -> JSONValue {
        var content: [String: JSONValue] = [:]
        for (type, schema) in route.success.content { content[type] = ["schema": schema.json] }
        var success: [String: JSONValue] = ["description": "Success", "content": .object(content)]
        if route.feature != nil {
            success["headers"] = [AnsweringMembers.header.rawName: [
                "description": "Composite sessions only: the member that answered (every member, comma-separated, for a mirrored write)",
                "schema": string,
            ]]
        }
        var responses: [String: JSONValue] = [String(route.success.status): .object(success)]
        var cases = route.errors.union(APIErrorCase.everyRoute)
        if apiKeyRequired, !route.isOpen { cases.insert(.unauthorized) }
        for (status, group) in Dictionary(grouping: cases, by: \.status) {
            let description = group.sorted { $0.rawValue < $1.rawValue }.map(\.description).joined(separator: "; ")
            let schema = status == 401 ? Schema.reference("Unauthorized") : Schema.reference("Error")
            responses[String(status)] = ["description": .string(description), "content": ["application/json": ["schema": schema.json]]]
        }
        var operation: [String: JSONValue] = [
            "tags": .array([.string(route.tag.rawValue)]),
            "summary": .string(route.summary),
            "operationId": .string(route.operationID),
            "responses": .object(responses),
        ]
        if route.deprecated { operation["deprecated"] = true }
        if let feature = route.feature { operation["x-feature"] = .string(feature.rawValue) }
        if !route.parameters.isEmpty {
            operation["parameters"] = .array(route.parameters.map { parameter in
                var json: [String: JSONValue] = [
                    "name": .string(parameter.name), "in": .string(parameter.location.rawValue),
                    "required": .bool(parameter.required), "schema": parameter.schema.json,
                    "description": .string(parameter.description),
                ]
                if case .array = parameter.schema { json["style"] = "form"; json["explode"] = true }
                return .object(json)
            })
        }
        if let body = route.body {
            operation["requestBody"] = ["required": .bool(body.required), "content": ["application/json": ["schema": body.schema.json]]]
        }
        operation["security"] = route.isOpen || !apiKeyRequired ? .array([]) : .array([["api_key": .array([])]])
        return .object(operation)
    }

    private static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    private static let string: JSONValue = ["type": "string"]
    private static let nullableString: JSONValue = ["type": "string", "nullable": true]
    private static let boolean: JSONValue = ["type": "boolean"]
    private static let integer: JSONValue = ["type": "integer"]
    private static let anyObject: JSONValue = ["type": "object", "additionalProperties": true]
    private static let isolation: JSONValue = ["type": "string", "enum": .array(EngineIsolation.allCases.map { .string($0.rawValue) })]
    private static let need: JSONValue = ["type": "string", "enum": .array(EngineNeed.allCases.map { .string($0.rawValue) })]
    /// OpenAPI 3.0: a nullable enum must list null among its values.
    private static let nullableIsolation: JSONValue = [
        "type": "string", "nullable": true, "enum": .array(EngineIsolation.allCases.map { .string($0.rawValue) } + [.null]),
    ]

    private static func nullable(_ schema: JSONValue) -> JSONValue {
        guard case .object(var object) = schema else { return schema }
        object["nullable"] = true
        return .object(object)
    }

    private static func pattern(_ format: IDFormat) -> JSONValue { format.schema.json }
    private static let number: JSONValue = ["type": "number"]
    private static let sessionStatus: JSONValue = ["type": "string", "enum": .array(SessionStatus.allCases.map { .string($0.rawValue) })]

    private static var schemas: [String: JSONValue] {
        [
            "Contact": object([
                "id": string, "number": string, "name": nullableString, "pushname": nullableString, "shortName": nullableString,
                "isMe": boolean, "isGroup": boolean, "isWAContact": boolean, "isMyContact": boolean, "isBlocked": boolean,
            ], required: ["id", "number", "name", "pushname", "shortName", "isMe", "isGroup", "isWAContact", "isMyContact", "isBlocked"]),
            // At least one name with more than white space; a key left out is kept as it was,
            // `null` is not a name.
            "ContactUpdateBody": {
                guard case .object(var body) = object(["firstName": string, "lastName": string]) else { return .null }
                let named: JSONValue = ["type": "string", "pattern": #"\S"#]
                body["anyOf"] = [
                    ["required": ["firstName"], "properties": ["firstName": named]],
                    ["required": ["lastName"], "properties": ["lastName": named]],
                ]
                return .object(body)
            }(),
            "ContactRequest": object(
                ["contactId": pattern(.contactID), "session": nullable(pattern(.optionalSessionName))], required: ["contactId"]),
            "Result": object(["success": boolean], required: ["success"]),
            "WANumberExistResult": object(["numberExists": boolean, "chatId": string, "pn": string], required: ["numberExists"]),
            "About": object(["about": nullableString], required: ["about"]),
            "ProfilePictureResponse": object(["profilePictureURL": nullableString], required: ["profilePictureURL"]),
            "LidToPhoneNumber": object(["lid": nullableString, "pn": nullableString], required: ["lid", "pn"]),
            "CountResponse": object(["count": integer], required: ["count"]),
            "Error": object([
                "statusCode": integer, "error": string, "message": string, "parameter": string, "engine": string,
                "feature": string, "session": string, "status": string, "expected": ["type": "array", "items": string], "kind": string,
                "allowed": ["type": "array", "items": string], "member": string, "route": ["type": "array", "items": string],
                "acknowledged": ["type": "array", "items": string], "failed": ["type": "array", "items": string],
            ], required: ["statusCode", "error", "message"]),
            "Unauthorized": object(["statusCode": integer, "message": string], required: ["statusCode", "message"]),
            "SessionInfo": object([
                "name": string,
                "status": sessionStatus,
                "config": anyObject,
                "engine": object(
                    [
                        "engine": string, "version": string, "config": anyObject, "health": Schema.reference("EngineStatus").json,
                        "isolation": isolation, "sandbox": Schema.reference("EngineSandbox").json,
                        "members": ["type": "array", "items": object([
                            "name": string, "engine": string, "version": string, "config": anyObject,
                            "health": Schema.reference("EngineStatus").json, "isolation": isolation, "features": ["type": "array", "items": string],
                            "sandbox": Schema.reference("EngineSandbox").json,
                        ], required: ["name", "engine", "config"])],
                        "routes": ["type": "object", "additionalProperties": Schema.reference("SessionRoute").json],
                    ],
                    required: ["engine", "config"]),
                "failure": nullableString,
                "me": nullable(Schema.reference("MeInfo").json),
                "presence": anyObject,
                "timestamps": object(["activity": number], required: ["activity"]),
                "apps": ["type": "array", "items": anyObject],
            ], required: ["name", "status", "config", "engine", "failure", "me", "presence", "timestamps"]),
            "MeInfo": nullable(object(["id": string, "lid": string, "jid": string, "pushName": string], required: ["id", "pushName"])),
            "MessageCappingData": object([
                "cappingStatus": string, "totalQuota": number, "usedQuota": number, "cycleStart": nullable(number), "cycleEnd": nullable(number),
                "mvStatus": nullableString, "oteStatus": nullableString,
            ], required: ["cappingStatus", "totalQuota", "usedQuota", "cycleStart", "cycleEnd", "mvStatus", "oteStatus"]),
            "ReachoutTimelockData": object(
                ["enforcementType": string, "isActive": boolean, "timeEnforcementEnds": nullable(number)],
                required: ["enforcementType", "isActive", "timeEnforcementEnds"]),
            "EngineStatus": object([
                "health": ["type": "string", "enum": ["ok", "degraded", "down"]], "message": string,
                "counters": ["type": "object", "additionalProperties": integer],
            ], required: ["health", "message", "counters"]),
            "SandboxGrants": object([
                "network": ["type": "array", "items": string, "description": "host:port or port; the kernel enforces the port"],
                "read": ["type": "array", "items": string, "description": "absolute paths the engine may read"],
                "exec": boolean,
            ]),
            "EngineSandbox": object([
                "needs": ["type": "array", "items": need], "grants": Schema.reference("SandboxGrants").json,
                "ungranted": ["type": "array", "items": need],
                "applied": nullable(object([
                    "mode": ["type": "string", "enum": ["strict", "best-effort", "off"]], "layers": ["type": "array", "items": string],
                    "missing": ["type": "array", "items": string], "failure": string, "user": string,
                    "grants": Schema.reference("SandboxGrants").json, "processes": ["type": "string", "enum": ["per-session", "per-engine"]],
                ], required: ["mode", "layers", "missing", "grants", "processes"])),
            ], required: ["needs", "grants", "ungranted", "applied"]),
            // Optional keys may also be null (left out); `apps` may only be empty: no session apps here.
            "SessionCreateRequest": object([
                "name": nullable(pattern(.sessionName)), "engine": nullableString, "engineConfig": nullable(anyObject),
                "config": nullable(anyObject), "start": nullable(boolean), "isolation": nullableIsolation, "apps": noApps,
                "members": membersSchema, "routes": routesSchema, "sandbox": nullable(Schema.reference("SandboxGrants").json),
            ]),
            "SessionUpdateRequest": object([
                "engine": nullableString, "engineConfig": nullable(anyObject), "config": nullable(anyObject), "isolation": nullableIsolation,
                "apps": noApps, "members": membersSchema, "routes": routesSchema, "sandbox": nullable(Schema.reference("SandboxGrants").json),
            ]),
            "SessionMember": object(
                [
                    "name": pattern(.sessionName), "engine": string, "engineConfig": nullable(anyObject), "isolation": nullableIsolation,
                    "sandbox": nullable(Schema.reference("SandboxGrants").json),
                ],
                required: ["name", "engine"]),
            "SessionRoute": object(
                ["members": ["type": "array", "items": pattern(.sessionName), "minItems": 1], "mirror": boolean], required: ["members", "mirror"]),
            "SessionLogoutRequest": anyObject,
            "SessionStartDeprecatedRequest": object(["name": pattern(.sessionName), "config": nullable(anyObject)], required: ["name"]),
            "SessionStopDeprecatedRequest": object(["name": string, "logout": nullable(boolean)], required: ["name"]),
            "SessionLogoutDeprecatedRequest": object(["name": string], required: ["name"]),
            "SessionFeatures": object([
                "session": string, "status": sessionStatus, "engine": string, "engineVersion": nullableString,
                "features": ["type": "array", "items": string],
                "endpoints": ["type": "array", "items": object(["method": string, "path": string, "feature": string, "supported": boolean])],
                "routing": ["type": "object", "additionalProperties": object([
                    "route": ["type": "array", "items": string], "mirror": boolean, "servedBy": nullableString,
                    "standby": ["type": "array", "items": string],
                ], required: ["route", "mirror", "servedBy", "standby"])],
            ]),
            "Engine": object([
                "name": nullableString, "version": nullableString, "abiVersion": nullableString, "summary": nullableString,
                "license": nullableString, "homepage": nullableString,
                "features": ["type": "array", "items": ["type": "string", "enum": .array(Feature.allCases.map { .string($0.rawValue) })]],
                "needs": ["type": "array", "items": need],
                "file": string, "state": ["type": "string", "enum": ["loaded", "refused"]], "reason": nullableString,
                "generation": ["type": "integer", "nullable": true],
            ]),
            "FeatureMatrix": object([
                "engines": ["type": "array", "items": object(["name": string, "version": string, "summary": string, "needs": ["type": "array", "items": need]])],
                "features": ["type": "array", "items": object([
                    "id": string, "summary": string, "endpoints": ["type": "array", "items": string],
                    "engines": ["type": "object", "additionalProperties": boolean],
                ])],
            ]),
            "ScanReport": object(["loaded": ["type": "array", "items": string], "upgraded": ["type": "array", "items": string], "refused": ["type": "array", "items": string]]),
            "QRCodeValue": object(["value": string], required: ["value"]),
            "RequestCodeRequest": object(["phoneNumber": string, "method": nullableString], required: ["phoneNumber"]),
            "PingResponse": object(["message": string], required: ["message"]),
            "WAHAEnvironment": object([
                "version": string, "engine": string, "tier": string, "browser": string, "platform": string,
                "worker": object(["id": string], required: ["id"]), "abi": string,
            ], required: ["version", "engine", "tier", "browser", "platform", "worker"]),
            "ServerStatusResponse": object(
                ["startTimestamp": number, "uptime": number, "worker": object(["id": string], required: ["id"])],
                required: ["startTimestamp", "uptime", "worker"]),
            "Health": object(["status": string, "sessions": ["type": "object", "additionalProperties": integer], "engines": ["type": "object", "additionalProperties": integer]]),
        ]
    }

    private static let noApps: JSONValue = ["type": "array", "maxItems": 0, "nullable": true]

    /// A composite's members; routes name them, as a list or `{"members", "mirror"}`.
    private static let membersSchema: JSONValue = [
        "type": "array", "nullable": true, "minItems": 1, "maxItems": .integer(SessionComposition.maxMembers),
        "items": Schema.reference("SessionMember").json,
    ]
    /// Keyed by feature id or `*`.
    private static let routesSchema: JSONValue = {
        let route: JSONValue = ["oneOf": [
            ["type": "array", "items": pattern(.sessionName), "minItems": 1],
            ["type": "object", "properties": ["members": ["type": "array", "items": pattern(.sessionName), "minItems": 1], "mirror": boolean],
             "required": ["members"]],
        ]]
        let keys = Feature.allCases.map(\.rawValue) + [SessionComposition.anyFeature]
        return [
            "type": "object", "nullable": true, "additionalProperties": false,
            "properties": .object(Dictionary(uniqueKeysWithValues: keys.map { ($0, route) })),
        ]
    }()
}

extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByIntegerLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}
