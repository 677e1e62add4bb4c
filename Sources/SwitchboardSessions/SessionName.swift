/// The rule a session's name (and a composite member's) keeps: it appears in URL paths and folder
/// names. The HTTP layer's input check and the OpenAPI pattern read the same rule from here.
public enum SessionName {
    public static let maxLength = 64

    /// Names that would shadow a route: under `/api/`, and WAHA's deprecated
    /// `/api/sessions/start|stop|logout`, which take the place of a session's own path.
    public static let reserved: Set<String> = ["contacts", "sessions", "engines", "server", "start", "stop", "logout"]

    /// The rule in words, for messages and the API's descriptions.
    public static let characters = "1 to \(maxLength) of A-Z a-z 0-9 _ -"

    /// A byte a name may hold: A-Z a-z 0-9 _ -.
    public static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// 1 to 64 name bytes, not reserved.
    public static func isValid(_ name: String) -> Bool {
        !reserved.contains(name) && (1...maxLength).contains(name.utf8.count) && name.utf8.allSatisfy(isNameByte)
    }

    /// What a valid name is, for an error about one that is not.
    public static let advice = "use \(characters), not one of \(reserved.sorted().joined(separator: ", "))"
}
