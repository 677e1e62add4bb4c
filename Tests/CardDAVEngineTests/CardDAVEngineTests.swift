import CardDAVEngineCore
import ContactsEngineKit
import Foundation
import SwitchboardTestSupport
import Testing

// Every test runs against a real Radicale of its own (see Tests/Support/Radicale.swift).

private enum Cards {
    /// Two numbers, the second preferred; a photo by URL; a property the engine does not read.
    static let ada = """
        BEGIN:VCARD
        VERSION:3.0
        UID:ada
        FN:Ada Lovelace
        N:Lovelace;Ada;;;
        TEL;TYPE=HOME:+44 20 7946 0000
        TEL;TYPE=CELL,PREF:+44 7700 900123
        PHOTO;VALUE=URI:https://example.org/ada.jpg
        EMAIL:ada@example.org
        END:VCARD
        """
    /// vCard 4.0, its number a tel: URI.
    static let bob = """
        BEGIN:VCARD
        VERSION:4.0
        UID:bob
        FN:Bob
        N:;Bob;;;
        TEL;VALUE=uri;TYPE=cell:tel:+1-555-0100
        END:VCARD
        """
    /// An inline photo, as vCard 3.0 writes one.
    static let carol = """
        BEGIN:VCARD
        VERSION:3.0
        UID:carol
        FN:Carol
        N:;Carol;;;
        TEL:+49 151 000111
        PHOTO;ENCODING=b;TYPE=PNG:iVBORw0KGgo=
        END:VCARD
        """
    /// No number: a card, but no contact.
    static let dave = """
        BEGIN:VCARD
        VERSION:3.0
        UID:dave
        FN:Dave Nophone
        N:Nophone;Dave;;;
        EMAIL:dave@example.org
        END:VCARD
        """

    static let adaID = "447700900123@c.us", bobID = "15550100@c.us", carolID = "49151000111@c.us"
}

extension Radicale {
    func configuration(discovering: Bool = false, password: String = Radicale.password, refreshSeconds: Double = 0) -> CardDAVEngine.Configuration {
        CardDAVEngine.Configuration(
            url: root.absoluteString, username: Radicale.user, password: password,
            addressBook: discovering ? nil : addressBook.absoluteString, refreshSeconds: refreshSeconds
        )
    }
}

private func makeEngine(_ configuration: CardDAVEngine.Configuration) throws -> CardDAVEngine {
    try CardDAVEngine(configuration: EngineConfiguration(json: try JSONEncoder().encode(configuration)), host: EngineHost(services: nil))
}

/// The engine, shut down when `body` returns: an HTTP client must not outlive its engine unclosed.
private func withEngine<T>(_ configuration: CardDAVEngine.Configuration, _ body: (CardDAVEngine) async throws -> T) async throws -> T {
    let engine = try makeEngine(configuration)
    defer { engine.shutdown() }
    return try await body(engine)
}

private func expectEngineError(
    _ kind: EngineError.Kind, containing text: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    let error = await #expect(throws: EngineError.self, sourceLocation: sourceLocation) { try await body() }
    #expect(error?.kind == kind, "\(String(describing: error))", sourceLocation: sourceLocation)
    if let text {
        #expect(error?.message.contains(text) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
    }
}

private func ids(_ contacts: [Contact]) -> [String] { contacts.map(\.id) }

@Suite struct ReadingTests {
    @Test func discoveryFromTheServerRootFindsTheAddressBook() async throws {
        try await Radicale.withServer { radicale in
            try await radicale.putCard("ada.vcf", Cards.ada)
            try await withEngine(radicale.configuration(discovering: true)) { engine in
                let contacts = try await engine.listContacts(.init())
                #expect(ids(contacts) == [Cards.adaID])
                #expect(engine.status.message.contains(radicale.addressBook.absoluteString))
            }
        }
    }

