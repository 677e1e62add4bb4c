import AsyncHTTPClient
import ContactsEngineKit
import Foundation
import NIOCore
import NIOHTTP1

/// The CardDAV protocol (RFC 6352, with RFC 6578's sync-collection) as the engine speaks it.
/// Every failure comes out as an `EngineError` of the kind the engine reports.
struct CardDAVClient: Sendable {
    let http: HTTPClient
    let server: URL
    /// `Basic ...`, or `nil` for a server without authentication.
    let authorization: String?
    let timeout: TimeAmount

    /// How many cards one multiget asks for: large books are read in several requests.
    static let multigetBatchSize = 100
    /// A larger answer is an error rather than a memory blow-up.
    static let maximumBodyBytes = 64 << 20

    private struct Reply {
        var status: Int
        var body: Data
    }

    private enum SyncOutcome {
        /// Changed hrefs with their new ETag when the server gave one, removed hrefs, the next token.
        case changes(changed: [String: String?], removed: [String], token: String)
        /// The token expired (RFC 6578 `DAV:valid-sync-token`): start over from a new one.
        case tokenInvalid
        /// The server does not do sync-collection.
        case refused
    }

    // MARK: Reading the address book

    /// Finds the address book: the URL itself when it is one, else the first address book in the
    /// addressbook-home-set (RFC 6352 §7.1.1) of the current-user-principal (RFC 5397).
    func discoverAddressBook() async throws(EngineError) -> URL {
        let start = try await propfind(server, depth: "0", [.resourcetype, .currentUserPrincipal]).first
        if start?.resourceTypes().contains(.addressbook) == true { return server }
        let principal = try start?.href(in: .currentUserPrincipal).map(resolve) ?? server
        guard let homeHref = try await propfind(principal, depth: "0", [.addressbookHomeSet]).first?.href(in: .addressbookHomeSet) else {
            throw EngineError(.unavailable, "the CardDAV server \(serverName) names no addressbook-home-set for \(principal.path)")
        }
        let home = try resolve(homeHref)
        let books = try await propfind(home, depth: "1", [.resourcetype])
            .filter { $0.resourceTypes().contains(.addressbook) }
            .map { (response) throws(EngineError) in try resolve(response.href) }
        // The lowest href, so that the engine picks the same book every time.
        guard let book = books.min(by: { $0.absoluteString < $1.absoluteString }) else {
            throw EngineError(.unavailable, "the CardDAV server \(serverName) has no address book in \(home.path)")
        }
        return book
    }

    /// Every card of `collection`, with a way to learn about later changes.
    func read(_ collection: URL) async throws(EngineError) -> AddressBook {
        let empty = AddressBook(collection: collection, tracking: try await changeTracking(collection), cards: [:])
        return try await comparingETags(empty, tracking: empty.tracking)
    }

    /// `book` brought up to date: by sync-collection when the server has it, else by ETags.
    func update(_ book: AddressBook) async throws(EngineError) -> AddressBook {
        guard case .syncToken(let token) = book.tracking else { return try await comparingETags(book, tracking: .etags) }
        switch try await changes(in: book.collection, since: token) {
        case let .changes(changed, removed, next):
            let stale = changed.filter { href, etag in etag == nil || book.cards[href]?.etag != etag }.map(\.key)
            let fetched = try await cards(stale, in: book.collection)
            let vanished = stale.filter { fetched[$0] == nil }
            return book.applying(changed: fetched, removed: removed + vanished, tracking: .syncToken(next))
        case .tokenInvalid:
            return try await comparingETags(book, tracking: try await changeTracking(book.collection))
        case .refused:
            return try await comparingETags(book, tracking: .etags)
        }
    }

    /// The collection's sync token when it has one (RFC 6578 §4), read before the cards: a change
    /// made while they are read then shows up at the next sync, rather than never.
    private func changeTracking(_ collection: URL) async throws(EngineError) -> AddressBook.ChangeTracking {
        let token = try await propfind(collection, depth: "0", [.syncToken]).first?.text(.syncToken)
        return token.map(AddressBook.ChangeTracking.syncToken) ?? .etags
    }

    /// Lists every card's ETag and fetches the cards whose ETag differs from `book`'s.
    private func comparingETags(_ book: AddressBook, tracking: AddressBook.ChangeTracking) async throws(EngineError) -> AddressBook {
        var etags: [String: String] = [:]
        for response in try await propfind(book.collection, depth: "1", [.resourcetype, .getetag])
        where !response.resourceTypes().contains(.collection) {
            etags[try resolve(response.href).absoluteString] = response.text(.getetag) ?? ""
        }
        let stale = etags.filter { href, etag in etag.isEmpty || book.cards[href]?.etag != etag }.map(\.key)
        let fetched = try await cards(stale, in: book.collection)
        let removed = book.cards.keys.filter { etags[$0] == nil } + stale.filter { fetched[$0] == nil }
        return book.applying(changed: fetched, removed: removed, tracking: tracking)
    }

