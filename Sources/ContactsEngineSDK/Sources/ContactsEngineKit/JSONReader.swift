import Foundation

/// Reads the JSON of the values every call carries (contacts, lists of them, contact requests)
/// without Foundation's decoder, which spends about 3.6 µs on one contact. It is a fast path
/// only: whatever it does not handle plainly (a wrong type, a missing key, bad JSON) it leaves
/// to JSONDecoder, which then answers with its usual error or value.
///
/// It reads the document's bytes in place, through a pointer valid only while `document` runs:
/// a `read(from:)` uses the reader it is handed and keeps neither it nor a `Key`. Holding the
/// array instead cost a retain and a release for every key and value read.
public struct JSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Reads a whole document with `read`; nil unless it consumed everything but whitespace.
    static func document<Value>(_ bytes: UnsafeBufferPointer<UInt8>, _ read: (inout JSONReader) -> Value?) -> Value? {
        var reader = JSONReader(bytes)
        guard let value = read(&reader) else { return nil }
        reader.skipWhitespace()
        return reader.index == bytes.count ? value : nil
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard current == byte else { return false }
        index += 1
        return true
    }

    private mutating func consume(_ word: StaticString) -> Bool {
        skipWhitespace()
        guard bytes.prefix(from: index, length: word.utf8CodeUnitCount).equals(word) else { return false }
        index += word.utf8CodeUnitCount
        return true
    }

    /// Reads `{"key": value, ...}`, handing each key to `member`, which must read its value.
    /// Keys are compared as bytes, not made into strings: a key with an escape in it gives up.
    public mutating func object(_ member: (Key, inout JSONReader) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = key(), consume(UInt8(ascii: ":")), member(key, &self) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    /// An object's key, as the bytes between its quotes.
    public struct Key {
        fileprivate let bytes: UnsafeBufferPointer<UInt8>

        public static func == (key: Key, name: StaticString) -> Bool {
            key.bytes.equals(name)
        }
    }

    private mutating func key() -> Key? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while let byte = current, byte != UInt8(ascii: "\"") {
            guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { return nil }
            index += 1
        }
        guard current != nil else { return nil }
        defer { index += 1 }
        return Key(bytes: UnsafeBufferPointer(rebasing: bytes[start..<index]))
    }

    public mutating func array<Element>(_ element: (inout JSONReader) -> Element?) -> [Element]? {
        guard consume(UInt8(ascii: "[")) else { return nil }
        var elements: [Element] = []
        if consume(UInt8(ascii: "]")) { return elements }
        repeat {
            guard let next = element(&self) else { return nil }
            elements.append(next)
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]")) ? elements : nil
    }

    public mutating func bool() -> Bool? {
        if consume(Self.true) { return true }
        if consume(Self.false) { return false }
        return nil
    }

    /// An integer written plainly (`-?[0-9]+`, within `Int`); nil for anything else, a fraction
    /// or an exponent included, which JSONDecoder then reads or refuses.
    public mutating func int() -> Int? {
        skipWhitespace()
        let negative = current == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var value = 0
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let digit = Int(byte - UInt8(ascii: "0"))
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        guard index > start else { return nil }
        if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return nil }
        return value
    }

    /// An integer, or `.some(nil)` for `null`; nil for anything else.
    public mutating func optionalInt() -> Int?? {
        consume(Self.null) ? .some(nil) : int().map { .some($0) }
    }

    /// A string, or `.some(nil)` for `null`; nil for anything else.
    public mutating func optionalString() -> String?? {
        consume(Self.null) ? .some(nil) : string().map { .some($0) }
    }

    public mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var isASCII = true
        while let byte = current, byte != UInt8(ascii: "\"") {
            if byte == UInt8(ascii: "\\") { return escapedString(from: start) }
            if byte < 0x20 { return nil }
            isASCII = isASCII && byte < 0x80
            index += 1
        }
        guard current != nil else { return nil }
        defer { index += 1 }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
        // ASCII (every id, most names) is valid UTF-8 as it stands, and `String(decoding:)`
        // takes it without `String(validating:)`'s slower generic pass.
        return isASCII ? String(decoding: text, as: UTF8.self) : String(validating: text, as: UTF8.self)
    }

    /// The rest of a string that holds escapes, from its first byte at `start`.
    private mutating func escapedString(from start: Int) -> String? {
        var text = Array(bytes[start..<index])
        while let byte = current, byte != UInt8(ascii: "\"") {
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                if byte < 0x20 { return nil }
                text.append(byte)
                continue
            }
            guard let escape = current else { return nil }
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(scalar) {
                    // The low half must follow at once: no whitespace inside a string.
                    guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                    index += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                text.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: return nil
            }
        }
        guard current != nil else { return nil }
        index += 1
        return String(validating: text, as: UTF8.self)
    }

    private mutating func hex4() -> UInt32? {
        guard bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            guard let digit = Character(UnicodeScalar(byte)).hexDigitValue else { return nil }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    /// Consumes `null`; false, consuming nothing, when the value is something else.
    mutating func consumeNull() -> Bool {
        consume(Self.null)
    }

    // Computed, not stored: a stored static is checked for its one-time initialization at every use.
    private static var null: StaticString { "null" }
    private static var `true`: StaticString { "true" }
    private static var `false`: StaticString { "false" }
}

