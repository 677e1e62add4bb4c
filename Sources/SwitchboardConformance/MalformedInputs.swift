@_spi(SwitchboardHost) import ContactsEngineKit
import SwitchboardEngineRuntime

/// Well-formed requests carrying a malformed value, for every feature that takes a phone
/// number or an id: an engine must answer each with invalid-input, not look it up.
enum MalformedInputs {
    /// Not phone numbers by `ChatID.isPhoneNumber`: letters, too short, too long (E.164 allows
    /// 15 digits), a `+`, spaces, empty.
    static let phones = ["12ab", "1", "12345", "1234567890123456", String(repeating: "1", count: 40), "+14155550100", "1415 555 0100", ""]

    /// Not chat ids by `ChatID.normalizedContactID`. Length is no rule for ids (group ids run to
    /// 18 digits and more), so these break the syntax: letters, `+`, spaces, empty, a bare or unknown suffix.
    static let contactIDs = ["12ab", "12ab@c.us", "+14155550100", "+14155550100@c.us", "1415 555 0100", "", "@c.us", "14155550100@x.us"]
    static let lids = ["12ab", "12ab@lid", "+123@lid", "1 23@lid", "", "@lid", "123@c.us"]
    static let phoneNumberIDs = ["12ab", "12ab@c.us", "+14155550100", "1415 555 0100", "", "@c.us", "123@lid"]

    /// The requests for `feature`, or `nil` when it takes no phone number or id.
    static func requests(for feature: Feature) -> [String]? {
        switch feature {
        case .contactsCheckExists: phones.map { #"{"phone":"\#($0)"}"# }
        case .contactsGet, .contactsAbout, .contactsBlock, .contactsUnblock: contactIDs.map { #"{"contactId":"\#($0)"}"# }
        case .contactsProfilePicture: contactIDs.map { #"{"contactId":"\#($0)","refresh":false}"# }
        case .contactsUpsert: contactIDs.map { #"{"chatId":"\#($0)","firstName":"Conformance"}"# }
        case .lidsGetByLid: lids.map { #"{"lid":"\#($0)"}"# }
        case .lidsGetByPhoneNumber: phoneNumberIDs.map { #"{"pn":"\#($0)"}"# }
        case .contactsList, .lidsList, .lidsCount: nil
        }
    }

    /// The first request of the battery that `instance` answers with anything but invalid-input.
    static func firstAccepted(_ feature: Feature, _ requests: [String], _ instance: any EngineHandle) async -> Finding? {
        for request in requests {
            do {
                _ = try await instance.call(feature, request: Array(request.utf8))
                return Finding(feature, request: request, got: "success", expected: "invalid-input")
            } catch where error.kind == .invalidInput {
                continue
            } catch {
                return Finding(feature, request: request, got: "\(error.kind.name) (\(error.message))", expected: "invalid-input")
            }
        }
        return nil
    }
}
