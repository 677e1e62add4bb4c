import ContactsEngineKit
import Testing

/// The chat id rules (`ChatID`), read from an id's UTF-8 bytes: what each shape is, and what the
/// host, the engines and the result checks make of it.
@Suite("Chat ids: each shape, and what normalizing makes of it")
struct ChatIDTests {
    static let forms: [(String, ChatID.Form)] = [
        ("14155550101", .digits),
        ("14155550101@c.us", .phoneNumber),
        ("123456789@lid", .lid),
        ("120363012345678901@g.us", .group),
        ("14155550101-1600000000@g.us", .group),
        ("", .invalid),
        ("@c.us", .invalid),
        ("abc@c.us", .invalid),
        ("14155550101@C.US", .invalid),
        ("14155550101@c.usx", .invalid),
        ("14155550101@c.u", .invalid),
        ("1415 5550101@c.us", .invalid),
        ("+14155550101", .invalid),
        ("123@lid@lid", .invalid),
        ("1-2@c.us", .invalid),
        ("1-@g.us", .invalid),
        ("-1@g.us", .invalid),
        ("1--2@g.us", .invalid),
        ("1-2-3@g.us", .invalid),
        // Digits that are not ASCII, and a combining mark after the suffix: Unicode-aware
        // comparison would see different characters; the bytes do not match either.
        ("\u{FF11}\u{FF12}\u{FF13}@c.us", .invalid),
        ("٣٤٥", .invalid),
        ("14155550101@c.us\u{301}", .invalid),
    ]

    @Test("each id has the form its shape says", arguments: forms)
    func form(id: String, expected: ChatID.Form) {
        #expect(ChatID.form(of: id) == expected, "\(id)")
        #expect(ChatID.isContactID(id) == [.phoneNumber, .lid, .group].contains(expected), "\(id)")
    }

    @Test("normalizing: bare digits get their suffix, a full id of the right kind stays, anything else is refused")
    func normalizing() {
        #expect(ChatID.normalizedContactID("14155550101") == "14155550101@c.us")
        #expect(ChatID.normalizedContactID("14155550101@c.us") == "14155550101@c.us")
        #expect(ChatID.normalizedContactID("123456789@lid") == "123456789@lid")
        #expect(ChatID.normalizedContactID("1-2@g.us") == "1-2@g.us")
        #expect(ChatID.normalizedContactID("abc") == nil)

        #expect(ChatID.normalizedLid("123456789") == "123456789@lid")
        #expect(ChatID.normalizedLid("123456789@lid") == "123456789@lid")
        #expect(ChatID.normalizedLid("123456789@c.us") == nil)

        #expect(ChatID.normalizedPhoneNumberID("14155550101") == "14155550101@c.us")
        #expect(ChatID.normalizedPhoneNumberID("14155550101@c.us") == "14155550101@c.us")
        #expect(ChatID.normalizedPhoneNumberID("123456789@lid") == nil)
        #expect(ChatID.normalizedPhoneNumberID("1-2@g.us") == nil)
    }

    @Test("digits are ASCII digits only, in a string or a part of one")
    func digits() {
        #expect(ChatID.isDigits("0123456789"))
        #expect(ChatID.isDigits("14155550101@c.us".prefix(11)))
        #expect(!ChatID.isDigits(""))
        #expect(!ChatID.isDigits("12a"))
        #expect(!ChatID.isDigits("\u{FF11}"))
        #expect(ChatID.userPart(of: "14155550101@c.us") == "14155550101")
        #expect(ChatID.userPart(of: "14155550101") == "14155550101")
    }

    @Test("check-exists answers the chat id of the number asked about, or of its other Brazilian form")
    func checkExistsChatID() {
        func violation(_ phone: String, _ chatId: String?, exists: Bool = true) -> String? {
            Operations.CheckExists.contractViolation(
                of: CheckExistsResult(numberExists: exists, chatId: chatId), for: CheckExistsRequest(phone: phone), bytes: [])
        }
        #expect(violation("14155550101", "14155550101@c.us") == nil)
        #expect(violation("5511987654321", "551187654321@c.us") == nil, "without the ninth digit")
        #expect(violation("551187654321", "5511987654321@c.us") == nil, "with the ninth digit")
        #expect(violation("14155550101", "14155550102@c.us") == "asked about 14155550101, answered chatId 14155550102@c.us")
        #expect(violation("14155550101", "14155550101@lid") == "asked about 14155550101, answered chatId 14155550101@lid")
        #expect(violation("14155550101", "12ab@c.us") == #"invalid chat id "12ab@c.us""#)
        #expect(violation("14155550101", "12ab@c.us", exists: false) == #"invalid chat id "12ab@c.us""#)
        #expect(violation("14155550101", nil) == "numberExists is true but chatId is missing")
        #expect(violation("14155550101", nil, exists: false) == nil)
        #expect(violation("14155550101", "14155550102@c.us", exists: false) == nil)
    }
}