    @Test func listsGetsAndServesProfilePicturesOfSeededCards() async throws {
        try await Radicale.withServer { radicale in
            for (name, card) in [("ada.vcf", Cards.ada), ("bob.vcf", Cards.bob), ("carol.vcf", Cards.carol), ("dave.vcf", Cards.dave)] {
                try await radicale.putCard(name, card)
            }
            try await withEngine(radicale.configuration()) { engine in
                #expect(ids(try await engine.listContacts(.init())) == [Cards.bobID, Cards.adaID, Cards.carolID])
                #expect(ids(try await engine.listContacts(.init(sortBy: .id, sortOrder: .desc))) == [Cards.carolID, Cards.adaID, Cards.bobID])
                #expect(ids(try await engine.listContacts(.init(sortBy: .name))) == [Cards.adaID, Cards.bobID, Cards.carolID])
                #expect(ids(try await engine.listContacts(.init(limit: 2, sortBy: .name, sortOrder: .desc))) == [Cards.carolID, Cards.bobID])
                #expect(ids(try await engine.listContacts(.init(limit: 1, offset: 1, sortBy: .name))) == [Cards.bobID])
                #expect(try await engine.listContacts(.init(offset: 3)).isEmpty)
                #expect(try await engine.listContacts(.init(offset: 4)).isEmpty)
                #expect(try await engine.listContacts(.init(offset: 4, sortBy: .name, sortOrder: .desc)).isEmpty)
                await expectEngineError(.invalidInput) { _ = try await engine.listContacts(.init(offset: -1)) }

                let ada = try await engine.contact(.init(contactId: Cards.adaID))
                #expect(ada == Contact(id: Cards.adaID, number: "447700900123", name: "Ada Lovelace", isMyContact: true))
                let stranger = try await engine.contact(.init(contactId: "31612345678@c.us"))
                #expect(stranger.name == nil && !stranger.isMyContact)

                #expect(try await engine.profilePicture(.init(contactId: Cards.adaID)).profilePictureURL == "https://example.org/ada.jpg")
                #expect(try await engine.profilePicture(.init(contactId: Cards.carolID, refresh: true)).profilePictureURL == "data:image/png;base64,iVBORw0KGgo=")
                #expect(try await engine.profilePicture(.init(contactId: Cards.bobID)).profilePictureURL == nil)
                #expect(engine.status.health == .ok)
                #expect(engine.status.counters["cards"] == 4)
            }
        }
    }

    /// With and without sync-collection: the second time, the server refuses it and the engine compares ETags.
    @Test(arguments: [false, true])
    func changesMadeOnTheServerShowUpAtTheNextRefresh(refusingSyncCollection: Bool) async throws {
        try await Radicale.withServer(refusingSyncCollection: refusingSyncCollection) { radicale in
            try await radicale.putCard("ada.vcf", Cards.ada)
            try await radicale.putCard("bob.vcf", Cards.bob)
            try await withEngine(radicale.configuration()) { engine in
                #expect(ids(try await engine.listContacts(.init())) == [Cards.bobID, Cards.adaID])

                try await radicale.putCard("bob.vcf", Cards.bob.replacingOccurrences(of: "FN:Bob", with: "FN:Robert"))
                try await radicale.deleteCard("ada.vcf")
                try await radicale.putCard("carol.vcf", Cards.carol)

                let contacts = try await engine.listContacts(.init())
                #expect(ids(contacts) == [Cards.bobID, Cards.carolID])
                #expect(contacts.first?.name == "Robert")
                #expect(engine.status.counters["refreshes"] == 2)
                #expect(engine.status.message.hasSuffix(refusingSyncCollection ? "refreshed by ETag comparison" : "refreshed by sync-collection"))
                #expect(engine.status.counters["cards"] == 2)
            }
        }
    }

    @Test func anExpiredSyncTokenMakesTheEngineCompareETagsOnceAndSyncAgain() async throws {
        try await Radicale.withServer { radicale in
            try await radicale.putCard("ada.vcf", Cards.ada)
            try await withEngine(radicale.configuration()) { engine in
                #expect(ids(try await engine.listContacts(.init())) == [Cards.adaID])
                try radicale.forgetSyncTokens()
                try await radicale.putCard("bob.vcf", Cards.bob)

                #expect(ids(try await engine.listContacts(.init())) == [Cards.bobID, Cards.adaID])
                #expect(engine.status.message.hasSuffix("refreshed by sync-collection"))
                try await radicale.deleteCard("ada.vcf")
                #expect(ids(try await engine.listContacts(.init())) == [Cards.bobID])
            }
        }
    }
}

