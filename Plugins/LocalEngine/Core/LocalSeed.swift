import ContactsEngineKit
import GRDB

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

public enum LocalSeedImporter {
    /// Writes `seed` into the database at `path` (created if needed) in one transaction. An engine
    /// open on the same file sees the change within about a second.
    /// Throws `EngineError(.invalidInput)` naming the first bad entry, having written nothing.
    public static func importSeed(_ seed: LocalSeed, intoDatabaseAt path: String) throws -> ImportSummary {
        // Everything is checked before the database is touched, so a bad entry writes nothing.
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

        try Storage.open(path).write { db in
            // Numbered parameters: one value serves the insert's default and the update's "keep".
            let contact = try db.makeStatement(sql: """
                INSERT INTO contact (id, name, pushname, shortName, about, profilePictureURL, isBlocked, isMe, isWAContact, isMyContact)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, 0), coalesce(?8, 0), coalesce(?9, 1), coalesce(?10, 1))
                ON CONFLICT (id) DO UPDATE SET
                    name = coalesce(?2, name), pushname = coalesce(?3, pushname), shortName = coalesce(?4, shortName),
                    about = coalesce(?5, about), profilePictureURL = coalesce(?6, profilePictureURL),
                    isBlocked = coalesce(?7, isBlocked), isMe = coalesce(?8, isMe),
                    isWAContact = coalesce(?9, isWAContact), isMyContact = coalesce(?10, isMyContact)
                """)
            for c in contacts {
                try contact.execute(arguments: [
                    c.id, c.name, c.pushname, c.shortName, c.about, c.profilePictureURL, c.isBlocked, c.isMe, c.isWAContact, c.isMyContact,
                ])
            }
            let account = try db.makeStatement(sql: "INSERT OR IGNORE INTO account (number) VALUES (?)")
            for number in accounts {
                try account.execute(arguments: [number])
            }
            // REPLACE deletes the rows that conflict on either unique column: lid and pn stay one to one.
            let lid = try db.makeStatement(sql: "INSERT OR REPLACE INTO lid (lid, pn) VALUES (?, ?)")
            for mapping in lids {
                try lid.execute(arguments: [mapping.lid, mapping.pn])
            }
        }
        return ImportSummary(contacts: contacts.count, accounts: accounts.count, lids: lids.count)
    }

    private static func invalid(_ entry: String, _ value: String) -> EngineError {
        EngineError(.invalidInput, "seed \(entry): invalid value \"\(value)\"")
    }
}
