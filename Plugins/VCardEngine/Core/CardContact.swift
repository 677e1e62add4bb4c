import ContactsEngineKit
import Foundation

/// The WhatsApp contact a card stands for, and its photo.
///
/// One card is one contact, on one number: a card is one person, and a person listed once per
/// number would show up in a contact list as several same-named entries. The number is the
/// first usable one in this order: a mobile number before any other (a WhatsApp account lives
/// on a mobile number), then the most preferred (`PREF=1` beats `PREF=2` beats `TYPE=pref`
/// beats no preference), then the first written. Other numbers still count, so a card that only
/// has a landline (which can carry WhatsApp Business) is served rather than skipped.
struct CardContact: Hashable, ContactIndexEntry {
    var contact: Contact
    /// An `https:` or `data:` URL, as a client can show it.
    var photoURL: String?
}

// In an extension, so that the memberwise initializer stays for tests to spell expectations with.
extension CardContact {
    /// A file's cards in order: each one's contact, or why it is skipped.
    static func read(_ file: Data) -> [Result<CardContact, MalformedCard>] {
        VCardParser.parse(file).map { parsed in
            parsed.flatMap { card in Result { () throws(MalformedCard) in try CardContact(card) } }
        }
    }

    init(_ card: VCard) throws(MalformedCard) {
        guard let name = Self.displayName(card) else {
            throw MalformedCard(line: card.line, reason: "no name in FN or N")
        }
        let telephones = card.properties(named: "TEL")
        guard let number = Self.chosenNumber(telephones, labels: Self.labelsByGroup(card)) else {
            let written = telephones.map { "\"\($0.text)\"" }.joined(separator: ", ")
            throw MalformedCard(line: card.line, reason: telephones.isEmpty ? "no TEL" : "no usable TEL: \(written)")
        }
        contact = Contact(id: number + ChatID.contactSuffix, number: number, name: name, isMyContact: true)
        photoURL = card.properties(named: "PHOTO").lazy.compactMap(Self.photoURL).first
    }

    // MARK: Name

    /// `FN`, else `N` read as "prefix given additional family suffix".
    static func displayName(_ card: VCard) -> String? {
        if let formatted = card.properties(named: "FN").lazy.compactMap({ trimmed($0.text) }).first { return formatted }
        return card.properties(named: "N").lazy.compactMap { property in
            let parts = VCardText.components(property.decodedValue) + Array(repeating: "", count: 5)
            return trimmed([parts[3], parts[1], parts[2], parts[0], parts[4]].compactMap(trimmed).joined(separator: " "))
        }.first
    }

    private static func trimmed(_ text: String) -> String? {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    // MARK: Number

    /// Apple writes a custom or localized label as `item1.X-ABLabel` beside `item1.TEL`.
    private static func labelsByGroup(_ card: VCard) -> [String: String] {
        Dictionary(card.properties(named: "X-ABLABEL").compactMap { label in label.group.map { ($0, label.text) } },
                   uniquingKeysWith: { first, _ in first })
    }

    private static func chosenNumber(_ telephones: [VCardProperty], labels: [String: String]) -> String? {
        telephones.enumerated()
            .compactMap { position, telephone -> (rank: (Int, Int, Int), digits: String)? in
                guard let digits = phoneDigits(telephone.text) else { return nil }
                let label = telephone.group.flatMap { labels[$0] }?.lowercased() ?? ""
                let types = telephone.types
                let isMobile = types.contains("cell") || types.contains("iphone") || label.contains("mobile")
                return ((isMobile ? 0 : 1, preference(telephone), position), digits)
            }
            .min { $0.rank < $1.rank }?
            .digits
    }

    /// 4.0's `PREF=1...100` (1 is most preferred); 2.1 and 3.0's `TYPE=pref` ranks as 1.
    private static func preference(_ telephone: VCardProperty) -> Int {
        if let pref = telephone.parameter("PREF").compactMap({ Int($0) }).min() { return pref }
        return telephone.types.contains("pref") ? 1 : 101
    }

    /// The digits of a number as people write it (`+1 (555) 010-0199`, `tel:+1-555-010-0199;ext=2`),
    /// `nil` when anything else is left (letters, an extension) or it is longer than E.164 allows.
    static func phoneDigits(_ written: String) -> String? {
        var number = written.trimmingCharacters(in: .whitespaces)[...]
        if number.lowercased().hasPrefix("tel:") { number = number.dropFirst(4) }
        // A tel URI's parameters (`;ext=`, `;phone-context=`) are not part of the number.
        let digits = number.prefix { $0 != ";" }.filter { !visualSeparators.contains($0) }
        return ChatID.isDigits(digits) && digits.count <= 15 ? digits : nil
    }

    /// RFC 3966's visual separators, the leading `+`, and the spaces people type.
    private static let visualSeparators: Set<Character> = ["+", " ", "\u{00A0}", "-", ".", "(", ")"]

    // MARK: Photo

    /// An inline image as a `data:` URL; a `data:` or `http(s):` URI as written. Other URIs
    /// (`file:`, `cid:`) name nothing a client can fetch, so they count as no photo.
    static func photoURL(_ photo: VCardProperty) -> String? {
        let encodings = Set(photo.parameter("ENCODING").map { $0.uppercased() })
        if !encodings.isDisjoint(with: ["B", "BASE64"]) { return dataURL(base64: photo.rawValue, declaredTypes: photo.parameter("TYPE")) }
        let uri = photo.rawValue.trimmingCharacters(in: .whitespaces)
        let scheme = uri.prefix { $0 != ":" }.lowercased()
        return ["data", "http", "https"].contains(scheme) ? uri : nil
    }

    private static func dataURL(base64: String, declaredTypes: [String]) -> String? {
        var text = base64.filter { !$0.isWhitespace }
        // Some exporters drop the padding, which Foundation insists on.
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let image = Data(base64Encoded: text), !image.isEmpty else { return nil }
        return "data:\(mediaType(of: image, declaredTypes: declaredTypes));base64,\(image.base64EncodedString())"
    }

    /// The bytes' own signature first: exporters label PNGs `JPEG` often enough.
    private static func mediaType(of image: Data, declaredTypes: [String]) -> String {
        let signatures: [(bytes: [UInt8], mediaType: String)] = [
            ([0xFF, 0xD8, 0xFF], "image/jpeg"), ([0x89, 0x50, 0x4E, 0x47], "image/png"), ([0x47, 0x49, 0x46, 0x38], "image/gif"),
        ]
        if let known = signatures.first(where: { image.starts(with: $0.bytes) }) { return known.mediaType }
        guard let declared = declaredTypes.first?.lowercased() else { return "image/jpeg" }
        return declared.contains("/") ? declared : "image/\(declared)"
    }
}
