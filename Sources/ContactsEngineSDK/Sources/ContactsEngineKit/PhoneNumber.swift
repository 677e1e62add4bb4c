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
}