    /// addressbook-multiget (RFC 6352 §8.7); a card the server no longer has is left out.
    private func cards(_ hrefs: [String], in collection: URL) async throws(EngineError) -> [String: StoredCard] {
        var cards: [String: StoredCard] = [:]
        var start = 0
        while start < hrefs.count {
            let batch = hrefs[start..<min(start + Self.multigetBatchSize, hrefs.count)]
            start += Self.multigetBatchSize
            let paths = batch.map { URLComponents(string: $0)?.percentEncodedPath ?? $0 }
            let reply = try await send("REPORT", collection, depth: "1", body: DAVRequestBody.multiget(hrefs: paths))
            for response in try multistatus(reply, "REPORT addressbook-multiget \(collection.path)") {
                guard let data = response.text(.addressData) else { continue }
                cards[try resolve(response.href).absoluteString] = StoredCard(etag: response.text(.getetag), card: VCard(parsing: data))
            }
        }
        return cards
    }

    /// sync-collection (RFC 6578 §3) from `token`, ETags only: the changed cards come by multiget.
    private func changes(in collection: URL, since token: String) async throws(EngineError) -> SyncOutcome {
        let reply = try await send("REPORT", collection, depth: "0", body: DAVRequestBody.syncCollection(token: token))
        if reply.status == 403 || reply.status == 409, (try? XMLNode.parse(reply.body))?.child(.validSyncToken) != nil {
            return .tokenInvalid
        }
        switch reply.status {
        case 207:
            let answer = try Multistatus(reply.body)
            guard let next = answer.syncToken else {
                throw EngineError(.internal, "malformed XML from the CardDAV server: sync-collection answered no sync-token")
            }
            var changed: [String: String?] = [:], removed: [String] = []
            for response in answer.responses {
                let href = try resolve(response.href).absoluteString
                if response.status == 404 { removed.append(href) } else { changed[href] = response.text(.getetag) }
            }
            return .changes(changed: changed, removed: removed, token: next)
        case 401, 500, 502...599:
            throw failure(reply, "REPORT sync-collection \(collection.path)")
        default:
            // 400, 403, 405, 501 and the like: how servers say they do not do this report.
            return .refused
        }
    }

    // MARK: Writing

    /// PUT with a precondition (`If-Match: <etag>` or `If-None-Match: *`) so that a card changed
    /// by someone else since it was read is never overwritten: that answer is a conflict.
    func put(_ card: VCard, at url: URL, precondition: (header: String, value: String)) async throws(EngineError) {
        let reply = try await send(
            "PUT", url, headers: [precondition], body: card.text, contentType: "text/vcard; charset=utf-8"
        )
        switch reply.status {
        case 200..<300:
            return
        case 412:
            throw EngineError(.conflict, """
                the card \(url.path) changed on the CardDAV server \(serverName) since the engine read it \
                (HTTP 412): read the contact again, then retry
                """)
        default:
            throw failure(reply, "PUT \(url.path)")
        }
    }

    // MARK: HTTP

    private func propfind(_ url: URL, depth: String, _ properties: [QName]) async throws(EngineError) -> [Multistatus.Response] {
        let reply = try await send("PROPFIND", url, depth: depth, body: DAVRequestBody.propfind(properties))
        return try multistatus(reply, "PROPFIND \(url.path)")
    }

    private func multistatus(_ reply: Reply, _ request: String) throws(EngineError) -> [Multistatus.Response] {
        guard reply.status == 207 else { throw failure(reply, request) }
        return try Multistatus(reply.body).responses
    }

    private func send(
        _ method: String,
        _ url: URL,
        depth: String? = nil,
        headers: [(header: String, value: String)] = [],
        body: String,
        contentType: String = "application/xml; charset=utf-8"
    ) async throws(EngineError) -> Reply {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let depth { request.headers.add(name: "Depth", value: depth) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: Self.maximumBodyBytes)
            return Reply(status: Int(response.status.code), body: Data(bytes.readableBytesView))
        } catch {
            throw transportFailure(error)
        }
    }

    private func failure(_ reply: Reply, _ request: String) -> EngineError {
        switch reply.status {
        case 401, 403:
            EngineError(.unavailable, "authentication failed at the CardDAV server \(serverName) (HTTP \(reply.status)): check username and password")
        default:
            EngineError(.unavailable, "the CardDAV server \(serverName) answered HTTP \(reply.status) to \(request)")
        }
    }

    private func transportFailure(_ error: any Error) -> EngineError {
        let timeouts: [HTTPClientError] = [.deadlineExceeded, .connectTimeout, .readTimeout]
        if let error = error as? HTTPClientError, timeouts.contains(error) {
            return EngineError(.timeout, "the CardDAV server \(serverName) did not answer within \(timeout.nanoseconds / 1_000_000) ms")
        }
        if case ChannelError.connectTimeout = error {
            return EngineError(.timeout, "the CardDAV server \(serverName) did not accept a connection within \(timeout.nanoseconds / 1_000_000) ms")
        }
        return EngineError(.unavailable, "cannot reach the CardDAV server \(serverName): \(error)")
    }

    /// An href as the server wrote it (usually an absolute path), made a full URL: the key of a card.
    private func resolve(_ href: String) throws(EngineError) -> URL {
        guard let url = URL(string: href, relativeTo: server)?.absoluteURL else {
            throw EngineError(.internal, "malformed XML from the CardDAV server: invalid href \(href)")
        }
        return url
    }

    private var serverName: String {
        guard let host = server.host else { return server.absoluteString }
        return server.port.map { "\(host):\($0)" } ?? host
    }
}
