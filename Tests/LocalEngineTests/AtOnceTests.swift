import ContactsEngineKit
import Foundation
import LocalEngineCore
import Testing

/// `local` answers its reads at once (`SynchronousContactsEngine`) from the snapshot, the same
/// answers its asynchronous methods give, and hands a read to them when the store is due for
/// its version check.
@Suite struct AtOnceTests {
    /// The answer of a synchronous method just after an asynchronous read checked the store's
    /// version, so that it is not due: a machine slow enough to spend a second between the two
    /// gets another try.
    private func atOnce<T>(_ engine: LocalEngine, _ read: () throws -> T?) async throws -> T? {
        for _ in 0..<5 {
            _ = try await engine.countLids()
            if let answer = try read() { return answer }
        }
        return nil
    }

    @Test func readsAreAnsweredAtOnceAsTheAsynchronousMethodsAnswer() async throws {
        let sandbox = try await Sandbox(.sqlite)
        try await sandbox.seed(LocalSeed(
            contacts: [.init(id: "111", name: "Friend"), .init(id: "112", name: "Another")], accounts: ["222", "551199998888"],
            lids: [.init(lid: "100", pn: "5511900000001"), .init(lid: "200", pn: "5511900000002")]))
        let engine = try sandbox.engine()
        let page = ContactsPageRequest(limit: 1, offset: 1, sortBy: .name, sortOrder: .desc)
        #expect(try await atOnce(engine) { try engine.countLidsAtOnce() } == 2)
        #expect(try await atOnce(engine) { try engine.listContactsAtOnce(page) } == (try await engine.listContacts(page)))
        #expect(try await atOnce(engine) { try engine.contactAtOnce(.init(contactId: "111@c.us")) } == (try await engine.contact(.init(contactId: "111@c.us"))))
        #expect(try await atOnce(engine) { try engine.contactAtOnce(.init(contactId: "222@c.us")) } == Contact(id: "222@c.us", isWAContact: true))
        #expect(try await atOnce(engine) { try engine.checkExistsAtOnce(.init(phone: "5511999998888")) }
            == (try await engine.checkExists(.init(phone: "5511999998888"))))
        #expect(try await atOnce(engine) { try engine.aboutAtOnce(.init(contactId: "111@c.us")) } == (try await engine.about(.init(contactId: "111@c.us"))))
        #expect(try await atOnce(engine) { try engine.profilePictureAtOnce(.init(contactId: "111@c.us")) }
            == (try await engine.profilePicture(.init(contactId: "111@c.us"))))
        #expect(try await atOnce(engine) { try engine.listLidsAtOnce(.init(limit: 1, offset: 1)) } == [LidMapping(lid: "200@lid", pn: "5511900000002@c.us")])
        #expect(try await atOnce(engine) { try engine.phoneNumberAtOnce(forLid: .init(lid: "100@lid")) } == LidMapping(lid: "100@lid", pn: "5511900000001@c.us"))
        #expect(try await atOnce(engine) { try engine.lidAtOnce(forPhoneNumber: .init(pn: "5511900000002@c.us")) }
            == LidMapping(lid: "200@lid", pn: "5511900000002@c.us"))
        // A write is seen by the next read at once.
        try await engine.upsertContact(.init(chatId: "333@c.us", firstName: "New"))
        #expect(try await atOnce(engine) { try engine.contactAtOnce(.init(contactId: "333@c.us")) }?.name == "New")
        // Invalid input fails at once, as the asynchronous methods fail.
        #expect(throws: EngineError.self) { try engine.contactAtOnce(.init(contactId: "not an id")) }
        #expect(throws: EngineError.self) { try engine.listLidsAtOnce(.init(limit: -1)) }
        #expect(throws: EngineError.self) { try engine.checkExistsAtOnce(.init(phone: "12")) }
    }

    @Test func aReadDueForTheVersionCheckIsLeftToTheAsynchronousMethod() async throws {
        let sandbox = try await Sandbox(.sqlite)
        try await sandbox.seed(LocalSeed(contacts: [.init(id: "111", name: "Friend")]))
        let engine = try sandbox.engine()
        #expect(try await atOnce(engine) { try engine.contactAtOnce(.init(contactId: "111@c.us")) }?.name == "Friend")
        // Someone else changes the database; a second later the version is due for its check.
        let other = try sandbox.engine()
        try await other.upsertContact(.init(chatId: "111@c.us", firstName: "Renamed"))
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try engine.contactAtOnce(.init(contactId: "111@c.us")) == nil)
        #expect(try await engine.contact(.init(contactId: "111@c.us")).name == "Renamed")
        #expect(try await atOnce(engine) { try engine.contactAtOnce(.init(contactId: "111@c.us")) }?.name == "Renamed")
    }
}
