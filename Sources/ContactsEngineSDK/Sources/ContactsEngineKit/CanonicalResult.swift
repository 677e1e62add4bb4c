import Foundation

/// What the host may do with the bytes of a result before it decodes them.
@_spi(SwitchboardHost) public enum CanonicalReading: Sendable, Equatable {
    /// They are the answer exactly as the host would write it again (the SDK's `JSONWriter`: no
    /// whitespace, every key present and in sorted order), and they keep the contract: the host
    /// sends them as they are.
    case forward
    /// They are in that form but break the contract (ResultContract.swift), for this reason.
    case violation(String)
    /// They are in another form, or the operation has no such reading: the host decodes them,
    /// checks the values and writes them again.
    case decode
}

extension EngineOperation {
    @_spi(SwitchboardHost) public static func canonicalReading(of bytes: [UInt8], for request: Request) -> CanonicalReading { .decode }
}

extension Operations.ListContacts {
    /// A whole list read for its ids alone: decoding 100,000 contacts and writing them again
    /// was half of the unpaginated list's time.
    @_spi(SwitchboardHost) public static func canonicalReading(of bytes: [UInt8], for request: ContactsPageRequest) -> CanonicalReading {
        let ids = bytes.withUnsafeBufferPointer { buffer -> [String]? in
            var scanner = CanonicalScanner(buffer)
            guard let ids = scanner.contactList(), scanner.isAtEnd else { return nil }
            return ids
        }
        guard let ids else { return .decode }
        return violation(ids: ids, for: request).map(CanonicalReading.violation) ?? .forward
    }
}

extension Operations.GetContact {
    @_spi(SwitchboardHost) public static func canonicalReading(of bytes: [UInt8], for request: ContactRequest) -> CanonicalReading {
        let id = bytes.withUnsafeBufferPointer { buffer -> String? in
            var scanner = CanonicalScanner(buffer)
            guard let id = scanner.contact(), scanner.isAtEnd else { return nil }
            return id
        }
        guard let id else { return .decode }
        return violation(id: id, for: request).map(CanonicalReading.violation) ?? .forward
    }
}

/// Checks that bytes are JSON in the SDK writer's form, keeping only the ids the contract needs.
/// Strings must be well-formed and valid UTF-8; one with a `\u` escape, and an id with any escape,
/// is left to the decoder, which reads them as it always has.
struct CanonicalScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index == bytes.count }

    /// `[contact,contact,...]`: the id of each.
    mutating func contactList() -> [String]? {
        guard literal("[") else { return nil }
        var ids: [String] = []
        if literal("]") { return ids }
        repeat {
            guard let id = contact() else { return nil }
            ids.append(id)
        } while literal(",")
        return literal("]") ? ids : nil
    }

    /// `Contact.write(to:)`'s object: its id.
    mutating func contact() -> String? {
        guard literal(#"{"id":"#), let id = plainString(),
              literal(#","isBlocked":"#), bool(), literal(#","isGroup":"#), bool(), literal(#","isMe":"#), bool(),
              literal(#","isMyContact":"#), bool(), literal(#","isWAContact":"#), bool(),
              literal(#","name":"#), nullableString(), literal(#","number":"#), string() != nil,
              literal(#","pushname":"#), nullableString(), literal(#","shortName":"#), nullableString(), literal("}")
        else { return nil }
        return id
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        guard bytes.prefix(from: index, length: text.utf8CodeUnitCount).equals(text) else { return false }
        index += text.utf8CodeUnitCount
        return true
    }

    private mutating func bool() -> Bool {
        literal("true") || literal("false")
    }

    private mutating func nullableString() -> Bool {
        literal("null") || string() != nil
    }

    /// A string with no escape at all, as a Swift string.
    private mutating func plainString() -> String? {
        guard let (content, escaped) = string(), !escaped else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[content]), as: UTF8.self)
    }

    /// A well-formed string: the range between its quotes, and whether it has an escape.
    private mutating func string() -> (Range<Int>, escaped: Bool)? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var position = start
        var escaped = false, ascii = true
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                let content = start..<position
                if !ascii, String(validating: UnsafeBufferPointer(rebasing: bytes[content]), as: UTF8.self) == nil { return nil }
                index = position + 1
                return (content, escaped)
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count, Self.simpleEscapes.contains(bytes[position + 1]) else { return nil }
                escaped = true
                position += 2
            case ..<0x20:
                return nil
            default:
                if byte >= 0x80 { ascii = false }
                position += 1
            }
        }
        return nil
    }

    /// The escapes `JSONWriter` writes but `\u`, which is left to the decoder.
    private static let simpleEscapes: [UInt8] = Array(#""\/bfnrt"#.utf8)
}
