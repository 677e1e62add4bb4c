import Foundation

/// One content line of a vCard (RFC 6350 §3.3, RFC 2426 for 3.0), unfolded.
///
/// Keeps the line as written so that an update re-emits every property it does not change
/// byte for byte: an address book holds more than this engine understands.
struct VCardProperty: Sendable, Hashable {
    struct Parameter: Sendable, Hashable {
        var name: String
        var values: [String]
    }

    let line: String
    /// Upper-cased, without its group (`item1.TEL` → `TEL`).
    let name: String
    let parameters: [Parameter]
    /// As written: text values still carry their backslash escapes.
    let value: String

    /// `nil` for a line with no `:`, which is no property at all.
    init?(line: String) {
        var nameEnd = line.endIndex, valueStart: String.Index?
        var index = line.startIndex, quoted = false
        while index < line.endIndex {
            let character = line[index]
            if character == "\"" { quoted.toggle() }
            if !quoted, character == ";", nameEnd == line.endIndex { nameEnd = index }
            if !quoted, character == ":" {
                if nameEnd == line.endIndex { nameEnd = index }
                valueStart = line.index(after: index)
                break
            }
            index = line.index(after: index)
        }
        guard let valueStart else { return nil }
        let qualifiedName = line[..<nameEnd]
        self.line = line
        name = String(qualifiedName.split(separator: ".").last ?? qualifiedName).uppercased()
        parameters = Self.parameters(line[nameEnd..<line.index(before: valueStart)])
        value = String(line[valueStart...])
    }

    /// The values of a parameter, case-insensitively; vCard 2.1's bare `;CELL` counts as a TYPE.
    func values(of parameter: String) -> [String] {
        parameters.filter { $0.name == parameter.uppercased() }.flatMap(\.values)
    }

    /// `;TYPE=cell,pref;PREF=1` → TYPE [cell, pref], PREF [1]: quotes removed.
    private static func parameters(_ text: Substring) -> [Parameter] {
        var parameters: [Parameter] = [], current = "", quoted = false
        func finish() {
            defer { current = "" }
            guard !current.isEmpty else { return }
            guard let equals = current.firstIndex(of: "=") else {
                parameters.append(Parameter(name: "TYPE", values: [current]))
                return
            }
            let values = current[current.index(after: equals)...]
                .split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.replacingOccurrences(of: "\"", with: "") }
            parameters.append(Parameter(name: current[..<equals].uppercased(), values: values))
        }
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == ";", !quoted { finish() } else { current.append(character) }
        }
        finish()
        return parameters
    }
}

/// A vCard as the engine reads and writes it: FN, N, TEL, PHOTO and UID, everything else kept.
struct VCard: Sendable, Hashable {
    /// Between BEGIN:VCARD and END:VCARD.
    private(set) var properties: [VCardProperty]

    /// The first vCard in `text`; `nil` when there is none.
    init?(parsing text: String) {
        let unfolded = text.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\n ", with: "").replacingOccurrences(of: "\n\t", with: "")
        var properties: [VCardProperty] = [], inside = false
        for line in unfolded.split(separator: "\n") {
            guard let property = VCardProperty(line: String(line)) else { continue }
            let isMarker = property.value.trimmingCharacters(in: .whitespaces).uppercased() == "VCARD"
            if property.name == "BEGIN", isMarker { inside = true; continue }
            if property.name == "END", isMarker, inside { self.properties = properties; return }
            if inside { properties.append(property) }
        }
        return nil
    }

    /// A new vCard 3.0, the version every CardDAV server accepts.
    init(uid: String, firstName: String?, lastName: String?, phoneDigits: String) {
        properties = ["VERSION:3.0", "UID:\(Self.escaped(uid))", "TEL;TYPE=CELL:+\(phoneDigits)"].compactMap(VCardProperty.init(line:))
        setName(firstName: firstName, lastName: lastName)
    }

    var uid: String? { first("UID").map { Self.unescaped($0.value) } }

    var formattedName: String? {
        first("FN").map { Self.unescaped($0.value).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The digits of the preferred telephone number: the lowest PREF (TYPE=pref counts as 1),
    /// else the first. Punctuation, `+` and a `tel:` scheme are dropped.
    var phoneDigits: String? {
        let numbers = properties.filter { $0.name == "TEL" }.compactMap { property -> (digits: String, rank: Int)? in
            // A tel: URI's parameters (`;ext=12`) are not part of the number.
            let number = property.value.split(separator: ";", maxSplits: 1).first ?? ""
            let digits = String(number.filter(\.isASCII).filter(\.isNumber))
            guard !digits.isEmpty else { return nil }
            let isPreferred = property.values(of: "TYPE").contains { $0.lowercased() == "pref" }
            let rank = property.values(of: "PREF").compactMap { Int($0) }.min() ?? (isPreferred ? 1 : 101)
            return (digits, rank)
        }
        return numbers.enumerated().min { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }?.element.digits
    }

    /// The photo as a URL: its URI as written, or inline data (vCard 3.0's ENCODING=b) as a data: URL.
    var photoURL: String? {
        guard let photo = first("PHOTO") else { return nil }
        let encoding = photo.values(of: "ENCODING").first?.lowercased()
        guard encoding == "b" || encoding == "base64" else { return photo.value.isEmpty ? nil : photo.value }
        let type = photo.values(of: "TYPE").first?.lowercased() ?? "jpeg"
        let data = photo.value.filter { !$0.isWhitespace }
        return data.isEmpty ? nil : "data:\(type.contains("/") ? type : "image/" + type);base64,\(data)"
    }

    /// Sets FN and N, replacing the ones in place so the card keeps its order.
    mutating func setName(firstName: String?, lastName: String?) {
        let formatted = [firstName, lastName].compactMap { $0 }.joined(separator: " ")
        let structured = "\(Self.escaped(lastName ?? ""));\(Self.escaped(firstName ?? ""));;;"
        replace("FN", with: "FN:\(Self.escaped(formatted))")
        replace("N", with: "N:\(structured)")
    }

    /// CRLF line ends, lines folded at 75 octets as RFC 6350 §3.2 asks.
    var text: String {
        (["BEGIN:VCARD"] + properties.map(\.line) + ["END:VCARD"]).map(Self.folded).joined()
    }

    private func first(_ name: String) -> VCardProperty? {
        properties.first { $0.name == name }
    }

    private mutating func replace(_ name: String, with line: String) {
        let position = properties.firstIndex { $0.name == name }
            ?? properties.firstIndex { $0.name == "VERSION" }.map { $0 + 1 } ?? 0
        properties.removeAll { $0.name == name }
        properties.insert(VCardProperty(line: line)!, at: min(position, properties.count))
    }

    private static func folded(_ line: String) -> String {
        var result = "", octets = 0
        for character in line {
            let size = character.utf8.count
            if octets + size > 75 {
                result += "\r\n "
                octets = 1
            }
            result.append(character)
            octets += size
        }
        return result + "\r\n"
    }

    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\\": result += "\\\\"
            case ",": result += "\\,"
            case ";": result += "\\;"
            case "\n", "\r\n", "\r": result += "\\n"
            // Any other control character could end the content line for a lenient parser.
            case _ where character.unicodeScalars.allSatisfy({ $0.properties.generalCategory == .control }): continue
            default: result.append(character)
            }
        }
        return result
    }

    static func unescaped(_ text: String) -> String {
        var result = "", escaping = false
        for character in text {
            if escaping {
                result.append(character == "n" || character == "N" ? "\n" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
