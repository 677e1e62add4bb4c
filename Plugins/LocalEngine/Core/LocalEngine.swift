import ContactsEngineKit
import Foundation
import Synchronization

/// The `local` engine: an address book, a directory of registered accounts and LID mappings,
/// kept in SQLite or PostgreSQL for durability and served from an in-memory snapshot.
///
/// Configuration: `{"database": "<path>"}` or `{"postgres": "postgres://user@host/db"}`, both
/// optional and not both. Without either the database is `<state directory>/local.sqlite`, or
/// in memory when the host gives no state directory. On PostgreSQL, every replica whose session
/// names the same database serves one address book.
///
/// Reads are answered at once (`SynchronousContactsEngine`): from the snapshot, with no task,
/// unless the store's version is due for a check, which the asynchronous method then makes.
/// Writes wait on the database.
public final class LocalEngine: SynchronousContactsEngine {
    public static let name = "local"
    public static let version = "0.1.0"
    public static let summary = "Address book, account directory and LIDs in SQLite or PostgreSQL"
    public static let features = Set(Feature.allCases)
    /// In a sandboxed engine process it reaches PostgreSQL, when its book is shared there only when granted.
    public static let needs: Set<EngineNeed> = [.network]
    /// The database's name in the host's state directory, when the configuration names none.
    public static let databaseFileName = "local.sqlite"

    /// The engine embedded in the host, through the same C ABI as a plugin.
    public static var descriptor: EngineDescriptor { EngineExport.descriptor(for: LocalEngine.self) }

    public struct Configuration: Codable, Sendable, StrictConfiguration {
        public enum CodingKeys: String, CodingKey, CaseIterable { case database, postgres }
        public var database: String?
        public var postgres: String?
        public init(database: String? = nil, postgres: String? = nil) {
            self.database = database
            self.postgres = postgres
        }
    }

    private struct State {
        /// Nil until the first call loads it (PostgreSQL: init does not wait on the network).
        var snapshot: Snapshot?
        /// When the store's version was last compared: at most once a second, so reads stay in memory.
        var lastVersionCheck: ContinuousClock.Instant
        /// The newest version one of our own commits reached while someone else also committed:
        /// the snapshot is reloaded before a read until it is at least there.
        var mustReach: Int64 = .min
        /// Why the database last failed, while it does: reads are then served from the snapshot
        /// and the status says degraded.
        var outage: String?
        /// A version check runs behind the reads while the database is down; one at a time.
        var probing = false
    }

    private let store: any AddressBookStore
    private let host: EngineHost
    private let state: Mutex<State>

    public init(configuration: EngineConfiguration, host: EngineHost) throws {
        let settings = try configuration.decode(Configuration.self)
        if settings.database?.isEmpty == true {
            throw EngineError(.invalidInput, "invalid configuration: database: empty path")
        }
        self.host = host
        if let url = settings.postgres {
            guard settings.database == nil else {
                throw EngineError(.invalidInput, "invalid configuration: database and postgres both given; name one")
            }
            store = try PostgresAddressBook(url: url)
            state = Mutex(State(snapshot: nil, lastVersionCheck: .now))
            return
        }
        let path = settings.database.map(host.resolve(configuredPath:))
            ?? host.stateDirectory.map { URL(fileURLWithPath: $0).appendingPathComponent(Self.databaseFileName).path }
        do {
            // A local file: opened and loaded at once, so a bad path fails the session's start.
            let book = try SQLiteAddressBook(path)
            store = book
            state = Mutex(State(snapshot: try book.snapshot(), lastVersionCheck: .now))
        } catch {
            throw EngineError(.unavailable, "cannot open the database \(path ?? "in memory"): \(error)")
        }
    }

    public var status: EngineStatus {
        state.withLock { state in
            let counters = state.snapshot.map { ["contacts": $0.contacts.count, "accounts": $0.accounts.count, "lids": $0.lidOrder.count] } ?? [:]
            guard let outage = state.outage else { return EngineStatus(message: store.description, counters: counters) }
            let serving = state.snapshot == nil ? "nothing is loaded to serve reads from" : "reads are served from the snapshot last loaded"
            return EngineStatus(health: .degraded, message: "\(outage); \(serving), writes answer unavailable", counters: counters)
        }
    }

