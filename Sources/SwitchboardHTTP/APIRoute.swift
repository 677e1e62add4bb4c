import ContactsEngineKit
import Hummingbird

/// One operation of the API, declared once: the router serves it, the OpenAPI document
/// describes it (parameters with their bounds and formats, body, every status it can answer,
/// response schema), and the tests check docs/api.md against it.
struct APIRoute: Sendable {
    typealias Handler = @Sendable (inout Request, APIContext) async throws(APIError) -> Response

    let method: HTTPRequest.Method
    /// WAHA's spelling: `/api/{session}/contacts/{id}`.
    let path: String
    /// WAHA's operationId (`ContactsController_getAll`), so generated clients get WAHA's method names.
    let operationID: String
    let tag: APITag
    let summary: String
    let deprecated: Bool
    /// The feature this route needs from the session's engine, if any.
    let feature: Feature?
    let parameters: [APIParameter]
    let body: APIBody?
    let success: APISuccess
    /// Errors this operation answers beyond the ones every route may (`APIRoute.commonErrors`).
    let errors: Set<APIErrorCase>
    /// Open routes answer without an API key.
    let isOpen: Bool
    let handler: Handler

    init(
        _ method: HTTPRequest.Method, _ path: String, _ operationID: String, tag: APITag, summary: String, deprecated: Bool = false,
        feature: Feature? = nil, parameters: [APIParameter] = [], body: APIBody? = nil, success: APISuccess,
        errors: Set<APIErrorCase> = [], isOpen: Bool = false, handler: @escaping Handler
    ) {
        self.method = method
        self.path = path
        self.operationID = operationID
        self.tag = tag
        self.summary = summary
        self.deprecated = deprecated
        self.feature = feature
        self.parameters = parameters
        self.body = body
        self.success = success
        // A route that reads parameters or a body can find them invalid; one that needs an
        // engine feature can hear every engine error kind.
        var errors = errors
        if !parameters.isEmpty || body != nil { errors.insert(.invalidParameter) }
        if feature != nil { errors.formUnion(APIErrorCase.engineCall) }
        self.errors = errors
        self.isOpen = isOpen
        self.handler = handler
    }

    /// The status codes this operation can answer, success first, given whether a key is configured.
    func statuses(apiKeyRequired: Bool) -> [Int] {
        var codes = Set(errors.map(\.status))
        codes.formUnion(APIErrorCase.everyRoute.map(\.status))
        if apiKeyRequired, !isOpen { codes.insert(APIErrorCase.unauthorized.status) }
        return [success.status] + codes.sorted()
    }

    // MARK: Paths

    /// Hummingbird's spelling, with each path parameter named by its segment position
    /// (`/api/:segment2/contacts/:segment4`). Hummingbird refuses two routes that name the
    /// parameter at one position differently, and WAHA does exactly that (`{id}` for GET,
    /// `{chatId}` for PUT), so the router never sees WAHA's names; `routerParameterNames` maps them.
    var routerPath: String {
        segments.enumerated().map { index, segment in
            Self.parameterName(in: segment) == nil ? String(segment) : ":" + Self.positionalName(index)
        }.joined(separator: "/")
    }

    /// WAHA's parameter name to the router's positional one.
    var routerParameterNames: [String: String] {
        var names: [String: String] = [:]
        for (index, segment) in segments.enumerated() {
            if let name = Self.parameterName(in: segment) { names[name] = Self.positionalName(index) }
        }
        return names
    }

    /// Whether a request path has this route's shape (literal segments equal, one non-empty
    /// segment per parameter): how a 405 finds the methods a path does have.
    func matches(path requestPath: String) -> Bool {
        let given = requestPath.split(separator: "/", omittingEmptySubsequences: false)
        guard given.count == segments.count else { return false }
        return zip(segments, given).allSatisfy { declared, actual in
            Self.parameterName(in: declared) == nil ? declared == actual : !actual.isEmpty
        }
    }

    /// How many segments are literal: the router prefers a literal segment to a parameter, so
    /// among the routes a path matches, the most literal ones are those it would reach.
    var literalSegmentCount: Int { segments.count { Self.parameterName(in: $0) == nil } }

    private var segments: [Substring] { path.split(separator: "/", omittingEmptySubsequences: false) }

    private static func parameterName(in segment: Substring) -> String? {
        segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
    }

    private static func positionalName(_ index: Int) -> String { "segment\(index)" }
}

/// WAHA's tags (emoji included, as WAHA names them), plus ours for the routes WAHA lacks.
enum APITag: String, Sendable, CaseIterable {
    case sessions = "🖥️ Sessions"
    case pairing = "📱 Pairing"
    case contacts = "👤 Contacts"
    case observability = "🔍 Observability"
    case engines = "🧩 Engines"
}

/// What a successful answer is.
struct APISuccess: Sendable {
    let status: Int
    /// Content type → schema; most routes answer JSON only.
    let content: [(type: String, schema: Schema)]

    static func json(_ schema: Schema, status: Int = 200) -> APISuccess {
        APISuccess(status: status, content: [(JSONBody.contentType, schema)])
    }

    static func html(_ status: Int = 200) -> APISuccess { APISuccess(status: status, content: [("text/html", .string)]) }
}

struct APIBody: Sendable {
    let schema: Schema
    let required: Bool

    static func json(_ schema: Schema, required: Bool = true) -> APIBody { APIBody(schema: schema, required: required) }
}

struct APIParameter: Sendable {
    enum Location: String, Sendable { case query, path }

    let name: String
    let location: Location
    let required: Bool
    let schema: Schema
    let description: String

    static func query(_ name: String, _ schema: Schema, required: Bool = false, _ description: String) -> APIParameter {
        APIParameter(name: name, location: .query, required: required, schema: schema, description: description)
    }

    static func path(_ name: String, _ schema: Schema, _ description: String) -> APIParameter {
        APIParameter(name: name, location: .path, required: true, schema: schema, description: description)
    }

    static let session = APIParameter.query("session", IDFormat.optionalSessionName.schema, "Session name; `default` when omitted or empty")
    static let sessionPath = APIParameter.path("session", IDFormat.sessionName.schema, "Session name")
}

/// The small part of JSON Schema the document uses.
indirect enum Schema: Sendable {
    case string, integer, boolean, object, number
    case pattern(String)
    case reference(String)
    case array(Schema)
    case stringEnum([String])
    case integerRange(Int, Int)

    var json: JSONValue {
        switch self {
        case .string: ["type": "string"]
        case .integer: ["type": "integer"]
        case .number: ["type": "number"]
        case .boolean: ["type": "boolean"]
        case .object: ["type": "object"]
        case .pattern(let pattern): ["type": "string", "pattern": .string(pattern)]
        case .reference(let name): ["$ref": .string("#/components/schemas/\(name)")]
        case .array(let items): ["type": "array", "items": items.json]
        case .stringEnum(let values): ["type": "string", "enum": .array(values.map { .string($0) })]
        case .integerRange(let low, let high): ["type": "integer", "minimum": .integer(low), "maximum": .integer(high)]
        }
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
}
