/// One capability an engine may serve, with its stable ABI id and the HTTP endpoints it answers.
///
/// This list is the single source of truth for features: the C ABI ids, the host's feature
/// matrix, the HTTP routes' 501 answers, the OpenAPI document and `docs/engines.md` all derive
/// from it. Ids are stable forever; new features are appended.
public enum Feature: String, CaseIterable, Sendable, Codable, Comparable {
    case contactsList = "contacts.list"
    case contactsGet = "contacts.get"
    case contactsUpsert = "contacts.upsert"
    case contactsCheckExists = "contacts.check-exists"
    case contactsAbout = "contacts.about"
    case contactsProfilePicture = "contacts.profile-picture"
    case contactsBlock = "contacts.block"
    case contactsUnblock = "contacts.unblock"
    case lidsList = "lids.list"
    case lidsCount = "lids.count"
    case lidsGetByLid = "lids.get-by-lid"
    case lidsGetByPhoneNumber = "lids.get-by-pn"

    /// The HTTP endpoints (method and WAHA path) this feature answers.
    public var endpoints: [Endpoint] {
        switch self {
        case .contactsList: [.init(.get, "/api/contacts/all")]
        case .contactsGet: [.init(.get, "/api/contacts"), .init(.get, "/api/{session}/contacts/{id}")]
        case .contactsUpsert: [.init(.put, "/api/{session}/contacts/{chatId}")]
        case .contactsCheckExists: [.init(.get, "/api/contacts/check-exists")]
        case .contactsAbout: [.init(.get, "/api/contacts/about")]
        case .contactsProfilePicture: [.init(.get, "/api/contacts/profile-picture")]
        case .contactsBlock: [.init(.post, "/api/contacts/block")]
        case .contactsUnblock: [.init(.post, "/api/contacts/unblock")]
        case .lidsList: [.init(.get, "/api/{session}/lids")]
        case .lidsCount: [.init(.get, "/api/{session}/lids/count")]
        case .lidsGetByLid: [.init(.get, "/api/{session}/lids/{lid}")]
        case .lidsGetByPhoneNumber: [.init(.get, "/api/{session}/lids/pn/{phoneNumber}")]
        }
    }

    /// A short human summary, used in the matrix and the OpenAPI document.
    public var summary: String {
        switch self {
        case .contactsList: "List all contacts, paginated"
        case .contactsGet: "Get one contact"
        case .contactsUpsert: "Create or update a contact"
        case .contactsCheckExists: "Check whether a phone number is registered"
        case .contactsAbout: "Get a contact's about text"
        case .contactsProfilePicture: "Get a contact's profile picture URL"
        case .contactsBlock: "Block a contact"
        case .contactsUnblock: "Unblock a contact"
        case .lidsList: "List LID to phone number mappings"
        case .lidsCount: "Count LID mappings"
        case .lidsGetByLid: "Phone number for a LID"
        case .lidsGetByPhoneNumber: "LID for a phone number"
        }
    }

    public static func < (lhs: Feature, rhs: Feature) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// An HTTP method and path template, in WAHA's spelling.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public enum Method: String, Sendable { case get = "GET", put = "PUT", post = "POST", delete = "DELETE" }

    public let method: Method
    public let path: String

    public init(_ method: Method, _ path: String) {
        self.method = method
        self.path = path
    }

    public var description: String { "\(method.rawValue) \(path)" }
}