    // MARK: Contacts

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] {
        let contacts = try await read { $0.contacts }
        return try contacts.page(request).map { contacts.byID[$0].contact }
    }

    public func listContactsAtOnce(_ request: ContactsPageRequest) throws -> [Contact]? {
        guard let contacts = readAtOnce({ $0.contacts }) else { return nil }
        return try contacts.page(request).map { contacts.byID[$0].contact }
    }

    /// From one snapshot, copied a piece at a time: the first piece of 100,000 contacts leaves
    /// after a thousand copies, not a hundred thousand.
    public func listContacts(_ request: ContactsPageRequest, inPiecesOf size: Int, send: (ArraySlice<Contact>) async -> Bool) async throws {
        let contacts = try await read { $0.contacts }
        try await contacts.page(request).forEachPiece(of: size) { positions in
            await send(positions.map { contacts.byID[$0].contact }[...])
        }
    }

    public func contact(_ request: ContactRequest) async throws -> Contact {
        let id = try Self.contactID(request.contactId)
        return try await read { Self.contact(id, in: $0) }
    }

    public func contactAtOnce(_ request: ContactRequest) throws -> Contact? {
        let id = try Self.contactID(request.contactId)
        return readAtOnce { Self.contact(id, in: $0) }
    }

    /// WAHA answers for any number: outside the address book, the id and whether it has an account.
    private static func contact(_ id: String, in snapshot: Snapshot) -> Contact {
        snapshot.contacts[id]?.contact ?? Contact(id: id, isWAContact: phoneNumber(of: id).map(snapshot.accounts.contains) ?? false)
    }

    public func upsertContact(_ request: UpsertContactRequest) async throws {
        let id = try Self.contactID(request.chatId)
        let firstName = Self.trimmed(request.firstName), lastName = Self.trimmed(request.lastName)
        guard firstName != nil || lastName != nil else {
            throw EngineError(.invalidInput, "firstName or lastName is required")
        }
        let name = [firstName, lastName].compactMap { $0 }.joined(separator: " ")
        try await write(.upsert(id: id, name: name, firstName: firstName, lastName: lastName, phoneNumber: Self.phoneNumber(of: id)))
    }

    public func checkExists(_ request: CheckExistsRequest) async throws -> CheckExistsResult {
        let candidates = try Self.candidates(request)
        return try await read { Self.checkExists(candidates, in: $0) }
    }

    public func checkExistsAtOnce(_ request: CheckExistsRequest) throws -> CheckExistsResult? {
        let candidates = try Self.candidates(request)
        return readAtOnce { Self.checkExists(candidates, in: $0) }
    }

    /// The number asked for, and its other form in Brazil.
    private static func candidates(_ request: CheckExistsRequest) throws -> [String] {
        let phone = request.phone
        guard ChatID.isPhoneNumber(phone) else {
            throw EngineError(.invalidInput, "phone must be \(ChatID.phoneNumberDigits) digits, country code first: \(phone)")
        }
        return [phone] + [brazilianAlternative(of: phone)].compactMap { $0 }
    }

    private static func checkExists(_ candidates: [String], in snapshot: Snapshot) -> CheckExistsResult {
        let registered = candidates.first(where: snapshot.isRegistered)
        return CheckExistsResult(numberExists: registered != nil, chatId: registered.map { $0 + ChatID.contactSuffix })
    }

    public func about(_ request: ContactRequest) async throws -> AboutResult {
        let id = try Self.contactID(request.contactId)
        return try await read { AboutResult(about: $0.contacts[id]?.about) }
    }

    public func aboutAtOnce(_ request: ContactRequest) throws -> AboutResult? {
        let id = try Self.contactID(request.contactId)
        return readAtOnce { AboutResult(about: $0.contacts[id]?.about) }
    }

    /// `refresh` changes nothing: the URL is stored locally, there is no cache to bypass.
    public func profilePicture(_ request: ProfilePictureRequest) async throws -> ProfilePictureResult {
        let id = try Self.contactID(request.contactId)
        return try await read { ProfilePictureResult(profilePictureURL: $0.contacts[id]?.profilePictureURL) }
    }

    public func profilePictureAtOnce(_ request: ProfilePictureRequest) throws -> ProfilePictureResult? {
        let id = try Self.contactID(request.contactId)
        return readAtOnce { ProfilePictureResult(profilePictureURL: $0.contacts[id]?.profilePictureURL) }
    }

    public func block(_ request: ContactRequest) async throws {
        let id = try Self.contactID(request.contactId)
        try await write(.block(id: id, phoneNumber: Self.phoneNumber(of: id)))
    }

    /// Unblocking a number the address book has never seen changes nothing, so creates no entry.
    public func unblock(_ request: ContactRequest) async throws {
        let id = try Self.contactID(request.contactId)
        try await write(.unblock(id: id))
    }

    // MARK: LIDs

    public func listLids(_ request: LidsPageRequest) async throws -> [LidMapping] {
        try PageBounds.check(offset: request.offset, limit: request.limit)
        return try await read { Self.lids(request, in: $0) }
    }

    public func listLidsAtOnce(_ request: LidsPageRequest) throws -> [LidMapping]? {
        try PageBounds.check(offset: request.offset, limit: request.limit)
        return readAtOnce { Self.lids(request, in: $0) }
    }

    private static func lids(_ request: LidsPageRequest, in snapshot: Snapshot) -> [LidMapping] {
        snapshot.lidOrder.page(offset: request.offset, limit: request.limit).map { LidMapping(lid: $0, pn: snapshot.pnByLid[$0]) }
    }

    public func countLids() async throws -> Int {
        try await read { $0.lidOrder.count }
    }

    public func countLidsAtOnce() throws -> Int? {
        readAtOnce { $0.lidOrder.count }
    }

    public func phoneNumber(forLid request: LidLookupRequest) async throws -> LidMapping {
        let lid = try Self.lid(request)
        return try await read { LidMapping(lid: lid, pn: $0.pnByLid[lid]) }
    }

    public func phoneNumberAtOnce(forLid request: LidLookupRequest) throws -> LidMapping? {
        let lid = try Self.lid(request)
        return readAtOnce { LidMapping(lid: lid, pn: $0.pnByLid[lid]) }
    }

    private static func lid(_ request: LidLookupRequest) throws -> String {
        guard let lid = ChatID.normalizedLid(request.lid) else { throw EngineError(.invalidInput, "invalid lid: \(request.lid)") }
        return lid
    }

    public func lid(forPhoneNumber request: PhoneNumberLookupRequest) async throws -> LidMapping {
        let pn = try Self.phoneNumberID(request)
        return try await read { LidMapping(lid: $0.lidByPn[pn], pn: pn) }
    }

    public func lidAtOnce(forPhoneNumber request: PhoneNumberLookupRequest) throws -> LidMapping? {
        let pn = try Self.phoneNumberID(request)
        return readAtOnce { LidMapping(lid: $0.lidByPn[pn], pn: pn) }
    }

    private static func phoneNumberID(_ request: PhoneNumberLookupRequest) throws -> String {
        guard let pn = ChatID.normalizedPhoneNumberID(request.pn) else {
            throw EngineError(.invalidInput, "invalid phone number: \(request.pn)")
        }
        return pn
    }

    // MARK: Snapshot access

    /// Serves a read from memory, after reloading the snapshot if someone else changed the
    /// database. When the database cannot be reached, the snapshot already loaded answers.
    private func read<T: Sendable>(_ body: (Snapshot) -> T) async throws -> T {
        var failure: EngineError?
        do {
            try await reloadIfChangedElsewhere()
        } catch let error as EngineError where error.kind == .unavailable {
            failure = error
        }
        return try state.withLock { state in
            guard let snapshot = state.snapshot else { throw failure ?? EngineError(.unavailable, "\(store.description): not loaded") }
            return body(snapshot)
        }
    }

    /// Serves a read from memory without waiting: nil when `read` would first ask the store (the
    /// snapshot is not loaded, a reload is owed, or the version is due for its check once a
    /// second), and the asynchronous method must answer.
    private func readAtOnce<T: Sendable>(_ body: (Snapshot) -> T) -> T? {
        state.withLock { state in
            guard let snapshot = state.snapshot, snapshot.version >= state.mustReach,
                  ContinuousClock.now - state.lastVersionCheck < .seconds(1)
            else { return nil }
            return body(snapshot)
        }
    }

    /// Commits `change`, then puts the row it returns into the snapshot, only once committed.
    private func write(_ change: Change) async throws {
        try await watched {
            try await self.store.apply(change) { commit in
                self.state.withLock { state in
                    // Not loaded yet: the first load reads the commit anyway.
                    guard let version = state.snapshot?.version else { return }
                    if let entry = commit.entry { state.snapshot?.contacts.put(entry) }
                    if commit.before == version {
                        state.snapshot?.version = commit.after
                    } else {
                        // Someone else committed too (or our own commits came back out of order):
                        // reload at the next read rather than serve a mix.
                        state.mustReach = max(state.mustReach, commit.after)
                    }
                }
            }
        }
    }

    /// Compares the store's version at most once a second (at once while a reload is owed), and
    /// reloads everything when someone else committed. Our own commits advance the snapshot's
    /// version with the row they wrote, so they alone cause no reload.
    private func reloadIfChangedElsewhere() async throws {
        let (due, known) = state.withLock { state -> (Bool, Int64?) in
            guard let snapshot = state.snapshot else { return (true, nil) }
            if snapshot.version < state.mustReach { return (true, nil) }
            let now = ContinuousClock.now
            guard now - state.lastVersionCheck >= .seconds(1) else { return (false, nil) }
            state.lastVersionCheck = now
            return (true, snapshot.version)
        }
        guard due else { return }
        let probing = state.withLock { state -> Bool in
            guard state.outage != nil, state.snapshot != nil else { return false }
            guard !state.probing else { return true }
            state.probing = true
            // Reads do not wait on a database that is down: the check runs behind them, and the
            // first that succeeds ends the outage.
            Task {
                try? await self.reload(unless: known)
                self.state.withLock { $0.probing = false }
            }
            return true
        }
        if !probing { try await reload(unless: known) }
    }

    /// Loads the snapshot again, unless the store is still at version `known`.
    private func reload(unless known: Int64?) async throws {
        try await watched {
            if let known, try await self.store.version() == known { return }
            let wasLoaded = self.state.withLock { $0.snapshot != nil }
            try await self.store.load { snapshot in
                self.state.withLock { state in
                    // A load that raced with one of our own commits and read before it is dropped.
                    if let current = state.snapshot, snapshot.version < current.version { return }
                    state.snapshot = snapshot
                    state.lastVersionCheck = .now
                }
            }
            if wasLoaded { self.host.log(.info, "reloaded \(self.store.description): someone else changed it") }
        }
    }

    /// Runs one use of the database, noting whether it is reachable: a failure begins an outage
    /// (reads from the snapshot, status degraded), a success ends it. Each is logged once.
    private func watched(_ body: @escaping @Sendable () async throws -> Void) async throws {
        do {
            try await guarded(body)
        } catch let error as EngineError where error.kind == .unavailable {
            let began = state.withLock { state in
                defer { state.outage = error.message }
                return state.outage == nil
            }
            if began { host.log(.warning, "\(error.message); reads are served from the snapshot until it answers again") }
            throw error
        }
        let ended = state.withLock { $0.outage.take() != nil }
        if ended { host.log(.info, "\(store.description) answers again") }
    }

    /// Any failure of the database answers unavailable, naming it.
    private func guarded(_ body: @escaping @Sendable () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.unavailable, "\(store.description): \(error)")
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
