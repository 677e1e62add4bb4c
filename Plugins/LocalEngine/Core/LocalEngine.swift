import ContactsEngineKit
import Foundation
import GRDB
import Synchronization

/// The `local` engine: an address book, a directory of registered accounts and LID mappings,
/// kept in SQLite for durability and served from an in-memory snapshot.
///
/// Configuration: `{"database": "<path>"}`, optional. Without it the database is
/// `<state directory>/local.sqlite`, or in memory when the host gives no state directory.
public final class LocalEngine: ContactsEngine {
    public static let name = "local"
    public static let version = "0.1.0"
    public static let summary = "Address book, account directory and LIDs in a local SQLite database"
    public static let features = Set(Feature.allCases)
    /// The database's name in the host's state directory, when the configuration names none.
    public static let databaseFileName = "local.sqlite"

    /// The engine embedded in the host, through the same C ABI as a plugin.
    public static var descriptor: UnsafePointer<sb_engine_descriptor> { EngineExport.descriptor(for: LocalEngine.self) }

    public struct Configuration: Codable, Sendable {
        public var database: String?
        public init(database: String? = nil) { self.database = database }
    }

    private struct State {
        var snapshot: Snapshot
        /// When `PRAGMA data_version` was last compared: at most once a second, so reads stay in memory.
        var lastVersionCheck: ContinuousClock.Instant
    }

    private let dbQueue: DatabaseQueue
    private let location: String
    private let host: EngineHost
    private let state: Mutex<State>

    public init(configuration: EngineConfiguration, host: EngineHost) throws {
        let settings = try configuration.decode(Configuration.self)
        if settings.database?.isEmpty == true {
            throw EngineError(.invalidInput, "invalid configuration: database: empty path")
        }
        let path = settings.database.map(host.resolve(configuredPath:))
            ?? host.stateDirectory.map { URL(fileURLWithPath: $0).appendingPathComponent(Self.databaseFileName).path }
        location = path ?? "in memory"
        self.host = host
        do {
            dbQueue = try Storage.open(path)
            state = Mutex(State(snapshot: try dbQueue.read(Snapshot.init), lastVersionCheck: .now))
        } catch {
            throw EngineError(.unavailable, "cannot open the database \(location): \(error)")
        }
    }

    public var status: EngineStatus {
        let counters = state.withLock {
            ["contacts": $0.snapshot.contacts.count, "accounts": $0.snapshot.accounts.count, "lids": $0.snapshot.lidOrder.count]
        }
        return EngineStatus(message: "SQLite database \(location)", counters: counters)
    }