/// A value `JSONReader` reads without Foundation's decoder; nil leaves it to JSONDecoder.
public protocol JSONReadable: Decodable {
    static func read(from reader: inout JSONReader) -> Self?
}

extension Array: JSONReadable where Element: JSONReadable {
    public static func read(from reader: inout JSONReader) -> [Element]? {
        reader.array { Element.read(from: &$0) }
    }
}

extension Contact: JSONReadable {
    public static func read(from reader: inout JSONReader) -> Contact? {
        var id: String?, number: String?, name: String?, pushname: String?, shortName: String?
        var isMe: Bool?, isGroup: Bool?, isWAContact: Bool?, isMyContact: Bool?, isBlocked: Bool?
        let read = reader.object { key, reader in
            func text(_ slot: inout String?) -> Bool {
                guard let value = reader.optionalString() else { return false }
                slot = value
                return true
            }
            func flag(_ slot: inout Bool?) -> Bool {
                guard let value = reader.bool() else { return false }
                slot = value
                return true
            }
            if key == "id" { return text(&id) }
            if key == "number" { return text(&number) }
            if key == "name" { return text(&name) }
            if key == "pushname" { return text(&pushname) }
            if key == "shortName" { return text(&shortName) }
            if key == "isMe" { return flag(&isMe) }
            if key == "isGroup" { return flag(&isGroup) }
            if key == "isWAContact" { return flag(&isWAContact) }
            if key == "isMyContact" { return flag(&isMyContact) }
            if key == "isBlocked" { return flag(&isBlocked) }
            return false  // an unknown key: JSONDecoder skips it, whatever its value
        }
        guard read, let id else { return nil }
        return Contact(
            id: id, number: number, name: name, pushname: pushname, shortName: shortName, isMe: isMe ?? false,
            isGroup: isGroup, isWAContact: isWAContact ?? true, isMyContact: isMyContact ?? false, isBlocked: isBlocked ?? false)
    }
}

extension ContactRequest: JSONReadable {
    public static func read(from reader: inout JSONReader) -> ContactRequest? {
        var contactId: String?
        let read = reader.object { key, reader in
            guard key == "contactId", let value = reader.string() else { return false }
            contactId = value
            return true
        }
        guard read, let contactId else { return nil }
        return ContactRequest(contactId: contactId)
    }
}

// The requests and the small results of every feature, so that no call needs Foundation's
// decoder. Each reads what the type's Decodable conformance reads (optional keys may be absent
// or null, the others must be there); anything else gives up, to JSONDecoder.

