@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation

/// Any JSON value, for configuration objects the API stores and returns as given.
public enum JSONValue: Codable, Hashable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The stored JSON object, or an empty object if the bytes are not one.
    init(objectData: Data) {
        let decoded = try? JSONDecoder().decode(JSONValue.self, from: objectData)
        if case .object = decoded { self = decoded! } else { self = .object([:]) }
    }

    var data: Data {
        (try? JSONCoders.encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// A body's value that must be a JSON object (`config`, `engineConfig`), left out or `null`
    /// meaning `{}`: its bytes, or nil when it is something else.
    static func objectData(_ value: JSONValue?) -> Data? {
        switch value {
        case nil, .null?: Data("{}".utf8)
        case .object?: value?.data
        default: nil
        }
    }
}
