import ContactsEngineKit
import SwitchboardCore

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
                "description": "WAHA's contacts API over pluggable engines. GET /api/engines/matrix tells which engine serves which endpoint.",
            ],
            "paths": .object(paths),
            "components": [
                "schemas": .object(schemas),
                "securitySchemes": ["api_key": ["type": "apiKey", "in": "header", "name": "X-Api-Key"]],
            ],
        ]
    }

    private static func operation(_ route: APIRoute, apiKeyRequired: Bool) -> JSONValue {
        var responses: [String: JSONValue] = [
            String(route.responseStatus): [
                "description": "Success",
                "content": route.response.isText
                    ? ["text/html": ["schema": route.response.json]]
                    : ["application/json": ["schema": route.response.json]],
            ],
        ]
        let invalid = route.requestBody == nil ? "Invalid parameter" : "Invalid parameter, or a body that is not JSON or is over 64 KiB"
        var errors: [(Int, String)] = [(400, invalid)]
        if !route.isOpen, apiKeyRequired { errors.append((401, "Missing or wrong X-Api-Key")) }
        if route.feature != nil {
            errors += [
                (404, "Not found (engine kind not-found)"), (409, "Conflict (engine kind conflict)"),
                (422, "Session does not exist or is not WORKING"), (501, "The session's engine does not support this endpoint"),
                (502, "The engine failed (engine kind internal)"), (503, "A backend of the engine is unavailable"),
                (504, "The engine or its backend did not answer in time"),
            ]
        }
        for (code, description) in errors {
            responses[String(code)] = ["description": .string(description), "content": ["application/json": ["schema": Schema.reference("Error").json]]]
        }
        var operation: [String: JSONValue] = [
            "tags": .array([.string(route.tag)]),
            "summary": .string(route.summary),
            "operationId": .string(operationID(route)),
            "responses": .object(responses),
        ]
        if let feature = route.feature { operation["x-feature"] = .string(feature.rawValue) }
        if !route.parameters.isEmpty {
            operation["parameters"] = .array(route.parameters.map { parameter in
                [
                    "name": .string(parameter.name), "in": .string(parameter.location.rawValue),
                    "required": .bool(parameter.required), "schema": parameter.schema.json,
                    "description": .string(parameter.description),
                ]
            })
        }
        if let body = route.requestBody {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": body.json]]]
        }
        operation["security"] = route.isOpen || !apiKeyRequired ? .array([]) : .array([["api_key": .array([])]])
        return .object(operation)
    }

    private static func operationID(_ route: APIRoute) -> String {
        let words = route.path.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        return route.method.rawValue.lowercased() + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
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

    private static var schemas: [String: JSONValue] {
        [
            "Contact": object([
                "id": string, "number": string, "name": nullableString, "pushname": nullableString, "shortName": nullableString,
                "isMe": boolean, "isGroup": boolean, "isWAContact": boolean, "isMyContact": boolean, "isBlocked": boolean,
            ], required: ["id", "number", "name", "pushname", "shortName", "isMe", "isGroup", "isWAContact", "isMyContact", "isBlocked"]),
            "ContactNames": object(["firstName": string, "lastName": string]),
            "ContactTarget": object(["contactId": string, "session": string], required: ["contactId"]),
            "Success": object(["success": boolean], required: ["success"]),
            "CheckExists": object(["numberExists": boolean, "chatId": string], required: ["numberExists"]),
            "About": object(["about": nullableString], required: ["about"]),
            "ProfilePicture": object(["profilePictureURL": nullableString], required: ["profilePictureURL"]),
            "LidMapping": object(["lid": nullableString, "pn": nullableString], required: ["lid", "pn"]),
            "Count": object(["count": integer], required: ["count"]),
            "Error": object([
                "statusCode": integer, "error": string, "message": string, "parameter": string, "engine": string,
                "feature": string, "session": string, "status": string, "expected": ["type": "array", "items": string], "kind": string,
            ], required: ["statusCode", "error", "message"]),
            "Session": object([
                "name": string,
                "status": ["type": "string", "enum": ["STOPPED", "STARTING", "WORKING", "FAILED"]],
                "config": anyObject,
                "engine": object([
                    "engine": string, "version": nullableString, "config": anyObject, "health": Schema.reference("EngineStatus").json,
                    "isolation": isolation,
                ]),
                "failure": nullableString,
                "me": ["nullable": true],
            ], required: ["name", "status", "config", "engine"]),
            "EngineStatus": object([
                "health": ["type": "string", "enum": ["ok", "degraded", "down"]], "message": string,
                "counters": ["type": "object", "additionalProperties": integer],
            ]),
            "SessionCreate": object([
                "name": string, "engine": string, "engineConfig": anyObject, "config": anyObject, "start": boolean, "isolation": isolation,
            ]),
            "SessionUpdate": object(["engine": string, "engineConfig": anyObject, "config": anyObject, "isolation": isolation]),
            "SessionFeatures": object([
                "session": string, "status": string, "engine": string, "engineVersion": nullableString,
                "features": ["type": "array", "items": string],
                "endpoints": ["type": "array", "items": object(["method": string, "path": string, "feature": string, "supported": boolean])],
            ]),
            "Engine": object([
                "name": nullableString, "version": nullableString, "abiVersion": nullableString, "summary": nullableString,
                "features": ["type": "array", "items": ["type": "string", "enum": .array(Feature.allCases.map { .string($0.rawValue) })]],
                "file": string, "state": ["type": "string", "enum": ["loaded", "refused"]], "reason": nullableString,
                "generation": ["type": "integer", "nullable": true],
            ]),
            "FeatureMatrix": object([
                "engines": ["type": "array", "items": object(["name": string, "version": string, "summary": string])],
                "features": ["type": "array", "items": object([
                    "id": string, "summary": string, "endpoints": ["type": "array", "items": string],
                    "engines": ["type": "object", "additionalProperties": boolean],
                ])],
            ]),
            "ScanReport": object(["loaded": ["type": "array", "items": string], "upgraded": ["type": "array", "items": string], "refused": ["type": "array", "items": string]]),
            "Pong": object(["message": string]),
            "Version": object(["version": string, "engine": string, "tier": string, "abi": string]),
            "Health": object(["status": string, "sessions": ["type": "object", "additionalProperties": integer], "engines": ["type": "object", "additionalProperties": integer]]),
        ]
    }
}

extension Schema {
    var isText: Bool {
        if case .text = self { return true }
        return false
    }
}

extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByIntegerLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}
