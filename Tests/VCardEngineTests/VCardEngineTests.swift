@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Testing
@testable import VCardEngineCore

private func ids(_ contacts: [Contact]) -> [String] { contacts.map(\.id) }

private func onePerson(_ name: String, _ phone: String) -> String {
    card("BEGIN:VCARD", "VERSION:3.0", "FN:\(name)", "TEL;TYPE=cell:\(phone)", "END:VCARD")
}

@Suite struct DescriptionTests {
    @Test func declaresOnlyWhatItServes() {
        #expect(VCardEngine.name == "vcard")
        #expect(VCardEngine.version == "1.0.0")
        #expect(VCardEngine.features == [.contactsList, .contactsGet, .contactsProfilePicture])
    }
}

@Suite struct ServingTests {
    /// Every fixture: 11 cards, 3 of them malformed, 8 contacts.
    private func fixtureEngine(_ sandbox: Sandbox) throws -> VCardEngine {
        try sandbox.copy()
        return try sandbox.engine()
    }

    @Test func listsTheCardsOfEveryFile() async throws {
        let sandbox = try Sandbox()
        let engine = try fixtureEngine(sandbox)
        #expect(ids(try await engine.listContacts(.init())) == [
            "09012345678@c.us", "14186569254@c.us", "15550100199@c.us", "15555550102@c.us",
            "16505550142@c.us", "34612345678@c.us", "447700900123@c.us", "4915123456789@c.us",
        ])
        #expect(try await engine.listContacts(.init(sortBy: .name)).map(\.name) == [
            "Ada Lovelace", "Bob's Bikes", "Johnny Appleseed", "Jürgen Müller",
            "Maria Garcia", "Simon Perreault", "Smith, Robert Jr.", "山田 太郎 （仕事）",
        ])
    }

    @Test func sortsAndPaginates() async throws {
        let sandbox = try Sandbox()
        let engine = try fixtureEngine(sandbox)
        #expect(ids(try await engine.listContacts(.init(limit: 2, offset: 1))) == ["14186569254@c.us", "15550100199@c.us"])
        #expect(ids(try await engine.listContacts(.init(limit: 2, sortOrder: .desc))) == ["4915123456789@c.us", "447700900123@c.us"])
        #expect(try await engine.listContacts(.init(limit: 3, offset: 6, sortBy: .name, sortOrder: .desc)).map(\.name) == [
            "Bob's Bikes", "Ada Lovelace",
        ])
        #expect(try await engine.listContacts(.init(offset: 7, sortBy: .name)).map(\.name) == ["山田 太郎 （仕事）"])
        #expect(try await engine.listContacts(.init(limit: 0)).isEmpty)
        #expect(try await engine.listContacts(.init(offset: 8)).isEmpty)

        let negative = await #expect(throws: EngineError.self) { try await engine.listContacts(.init(offset: -1)) }
        #expect(negative?.kind == .invalidInput)
        let negativeLimit = await #expect(throws: EngineError.self) { try await engine.listContacts(.init(limit: -1)) }
        #expect(negativeLimit?.kind == .invalidInput)
    }

    @Test func getsOneContact() async throws {
        let sandbox = try Sandbox()
        let engine = try fixtureEngine(sandbox)
        let expected = Contact(id: "4915123456789@c.us", number: "4915123456789", name: "Jürgen Müller", isMyContact: true)
        #expect(try await engine.contact(.init(contactId: "4915123456789@c.us")) == expected)
        #expect(try await engine.contact(.init(contactId: "4915123456789")) == expected)

        let absent = await #expect(throws: EngineError.self) { try await engine.contact(.init(contactId: "15550000000@c.us")) }
        #expect(absent?.kind == .notFound)
        let invalid = await #expect(throws: EngineError.self) { try await engine.contact(.init(contactId: "not-an-id")) }
        #expect(invalid?.kind == .invalidInput)
    }

    @Test func answersProfilePictures() async throws {
        let sandbox = try Sandbox()
        let engine = try fixtureEngine(sandbox)
        #expect(try await engine.profilePicture(.init(contactId: "447700900123@c.us")).profilePictureURL == fixtureJPEGURL)
        #expect(try await engine.profilePicture(.init(contactId: "15555550102@c.us", refresh: true)).profilePictureURL == "https://example.com/photos/ada.jpg")
        #expect(try await engine.profilePicture(.init(contactId: "15550100199@c.us")).profilePictureURL == nil)

        let absent = await #expect(throws: EngineError.self) { try await engine.profilePicture(.init(contactId: "15550000000@c.us")) }
        #expect(absent?.kind == .notFound)
    }

    @Test func answersThroughTheABIEntryPoint() async throws {
        let sandbox = try Sandbox()
        let engine = try fixtureEngine(sandbox)
        let body = try await engine.perform(.contactsProfilePicture, request: Array(#"{"contactId": "16505550142@c.us", "refresh": false}"#.utf8))
        #expect(String(decoding: body, as: UTF8.self) == #"{"profilePictureURL":null}"#)
    }

    @Test func countsAndLogsSkippedCards() async throws {
        let sandbox = try Sandbox()
        let engine = try fixtureEngine(sandbox)
        _ = try await engine.listContacts(.init())
        let status = engine.status
        #expect(status.health == .ok)
        #expect(status.message.contains(sandbox.directory.path))
        #expect(status.counters == ["cards": 11, "contacts": 8, "skipped": 3, "files": 4])
        #expect(sandbox.host.lines.sorted() == [
            "skipped card 3 of android-2.1.vcf (line 24): no name in FN or N",
            "skipped card 3 of google-contacts.vcf (line 21): no TEL",
            #"skipped card 3 of vcard-4.0.vcf (line 18): no usable TEL: "tel:+1-555-FLOWERS""#,
        ])
    }

    @Test func keepsTheFirstCardOfADuplicatedNumber() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("b.vcf", onePerson("Second", "+1 555 0100"))
        try sandbox.write("a.vcf", onePerson("First", "+1 555 0100") + onePerson("Other", "+1 555 0101"))
        let engine = try sandbox.engine()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["First", "Other"])
        #expect(engine.status.counters == ["cards": 3, "contacts": 2, "skipped": 0, "files": 2])
        #expect(sandbox.host.lines == ["card 1 of b.vcf is 15550100@c.us again, as card 1 of a.vcf: kept the first"])
    }

    @Test func readsOnlyTheFolderOwnVCardFiles() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("upper.VCF", onePerson("Upper", "1"))
        try sandbox.write("notes.txt", onePerson("Text", "2"))
        try sandbox.write("._upper.vcf", onePerson("Hidden", "3"))
        let nested = sandbox.directory.appendingPathComponent("nested")
        try FileManager.default.createDirectory(at: nested.appendingPathComponent("folder.vcf"), withIntermediateDirectories: true)
        try Data(onePerson("Nested", "4").utf8).write(to: nested.appendingPathComponent("inner.vcf"))
        try FileManager.default.createSymbolicLink(
            at: sandbox.directory.appendingPathComponent("linked.vcf"), withDestinationURL: nested.appendingPathComponent("inner.vcf")
        )
        let engine = try sandbox.engine()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["Upper", "Nested"])
        #expect(engine.status.counters["files"] == 2)
    }

    @Test func servesAnEmptyFolder() async throws {
        let sandbox = try Sandbox()
        let engine = try sandbox.engine()
        #expect(try await engine.listContacts(.init()).isEmpty)
        #expect(engine.status.health == .ok)
        #expect(engine.status.counters == Catalog.emptyCounters)
    }
}

