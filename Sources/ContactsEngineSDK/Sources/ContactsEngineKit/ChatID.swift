/// WhatsApp chat id conventions, shared by the host and engines.
public enum ChatID {
    public static let contactSuffix = "@c.us"
    public static let groupSuffix = "@g.us"
    public static let lidSuffix = "@lid"

    /// `1123@c.us` → `1123`; an id without `@` is returned whole.
    public static func userPart(of id: String) -> String {
        id.firstIndex(of: "@").map { String(id[..<$0]) } ?? id
    }

    public static func isDigits(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A contact id as a client may send it: bare digits mean `<digits>@c.us`; a full id is
    /// `<digits>@c.us`, `<digits>@lid`, or a group's `<digits>[-<digits>]@g.us`. `nil` when invalid.
    public static func normalizedContactID(_ raw: String) -> String? {
        if isDigits(raw) { return raw + contactSuffix }
        if let id = normalizedPhoneNumberID(raw) ?? (raw.hasSuffix(lidSuffix) ? normalizedLid(raw) : nil) { return id }
        guard raw.hasSuffix(groupSuffix) else { return nil }
        let parts = raw.dropLast(groupSuffix.count).split(separator: "-", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy(isDigits) ? raw : nil
    }

    /// A LID as a client may send it: bare digits get `@lid` appended; anything else must end with `@lid`.
    public static func normalizedLid(_ raw: String) -> String? {
        if isDigits(raw) { return raw + lidSuffix }
        guard raw.hasSuffix(lidSuffix), isDigits(raw.dropLast(lidSuffix.count)) else { return nil }
        return raw
    }

    /// A phone number chat id: bare digits or `<digits>@c.us`.
    public static func normalizedPhoneNumberID(_ raw: String) -> String? {
        if isDigits(raw) { return raw + contactSuffix }
        guard raw.hasSuffix(contactSuffix), isDigits(raw.dropLast(contactSuffix.count)) else { return nil }
        return raw
    }
}