/// Reads an object whose members `member` reads; false for an unknown key (JSONDecoder then
/// skips it, whatever its value).
private func readObject(_ reader: inout JSONReader, _ member: (JSONReader.Key, inout JSONReader) -> Bool?) -> Bool {
    reader.object { key, reader in member(key, &reader) ?? false }
}

extension JSONReader {
    /// Reads a string into `slot`; false when the value is not one.
    fileprivate mutating func read(_ slot: inout String?) -> Bool {
        guard let value = string() else { return false }
        slot = value
        return true
    }

    /// Reads a string or `null` into `slot`.
    fileprivate mutating func read(optional slot: inout String?) -> Bool {
        guard let value = optionalString() else { return false }
        slot = value
        return true
    }

    fileprivate mutating func read(_ slot: inout Int?) -> Bool {
        guard let value = int() else { return false }
        slot = value
        return true
    }

    fileprivate mutating func read(_ slot: inout Bool?) -> Bool {
        guard let value = bool() else { return false }
        slot = value
        return true
    }

    /// Reads a string that must be one of `Value`'s raw values.
    fileprivate mutating func read<Value: RawRepresentable>(_ slot: inout Value?) -> Bool where Value.RawValue == String {
        guard let text = string(), let value = Value(rawValue: text) else { return false }
        slot = value
        return true
    }
}

extension ContactsPageRequest: JSONReadable {
    public static func read(from reader: inout JSONReader) -> ContactsPageRequest? {
        var limit: Int??, offset: Int?, sortBy: ContactSortKey??, sortOrder: SortOrder?
        let read = readObject(&reader) { key, reader in
            if key == "limit" {
                guard let value = reader.optionalInt() else { return false }
                limit = value
                return true
            }
            if key == "offset" { return reader.read(&offset) }
            if key == "sortBy" {
                if reader.consumeNull() {
                    sortBy = .some(nil)
                    return true
                }
                var value: ContactSortKey?
                guard reader.read(&value) else { return false }
                sortBy = value
                return true
            }
            if key == "sortOrder" { return reader.read(&sortOrder) }
            return nil
        }
        guard read, let offset, let sortOrder else { return nil }
        return ContactsPageRequest(limit: limit ?? nil, offset: offset, sortBy: sortBy ?? nil, sortOrder: sortOrder)
    }
}

extension UpsertContactRequest: JSONReadable {
    public static func read(from reader: inout JSONReader) -> UpsertContactRequest? {
        var chatId: String?, firstName: String?, lastName: String?
        let read = readObject(&reader) { key, reader in
            if key == "chatId" { return reader.read(&chatId) }
            if key == "firstName" { return reader.read(optional: &firstName) }
            if key == "lastName" { return reader.read(optional: &lastName) }
            return nil
        }
        guard read, let chatId else { return nil }
        return UpsertContactRequest(chatId: chatId, firstName: firstName, lastName: lastName)
    }
}

extension CheckExistsRequest: JSONReadable {
    public static func read(from reader: inout JSONReader) -> CheckExistsRequest? {
        var phone: String?
        guard readObject(&reader, { key, reader in key == "phone" ? reader.read(&phone) : nil }), let phone else { return nil }
        return CheckExistsRequest(phone: phone)
    }
}

extension ProfilePictureRequest: JSONReadable {
    public static func read(from reader: inout JSONReader) -> ProfilePictureRequest? {
        var contactId: String?, refresh: Bool?
        let read = readObject(&reader) { key, reader in
            if key == "contactId" { return reader.read(&contactId) }
            if key == "refresh" { return reader.read(&refresh) }
            return nil
        }
        guard read, let contactId, let refresh else { return nil }
        return ProfilePictureRequest(contactId: contactId, refresh: refresh)
    }
}

extension LidsPageRequest: JSONReadable {
    public static func read(from reader: inout JSONReader) -> LidsPageRequest? {
        var limit: Int?, offset: Int?
        let read = readObject(&reader) { key, reader in
            if key == "limit" { return reader.read(&limit) }
            if key == "offset" { return reader.read(&offset) }
            return nil
        }
        guard read, let limit, let offset else { return nil }
        return LidsPageRequest(limit: limit, offset: offset)
    }
}

