/// Writes the JSON of the values every call carries (contacts and lists of them, contact
/// requests) straight to bytes. Foundation's JSONEncoder spends about 5 µs on one contact;
/// this writer a small fraction of that, which is most of the ABI's cost per call and of a
/// 100,000-contact list. The output is what JSONEncoder writes with `.sortedKeys` and
/// `.withoutEscapingSlashes`, so the two can serve the same endpoint.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Whether the next member of the open object needs a comma before it.
    private var afterMember = false
    // Computed, not stored: a stored static is checked for its one-time initialization at every use.
    private static var null: StaticString { "null" }
    private static var `true`: StaticString { "true" }
    private static var `false`: StaticString { "false" }

    /// Opens an object; write its members in sorted key order, then close it.
    public mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        afterMember = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func member(_ key: StaticString, string value: String?) {
        self.key(key)
        if let value { string(value) } else { append(Self.null) }
    }

    public mutating func member(_ key: StaticString, bool value: Bool) {
        self.key(key)
        append(value ? Self.true : Self.false)
    }

    public mutating func member(_ key: StaticString, int value: Int) {
        self.key(key)
        // A small string: no allocation.
        bytes.append(contentsOf: String(value).utf8)
    }

    private mutating func key(_ key: StaticString) {
        if afterMember { bytes.append(UInt8(ascii: ",")) }
        afterMember = true
        bytes.append(UInt8(ascii: "\""))
        append(key)
        // Byte by byte: an array literal here was an allocation per key.
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Room for this many bytes per element is made at once: growing a 19.5 MB list by doubling
    /// copied it twice over. A contact takes about 200.
    private static let bytesPerElement = 200

    public mutating func array<Elements: Collection>(_ elements: Elements) where Elements.Element: JSONWritable {
        bytes.reserveCapacity(bytes.count + elements.count * Self.bytesPerElement)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            element.write(to: &self)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most text needs no escape: copy it whole, scanned and copied from its own storage
        // (going through `String.UTF8View`'s indices was a tenth of a call's cost).
        let copied = value.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A value `JSONWriter` writes without Foundation's encoder.
public protocol JSONWritable: Encodable {
    func write(to writer: inout JSONWriter)
}

extension Array: JSONWritable where Element: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.array(self)
    }
}

extension Contact: JSONWritable {
    /// Every key, `null` included, in sorted order: one shape for every client.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("id", string: id)
        writer.member("isBlocked", bool: isBlocked)
        writer.member("isGroup", bool: isGroup)
        writer.member("isMe", bool: isMe)
        writer.member("isMyContact", bool: isMyContact)
        writer.member("isWAContact", bool: isWAContact)
        writer.member("name", string: name)
        writer.member("number", string: number)
        writer.member("pushname", string: pushname)
        writer.member("shortName", string: shortName)
        writer.endObject()
    }
}

extension ContactRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("contactId", string: contactId)
        writer.endObject()
    }
}

// The requests and the small results of every feature, so that no call needs Foundation's
// encoder: each writes what its Encodable conformance writes through `JSONCoders.encoder`
// (sorted keys; an optional the conformance encodes "if present" is left out when nil).

extension ContactsPageRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        if let limit { writer.member("limit", int: limit) }
        writer.member("offset", int: offset)
        if let sortBy { writer.member("sortBy", string: sortBy.rawValue) }
        writer.member("sortOrder", string: sortOrder.rawValue)
        writer.endObject()
    }
}

extension UpsertContactRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("chatId", string: chatId)
        if let firstName { writer.member("firstName", string: firstName) }
        if let lastName { writer.member("lastName", string: lastName) }
        writer.endObject()
    }
}

extension CheckExistsRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("phone", string: phone)
        writer.endObject()
    }
}

extension ProfilePictureRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("contactId", string: contactId)
        writer.member("refresh", bool: refresh)
        writer.endObject()
    }
}

extension LidsPageRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("limit", int: limit)
        writer.member("offset", int: offset)
        writer.endObject()
    }
}

extension LidLookupRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("lid", string: lid)
        writer.endObject()
    }
}

extension PhoneNumberLookupRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("pn", string: pn)
        writer.endObject()
    }
}

extension Empty: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.endObject()
    }
}

extension CheckExistsResult: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        if let chatId { writer.member("chatId", string: chatId) }
        writer.member("numberExists", bool: numberExists)
        writer.endObject()
    }
}

extension AboutResult: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("about", string: about)
        writer.endObject()
    }
}

extension ProfilePictureResult: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("profilePictureURL", string: profilePictureURL)
        writer.endObject()
    }
}

extension LidMapping: JSONWritable {
    /// Both keys, `null` included.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("lid", string: lid)
        writer.member("pn", string: pn)
        writer.endObject()
    }
}

extension CountResult: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("count", int: count)
        writer.endObject()
    }
}

extension JSONCoders {
    /// A value that `JSONWriter` writes, as JSON without a dynamic cast: what a call's request
    /// and result take, an operation's types being known wherever it is called.
    public static func encode<Value: JSONWritable>(writable value: Value) -> [UInt8] {
        var writer = JSONWriter()
        value.write(to: &writer)
        return writer.bytes
    }

    /// The value's JSON: through `JSONWriter` when it can, else through the shared encoder.
    public static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        if let writable = value as? any JSONWritable {
            var writer = JSONWriter()
            writable.write(to: &writer)
            return writer.bytes
        }
        return Array(try encoder.encode(value))
    }
}
