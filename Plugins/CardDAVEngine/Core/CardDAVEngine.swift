import AsyncHTTPClient
import ContactsEngineKit
import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// The `carddav` engine: contacts from an address book on a CardDAV server (RFC 6352), served
/// from an in-memory copy that is brought up to date when a call comes in.
///
/// Configuration: `{"url": "https://host/path/", "username": "...", "password": "...",
/// "addressBook": "<collection URL>", "timeoutSeconds": 10, "refreshSeconds": 30,
/// "caCertificate": "<PEM file>"}`; all but `url`
/// optional. Without `addressBook`, the book is discovered from `url`.
///
/// No check-exists: an address book cannot say who is registered on WhatsApp.
public final class CardDAVEngine: ContactsEngine {
    public static let name = "carddav"
    public static let version = "1.0.0"
    public static let summary = "Contacts from a CardDAV address book (RFC 6352)"
    public static let features: Set<Feature> = [.contactsList, .contactsGet, .contactsUpsert, .contactsProfilePicture]
    /// In a sandboxed engine process it reaches its CardDAV server only when granted.
    public static let needs: Set<EngineNeed> = [.network]

    public static var descriptor: EngineDescriptor { EngineExport.descriptor(for: CardDAVEngine.self) }
    /// The bound of `timeoutSeconds` and `refreshSeconds`: a day, far from overflowing a duration.
    static let longestSeconds = 86_400.0

    public struct Configuration: Codable, Sendable, StrictConfiguration {
        public enum CodingKeys: String, CodingKey, CaseIterable { case url, username, password, addressBook, timeoutSeconds, refreshSeconds, caCertificate }
        public var url: String
        public var username: String?
        public var password: String?
        public var addressBook: String?
        public var timeoutSeconds: Double?
        public var refreshSeconds: Double?
        /// A PEM file of the certificates that may sign the server's: for a server with a
        /// private CA or a self-signed certificate. The system's roots when absent.
        public var caCertificate: String?

        public init(
            url: String, username: String? = nil, password: String? = nil, addressBook: String? = nil,
            timeoutSeconds: Double? = nil, refreshSeconds: Double? = nil, caCertificate: String? = nil
        ) {
            self.caCertificate = caCertificate
            self.url = url
            self.username = username
            self.password = password
            self.addressBook = addressBook
            self.timeoutSeconds = timeoutSeconds
            self.refreshSeconds = refreshSeconds
        }
    }

    private struct Refresh {
        let task: Task<AddressBook, any Error>
        let startedAt: ContinuousClock.Instant
    }

    private struct State {
        var book: AddressBook?
        /// When the refresh that produced `book` started: the book holds every change made before.
        var bookAsOf: ContinuousClock.Instant?
        var refresh: Refresh?
        var lastFailure: EngineError?
        var refreshes = 0
        var conflicts = 0
    }

    private let client: CardDAVClient
    private let configuredAddressBook: URL?
    private let refreshInterval: Duration
    private let host: EngineHost
    private let state = Mutex(State())
    private let gate = ShutdownGate(closedMessage: "the carddav engine is shut down")

