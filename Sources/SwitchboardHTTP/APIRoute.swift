import ContactsEngineKit
import Hummingbird

/// One route of the API: what the router serves and what the OpenAPI document says, from one
/// definition, so the two cannot drift apart.
struct APIRoute: Sendable {
    typealias Handler = @Sendable (inout Request, APIContext) async throws(APIError) -> Response

    let method: HTTPRequest.Method
    /// WAHA's spelling: `/api/{session}/contacts/{id}`.
    let path: String
    let tag: String
    let summary: String
    /// The feature this route needs from the session's engine, if any.
    let feature: Feature?
    let parameters: [APIParameter]
    let requestBody: Schema?
    let responseStatus: Int
    let response: Schema
    /// Open routes answer without an API key.
    let isOpen: Bool
    let handler: Handler

    init(
        _ method: HTTPRequest.Method, _ path: String, tag: String, summary: String, feature: Feature? = nil,
        parameters: [APIParameter] = [], body: Schema? = nil, status: Int = 200, response: Schema, isOpen: Bool = false,
        handler: @escaping Handler
    ) {
        self.method = method
        self.path = path
        self.tag = tag
        self.summary = summary
        self.feature = feature
        self.parameters = parameters
        self.requestBody = body
        self.responseStatus = status
        self.response = response
        self.isOpen = isOpen
        self.handler = handler
    }

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

    private var segments: [Substring] { path.split(separator: "/", omittingEmptySubsequences: false) }

    private static func parameterName(in segment: Substring) -> String? {
        segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
    }

    private static func positionalName(_ index: Int) -> String { "segment\(index)" }
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

    static func path(_ name: String, _ description: String) -> APIParameter {
        APIParameter(name: name, location: .path, required: true, schema: .string, description: description)
    }

    static let session = APIParameter.query("session", .string, "Session name; `default` when omitted")
    static let sessionPath = APIParameter.path("session", "Session name")
}

/// The small part of JSON Schema the document uses.
indirect enum Schema: Sendable {
    case string, integer, boolean, object
    case reference(String)
    case array(Schema)
    case stringEnum([String])
    case integerRange(Int, Int)
    case text

    var json: JSONValue {
        switch self {
        case .string: ["type": "string"]
        case .integer: ["type": "integer"]
        case .boolean: ["type": "boolean"]
        case .object: ["type": "object"]
        case .text: ["type": "string"]
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
