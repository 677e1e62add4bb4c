/// The rules a result keeps beyond decoding into its type: the promises clients of the WAHA API
/// rely on and a type cannot express. Stated once here, so the host (which answers 502 for a
/// result that breaks them) and the conformance kit (which fails the engine) cannot disagree.

extension Operations.ListContacts {
    public static func contractViolation(of result: [Contact], for request: ContactsPageRequest, bytes: [UInt8]) -> String? {
        violation(ids: result.map(\.id), for: request)
    }

    /// The list's rules, which need only its ids (`canonicalReading` reads nothing else).
    static func violation(ids: [String], for request: ContactsPageRequest) -> String? {
        if let limit = request.limit, ids.count > limit { return "\(ids.count) contacts for limit \(limit)" }
        return ResultRules.invalidContactID(in: ids)
    }
}

extension Operations.GetContact {
    public static func contractViolation(of result: Contact, for request: ContactRequest, bytes: [UInt8]) -> String? {
        violation(id: result.id, for: request)
    }

    static func violation(id: String, for request: ContactRequest) -> String? {
        let answered = ChatID.form(of: id)
        guard answered.isContactID else { return ResultRules.invalidContactID(id) }
        // A phone number asked for is the contact answered, or that contact known by its LID.
        if answered != .lid, let asked = ChatID.normalizedPhoneNumberID(request.contactId), id != asked {
            return "asked for \(asked), answered \(id)"
        }
        return nil
    }
}

extension Operations.UpsertContact {
    public static func contractViolation(of result: Empty, for request: UpsertContactRequest, bytes: [UInt8]) -> String? {
        ResultRules.isObject(bytes) ? nil : "the result is not a JSON object"
    }
}

extension Operations.Block {
    public static func contractViolation(of result: Empty, for request: ContactRequest, bytes: [UInt8]) -> String? {
        ResultRules.isObject(bytes) ? nil : "the result is not a JSON object"
    }
}

extension Operations.Unblock {
    public static func contractViolation(of result: Empty, for request: ContactRequest, bytes: [UInt8]) -> String? {
        ResultRules.isObject(bytes) ? nil : "the result is not a JSON object"
    }
}

extension Operations.CheckExists {
    public static func contractViolation(of result: CheckExistsResult, for request: CheckExistsRequest, bytes: [UInt8]) -> String? {
        guard let chatId = result.chatId else { return result.numberExists ? "numberExists is true but chatId is missing" : nil }
        let form = ChatID.form(of: chatId)
        guard form.isContactID else { return ResultRules.invalidContactID(chatId) }
        // The chat id of the number asked about, not of another one (the host copies it into `pn`).
        guard result.numberExists else { return nil }
        let answered = ChatID.userPart(of: chatId)
        if form != .phoneNumber || (answered != request.phone && !ChatID.registrableForms(of: request.phone).contains(answered)) {
            return "asked about \(request.phone), answered chatId \(chatId)"
        }
        return nil
    }
}

extension Operations.ListLids {
    public static func contractViolation(of result: [LidMapping], for request: LidsPageRequest, bytes: [UInt8]) -> String? {
        if result.count > request.limit { return "\(result.count) mappings for limit \(request.limit)" }
        return result.lazy.compactMap(ResultRules.invalidMapping).first
    }
}

extension Operations.CountLids {
    public static func contractViolation(of result: CountResult, for request: Empty, bytes: [UInt8]) -> String? {
        result.count < 0 ? "negative count \(result.count)" : nil
    }
}

extension Operations.PhoneNumberForLid {
    public static func contractViolation(of result: LidMapping, for request: LidLookupRequest, bytes: [UInt8]) -> String? {
        ResultRules.invalidMapping(result)
    }
}

extension Operations.LidForPhoneNumber {
    public static func contractViolation(of result: LidMapping, for request: PhoneNumberLookupRequest, bytes: [UInt8]) -> String? {
        ResultRules.invalidMapping(result)
    }
}

enum ResultRules {
    static func invalidContactID(in ids: [String]) -> String? {
        ids.first { !ChatID.isContactID($0) }.map(invalidContactID)
    }

    static func invalidContactID(_ id: String) -> String {
        "invalid chat id \"\(id)\""
    }

    /// A LID is `<digits>@lid` and a phone number `<digits>@c.us`, each absent when unknown.
    static func invalidMapping(_ mapping: LidMapping) -> String? {
        if let lid = mapping.lid, ChatID.form(of: lid) != .lid { return "invalid lid \"\(lid)\"" }
        if let pn = mapping.pn, ChatID.form(of: pn) != .phoneNumber { return "invalid pn \"\(pn)\"" }
        return nil
    }

    /// The first byte that is not whitespace opens an object.
    static func isObject(_ bytes: [UInt8]) -> Bool {
        bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "{")
    }
}
