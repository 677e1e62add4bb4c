import Foundation

/// One property of a card (`item1.TEL;TYPE=cell:+1 555 0100`), after unfolding.
struct VCardProperty: Hashable, Sendable {
    /// Apple's `item1` in `item1.TEL`: ties a property to its `X-ABLabel`.
    var group: String?
    /// Upper-cased: vCard names are case-insensitive.
    var name: String
    /// Upper-cased keys; values unquoted and split at commas, in order of appearance, so
    /// `TYPE=cell,voice` and `TYPE=CELL;TYPE=pref` both read as one list.
    var parameters: [String: [String]]
    /// As written after the colon: still escaped and, when so declared, quoted-printable.
    var rawValue: String

    func parameter(_ key: String) -> [String] { parameters[key] ?? [] }

    /// The `TYPE` values, lower-cased.
    var types: Set<String> { Set(parameter("TYPE").map { $0.lowercased() }) }

    var isQuotedPrintable: Bool {
        parameter("ENCODING").contains { $0.caseInsensitiveCompare("QUOTED-PRINTABLE") == .orderedSame }
    }

    /// The value as text: quoted-printable decoded in its `CHARSET`, escapes left in place
    /// because structured values (`N`) must be split before they are unescaped.
    var decodedValue: String {
        guard isQuotedPrintable else { return rawValue }
        return VCardText.decodeQuotedPrintable(rawValue, charset: parameter("CHARSET").first)
    }

    /// The value as plain text: decoded and unescaped.
    var text: String { VCardText.unescape(decodedValue) }
}

/// A card between `BEGIN:VCARD` and `END:VCARD`.
struct VCard: Hashable, Sendable {
    /// The 1-based line of its `BEGIN:VCARD` in the file, for log lines that point at it.
    var line: Int
    var properties: [VCardProperty]

    func properties(named name: String) -> [VCardProperty] { properties.filter { $0.name == name } }
}

/// Why a card was left out, and where it starts.
struct MalformedCard: Error, Hashable, Sendable {
    var line: Int
    var reason: String
}