@Suite struct WritingTests {
    /// A long refresh interval: what the contact shows after the upsert is the engine's own refresh.
    @Test func upsertCreatesACardOnTheServer() async throws {
        try await Radicale.withServer { radicale in
            try await withEngine(radicale.configuration(refreshSeconds: 3600)) { engine in
                try await engine.upsertContact(.init(chatId: "4915112345678@c.us", firstName: "Grace", lastName: "Hopper"))

                let names = try await radicale.cardNames()
                try #require(names.count == 1)
                let card = try #require(try await radicale.getCard(names[0]))
                let uid = names[0].replacingOccurrences(of: ".vcf", with: "")
                for line in ["VERSION:3.0", "UID:\(uid)", "FN:Grace Hopper", "N:Hopper;Grace;;;", "TEL;TYPE=CELL:+4915112345678"] {
                    #expect(card.contains(line), "\(line) in \(card)")
                }
                #expect(try await engine.contact(.init(contactId: "4915112345678@c.us")).name == "Grace Hopper")
                #expect(UUID(uuidString: uid) != nil)
            }
        }
    }

    @Test func upsertOfAnExistingContactUpdatesItsCardAndKeepsTheRest() async throws {
        try await Radicale.withServer { radicale in
            try await radicale.putCard("ada.vcf", Cards.ada)
            try await withEngine(radicale.configuration(refreshSeconds: 3600)) { engine in
                try await engine.upsertContact(.init(chatId: Cards.adaID, firstName: "Augusta", lastName: "King"))

                #expect(try await radicale.cardNames() == ["ada.vcf"])
                let card = try #require(try await radicale.getCard("ada.vcf"))
                for line in ["FN:Augusta King", "N:King;Augusta;;;", "UID:ada", "EMAIL:ada@example.org", "PHOTO;VALUE=URI:https://example.org/ada.jpg"] {
                    #expect(card.contains(line), "\(line) in \(card)")
                }
                #expect(!card.contains("Lovelace"))
                #expect(try await engine.contact(.init(contactId: Cards.adaID)).name == "Augusta King")
            }
        }
    }

    @Test func upsertOverAConcurrentEditIsAConflict() async throws {
        try await Radicale.withServer { radicale in
            try await radicale.putCard("ada.vcf", Cards.ada)
            try await withEngine(radicale.configuration(refreshSeconds: 3600)) { engine in
                #expect(try await engine.contact(.init(contactId: Cards.adaID)).name == "Ada Lovelace")
                try await radicale.putCard("ada.vcf", Cards.ada.replacingOccurrences(of: "FN:Ada Lovelace", with: "FN:Ada King"))

                await expectEngineError(.conflict, containing: "changed on the CardDAV server") {
                    try await engine.upsertContact(.init(chatId: Cards.adaID, firstName: "Augusta"))
                }
                #expect(try await radicale.getCard("ada.vcf")?.contains("FN:Ada King") == true)
                #expect(engine.status.counters["conflicts"] == 1)

                // The conflict made the engine read the card again: a retry now goes through.
                try await engine.upsertContact(.init(chatId: Cards.adaID, firstName: "Augusta"))
                #expect(try await radicale.getCard("ada.vcf")?.contains("FN:Augusta") == true)
            }
        }
    }

    @Test func upsertRefusesWhatACardCannotHold() async throws {
        try await Radicale.withServer { radicale in
            try await withEngine(radicale.configuration()) { engine in
                await expectEngineError(.invalidInput) { try await engine.upsertContact(.init(chatId: Cards.adaID)) }
                await expectEngineError(.invalidInput) { try await engine.upsertContact(.init(chatId: "123-456@g.us", firstName: "Group")) }
                let names = try await radicale.cardNames()
                #expect(names.isEmpty)
            }
        }
    }
}