@Suite struct FolderChangeTests {
    @Test func seesFilesAddedChangedAndRemoved() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("one.vcf", onePerson("One", "+1 555 0001"))
        let engine = try sandbox.engine()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["One"])

        try sandbox.write("two.vcf", onePerson("Two", "+1 555 0002"))
        try await waitForRescan()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["One", "Two"])
        #expect(engine.status.counters["files"] == 2)

        try sandbox.write("one.vcf", onePerson("One Renamed", "+1 555 0001") + onePerson("Three", "+1 555 0003"))
        try await waitForRescan()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["One Renamed", "Two", "Three"])
        #expect(try await engine.contact(.init(contactId: "15550003@c.us")).name == "Three")

        try sandbox.remove("two.vcf")
        try await waitForRescan()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["One Renamed", "Three"])
        let gone = await #expect(throws: EngineError.self) { try await engine.profilePicture(.init(contactId: "15550002@c.us")) }
        #expect(gone?.kind == .notFound)
        #expect(engine.status.counters == ["cards": 2, "contacts": 2, "skipped": 0, "files": 1])
    }

    @Test func looksAtTheFolderNoMoreOftenThanConfigured() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("one.vcf", onePerson("One", "+1 555 0001"))
        let engine = try VCardEngine(
            configuration: configuration(["directory": sandbox.directory.path, "rescanSeconds": 3600]), host: sandbox.host.engineHost)
        #expect(try await engine.listContacts(.init()).count == 1)
        try sandbox.write("two.vcf", onePerson("Two", "+1 555 0002"))
        try await waitForRescan()
        #expect(try await engine.listContacts(.init()).count == 1, "an hour has not passed")
        #expect(throws: EngineError.self) {
            try VCardEngine(configuration: configuration(["directory": sandbox.directory.path, "rescanSeconds": -1]), host: sandbox.host.engineHost)
        }
    }

    @Test func logsASkippedCardOncePerVersionOfItsFile() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("broken.vcf", card("BEGIN:VCARD", "FN:No Number", "END:VCARD"))
        let engine = try sandbox.engine()
        _ = try await engine.listContacts(.init())
        try sandbox.write("other.vcf", onePerson("Other", "1"))
        try await waitForRescan()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["Other"])
        #expect(sandbox.host.lines == ["skipped card 1 of broken.vcf (line 1): no TEL"])
        #expect(engine.status.counters == ["cards": 2, "contacts": 1, "skipped": 1, "files": 2])
    }

    @Test func keepsServingWhenTheFolderGoesAway() async throws {
        let sandbox = try Sandbox()
        try sandbox.write("one.vcf", onePerson("One", "+1 555 0001"))
        let engine = try sandbox.engine()
        #expect(try await engine.listContacts(.init()).count == 1)

        try FileManager.default.removeItem(at: sandbox.directory)
        try await waitForRescan()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["One"])
        #expect(engine.status.health == .degraded)
        #expect(engine.status.message.contains("cannot list \(sandbox.directory.path)"))
        #expect(sandbox.host.lines.count == 1)

        try FileManager.default.createDirectory(at: sandbox.directory, withIntermediateDirectories: true)
        try await waitForRescan()
        #expect(try await engine.listContacts(.init()).isEmpty)
        #expect(engine.status.health == .ok)
    }
}

@Suite struct ConfigurationTests {
    @Test func refusesABadConfiguration() throws {
        let sandbox = try Sandbox()
        try sandbox.write("file.vcf", "")
        let cases: [(configuration: EngineConfiguration, message: String)] = [
            (EngineConfiguration(json: Data()), "invalid configuration: missing key 'directory'"),
            (try configuration(["directory": 5]), "invalid configuration: directory: expected String"),
            (try configuration(["directory": ""]), "invalid configuration: directory: empty path"),
            (try configuration(["directory": "/nonexistent/contacts"]), "invalid configuration: directory: /nonexistent/contacts is not a directory"),
            (
                try configuration(["directory": sandbox.directory.appendingPathComponent("file.vcf").path]),
                "invalid configuration: directory: \(sandbox.directory.appendingPathComponent("file.vcf").path) is not a directory"
            ),
        ]
        for (configuration, message) in cases {
            let error = #expect(throws: EngineError.self) { try VCardEngine(configuration: configuration, host: EngineHost(services: nil)) }
            #expect(error?.kind == .invalidInput)
            #expect(error?.message == message)
        }
    }
}