/// Reads vCard 2.1, 3.0 (RFC 2426) and 4.0 (RFC 6350) files. Tolerant: a broken card costs
/// only itself, reported as `MalformedCard`; a broken line inside a card is ignored.
enum VCardParser {
    /// The file's cards in order; each either parsed or the reason it was not.
    static func parse(_ data: Data) -> [Result<VCard, MalformedCard>] {
        // Exporters that predate UTF-8 write their charset's 8-bit bytes raw; Latin-1 keeps every byte.
        parse(String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) ?? "")
    }

    static func parse(_ text: String) -> [Result<VCard, MalformedCard>] {
        var results: [Result<VCard, MalformedCard>] = []
        var open: VCard?
        var strayLine: Int?

        func closeStray() {
            if let line = strayLine {
                results.append(.failure(MalformedCard(line: line, reason: "properties outside BEGIN:VCARD/END:VCARD")))
                strayLine = nil
            }
        }

        for (line, content) in logicalLines(text) {
            guard let property = property(content) else { continue }
            let isCardMarker = property.rawValue.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare("VCARD") == .orderedSame
            switch property.name {
            case "BEGIN" where isCardMarker:
                closeStray()
                if let unfinished = open {
                    results.append(.failure(MalformedCard(line: unfinished.line, reason: "BEGIN:VCARD without END:VCARD")))
                }
                open = VCard(line: line, properties: [])
            case "END" where isCardMarker:
                if let card = open {
                    results.append(.success(card))
                    open = nil
                } else {
                    closeStray()
                    results.append(.failure(MalformedCard(line: line, reason: "END:VCARD without BEGIN:VCARD")))
                }
            default:
                if open != nil {
                    open!.properties.append(property)
                } else if strayLine == nil {
                    strayLine = line
                }
            }
        }
        closeStray()
        if let unfinished = open {
            results.append(.failure(MalformedCard(line: unfinished.line, reason: "BEGIN:VCARD without END:VCARD")))
        }
        return results
    }

    /// Joins folded lines: a line starting with a space or tab continues the previous one (the
    /// whitespace is dropped), and a quoted-printable value ending in `=` continues on the next
    /// line whatever it starts with (vCard 2.1's soft line break, as Android writes it).
    /// Yields each logical line with the 1-based number of its first physical line; blank lines are dropped.
    static func logicalLines(_ text: String) -> [(line: Int, content: String)] {
        var physical = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        if let first = physical.first, first.hasPrefix("\u{FEFF}") { physical[0] = first.dropFirst() }

        var lines: [(line: Int, content: String)] = []
        var softBreakPending = false
        for (index, raw) in physical.enumerated() {
            if softBreakPending, !lines.isEmpty {
                lines[lines.count - 1].content.removeLast()
                lines[lines.count - 1].content += raw
            } else if let first = raw.first, first == " " || first == "\t", !lines.isEmpty {
                lines[lines.count - 1].content += raw.dropFirst()
            } else if !raw.allSatisfy(\.isWhitespace) {
                lines.append((index + 1, String(raw)))
            }
            softBreakPending = lines.last.map(endsWithSoftLineBreak) ?? false
        }
        return lines
    }

    private static func endsWithSoftLineBreak(_ line: (line: Int, content: String)) -> Bool {
        guard line.content.hasSuffix("="), let separator = valueSeparator(in: line.content) else { return false }
        return line.content[..<separator].range(of: "QUOTED-PRINTABLE", options: .caseInsensitive) != nil
    }

    /// The first colon outside double quotes: parameter values may quote colons, values may not be split.
    private static func valueSeparator(in line: String) -> String.Index? {
        var quoted = false
        for index in line.indices {
            switch line[index] {
            case "\"": quoted.toggle()
            case ":" where !quoted: return index
            default: continue
            }
        }
        return nil
    }

    /// `[group.]NAME[;param...]:value`; `nil` for a line with no colon or no name.
    static func property(_ line: String) -> VCardProperty? {
        guard let separator = valueSeparator(in: line) else { return nil }
        var head = splitOutsideQuotes(line[..<separator], at: ";")
        let qualifiedName = head.removeFirst().trimmingCharacters(in: .whitespaces)
        let dot = qualifiedName.lastIndex(of: ".")
        let name = String(dot.map { qualifiedName[qualifiedName.index(after: $0)...] } ?? qualifiedName[...]).uppercased()
        guard !name.isEmpty else { return nil }

        var parameters: [String: [String]] = [:]
        for parameter in head where !parameter.isEmpty {
            let (key, values) = parseParameter(parameter)
            parameters[key, default: []] += values
        }
        return VCardProperty(
            group: dot.map { String(qualifiedName[..<$0]) },
            name: name,
            parameters: parameters,
            rawValue: String(line[line.index(after: separator)...])
        )
    }

    /// Values a vCard 2.1 writer may put bare (`TEL;CELL;ENCODING=...`) that are not types.
    private static let bareEncodings: Set<String> = ["QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT", "B"]

    private static func parseParameter(_ parameter: String) -> (key: String, values: [String]) {
        guard let equals = parameter.firstIndex(of: "=") else {
            let bare = parameter.trimmingCharacters(in: .whitespaces)
            return (bareEncodings.contains(bare.uppercased()) ? "ENCODING" : "TYPE", [bare])
        }
        let key = parameter[..<equals].trimmingCharacters(in: .whitespaces).uppercased()
        // Quotes only protect `;` and `:`; RFC 6350 itself writes `TYPE="voice,cell"` for a list.
        let values = parameter[parameter.index(after: equals)...]
            .split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            .filter { !$0.isEmpty }
        return (key, values)
    }

    private static func splitOutsideQuotes(_ text: Substring, at separator: Character) -> [String] {
        var parts: [String] = [""]
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == separator, !quoted { parts.append("") } else { parts[parts.count - 1].append(character) }
        }
        return parts
    }
}

/// Decoding of vCard text values.
enum VCardText {
    /// `\n` and `\N` are newlines, `\,` `\;` `\:` `\\` their character; an unknown escape keeps its backslash.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var result = ""
        var escaping = false
        for character in text {
            if escaping {
                switch character {
                case "n", "N": result.append("\n")
                case ",", ";", ":", "\\": result.append(character)
                default: result.append("\\"); result.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        if escaping { result.append("\\") }
        return result
    }

    /// Splits a structured value (`N`) at unescaped semicolons, then unescapes each component.
    static func components(_ text: String) -> [String] {
        var components: [String] = [""]
        var escaping = false
        for character in text {
            if escaping {
                components[components.count - 1] += "\\\(character)"
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == ";" {
                components.append("")
            } else {
                components[components.count - 1].append(character)
            }
        }
        return components.map(unescape)
    }

    /// `=C3=A9` to bytes, read in `charset` (UTF-8 when absent or unknown, Latin-1 when the bytes are not UTF-8).
    static func decodeQuotedPrintable(_ text: String, charset: String?) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "="), utf8.count >= 2,
                  let high = hexValue(utf8[utf8.startIndex]), let low = hexValue(utf8[utf8.startIndex + 1])
            else {
                bytes.append(byte)
                continue
            }
            bytes.append(high << 4 | low)
            utf8 = utf8.dropFirst(2)
        }
        let data = Data(bytes)
        if let encoding = charset.flatMap(stringEncoding), let decoded = String(data: data, encoding: encoding) { return decoded }
        return String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) ?? text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private static func stringEncoding(_ charset: String) -> String.Encoding? {
        switch charset.uppercased() {
        case "UTF-8", "UTF8": .utf8
        case "ISO-8859-1", "LATIN1": .isoLatin1
        case "WINDOWS-1252", "CP1252": .windowsCP1252
        case "US-ASCII", "ASCII": .ascii
        default: nil
        }
    }
}
