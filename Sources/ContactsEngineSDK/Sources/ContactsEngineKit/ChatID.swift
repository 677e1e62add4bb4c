/// WhatsApp chat id conventions, shared by the host and engines.
///
/// Every rule reads an id's UTF-8 bytes once. `String`'s own `hasSuffix` and `dropLast` compare
/// and step by grapheme cluster, and were most of the host's check of a contact result; an id
/// the rules accept is ASCII, so the bytes say all there is to say.
public enum ChatID {
    public static let contactSuffix = contactSuffixBytes.description
    public static let groupSuffix = groupSuffixBytes.description
    public static let lidSuffix = lidSuffixBytes.description
    private static let contactSuffixBytes: StaticString = "@c.us", groupSuffixBytes: StaticString = "@g.us", lidSuffixBytes: StaticString = "@lid"

    /// What an id is, by its shape.
    public enum Form: Sendable, Equatable {
        /// Digits alone: a phone number or a LID without its suffix.
        case digits
        /// `<digits>@c.us`
        case phoneNumber
        /// `<digits>@lid`
        case lid
        /// `<digits>[-<digits>]@g.us`
        case group
        /// None of these.
        case invalid

        /// A contact id as results carry it: a phone number's, a LID or a group's.
        public var isContactID: Bool {
            switch self {
            case .phoneNumber, .lid, .group: true
            case .digits, .invalid: false
            }
        }
    }

    public static func form(of id: String) -> Form {
        var id = id  // `withUTF8` copies only a string that is not already contiguous UTF-8.
        return id.withUTF8(form(ofBytes:))
    }

    private static func form(ofBytes bytes: UnsafeBufferPointer<UInt8>) -> Form {
        let digitsEnd = endOfDigits(bytes, from: 0)
        guard digitsEnd > 0 else { return .invalid }
        if digitsEnd == bytes.count { return .digits }
        if rest(of: bytes, from: digitsEnd, is: contactSuffixBytes) { return .phoneNumber }
        if rest(of: bytes, from: digitsEnd, is: lidSuffixBytes) { return .lid }
        var groupEnd = digitsEnd
        if bytes[digitsEnd] == UInt8(ascii: "-") {
            groupEnd = endOfDigits(bytes, from: digitsEnd + 1)
            guard groupEnd > digitsEnd + 1 else { return .invalid }
        }
        return rest(of: bytes, from: groupEnd, is: groupSuffixBytes) ? .group : .invalid
    }

    private static func rest(of bytes: UnsafeBufferPointer<UInt8>, from start: Int, is suffix: StaticString) -> Bool {
        UnsafeBufferPointer(rebasing: bytes[start...]).equals(suffix)
    }

    /// The index after the run of ASCII digits that starts at `start`.
    private static func endOfDigits(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        return index
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `1123@c.us` → `1123`; an id without `@` is returned whole.
    public static func userPart(of id: String) -> String {
        guard let at = id.utf8.firstIndex(of: UInt8(ascii: "@")) else { return id }
        return String(id[..<at])
    }

    public static func isDigits(_ text: some StringProtocol) -> Bool {
        let digitsOnly = { (bytes: UnsafeBufferPointer<UInt8>) in !bytes.isEmpty && bytes.allSatisfy(isDigit) }
        if let answer = text.utf8.withContiguousStorageIfAvailable(digitsOnly) { return answer }
        var copy = String(text)
        return copy.withUTF8(digitsOnly)
    }

    /// Whether `id` is a contact id as results carry it: `<digits>@c.us`, `<digits>@lid`, or a
    /// group's `<digits>[-<digits>]@g.us` (what `normalizedContactID` answers unchanged).
    public static func isContactID(_ id: String) -> Bool {
        form(of: id).isContactID
    }

    /// A contact id as a client may send it: bare digits mean `<digits>@c.us`; a full id is
    /// `<digits>@c.us`, `<digits>@lid`, or a group's `<digits>[-<digits>]@g.us`. `nil` when invalid.
    public static func normalizedContactID(_ raw: String) -> String? {
        switch form(of: raw) {
        case .digits: raw + contactSuffix
        case .phoneNumber, .lid, .group: raw
        case .invalid: nil
        }
    }

    /// A LID as a client may send it: bare digits get `@lid` appended; anything else must end with `@lid`.
    public static func normalizedLid(_ raw: String) -> String? {
        switch form(of: raw) {
        case .digits: raw + lidSuffix
        case .lid: raw
        case .phoneNumber, .group, .invalid: nil
        }
    }

    /// A phone number chat id: bare digits or `<digits>@c.us`.
    public static func normalizedPhoneNumberID(_ raw: String) -> String? {
        switch form(of: raw) {
        case .digits: raw + contactSuffix
        case .phoneNumber: raw
        case .lid, .group, .invalid: nil
        }
    }
}