extension LidLookupRequest: JSONReadable {
    public static func read(from reader: inout JSONReader) -> LidLookupRequest? {
        var lid: String?
        guard readObject(&reader, { key, reader in key == "lid" ? reader.read(&lid) : nil }), let lid else { return nil }
        return LidLookupRequest(lid: lid)
    }
}

extension PhoneNumberLookupRequest: JSONReadable {
    public static func read(from reader: inout JSONReader) -> PhoneNumberLookupRequest? {
        var pn: String?
        guard readObject(&reader, { key, reader in key == "pn" ? reader.read(&pn) : nil }), let pn else { return nil }
        return PhoneNumberLookupRequest(pn: pn)
    }
}

extension Empty: JSONReadable {
    public static func read(from reader: inout JSONReader) -> Empty? {
        readObject(&reader) { _, _ in nil } ? Empty() : nil
    }
}

extension CheckExistsResult: JSONReadable {
    public static func read(from reader: inout JSONReader) -> CheckExistsResult? {
        var numberExists: Bool?, chatId: String?
        let read = readObject(&reader) { key, reader in
            if key == "numberExists" { return reader.read(&numberExists) }
            if key == "chatId" { return reader.read(optional: &chatId) }
            return nil
        }
        guard read, let numberExists else { return nil }
        return CheckExistsResult(numberExists: numberExists, chatId: chatId)
    }
}

extension AboutResult: JSONReadable {
    public static func read(from reader: inout JSONReader) -> AboutResult? {
        var about: String?
        guard readObject(&reader, { key, reader in key == "about" ? reader.read(optional: &about) : nil }) else { return nil }
        return AboutResult(about: about)
    }
}

extension ProfilePictureResult: JSONReadable {
    public static func read(from reader: inout JSONReader) -> ProfilePictureResult? {
        var url: String?
        guard readObject(&reader, { key, reader in key == "profilePictureURL" ? reader.read(optional: &url) : nil }) else { return nil }
        return ProfilePictureResult(profilePictureURL: url)
    }
}

extension LidMapping: JSONReadable {
    public static func read(from reader: inout JSONReader) -> LidMapping? {
        var lid: String?, pn: String?
        let read = readObject(&reader) { key, reader in
            if key == "lid" { return reader.read(optional: &lid) }
            if key == "pn" { return reader.read(optional: &pn) }
            return nil
        }
        guard read else { return nil }
        return LidMapping(lid: lid, pn: pn)
    }
}

extension CountResult: JSONReadable {
    public static func read(from reader: inout JSONReader) -> CountResult? {
        var count: Int?
        guard readObject(&reader, { key, reader in key == "count" ? reader.read(&count) : nil }), let count else { return nil }
        return CountResult(count: count)
    }
}

extension JSONCoders {
    /// A value that `JSONReader` reads, from its JSON without a dynamic cast: what a call's
    /// request and result take, an operation's types being known wherever it is called.
    public static func decode<Value: JSONReadable>(readable type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try bytes.withUnsafeBufferPointer { try decode(readable: type, from: $0) }
    }

    /// `decode(readable:from:)` from bytes in place, such as a request the plugin is handed:
    /// the call answered at once reads it without a copy.
    static func decode<Value: JSONReadable>(readable type: Value.Type, from bytes: UnsafeBufferPointer<UInt8>) throws -> Value {
        if let value = JSONReader.document(bytes, { Value.read(from: &$0) }) { return value }
        return try decoder.decode(type, from: Data(buffer: bytes))
    }

    /// The value from its JSON: through `JSONReader` when it can, else through the shared decoder.
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        if let readable = type as? any JSONReadable.Type,
           let value = bytes.withUnsafeBufferPointer({ JSONReader.document($0, { readable.read(from: &$0) }) }) as? Value {
            return value
        }
        return try decoder.decode(type, from: Data(bytes))
    }
}
