extension ChatID {
    /// How many digits a phone number a client asks about may have, country code included:
    /// E.164 allows at most 15, and fewer than 6 is no phone number (the HTTP API's rule too).
    /// Ids are not held to it: group ids run to 18 digits and more, and LIDs are not phone numbers.
    public static let phoneNumberDigits = 6...15

    /// A phone number as `contacts.check-exists` takes it: digits only, country code first,
    /// no `+`, no spaces, 6 to 15 of them.
    public static func isPhoneNumber(_ text: some StringProtocol) -> Bool {
        isDigits(text) && phoneNumberDigits.contains(text.utf8.count)
    }

    /// The numbers `phone` may be registered as: itself, and for a Brazilian mobile number its
    /// form with or without the ninth digit (`55` + a two-digit area code + `9` + eight digits is
    /// also registered as `55` + area code + eight digits, and the other way round), which
    /// WhatsApp answers for either.
    public static func registrableForms(of phone: String) -> [String] {
        let digits = Array(phone.utf8)
        guard isPhoneNumber(phone), phone.hasPrefix("55") else { return [phone] }
        if digits.count == 13, digits[4] == UInt8(ascii: "9") {
            return [phone, String(decoding: digits[..<4] + digits[5...], as: UTF8.self)]
        }
        if digits.count == 12 {
            return [phone, String(decoding: digits[..<4] + [UInt8(ascii: "9")] + digits[4...], as: UTF8.self)]
        }
        return [phone]
    }
}
