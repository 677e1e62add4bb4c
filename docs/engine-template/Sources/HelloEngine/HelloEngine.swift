import ContactsEngineKit

/// A read-only engine serving the contacts its configuration lists:
/// `{"contacts": [{"id": "14155550100", "name": "Ada Lovelace"}]}`.
public final class HelloEngine: ContactsEngine {
    public static let name = "hello"
    public static let version = "1.0.0"
    public static let summary = "Contacts listed in the session's engine configuration"
    public static let license = "Apache-2.0"
    public static let homepage = "https://example.com/hello-engine"
    public static let features: Set<Feature> = [.contactsList, .contactsGet]

    struct Configuration: Decodable {
        struct Entry: Decodable {
            var id: String
            var name: String
        }
        var contacts: [Entry] = []
    }

    /// Both orders a page may ask for, kept by the SDK.
    private let contacts: ContactIndex<Contact>

    public init(configuration: EngineConfiguration, host: EngineHost) throws {
        let settings = try configuration.decode(Configuration.self)
        contacts = ContactIndex(try settings.contacts.map { entry in
            guard let id = ChatID.normalizedPhoneNumberID(entry.id) else {
                throw EngineError(.invalidInput, "invalid configuration: contacts: \(entry.id) is not a phone number")
            }
            return Contact(id: id, number: ChatID.userPart(of: id), name: entry.name, isMyContact: true)
        })
        host.log(.info, "serving \(contacts.count) contacts")
    }

    public var status: EngineStatus {
        EngineStatus(message: "contacts from the configuration", counters: ["contacts": contacts.count])
    }

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] {
        try contacts.page(request)
    }

    public func contact(_ request: ContactRequest) async throws -> Contact {
        // Any chat id (a LID or a group's too) is a fair question; only a malformed one is invalid.
        guard let id = ChatID.normalizedContactID(request.contactId) else {
            throw EngineError(.invalidInput, "not a chat id: \(request.contactId)")
        }
        guard let contact = contacts[id] else { throw EngineError(.notFound, "no contact \(id)") }
        return contact
    }
}

/// The plugin's one exported symbol: the host finds the engine through it.
@_cdecl("switchboard_engine_abi_v1")
public func switchboardEngineABIv1() -> EngineDescriptor {
    EngineExport.descriptor(for: HelloEngine.self)
}
