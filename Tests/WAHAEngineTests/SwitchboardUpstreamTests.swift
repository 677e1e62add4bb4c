import ContactsEngineKit
import Foundation
import SwitchboardTestSupport
import Testing
import WAHAEngineCore

/// The engine in front of real Switchboard servers, whose sessions run the `local` and `fixed` engines.
@Suite("Switchboard upstream", .serialized)
struct SwitchboardUpstreamTests {
    static let seed = """
        {"contacts": [{"id": "5511987654321", "name": "Ana Souza", "pushname": "Ana", "about": "Hi!"}],
         "accounts": ["5511987654321"],
         "lids": [{"lid": "123456789@lid", "pn": "5511987654321@c.us"}]}
        """

    @Test("a local-backed session: contacts and LIDs in the SDK's shapes")
    func localSession() async throws {
        try await SwitchboardProcess.withServer { upstream in
            try await upstream.request("POST", "/api/sessions", body: #"{"name": "s", "engine": "local"}"#)
            try upstream.importSeed(Self.seed, session: "s")
            try await withEngine(upstream.url, session: "s") { engine in
                try await eventually("detection") { engine.status.message.contains("Switchboard engine local") }
                #expect(engine.activeFeatures == Set(Feature.allCases))
                // The local engine notices an import within a second.
                try await eventually("the import") { (try? await engine.countLids()) == 1 }

                let ana = try await engine.contact(ContactRequest(contactId: "5511987654321@c.us"))
                #expect(ana == Contact(id: "5511987654321@c.us", name: "Ana Souza", pushname: "Ana", isMyContact: true))

                try await engine.upsertContact(UpsertContactRequest(chatId: "15550001111@c.us", firstName: "Bob", lastName: "Lee"))
                let seen = try await upstream.request("GET", "/api/contacts?session=s&contactId=15550001111")
                #expect(seen.body.contains(#""name":"Bob Lee""#))

                let page = try await engine.listContacts(ContactsPageRequest(limit: 1, offset: 0, sortBy: .name, sortOrder: .desc))
                #expect(page.map(\.id) == ["15550001111@c.us"])
                #expect(try await engine.listContacts(ContactsPageRequest()).map(\.id) == ["15550001111@c.us", "5511987654321@c.us"])

                #expect(try await engine.checkExists(CheckExistsRequest(phone: "5511987654321")) == CheckExistsResult(numberExists: true, chatId: "5511987654321@c.us"))
                #expect(try await engine.checkExists(CheckExistsRequest(phone: "15550009999")) == CheckExistsResult(numberExists: false))
                #expect(try await engine.about(ContactRequest(contactId: "5511987654321@c.us")) == AboutResult(about: "Hi!"))

                #expect(try await engine.listLids(LidsPageRequest()) == [LidMapping(lid: "123456789@lid", pn: "5511987654321@c.us")])
                #expect(try await engine.phoneNumber(forLid: LidLookupRequest(lid: "123456789@lid")) == LidMapping(lid: "123456789@lid", pn: "5511987654321@c.us"))
                #expect(try await engine.lid(forPhoneNumber: PhoneNumberLookupRequest(pn: "5511987654321@c.us")) == LidMapping(lid: "123456789@lid", pn: "5511987654321@c.us"))
                #expect(try await engine.lid(forPhoneNumber: PhoneNumberLookupRequest(pn: "15550009999@c.us")) == LidMapping(lid: nil, pn: "15550009999@c.us"))

                try await engine.block(ContactRequest(contactId: "5511987654321@c.us"))
                #expect(try await engine.contact(ContactRequest(contactId: "5511987654321@c.us")).isBlocked)
                try await engine.unblock(ContactRequest(contactId: "5511987654321@c.us"))
                #expect(try await engine.contact(ContactRequest(contactId: "5511987654321@c.us")).isBlocked == false)

                let status = engine.status
                #expect(status.health == .ok)
                #expect(status.counters["failures"] == 0)
                #expect(status.counters["calls"]! >= 14)
            }
        }
    }

    @Test("a fixed-backed session: the features its features endpoint reports, and 501 for the rest")
    func fixedSession() async throws {
        try await SwitchboardProcess.withServer { upstream in
            try await upstream.request("POST", "/api/sessions", body: #"{"name": "s", "engine": "fixed"}"#)
            try await withEngine(upstream.url, session: "s") { engine in
                try await eventually("detection") { engine.activeFeatures != Set(Feature.allCases) }
                #expect(engine.activeFeatures == [.contactsList, .contactsGet, .contactsCheckExists])
                #expect(engine.status.message.contains("Switchboard engine fixed"))
                #expect(try await !engine.listContacts(ContactsPageRequest()).isEmpty)
                let error = await engineError { _ = try await engine.about(ContactRequest(contactId: "5511987654321@c.us")) }
                #expect(error?.kind == .notImplemented)
            }
        }
    }

    @Test("an engine swapped behind the engine's back: 501 demotes, the next detection restores")
    func demotionAndRedetection() async throws {
        try await SwitchboardProcess.withServer { upstream in
            try await upstream.request("POST", "/api/sessions", body: #"{"name": "s", "engine": "local"}"#)
            try await withEngine(upstream.url, session: "s", detectSeconds: 1) { engine in
                try await eventually("detection") { engine.status.message.contains("Switchboard engine local") }
                #expect(try await engine.about(ContactRequest(contactId: "5511987654321@c.us")) == AboutResult(about: nil))

                try await upstream.request("PUT", "/api/sessions/s", body: #"{"engine": "fixed"}"#)
                let error = await engineError { _ = try await engine.about(ContactRequest(contactId: "5511987654321@c.us")) }
                #expect(error?.kind == .notImplemented)
                #expect(!engine.activeFeatures.contains(.contactsAbout))

                try await upstream.request("PUT", "/api/sessions/s", body: #"{"engine": "local"}"#)
                try await eventually("re-detection") { engine.activeFeatures == Set(Feature.allCases) }
                #expect(try await engine.about(ContactRequest(contactId: "5511987654321@c.us")) == AboutResult(about: nil))
            }
        }
    }
}

/// The plugin as the host really loads it: dlopen'd by a Switchboard whose session `w` runs the
/// `waha` engine in front of the same server's session `s`.
@Suite("Plugin")
struct PluginTests {
    static let library = TestPlugins.product("WAHAEngine")

    @Test("loaded by a real Switchboard, the engine serves a session through the C ABI")
    func loadedByTheHost() async throws {
        try #require(FileManager.default.fileExists(atPath: Self.library), "no plugin at \(Self.library): run `swift build --build-tests` first")
        try await SwitchboardProcess.withServer(plugin: Self.library) { server in
            try await server.request("POST", "/api/sessions", body: #"{"name": "s", "engine": "fixed"}"#)
            try await server.request("POST", "/api/sessions", body: #"{"name": "w", "engine": "waha", "engineConfig": {"url": "\#(server.url)", "session": "s"}}"#)
            try await eventually("detection through the host") {
                (try? await server.request("GET", "/api/sessions/w/features"))?.body.contains(#""features":["contacts.list","contacts.get","contacts.check-exists"]"#) == true
            }
            let direct = try await server.request("GET", "/api/contacts/all?session=s")
            let forwarded = try await server.request("GET", "/api/contacts/all?session=w")
            #expect(forwarded.body == direct.body)
            try await expectFailure("HTTP 501") { try await server.request("GET", "/api/contacts/about?session=w&contactId=123") }
            // Swapped to an upstream that is down: the host destroys the old instance, the new one says why.
            let down = "http://127.0.0.1:\(try TestPlugins.freePort())"
            try await server.request("PUT", "/api/sessions/w", body: #"{"engineConfig": {"url": "\#(down)"}}"#)
            try await expectFailure("HTTP 503") { try await server.request("GET", "/api/contacts/all?session=w") }
            try await expectFailure(down) { try await server.request("GET", "/api/contacts/all?session=w") }
            try await server.request("DELETE", "/api/sessions/w")
        }
    }
}

/// Expects `body` to fail with a `SwitchboardProcess.Failure` whose description contains `text`.
func expectFailure(_ text: String, _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    do {
        try await body()
        Issue.record("expected a failure containing \(text)", sourceLocation: sourceLocation)
    } catch let failure as SwitchboardProcess.Failure {
        #expect(failure.description.contains(text), "\(failure)", sourceLocation: sourceLocation)
    }
}
