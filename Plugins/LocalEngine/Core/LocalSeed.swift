import ContactsEngineKit

/// The seed file of the `local` engine, read by `switchboard import` and by benchmarks:
///
/// ```json
/// {
///   "contacts": [{"id": "5511987654321", "name": "Ana Souza", "pushname": "Ana", "shortName": "Ana",
///                 "about": "Hi!", "profilePictureURL": "https://example.com/ana.jpg",
///                 "isBlocked": false, "isMe": false, "isWAContact": true, "isMyContact": true}],
///   "accounts": ["5511987654321", "551187654321"],
///   "lids": [{"lid": "123456789@lid", "pn": "5511987654321@c.us"}]
/// }
/// ```
///
/// Every key is optional but a contact's `id`. Contact ids may be bare digits (`<digits>@c.us`);
/// accounts are phone numbers as registered (digits, or `<digits>@c.us`). Importing merges: a key
/// left out keeps the stored value, and a new contact defaults to `isWAContact` and
/// `isMyContact` true, the other flags false. A LID mapping replaces any mapping of its lid or pn.
public struct LocalSeed: Codable, Sendable {
    public struct Contact: Codable, Sendable {
        public var id: String
        public var name: String?
        public var pushname: String?
        public var shortName: String?
        public var about: String?
        public var profilePictureURL: String?
        public var isBlocked: Bool?
        public var isMe: Bool?
        public var isWAContact: Bool?
        public var isMyContact: Bool?

        public init(
            id: String, name: String? = nil, pushname: String? = nil, shortName: String? = nil,
            about: String? = nil, profilePictureURL: String? = nil, isBlocked: Bool? = nil,
            isMe: Bool? = nil, isWAContact: Bool? = nil, isMyContact: Bool? = nil
        ) {
            self.id = id
            self.name = name
            self.pushname = pushname
            self.shortName = shortName
            self.about = about
            self.profilePictureURL = profilePictureURL
            self.isBlocked = isBlocked
            self.isMe = isMe
            self.isWAContact = isWAContact
            self.isMyContact = isMyContact
        }
    }

    public struct Lid: Codable, Sendable {
        public var lid: String
        public var pn: String

        public init(lid: String, pn: String) {
            self.lid = lid
            self.pn = pn
        }
    }

    public var contacts: [Contact]
    public var accounts: [String]
    public var lids: [Lid]

    public init(contacts: [Contact] = [], accounts: [String] = [], lids: [Lid] = []) {
        self.contacts = contacts
        self.accounts = accounts
        self.lids = lids
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        contacts = try container.decodeIfPresent([Contact].self, forKey: .contacts) ?? []
        accounts = try container.decodeIfPresent([String].self, forKey: .accounts) ?? []
        lids = try container.decodeIfPresent([Lid].self, forKey: .lids) ?? []
    }
}

/// What an import wrote: one per seed entry.
public struct ImportSummary: Codable, Hashable, Sendable {
    public var contacts: Int
    public var accounts: Int
    public var lids: Int
}

/// A seed whose ids are checked and normalized, ready for either backend.
struct CheckedSeed: Sendable {
    var contacts: [LocalSeed.Contact]
    var accounts: [String]
    var lids: [(lid: String, pn: String)]
}

public enum LocalSeedImporter {
    /// Writes `seed` into the SQLite database at `path` (created if needed) in one transaction.
    /// An engine open on the same file sees the change within about a second.
    /// Throws `EngineError(.invalidInput)` naming the first bad entry, having written nothing.
    public static func importSeed(_ seed: LocalSeed, intoDatabaseAt path: String) throws -> ImportSummary {
        let checked = try check(seed)
        try SQLiteAddressBook(path).importSeed(checked)
        return summary(checked)
    }

    /// Writes `seed` into the PostgreSQL database at `url` (its schema created if needed) in one
    /// transaction. Every engine on that database sees the change within about a second.
    public static func importSeed(_ seed: LocalSeed, intoPostgres url: String) async throws -> ImportSummary {
        let checked = try check(seed)
        try await PostgresAddressBook(url: url).importSeed(checked)
        return summary(checked)
    }

    /// Everything is checked before the database is touched, so a bad entry writes nothing.
    private static func check(_ seed: LocalSeed) throws -> CheckedSeed {
        let contacts = try seed.contacts.enumerated().map { index, contact in
            guard let id = ChatID.normalizedContactID(contact.id) else { throw invalid("contacts[\(index)].id", contact.id) }
            var normalized = contact
            normalized.id = id
            return normalized
        }
        let accounts = try seed.accounts.enumerated().map { index, account in
            guard let id = ChatID.normalizedPhoneNumberID(account) else { throw invalid("accounts[\(index)]", account) }
            return ChatID.userPart(of: id)
        }
        let lids = try seed.lids.enumerated().map { index, mapping in
            guard let lid = ChatID.normalizedLid(mapping.lid) else { throw invalid("lids[\(index)].lid", mapping.lid) }
            guard let pn = ChatID.normalizedPhoneNumberID(mapping.pn) else { throw invalid("lids[\(index)].pn", mapping.pn) }
            return (lid: lid, pn: pn)
        }
        return CheckedSeed(contacts: contacts, accounts: accounts, lids: lids)
    }

    private static func summary(_ seed: CheckedSeed) -> ImportSummary {
        ImportSummary(contacts: seed.contacts.count, accounts: seed.accounts.count, lids: seed.lids.count)
    }

    private static func invalid(_ entry: String, _ value: String) -> EngineError {
        EngineError(.invalidInput, "seed \(entry): invalid value \"\(value)\"")
    }
}