    public init(configuration: EngineConfiguration, host: EngineHost) throws {
        let settings = try configuration.decode(Configuration.self)
        let server = try Self.collectionURL(settings.url, key: "url")
        configuredAddressBook = try settings.addressBook.map { try Self.collectionURL($0, key: "addressBook") }
        let timeoutSeconds = settings.timeoutSeconds ?? 10
        guard timeoutSeconds > 0, timeoutSeconds <= Self.longestSeconds else {
            throw EngineError(.invalidInput, "invalid configuration: timeoutSeconds must be above 0 and at most \(Self.longestSeconds): \(timeoutSeconds)")
        }
        let refreshSeconds = settings.refreshSeconds ?? 30
        guard refreshSeconds >= 0, refreshSeconds <= Self.longestSeconds else {
            throw EngineError(.invalidInput, "invalid configuration: refreshSeconds must be from 0 to \(Self.longestSeconds): \(refreshSeconds)")
        }
        refreshInterval = .milliseconds(Int64(refreshSeconds * 1000))
        self.host = host

        let timeout = TimeAmount.milliseconds(Int64(timeoutSeconds * 1000))
        var httpConfiguration = HTTPClient.Configuration(timeout: .init(connect: timeout, read: timeout))
        if let caCertificate = settings.caCertificate.map(host.resolve(configuredPath:)) {
            guard FileManager.default.isReadableFile(atPath: caCertificate) else {
                throw EngineError(.invalidInput, "invalid configuration: caCertificate: cannot read \(caCertificate)")
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caCertificate)
            httpConfiguration.tlsConfiguration = tls
        }
        // A server that refuses connections is down: say so at once rather than retry until the timeout.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        let authorization = settings.username.map { username in
            "Basic " + Data("\(username):\(settings.password ?? "")".utf8).base64EncodedString()
        }
        // Created last: an HTTPClient must be shut down before it is released, and a throwing
        // init never reaches `shutdown()`. Creating it opens no connection.
        client = CardDAVClient(
            http: HTTPClient(configuration: httpConfiguration),
            server: server, authorization: authorization, timeout: timeout
        )
    }

    public var status: EngineStatus {
        state.withLock { state in
            let counters = ["cards": state.book?.cards.count ?? 0, "refreshes": state.refreshes, "conflicts": state.conflicts]
            if let failure = state.lastFailure {
                return EngineStatus(health: .degraded, message: "last refresh failed: \(failure.message)", counters: counters)
            }
            let source = state.book.map { "address book \($0.collection.absoluteString), refreshed by \($0.tracking.method)" }
                ?? "CardDAV server \(client.server.absoluteString), not read yet"
            return EngineStatus(health: .ok, message: source, counters: counters)
        }
    }

    /// Calls in flight finish first: the HTTP client is shut down when the last one returns.
    public func shutdown() {
        let http = client.http
        gate.close { try? await http.shutdown() }
    }

    // MARK: Contacts

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] {
        try PageBounds.check(offset: request.offset, limit: request.limit)
        let book = try await serving { () async throws(EngineError) in try await self.currentBook() }
        return try book.entries.page(request).map(\.contact)
    }

    /// A number outside the address book still gets an answer, as WAHA gives one: its id alone.
    public func contact(_ request: ContactRequest) async throws -> Contact {
        let id = try Self.contactID(request.contactId)
        let book = try await serving { () async throws(EngineError) in try await self.currentBook() }
        return book.entries[id]?.contact ?? Contact(id: id)
    }

    /// `refresh` reads the server again first, so a photo changed there a moment ago shows.
    public func profilePicture(_ request: ProfilePictureRequest) async throws -> ProfilePictureResult {
        let id = try Self.contactID(request.contactId)
        let asOf: ContinuousClock.Instant? = request.refresh ? .now : nil
        let book = try await serving { () async throws(EngineError) in try await self.currentBook(asOf: asOf) }
        return ProfilePictureResult(profilePictureURL: book.entries[id]?.photoURL)
    }

    /// Updates the card whose preferred number is the chat id, or adds a new card for it.
    public func upsertContact(_ request: UpsertContactRequest) async throws {
        let id = try Self.contactID(request.chatId)
        guard id.hasSuffix(ChatID.contactSuffix) else {
            throw EngineError(.invalidInput, "a CardDAV contact needs a phone number id (<digits>@c.us): \(id)")
        }
        let firstName = Self.trimmed(request.firstName), lastName = Self.trimmed(request.lastName)
        guard firstName != nil || lastName != nil else {
            throw EngineError(.invalidInput, "firstName or lastName is required")
        }
        try await serving { () async throws(EngineError) in
            let book = try await self.currentBook()
            let (card, url, precondition) = Self.write(id: id, firstName: firstName, lastName: lastName, into: book)
            do throws(EngineError) {
                try await self.client.put(card, at: url, precondition: precondition)
            } catch where error.kind == .conflict {
                // The book is stale: have the next call read it again before anything else.
                self.state.withLock { state in
                    state.conflicts += 1
                    state.bookAsOf = nil
                }
                throw error
            }
            // The write is done whatever this refresh does: a failure shows in `status`.
            _ = try? await self.currentBook(asOf: .now)
        }
    }

    /// The card to PUT for an upsert, where, and on which condition.
    private static func write(
        id: String, firstName: String?, lastName: String?, into book: AddressBook
    ) -> (VCard, URL, precondition: (header: String, value: String)) {
        if let entry = book.entries[id], let stored = book.cards[entry.href], var card = stored.card, let url = URL(string: entry.href) {
            card.setName(firstName: firstName, lastName: lastName)
            // Without an ETag from the server, `*` at least never recreates a card deleted meanwhile.
            return (card, url, ("If-Match", stored.etag ?? "*"))
        }
        let uid = UUID().uuidString.lowercased()
        let card = VCard(uid: uid, firstName: firstName, lastName: lastName, phoneDigits: ChatID.userPart(of: id))
        return (card, book.collection.appendingPathComponent("\(uid).vcf"), ("If-None-Match", "*"))
    }

    // MARK: The book in memory

    /// The book to answer from. Older than `refreshSeconds`, or than `asOf`, it is refreshed first;
    /// when that fails the last book read still answers (status says degraded), and only a
    /// first read that fails is an error.
    private func currentBook(asOf: ContinuousClock.Instant? = nil) async throws(EngineError) -> AddressBook {
        while true {
            let (pending, coversAsOf) = state.withLock { state -> (Refresh?, Bool) in
                if let running = state.refresh {
                    return (running, asOf.map { running.startedAt >= $0 } ?? true)
                }
                if state.book != nil, let bookAsOf = state.bookAsOf,
                   asOf.map({ bookAsOf >= $0 }) ?? (.now - bookAsOf < refreshInterval) {
                    return (nil, true)
                }
                let refresh = startRefresh(after: state.book)
                state.refresh = refresh
                return (refresh, true)
            }
            guard let pending else { return try lastBook() }
            let result = await pending.task.result
            // A refresh that started before `asOf` may have missed what the caller wrote: wait for the next.
            guard coversAsOf else { continue }
            if case .success(let book) = result { return book }
            return try lastBook()
        }
    }

    private func lastBook() throws(EngineError) -> AddressBook {
        try state.withLock { (state) throws(EngineError) in
            guard let book = state.book else {
                throw state.lastFailure ?? EngineError(.internal, "the address book was never read")
            }
            return book
        }
    }

    /// Called with the state locked; the task records its outcome itself, so the book is kept
    /// even if every caller waiting for it has gone.
    private func startRefresh(after previous: AddressBook?) -> Refresh {
        let startedAt = ContinuousClock.now
        let task = Task { () async throws -> AddressBook in
            do throws(EngineError) {
                let book = try await refreshed(previous)
                state.withLock { state in
                    state.book = book
                    state.bookAsOf = startedAt
                    state.refresh = nil
                    state.lastFailure = nil
                    state.refreshes += 1
                }
                return book
            } catch {
                state.withLock { state in
                    state.refresh = nil
                    state.lastFailure = error
                }
                host.log(.warning, "refreshing the address book failed: \(error.message)")
                throw error
            }
        }
        return Refresh(task: task, startedAt: startedAt)
    }

    private func refreshed(_ previous: AddressBook?) async throws(EngineError) -> AddressBook {
        guard let previous else {
            let collection: URL
            if let configuredAddressBook { collection = configuredAddressBook } else { collection = try await client.discoverAddressBook() }
            let book = try await client.read(collection)
            host.log(.info, "read \(book.cards.count) cards from \(collection.absoluteString)")
            return book
        }
        let book = try await client.update(previous)
        if case .syncToken = previous.tracking, book.tracking == .etags {
            host.log(.info, "the server refuses sync-collection: comparing ETags from now on")
        }
        return book
    }

    // MARK: Calls in flight

    /// Runs one call, counted so that `shutdown()` can wait for it.
    private func serving<T: Sendable>(_ body: () async throws(EngineError) -> T) async throws(EngineError) -> T {
        try gate.enter()
        defer { gate.leave() }
        return try await body()
    }

    // MARK: Rules

    /// An http(s) URL with a host, ending in `/` as WebDAV collections do.
    private static func collectionURL(_ text: String, key: String) throws(EngineError) -> URL {
        guard let url = URL(string: text.hasSuffix("/") ? text : text + "/"),
              let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host?.isEmpty == false
        else {
            throw EngineError(.invalidInput, "invalid configuration: \(key): expected an http(s) URL, got \"\(text)\"")
        }
        return url
    }

    private static func contactID(_ raw: String) throws(EngineError) -> String {
        guard let id = ChatID.normalizedContactID(raw) else { throw EngineError(.invalidInput, "invalid contact id: \(raw)") }
        return id
    }

    private static func trimmed(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }
}