    // MARK: Contacts

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] {
        try await read { $0.contacts }.page(request).map(\.contact)
    }

    public func contact(_ request: ContactRequest) async throws -> Contact {
        let id = try Self.contactID(request.contactId)
        return try await read { snapshot in
            // WAHA answers for any number: outside the address book, the id and whether it has an account.
            snapshot.contacts[id]?.contact
                ?? Contact(id: id, isWAContact: Self.phoneNumber(of: id).map(snapshot.accounts.contains) ?? false)
        }
    }

    public func upsertContact(_ request: UpsertContactRequest) async throws {
        let id = try Self.contactID(request.chatId)
        let firstName = Self.trimmed(request.firstName), lastName = Self.trimmed(request.lastName)
        guard firstName != nil || lastName != nil else {
            throw EngineError(.invalidInput, "firstName or lastName is required")
        }
        let name = [firstName, lastName].compactMap { $0 }.joined(separator: " ")
        // A new entry is a WhatsApp contact only if the number has an account, as `contact` answers.
        try await write { db in
            try Entry.fetchOne(db, sql: """
                INSERT INTO contact (id, name, shortName, firstName, lastName, isMyContact, isWAContact)
                VALUES (?, ?, ?, ?, ?, 1, EXISTS (SELECT 1 FROM account WHERE number = ?))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, shortName = excluded.shortName,
                    firstName = excluded.firstName, lastName = excluded.lastName, isMyContact = 1
                RETURNING \(Entry.columns)
                """, arguments: [id, name, firstName, firstName, lastName, Self.phoneNumber(of: id)])
        }
    }

    public func checkExists(_ request: CheckExistsRequest) async throws -> CheckExistsResult {
        let phone = request.phone
        guard ChatID.isPhoneNumber(phone) else {
            throw EngineError(.invalidInput, "phone must be \(ChatID.phoneNumberDigits) digits, country code first: \(phone)")
        }
        let candidates = [phone] + [Self.brazilianAlternative(of: phone)].compactMap { $0 }
        return try await read { snapshot in
            let registered = candidates.first(where: snapshot.isRegistered)
            return CheckExistsResult(numberExists: registered != nil, chatId: registered.map { $0 + ChatID.contactSuffix })
        }
    }

    public func about(_ request: ContactRequest) async throws -> AboutResult {
        let id = try Self.contactID(request.contactId)
        return try await read { AboutResult(about: $0.contacts[id]?.about) }
    }

    /// `refresh` changes nothing: the URL is stored locally, there is no cache to bypass.
    public func profilePicture(_ request: ProfilePictureRequest) async throws -> ProfilePictureResult {
        let id = try Self.contactID(request.contactId)
        return try await read { ProfilePictureResult(profilePictureURL: $0.contacts[id]?.profilePictureURL) }
    }

    public func block(_ request: ContactRequest) async throws {
        let id = try Self.contactID(request.contactId)
        try await write { db in
            try Entry.fetchOne(db, sql: """
                INSERT INTO contact (id, isBlocked, isMyContact, isWAContact)
                VALUES (?, 1, 0, EXISTS (SELECT 1 FROM account WHERE number = ?))
                ON CONFLICT (id) DO UPDATE SET isBlocked = 1
                RETURNING \(Entry.columns)
                """, arguments: [id, Self.phoneNumber(of: id)])
        }
    }

    /// Unblocking a number the address book has never seen changes nothing, so creates no entry.
    public func unblock(_ request: ContactRequest) async throws {
        let id = try Self.contactID(request.contactId)
        try await write { db in
            try Entry.fetchOne(db, sql: "UPDATE contact SET isBlocked = 0 WHERE id = ? RETURNING \(Entry.columns)", arguments: [id])
        }
    }

    // MARK: LIDs

    public func listLids(_ request: LidsPageRequest) async throws -> [LidMapping] {
        try PageBounds.check(offset: request.offset, limit: request.limit)
        return try await read { snapshot in
            snapshot.lidOrder.page(offset: request.offset, limit: request.limit).map { LidMapping(lid: $0, pn: snapshot.pnByLid[$0]) }
        }
    }

    public func countLids() async throws -> Int {
        try await read { $0.lidOrder.count }
    }

    public func phoneNumber(forLid request: LidLookupRequest) async throws -> LidMapping {
        guard let lid = ChatID.normalizedLid(request.lid) else { throw EngineError(.invalidInput, "invalid lid: \(request.lid)") }
        return try await read { LidMapping(lid: lid, pn: $0.pnByLid[lid]) }
    }

    public func lid(forPhoneNumber request: PhoneNumberLookupRequest) async throws -> LidMapping {
        guard let pn = ChatID.normalizedPhoneNumberID(request.pn) else {
            throw EngineError(.invalidInput, "invalid phone number: \(request.pn)")
        }
        return try await read { LidMapping(lid: $0.lidByPn[pn], pn: pn) }
    }

    // MARK: Snapshot access

    /// Serves a read from memory, after reloading the snapshot if another connection changed the file.
    private func read<T: Sendable>(_ body: (Snapshot) -> T) async throws -> T {
        try await reloadIfChangedElsewhere()
        return state.withLock { body($0.snapshot) }
    }

    /// Commits `change`, then puts the row it returns into the snapshot. Both run in the database
    /// queue, so concurrent writes reach the snapshot in commit order, and only once committed.
    private func write(_ change: @escaping @Sendable (Database) throws -> Entry?) async throws {
        do {
            try await dbQueue.writeWithoutTransaction { db in
                var entry: Entry?
                try db.inTransaction {
                    entry = try change(db)
                    return .commit
                }
                if let entry { self.state.withLock { $0.snapshot.contacts.put(entry) } }
            }
        } catch let error as DatabaseError {
            throw EngineError(.unavailable, "database \(location): \(error)")
        }
    }

    /// Our own commits leave `PRAGMA data_version` unchanged; another connection's change it.
    private func reloadIfChangedElsewhere() async throws {
        let due = state.withLock { state in
            let now = ContinuousClock.now
            guard now - state.lastVersionCheck >= .seconds(1) else { return false }
            state.lastVersionCheck = now
            return true
        }
        guard due else { return }
        do {
            // In the database queue, so no write can slip between loading and installing.
            let reloaded = try await dbQueue.read { db in
                guard try Snapshot.dataVersion(db) != self.state.withLock({ $0.snapshot.dataVersion }) else { return false }
                let snapshot = try Snapshot(db)
                self.state.withLock { $0.snapshot = snapshot }
                return true
            }
            if reloaded { host.log(.info, "reloaded \(location): another connection changed it") }
        } catch let error as DatabaseError {
            throw EngineError(.unavailable, "database \(location): \(error)")
        }
    }

    // MARK: Rules

    private static func contactID(_ raw: String) throws -> String {
        guard let id = ChatID.normalizedContactID(raw) else { throw EngineError(.invalidInput, "invalid contact id: \(raw)") }
        return id
    }

    /// The phone number of a `<digits>@c.us` id; groups and LIDs have none.
    private static func phoneNumber(of id: String) -> String? {
        id.hasSuffix(ChatID.contactSuffix) ? ChatID.userPart(of: id) : nil
    }

    private static func trimmed(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    /// Brazil put a 9 in front of mobile numbers from 2012, but accounts registered before keep
    /// the old form: `55 AA 9XXXXXXXX` (13 digits) and `55 AA XXXXXXXX` (12 digits) are one number.
    static func brazilianAlternative(of number: String) -> String? {
        guard number.hasPrefix("55") else { return nil }
        let countryAndArea = number.prefix(4), subscriber = number.dropFirst(4)
        switch number.count {
        case 13 where subscriber.first == "9": return String(countryAndArea + subscriber.dropFirst())
        case 12: return countryAndArea + "9" + subscriber
        default: return nil
        }
    }
}
