import ContactsEngineKit
import Foundation
import SwitchboardTestSupport
import Synchronization
import Testing
import WAHAEngineCore

/// The engine in front of upstreams that fail on purpose, and of a WAHA-like one.
@Suite("Faulty upstream")
struct FaultTests {
    static let ana = ContactRequest(contactId: "5511987654321@c.us")

    /// A WAHA server on `engine`, whose contacts routes answer as `contacts` says.
    static func waha(_ engine: String, _ contacts: @escaping @Sendable (FaultServer.Request, String) -> FaultServer.Answer) -> @Sendable (FaultServer.Request, String) -> FaultServer.Answer {
        { request, path in
            path == "/api/server/version" ? .json(200, #"{"version": "2025.6.1", "engine": "\#(engine)", "tier": "CORE"}"#) : contacts(request, path)
        }
    }

    @Test("connection refused: unavailable, naming the upstream; status degraded")
    func connectionRefused() async throws {
        try await TestPlugins.withRefusingPort { port in
            let url = "http://127.0.0.1:\(port)"
            // A refused connection fails at once; the generous deadline only keeps a machine busy
            // with the rest of the suite (2 cores) from turning it into a timeout.
            try await withEngine(url, timeoutSeconds: 30) { engine in
                let error = await engineError { _ = try await engine.listContacts(ContactsPageRequest()) }
                #expect(error?.kind == .unavailable, "\(String(describing: error))")
                #expect(error?.message.contains(url) == true)
                #expect(engine.status.health == .degraded)
                #expect(engine.status.message.contains(url))
                #expect(engine.status.counters["failures"] == 1)
            }
        }
    }

    @Test("an upstream slower than timeoutSeconds: timeout, naming the upstream, without hanging")
    func slowUpstream() async throws {
        try await FaultServer.withServer(Self.waha("WEBJS") { _, _ in .slow(8, 200, "[]") }) { server in
            try await withEngine(server.url, timeoutSeconds: 1) { engine in
                // The upstream does answer, after 8 s: a timeout means the call gave up on its own deadline.
                let error = await engineError { _ = try await engine.listContacts(ContactsPageRequest()) }
                #expect(error?.kind == .timeout)
                #expect(error?.message.contains(server.url) == true)
            }
        }
    }

    @Test("a body that trickles in for longer than timeoutSeconds: timeout, without hanging")
    func tricklingBody() async throws {
        let body = "[" + String(repeating: " ", count: 40) + "]"
        try await FaultServer.withServer(Self.waha("WEBJS") { _, path in path == "/api/contacts/all" ? .trickle(body) : .json(404, "{}") }) { server in
            try await withEngine(server.url, timeoutSeconds: 1) { engine in
                // The whole body does arrive, after 8 s: a timeout means the deadline covered the body too.
                let error = await engineError { _ = try await engine.listContacts(ContactsPageRequest()) }
                #expect(error?.kind == .timeout)
            }
        }
    }

    @Test("a body that is not JSON: unavailable, saying so")
    func garbageBody() async throws {
        try await FaultServer.withServer(Self.waha("WEBJS") { _, _ in .json(200, "<html>oops") }) { server in
            try await withEngine(server.url) { engine in
                let error = await engineError { _ = try await engine.contact(Self.ana) }
                #expect(error?.kind == .unavailable, "\(String(describing: error))")
                #expect(error?.message.contains("malformed body") == true)
                #expect(error?.message.contains(server.url) == true)
            }
        }
    }

    @Test("HTTP 500: unavailable, with the upstream's message")
    func serverError() async throws {
        let answer = Self.waha("WEBJS") { _, _ in .json(500, #"{"statusCode": 500, "message": "Internal server error"}"#) }
        try await FaultServer.withServer(answer) { server in
            try await withEngine(server.url) { engine in
                let error = await engineError { _ = try await engine.about(Self.ana) }
                #expect(error?.kind == .unavailable, "\(String(describing: error))")
                #expect(error?.message.contains("HTTP 500") == true)
                #expect(error?.message.contains("Internal server error") == true)
                #expect(engine.activeFeatures.contains(.contactsAbout))
            }
        }
    }

    @Test("404 is not-found, 400 invalid input, and a null contact not-found")
    func statusMapping() async throws {
        let answer = Self.waha("GOWS") { _, path in
            switch path {
            case "/api/contacts": .json(200, "null")
            case "/api/contacts/check-exists": .json(400, #"{"statusCode": 400, "message": ["phone must be digits"]}"#)
            default: .json(404, #"{"statusCode": 404, "message": "Cannot GET \#(path)"}"#)
            }
        }
        try await FaultServer.withServer(answer) { server in
            try await withEngine(server.url) { engine in
                let missing = await engineError { _ = try await engine.contact(Self.ana) }
                #expect(missing?.kind == .notFound)
                let invalid = await engineError { _ = try await engine.checkExists(CheckExistsRequest(phone: "1234567")) }
                #expect(invalid?.kind == .invalidInput)
                #expect(invalid?.message.contains("phone must be digits") == true)
                let noRoute = await engineError { _ = try await engine.countLids() }
                #expect(noRoute?.kind == .notFound)
            }
        }
    }

    @Test("answers missing fields get the SDK's defaults; the request carries session, paging and the API key")
    func lenientAnswers() async throws {
        let answer = Self.waha("GOWS") { _, path in
            switch path {
            case "/api/contacts/all": .json(200, #"[{"id": "5511987654321@c.us", "name": "Ana"}, null, {"id": "1-2@g.us", "isBlocked": null}]"#)
            case "/api/contacts/profile-picture": .json(200, "")
            case "/api/work/lids/123@lid": .json(200, "null")
            default: .json(404, "{}")
            }
        }
        try await FaultServer.withServer(answer) { server in
            try await withEngine(server.url, session: "work", apiKey: "secret") { engine in
                let contacts = try await engine.listContacts(ContactsPageRequest(limit: 2, offset: 4, sortBy: .name, sortOrder: .desc))
                #expect(contacts == [Contact(id: "5511987654321@c.us", name: "Ana"), Contact(id: "1-2@g.us")])
                #expect(contacts.last?.isGroup == true)
                #expect(try await engine.profilePicture(ProfilePictureRequest(contactId: "5511987654321@c.us", refresh: true)) == ProfilePictureResult(profilePictureURL: nil))
                #expect(try await engine.phoneNumber(forLid: LidLookupRequest(lid: "123@lid")) == LidMapping(lid: "123@lid", pn: nil))

                let list = try #require(server.requests.first { $0.uri.hasPrefix("/api/contacts/all") })
                let query = Set(try #require(URLComponents(string: list.uri)?.queryItems).map { "\($0.name)=\($0.value ?? "")" })
                #expect(query == ["session=work", "limit=2", "offset=4", "sortBy=name", "sortOrder=desc"])
                #expect(list.headers["x-api-key"] == "secret")
                #expect(server.requests.contains { $0.uri.contains("refresh=true") })
            }
        }
    }

    @Test("block posts contactId and session")
    func blockBody() async throws {
        try await FaultServer.withServer(Self.waha("WEBJS") { _, _ in .json(201, #"{"success": true}"#) }) { server in
            try await withEngine(server.url, session: "work") { engine in
                try await engine.block(Self.ana)
                let post = try #require(server.requests.first { $0.method == "POST" })
                #expect(post.uri == "/api/contacts/block")
                let body = try JSONDecoder().decode([String: String].self, from: Data(post.body.utf8))
                #expect(body == ["contactId": "5511987654321@c.us", "session": "work"])
            }
        }
    }

    @Test("a WAHA NOWEB upstream: WAHA's matrix for NOWEB, without about or block")
    func nowebMatrix() async throws {
        try await FaultServer.withServer(Self.waha("NOWEB") { _, _ in .json(200, "[]") }) { server in
            try await withEngine(server.url) { engine in
                try await eventually("detection") { engine.activeFeatures != Set(Feature.allCases) }
                #expect(engine.activeFeatures == Set(Feature.allCases).subtracting([.contactsAbout, .contactsBlock, .contactsUnblock]))
                #expect(engine.status.message.contains("NOWEB"))
                // A WAHA server has no features endpoint: the matrix is enough.
                #expect(!server.requests.contains { $0.uri.contains("/features") })
            }
        }
    }

    @Test("422 'not implemented', as WAHA answered before mid-2025: not-implemented, and the feature demoted")
    func notImplemented422() async throws {
        let answer = Self.waha("WEBJS") { _, path in
            path == "/api/contacts/about"
                ? .json(422, #"{"statusCode": 422, "message": "The method is not implemented by 'WEBJS' engine.", "error": "Unprocessable Entity"}"#)
                : .json(200, "[]")
        }
        try await FaultServer.withServer(answer) { server in
            try await withEngine(server.url) { engine in
                try await eventually("detection") { engine.status.message.contains("WEBJS") }
                let error = await engineError { _ = try await engine.about(Self.ana) }
                #expect(error?.kind == .notImplemented)
                #expect(!engine.activeFeatures.contains(.contactsAbout))
                #expect(engine.activeFeatures.contains(.contactsList))
                #expect(engine.status.counters["demotions"] == 1)
                #expect(engine.status.health == .ok)
            }
        }
    }

    @Test("a GET whose connection drops is retried once; a POST is not")
    func retry() async throws {
        let hits = Hits()
        let answer = Self.waha("WEBJS") { _, path in
            hits.next(path) == 1 ? .hangUp : .json(200, path == "/api/contacts/all" ? "[]" : "{}")
        }
        try await FaultServer.withServer(answer) { server in
            try await withEngine(server.url) { engine in
                let contacts = try await engine.listContacts(ContactsPageRequest())
                #expect(contacts.isEmpty)
                #expect(hits.count("/api/contacts/all") == 2)
                let dropped = await engineError { try await engine.block(Self.ana) }
                #expect(dropped?.kind == .unavailable)
                #expect(hits.count("/api/contacts/block") == 1)
            }
        }
    }
}

/// Requests counted per path.
final class Hits: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func next(_ path: String) -> Int {
        counts.withLock { counts in
            counts[path, default: 0] += 1
            return counts[path]!
        }
    }

    func count(_ path: String) -> Int { counts.withLock { $0[path] ?? 0 } }
}
