import ContactsEngineKit

/// A read-only engine serving the contacts its configuration lists:
/// `{"contacts": [{"id": "14155550100", "name": "Ada Lovelace"}]}`.
public final class HelloEngine: ContactsEngine {
    public static let name = "hello"
    public static let version = "1.0.0"
    public static let summary = "Contacts listed in the session's engine configuration"
    public static let features: Set<Feature> = [.contactsList, .contactsGet]

    struct Configuration: Decodable {
        struct Entry: Decodable {
            var id: String
            var name: String
        }
        var contacts: [Entry] = []
    }

    private let contacts: [Contact]

    public init(configuration: EngineConfiguration, host: EngineHost) throws {
        let settings = try configuration.decode(Configuration.self)
        contacts = try settings.contacts.map { entry in
            guard let id = ChatID.normalizedPhoneNumberID(entry.id) else {
                throw EngineError(.invalidInput, "invalid configuration: contacts: \(entry.id) is not a phone number")
            }
            return Contact(id: id, number: ChatID.userPart(of: id), name: entry.name, isMyContact: true)
        }.sorted { $0.id < $1.id }
        host.log(.info, "serving \(contacts.count) contacts")
    }

    public var status: EngineStatus {
        EngineStatus(message: "contacts from the configuration", counters: ["contacts": contacts.count])
    }

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] {
        let ordered = request.sortBy == .name ? contacts.sorted { ContactNameKey($0) < ContactNameKey($1) } : contacts
        return ordered.page(offset: request.offset, limit: request.limit, descending: request.sortOrder == .desc)
    }

    public func contact(_ request: ContactRequest) async throws -> Contact {
        guard let contact = contacts.first(where: { $0.id == request.contactId }) else {
            throw EngineError(.notFound, "no contact \(request.contactId)")
        }
        return contact
    }
}

/// The plugin's one exported symbol: the host finds the engine through it.
@_cdecl("switchboard_engine_abi_v1")
public func switchboardEngineABIv1() -> UnsafePointer<sb_engine_descriptor> {
    EngineExport.descriptor(for: HelloEngine.self)
}