@Suite struct FailureTests {
    @Test func aStoppedServerIsUnavailableAndAReadBookStillAnswers() async throws {
        try await Radicale.withServer { radicale in
            try await radicale.putCard("ada.vcf", Cards.ada)
            try await withEngine(radicale.configuration()) { readBefore in
                #expect(ids(try await readBefore.listContacts(.init())) == [Cards.adaID])
                radicale.kill()

                #expect(ids(try await readBefore.listContacts(.init())) == [Cards.adaID])
                #expect(readBefore.status.health == .degraded)
                #expect(readBefore.status.message.contains("127.0.0.1:\(radicale.port)"))

                try await withEngine(radicale.configuration()) { neverRead in
                    await expectEngineError(.unavailable, containing: "127.0.0.1:\(radicale.port)") {
                        _ = try await neverRead.listContacts(.init())
                    }
                }
            }
        }
    }

    @Test func aWrongPasswordIsAnAuthenticationFailure() async throws {
        try await Radicale.withServer { radicale in
            try await withEngine(radicale.configuration(password: "not the password")) { engine in
                await expectEngineError(.unavailable, containing: "authentication failed") {
                    _ = try await engine.listContacts(.init())
                }
                #expect(engine.status.health == .degraded)
            }
        }
    }

    @Test func overHTTPSTheServerIsTrustedByTheConfiguredCertificateOnly() async throws {
        try await Radicale.withServer(tls: true) { radicale in
            #expect(radicale.root.scheme == "https")
            try await radicale.putCard("ada.vcf", Cards.ada)
            var trusting = radicale.configuration()
            trusting.caCertificate = radicale.certificate
            let ids = try await withEngine(trusting) { engine in try await engine.listContacts(.init()).map(\.id) }
            #expect(ids == [Cards.adaID])
            try await withEngine(radicale.configuration()) { engine in
                await expectEngineError(.unavailable, containing: "127.0.0.1:\(radicale.port)") { _ = try await engine.listContacts(.init()) }
            }
        }
        await expectEngineError(.invalidInput, containing: "caCertificate: cannot read /nonexistent.pem") {
            _ = try makeEngine(CardDAVEngine.Configuration(url: "https://127.0.0.1/", caCertificate: "/nonexistent.pem"))
        }
    }

    @Test func aServerThatDoesNotAnswerIsATimeout() async throws {
        let hung = try Listener()
        defer { hung.close() }
        let configuration = CardDAVEngine.Configuration(url: "http://127.0.0.1:\(hung.port)/", timeoutSeconds: 0.5)
        try await withEngine(configuration) { engine in
            await expectEngineError(.timeout, containing: "127.0.0.1:\(hung.port)") { _ = try await engine.listContacts(.init()) }
        }
    }

    @Test(arguments: [
        "{}", #"{"url": 5}"#, #"{"url": "not a url"}"#, #"{"url": "ftp://example.org/"}"#, #"{"url": "http:///dav/"}"#,
        #"{"url": "https://example.org/", "addressBook": "contacts"}"#,
        #"{"url": "https://example.org/", "timeoutSeconds": 0}"#, #"{"url": "https://example.org/", "refreshSeconds": -1}"#,
        #"{"url": "https://example.org/", "refreshSeconds": 1e300}"#,
    ])
    func aBadConfigurationIsRefused(json: String) async {
        await expectEngineError(.invalidInput, containing: "invalid configuration") {
            let engine = try CardDAVEngine(configuration: EngineConfiguration(json: Data(json.utf8)), host: EngineHost(services: nil))
            engine.shutdown()
        }
    }

    @Test func theEngineDeclaresWhatItServes() {
        #expect(CardDAVEngine.name == "carddav")
        #expect(CardDAVEngine.version == "1.0.0")
        #expect(CardDAVEngine.features == [.contactsList, .contactsGet, .contactsUpsert, .contactsProfilePicture])
    }
}
