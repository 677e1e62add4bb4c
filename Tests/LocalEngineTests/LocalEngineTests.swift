import ContactsEngineKit
import Foundation
import LocalEngineCore
import SwitchboardTestSupport
import Testing

/// Where a sandbox's engine keeps its address book: every engine test runs on both.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A directory of its own per test, removed when the test ends, and on PostgreSQL a fresh
/// database on the test process's one cluster.
final class Sandbox {
    let directory: URL
    let backend: Backend
    /// The PostgreSQL database's URL, on that backend.
    let postgres: String?

    init(_ backend: Backend = .sqlite) async throws {
        self.backend = backend
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("local-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        postgres = backend == .postgres ? try await PostgresServer.shared().createDatabase() : nil
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    var database: String { directory.appendingPathComponent("contacts.sqlite").path }

    /// The engine's configuration for this sandbox's database.
    var configuration: String {
        postgres.map { #"{"postgres": "\#($0)"}"# } ?? #"{"database": "\#(database)"}"#
    }

    func engine() throws -> LocalEngine {
        try LocalEngine(configuration: EngineConfiguration(json: Data(configuration.utf8)), host: EngineHost(services: nil))
    }

    @discardableResult
    func seed(_ seed: LocalSeed) async throws -> ImportSummary {
        if let postgres { return try await LocalSeedImporter.importSeed(seed, intoPostgres: postgres) }
        return try LocalSeedImporter.importSeed(seed, intoDatabaseAt: database)
    }
}

private func ids(_ contacts: [Contact]) -> [String] { contacts.map(\.id) }

@Suite struct ContactsTests {
    /// Six contacts whose name order differs from their id order, with a tie and two without names.
    private func sortingEngine(_ sandbox: Sandbox) async throws -> LocalEngine {
        try await sandbox.seed(LocalSeed(contacts: [
            .init(id: "1", name: "Carol"), .init(id: "2"), .init(id: "3", name: "Alice"),
            .init(id: "4", name: "Bob"), .init(id: "5", name: "Alice"), .init(id: "6"),
        ]))
        return try sandbox.engine()
    }

    @Test(arguments: Backend.allCases) func sortsByIdAndByNameBothWays(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        let engine = try await sortingEngine(sandbox)
        #expect(ids(try await engine.listContacts(.init())) == ["1@c.us", "2@c.us", "3@c.us", "4@c.us", "5@c.us", "6@c.us"])
        #expect(ids(try await engine.listContacts(.init(sortBy: .id, sortOrder: .desc))) == ["6@c.us", "5@c.us", "4@c.us", "3@c.us", "2@c.us", "1@c.us"])
        #expect(ids(try await engine.listContacts(.init(sortBy: .name))) == ["3@c.us", "5@c.us", "4@c.us", "1@c.us", "2@c.us", "6@c.us"])
        #expect(ids(try await engine.listContacts(.init(sortBy: .name, sortOrder: .desc))) == ["6@c.us", "2@c.us", "1@c.us", "4@c.us", "5@c.us", "3@c.us"])
    }

    @Test(arguments: Backend.allCases) func paginates(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        let engine = try await sortingEngine(sandbox)
        #expect(ids(try await engine.listContacts(.init(limit: 2, offset: 1, sortBy: .name))) == ["5@c.us", "4@c.us"])
        #expect(ids(try await engine.listContacts(.init(limit: 5, offset: 4, sortBy: .name, sortOrder: .desc))) == ["5@c.us", "3@c.us"])
        #expect(ids(try await engine.listContacts(.init(offset: 4))) == ["5@c.us", "6@c.us"])
        #expect(try await engine.listContacts(.init(limit: 0)).isEmpty)
        #expect(try await engine.listContacts(.init(offset: 6)).isEmpty)
        #expect(try await engine.listContacts(.init(offset: 100, sortOrder: .desc)).isEmpty)
        let first = try #require(try await engine.listContacts(.init(limit: 1, sortBy: .name)).first)
        #expect(first == Contact(id: "3@c.us", name: "Alice", isWAContact: true, isMyContact: true))

        for request in [ContactsPageRequest(offset: -1), ContactsPageRequest(limit: -1)] {
            let error = await #expect(throws: EngineError.self) { try await engine.listContacts(request) }
            #expect(error?.kind == .invalidInput)
        }
    }

    @Test(arguments: Backend.allCases) func importsTenThousandAndServesADeepPage(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        // Ids 100000…109999; names run the other way; every thousandth contact has no name.
        let contacts = (0..<10_000).map { i in
            LocalSeed.Contact(id: String(100_000 + i), name: i % 1000 == 0 ? nil : "Contact \(19_999 - i)")
        }
        let summary = try await sandbox.seed(LocalSeed(contacts: contacts))
        #expect(summary.contacts == 10_000 && summary.accounts == 0 && summary.lids == 0)
        let engine = try sandbox.engine()
        // The status counts what the first call loaded (PostgreSQL loads no sooner).
        #expect(try await engine.countLids() == 0)
        #expect(engine.status.counters["contacts"] == 10_000)

        #expect(ids(try await engine.listContacts(.init(limit: 10, offset: 9_998))) == ["109998@c.us", "109999@c.us"])
        #expect(ids(try await engine.listContacts(.init(limit: 10, offset: 9_998, sortOrder: .desc))) == ["100001@c.us", "100000@c.us"])
        // Named contacts end at position 9,989 with the smallest ids; the unnamed follow, by id.
        #expect(ids(try await engine.listContacts(.init(limit: 7, offset: 9_987, sortBy: .name))) == [
            "100003@c.us", "100002@c.us", "100001@c.us", "100000@c.us", "101000@c.us", "102000@c.us", "103000@c.us",
        ])
        #expect(ids(try await engine.listContacts(.init(limit: 2, offset: 9, sortBy: .name, sortOrder: .desc))) == ["100000@c.us", "100001@c.us"])
        #expect(try await engine.listContacts(.init(offset: 9_995, sortBy: .name)).count == 5)
    }

    @Test(arguments: Backend.allCases) func upsertPersistsAndKeepsWhatItDoesNotSet(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        try await sandbox.seed(LocalSeed(contacts: [
            .init(id: "5511911112222", name: "Old", pushname: "Push", about: "Busy", profilePictureURL: "https://example.com/p.jpg", isBlocked: true),
        ]))
        let engine = try sandbox.engine()
        try await engine.upsertContact(.init(chatId: "5511911112222@c.us", firstName: " Ada ", lastName: "Lovelace"))
        try await engine.upsertContact(.init(chatId: "447700900123@c.us", lastName: "Turing"))

        let reopened = try sandbox.engine()
        #expect(try await reopened.contact(.init(contactId: "5511911112222@c.us")) == Contact(
            id: "5511911112222@c.us", name: "Ada Lovelace", pushname: "Push", shortName: "Ada",
            isWAContact: true, isMyContact: true, isBlocked: true
        ))
        #expect(try await reopened.about(.init(contactId: "5511911112222@c.us")).about == "Busy")
        #expect(try await reopened.profilePicture(.init(contactId: "5511911112222@c.us")).profilePictureURL == "https://example.com/p.jpg")
        // A new entry for a number without an account is not a WhatsApp contact.
        #expect(try await reopened.contact(.init(contactId: "447700900123@c.us")) == Contact(
            id: "447700900123@c.us", name: "Turing", isWAContact: false, isMyContact: true
        ))
        #expect(ids(try await reopened.listContacts(.init(sortBy: .name))) == ["5511911112222@c.us", "447700900123@c.us"])

        let error = await #expect(throws: EngineError.self) { try await engine.upsertContact(.init(chatId: "1@c.us", firstName: "  ")) }
        #expect(error?.kind == .invalidInput)
    }

    @Test(arguments: Backend.allCases) func renameMovesTheContactInNameOrder(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        let engine = try await sortingEngine(sandbox)
        try await engine.upsertContact(.init(chatId: "1@c.us", firstName: "Aaron"))
        try await engine.upsertContact(.init(chatId: "7@c.us", firstName: "Zed"))
        #expect(ids(try await engine.listContacts(.init(sortBy: .name))) == ["1@c.us", "3@c.us", "5@c.us", "4@c.us", "7@c.us", "2@c.us", "6@c.us"])
        #expect(ids(try await engine.listContacts(.init(limit: 1, offset: 6))) == ["7@c.us"])
    }

    @Test(arguments: Backend.allCases) func contactOutsideTheAddressBook(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        try await sandbox.seed(LocalSeed(accounts: ["14155550100"]))
        let engine = try sandbox.engine()
        #expect(try await engine.contact(.init(contactId: "14155550100@c.us")) == Contact(id: "14155550100@c.us", isWAContact: true, isMyContact: false))
        #expect(try await engine.contact(.init(contactId: "14155550199@c.us")) == Contact(id: "14155550199@c.us", isWAContact: false, isMyContact: false))
        #expect(try await engine.about(.init(contactId: "14155550100@c.us")).about == nil)
        #expect(try await engine.profilePicture(.init(contactId: "14155550100@c.us", refresh: true)).profilePictureURL == nil)
        let error = await #expect(throws: EngineError.self) { try await engine.contact(.init(contactId: "not an id")) }
        #expect(error?.kind == .invalidInput)
    }

    @Test(arguments: Backend.allCases) func blockAndUnblock(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        try await sandbox.seed(LocalSeed(contacts: [.init(id: "111", name: "Friend")], accounts: ["222"]))
        let engine = try sandbox.engine()

        try await engine.block(.init(contactId: "222@c.us"))
        try await engine.block(.init(contactId: "111@c.us"))
        #expect(try await engine.contact(.init(contactId: "222@c.us")) == Contact(id: "222@c.us", isWAContact: true, isMyContact: false, isBlocked: true))
        #expect(try await engine.contact(.init(contactId: "111@c.us")) == Contact(id: "111@c.us", name: "Friend", isMyContact: true, isBlocked: true))
        #expect(try await sandbox.engine().contact(.init(contactId: "222@c.us")).isBlocked)

        try await engine.unblock(.init(contactId: "111@c.us"))
        try await engine.unblock(.init(contactId: "333@c.us"))
        let reopened = try sandbox.engine()
        #expect(try await reopened.contact(.init(contactId: "111@c.us")).isBlocked == false)
        #expect(try await reopened.contact(.init(contactId: "222@c.us")).isBlocked)
        #expect(ids(try await reopened.listContacts(.init())) == ["111@c.us", "222@c.us"])
    }
}

/// The snapshot keeps its entries in one array in id order, with the name order as positions
/// into it: every page, however the writes since the load moved it, is the one the SDK's
/// `ContactIndex` answers for the same contacts.
@Suite struct SnapshotOrderTests {
    /// Names whose code point order is not Swift's `String` order (canonically equivalent forms,
    /// case, an emoji), repeated names, the empty name and none.
    private static let names: [String?] = [nil, "", "Ana", "ana", "Zoë", "É", "E\u{301}", "Bob", "Ana", "😀", "Bob "]

    @Test(arguments: Backend.allCases) func everyPageIsContactIndexsAfterWrites(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        // Forty even ids from 1000 to 1158, seeded out of order.
        try await sandbox.seed(LocalSeed(contacts: (0..<40).map { i in
            LocalSeed.Contact(id: String(1000 + (i * 37) % 80 * 2), name: Self.names[i % Self.names.count])
        }))
        let engine = try sandbox.engine()
        // New ids first ("0"), between others (odd ones) and last ("999"); renames, to the same
        // name too; blocks that add unnamed entries and that leave a name as it is.
        let upserts = [("999", "Zed"), ("1001", "Ana"), ("1081", "E\u{301}"), ("0", "Ana"), ("1000", "Émile"), ("1002", "Ana"), ("1001", "Bob"), ("1004", "Ana")]
        for (id, name) in upserts {
            try await engine.upsertContact(.init(chatId: id + "@c.us", firstName: name))
        }
        for id in ["1003", "1157", "1006"] {
            try await engine.block(.init(contactId: id + "@c.us"))
        }

        let contacts = try await engine.listContacts(.init())
        #expect(contacts.count == 40 + 4 + 2)
        let index = ContactIndex(contacts)
        for id in index.entries.keys {
            #expect(try await engine.contact(.init(contactId: id)) == index[id])
        }
        for sortBy in [ContactSortKey.id, .name] {
            for sortOrder in [SortOrder.asc, .desc] {
                for (offset, limit) in [(0, nil), (0, 1), (3, 10), (40, 10), (46, nil), (47, 5), (100, nil), (5, 0)] as [(Int, Int?)] {
                    let request = ContactsPageRequest(limit: limit, offset: offset, sortBy: sortBy, sortOrder: sortOrder)
                    let expected = try index.page(request)
                    // By id too: `Contact`'s `==` takes "É" and "E\u{301}" for one name.
                    let page = try await engine.listContacts(request)
                    #expect(ids(page) == ids(expected) && page == expected, "\(request)")
                    var streamed: [Contact] = []
                    try await engine.listContacts(request, inPiecesOf: 4) { piece in
                        streamed += piece
                        return true
                    }
                    #expect(ids(streamed) == ids(expected) && streamed == expected, "\(request) in pieces")
                }
            }
        }
    }
}

@Suite struct ConnectionTests {
    /// What this process holds open under `directory`, once the connection the last call used
    /// has closed: it closes behind the answer, so this waits for it (up to 10 seconds).
    private func openFiles(under directory: URL) async throws -> [String] {
        let root = directory.resolvingSymlinksInPath().path
        func open() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
                .compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
                .filter { $0.hasPrefix(root) }
        }
        for _ in 0..<1_000 where try !open().isEmpty {
            try await Task.sleep(for: .milliseconds(10))
        }
        return try open()
    }

    /// A server runs a thousand sessions: an open SQLite connection is most of an idle one's memory.
    @Test func theDatabaseIsOpenOnlyWhileItIsUsed() async throws {
        let sandbox = try await Sandbox()
        try await sandbox.seed(LocalSeed(contacts: [.init(id: "1", name: "Seeded")]))
        let engine = try sandbox.engine()
        #expect(try await openFiles(under: sandbox.directory).isEmpty)
        try await engine.upsertContact(.init(chatId: "2@c.us", firstName: "Written"))
        #expect(try await openFiles(under: sandbox.directory).isEmpty)
        // The version check a second later opens it too, and closes it.
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(ids(try await engine.listContacts(.init())) == ["1@c.us", "2@c.us"])
        #expect(try await openFiles(under: sandbox.directory).isEmpty)
    }

    /// Concurrent writes share one connection while any of them runs; each is in the snapshot
    /// and in the database when it answers.
    @Test func concurrentWritesAllLand() async throws {
        let sandbox = try await Sandbox()
        let engine = try sandbox.engine()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask { try await engine.upsertContact(.init(chatId: "\(100 + i)@c.us", firstName: "Name \(i)")) }
            }
            try await group.waitForAll()
        }
        #expect(try await engine.listContacts(.init()).count == 50)
        #expect(engine.status.counters["contacts"] == 50)
        #expect(try await sandbox.engine().listContacts(.init(sortBy: .name)).map(\.name) == (0..<50).map { "Name \($0)" }.sorted(by: CodePointOrder.precedes))
        #expect(try await openFiles(under: sandbox.directory).isEmpty)
    }

    /// A database an earlier engine left (the first schema only) gains the version row and its
    /// triggers, and a write from outside Switchboard (the sqlite3 shell) is then seen.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")))
    func seesAWriteFromOutsideSwitchboardOnAnUpgradedDatabase() async throws {
        let sandbox = try await Sandbox()
        try sqlite(sandbox.database, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT INTO grdb_migrations VALUES ('v1');
            CREATE TABLE contact (
                id TEXT PRIMARY KEY NOT NULL, name TEXT, pushname TEXT, shortName TEXT, firstName TEXT, lastName TEXT,
                about TEXT, profilePictureURL TEXT, isBlocked BOOLEAN NOT NULL DEFAULT 0, isMe BOOLEAN NOT NULL DEFAULT 0,
                isMyContact BOOLEAN NOT NULL DEFAULT 0, isWAContact BOOLEAN NOT NULL DEFAULT 1
            ) WITHOUT ROWID;
            CREATE TABLE account (number TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
            CREATE TABLE lid (lid TEXT PRIMARY KEY NOT NULL, pn TEXT NOT NULL UNIQUE) WITHOUT ROWID;
            INSERT INTO contact (id, name) VALUES ('1@c.us', 'Before');
            """)
        let engine = try sandbox.engine()
        #expect(try await engine.listContacts(.init()).map(\.name) == ["Before"])

        try sqlite(sandbox.database, """
            UPDATE contact SET name = 'Renamed' WHERE id = '1@c.us';
            INSERT INTO lid (lid, pn) VALUES ('7@lid', '7@c.us');
            """)
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try await engine.listContacts(.init()).map(\.name) == ["Renamed"])
        #expect(try await engine.countLids() == 1)
        // The engine's own write after the reload advances the version without another.
        try await engine.upsertContact(.init(chatId: "2@c.us", firstName: "Mine"))
        #expect(try await engine.listContacts(.init()).map(\.name) == ["Renamed", "Mine"])
    }

    private func sqlite(_ database: String, _ sql: String) throws {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        // Waits for the lock, as `switchboard import` does: the engine's connection may be closing
        // (which checkpoints the WAL) when the shell writes.
        shell.arguments = ["-cmd", ".timeout 10000", database, sql]
        try shell.run()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
    }
}

@Suite struct CheckExistsTests {
    private func engine(_ sandbox: Sandbox) async throws -> LocalEngine {
        try await sandbox.seed(LocalSeed(
            contacts: [.init(id: "4915112345678", isWAContact: true), .init(id: "4915199999999", isWAContact: false)],
            accounts: [
                "551187654321",  // São Paulo, registered before the extra 9
                "5521998765432",  // Rio, registered with it
                "541187654321",  // Argentina: 12 digits, the same shape
                "5411987654321",  // Argentina: 13 digits, the same shape
            ]
        ))
        return try sandbox.engine()
    }

    @Test(arguments: Backend.allCases) func brazilianNumbersMatchWithAndWithoutTheNine(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        let engine = try await engine(sandbox)
        #expect(try await engine.checkExists(.init(phone: "5511987654321")) == CheckExistsResult(numberExists: true, chatId: "551187654321@c.us"))
        #expect(try await engine.checkExists(.init(phone: "552198765432")) == CheckExistsResult(numberExists: true, chatId: "5521998765432@c.us"))
        #expect(try await engine.checkExists(.init(phone: "551187654321")) == CheckExistsResult(numberExists: true, chatId: "551187654321@c.us"))
        #expect(try await engine.checkExists(.init(phone: "5521998765432")) == CheckExistsResult(numberExists: true, chatId: "5521998765432@c.us"))
        // A 13-digit number whose third part does not start with 9 has no old form.
        #expect(try await engine.checkExists(.init(phone: "5511887654321")) == CheckExistsResult(numberExists: false))
    }

    @Test(arguments: Backend.allCases) func otherCountriesMatchExactly(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        let engine = try await engine(sandbox)
        // Argentina's 54 11 has Brazil's shape: both forms are registered, each matches only itself.
        #expect(try await engine.checkExists(.init(phone: "5411987654321")) == CheckExistsResult(numberExists: true, chatId: "5411987654321@c.us"))
        #expect(try await engine.checkExists(.init(phone: "541187654321")) == CheckExistsResult(numberExists: true, chatId: "541187654321@c.us"))

        let old = try await Sandbox(backend)
        try await old.seed(LocalSeed(accounts: ["541187654321"]))
        #expect(try await old.engine().checkExists(.init(phone: "5411987654321")) == CheckExistsResult(numberExists: false))
        let new = try await Sandbox(backend)
        try await new.seed(LocalSeed(accounts: ["5411987654321"]))
        #expect(try await new.engine().checkExists(.init(phone: "541187654321")) == CheckExistsResult(numberExists: false))
    }

    @Test(arguments: Backend.allCases) func addressBookContactsCountAsRegistered(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        let engine = try await engine(sandbox)
        #expect(try await engine.checkExists(.init(phone: "4915112345678")) == CheckExistsResult(numberExists: true, chatId: "4915112345678@c.us"))
        #expect(try await engine.checkExists(.init(phone: "4915199999999")) == CheckExistsResult(numberExists: false))
        #expect(try await engine.checkExists(.init(phone: "10000000000")) == CheckExistsResult(numberExists: false))
        let error = await #expect(throws: EngineError.self) { try await engine.checkExists(.init(phone: "+5511987654321")) }
        #expect(error?.kind == .invalidInput)
    }
}

@Suite struct LidTests {
    @Test(arguments: Backend.allCases) func listsCountsAndLooksUpBothWays(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        try await sandbox.seed(LocalSeed(lids: [
            .init(lid: "300", pn: "5511900000003"), .init(lid: "100@lid", pn: "5511900000001@c.us"), .init(lid: "200", pn: "5511900000002"),
        ]))
        let engine = try sandbox.engine()
        #expect(try await engine.countLids() == 3)
        #expect(try await engine.listLids(.init()) == [
            LidMapping(lid: "100@lid", pn: "5511900000001@c.us"),
            LidMapping(lid: "200@lid", pn: "5511900000002@c.us"),
            LidMapping(lid: "300@lid", pn: "5511900000003@c.us"),
        ])
        #expect(try await engine.listLids(.init(limit: 1, offset: 1)) == [LidMapping(lid: "200@lid", pn: "5511900000002@c.us")])
        #expect(try await engine.listLids(.init(limit: 10, offset: 3)).isEmpty)
        #expect(try await engine.phoneNumber(forLid: .init(lid: "200@lid")) == LidMapping(lid: "200@lid", pn: "5511900000002@c.us"))
        #expect(try await engine.phoneNumber(forLid: .init(lid: "999@lid")) == LidMapping(lid: "999@lid", pn: nil))
        #expect(try await engine.lid(forPhoneNumber: .init(pn: "5511900000003@c.us")) == LidMapping(lid: "300@lid", pn: "5511900000003@c.us"))
        #expect(try await engine.lid(forPhoneNumber: .init(pn: "5511900000009@c.us")) == LidMapping(lid: nil, pn: "5511900000009@c.us"))

        let badLid = await #expect(throws: EngineError.self) { try await engine.phoneNumber(forLid: .init(lid: "abc@lid")) }
        #expect(badLid?.kind == .invalidInput)
        let badPage = await #expect(throws: EngineError.self) { try await engine.listLids(.init(limit: -1)) }
        #expect(badPage?.kind == .invalidInput)
    }

    @Test(arguments: Backend.allCases) func aNewMappingReplacesBothSidesOfOldOnes(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        try await sandbox.seed(LocalSeed(lids: [.init(lid: "1", pn: "10"), .init(lid: "2", pn: "20")]))
        try await sandbox.seed(LocalSeed(lids: [.init(lid: "1", pn: "20")]))
        let engine = try sandbox.engine()
        #expect(try await engine.listLids(.init()) == [LidMapping(lid: "1@lid", pn: "20@c.us")])
        #expect(try await engine.lid(forPhoneNumber: .init(pn: "10@c.us")) == LidMapping(lid: nil, pn: "10@c.us"))
    }
}

@Suite struct SeedAndLifecycleTests {
    @Test(arguments: Backend.allCases) func aBadIdWritesNothing(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        let seed = LocalSeed(contacts: [.init(id: "111"), .init(id: "12 34")], accounts: ["111"], lids: [.init(lid: "1", pn: "111")])
        let error = await #expect(throws: EngineError.self) { try await sandbox.seed(seed) }
        #expect(error?.kind == .invalidInput)
        #expect(error?.message.contains("contacts[1]") == true)
        #expect(error?.message.contains("12 34") == true)

        let badLid = await #expect(throws: EngineError.self) { try await sandbox.seed(LocalSeed(accounts: ["111"], lids: [.init(lid: "x@lid", pn: "1")])) }
        #expect(badLid?.message.contains("lids[0]") == true)

        let engine = try sandbox.engine()
        #expect(try await engine.listContacts(.init()).isEmpty)
        #expect(engine.status.counters == ["contacts": 0, "accounts": 0, "lids": 0])
    }

    @Test func decodesTheDocumentedFormat() throws {
        let json = #"{"contacts": [{"id": "5511987654321", "name": "Ana", "isBlocked": true}], "lids": [{"lid": "9@lid", "pn": "5511987654321@c.us"}]}"#
        let seed = try JSONDecoder().decode(LocalSeed.self, from: Data(json.utf8))
        #expect(seed.contacts.map(\.id) == ["5511987654321"])
        #expect(seed.contacts.first?.isBlocked == true)
        #expect(seed.accounts.isEmpty)
        #expect(seed.lids.map(\.lid) == ["9@lid"])
        #expect(try JSONDecoder().decode(LocalSeed.self, from: Data("{}".utf8)).contacts.isEmpty)
    }

    @Test(arguments: Backend.allCases) func seesAnImportFromAnotherConnection(_ backend: Backend) async throws {
        let sandbox = try await Sandbox(backend)
        let engine = try sandbox.engine()
        try await engine.upsertContact(.init(chatId: "1@c.us", firstName: "Mine"))
        try await sandbox.seed(LocalSeed(contacts: [.init(id: "2", name: "Imported")], accounts: ["4930555010"], lids: [.init(lid: "4", pn: "2")]))
        try await Task.sleep(for: .milliseconds(1_100))

        #expect(ids(try await engine.listContacts(.init())) == ["1@c.us", "2@c.us"])
        #expect(try await engine.checkExists(.init(phone: "4930555010")) == CheckExistsResult(numberExists: true, chatId: "4930555010@c.us"))
        #expect(try await engine.countLids() == 1)
        #expect(engine.status.counters == ["contacts": 2, "accounts": 1, "lids": 1])
        // Writes after the reload still land in the snapshot.
        try await engine.block(.init(contactId: "2@c.us"))
        #expect(try await engine.contact(.init(contactId: "2@c.us")) == Contact(id: "2@c.us", name: "Imported", isMyContact: true, isBlocked: true))
    }

    @Test func configuration() async throws {
        let sandbox = try await Sandbox()
        #expect(LocalEngine.features == Set(Feature.allCases))
        #expect(String(cString: LocalEngine.descriptor.pointee.name) == "local")
        #expect(LocalEngine.descriptor.pointee.feature_count == 12)
        #expect(try sandbox.engine().status.message.contains(sandbox.database))

        let invalid = #expect(throws: EngineError.self) {
            try LocalEngine(configuration: EngineConfiguration(json: Data(#"{"database": 5}"#.utf8)), host: EngineHost(services: nil))
        }
        #expect(invalid?.kind == .invalidInput)

        let unopenable = #expect(throws: EngineError.self) {
            try LocalEngine(configuration: EngineConfiguration(json: Data(#"{"database": "/nonexistent/dir/x.sqlite"}"#.utf8)), host: EngineHost(services: nil))
        }
        #expect(unopenable?.kind == .unavailable)

        // No path and no state directory: in memory, and still fully working.
        let memory = try LocalEngine(configuration: EngineConfiguration(json: Data()), host: EngineHost(services: nil))
        try await memory.upsertContact(.init(chatId: "1@c.us", firstName: "Temp"))
        #expect(try await memory.listContacts(.init()).map(\.name) == ["Temp"])
        #expect(memory.status.message.contains("in memory"))
    }

    @Test func postgresConfiguration() async throws {
        func engine(_ json: String) throws -> LocalEngine {
            try LocalEngine(configuration: EngineConfiguration(json: Data(json.utf8)), host: EngineHost(services: nil))
        }
        let both = #expect(throws: EngineError.self) { try engine(#"{"database": "/tmp/x.sqlite", "postgres": "postgres://u@h/d"}"#) }
        #expect(both?.kind == .invalidInput)
        for url in ["mysql://u@h/d", "postgres://h/d", "not a url"] {
            let bad = #expect(throws: EngineError.self) { try engine(#"{"postgres": "\#(url)"}"#) }
            #expect(bad?.kind == .invalidInput)
        }

        // Nothing listens there: init returns at once, and the first call answers unavailable
        // within the engine's deadline rather than hanging.
        let port = try TestPlugins.freePort()
        let started = ContinuousClock.now
        let unreachable = try engine(#"{"postgres": "postgres://postgres@127.0.0.1:\#(port)/nothing"}"#)
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(unreachable.status.message.contains("PostgreSQL database 127.0.0.1:\(port)/nothing"))
        let error = await #expect(throws: EngineError.self) { try await unreachable.listContacts(.init()) }
        #expect(error?.kind == .unavailable)
        #expect(ContinuousClock.now - started < .seconds(8))
        let writeError = await #expect(throws: EngineError.self) { try await unreachable.upsertContact(.init(chatId: "1@c.us", firstName: "A")) }
        #expect(writeError?.kind == .unavailable)

        // A database without the schema gets it from the first call; a second engine shares it.
        let sandbox = try await Sandbox(.postgres)
        let first = try sandbox.engine(), second = try sandbox.engine()
        try await first.upsertContact(.init(chatId: "1@c.us", firstName: "Shared"))
        #expect(try await second.contact(.init(contactId: "1@c.us")).name == "Shared")
        try await second.block(.init(contactId: "1@c.us"))
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try await first.contact(.init(contactId: "1@c.us")).isBlocked)
        #expect(first.status.message.contains("PostgreSQL database 127.0.0.1"))
    }

    @Test func defaultsToTheStateDirectory() async throws {
        let sandbox = try await Sandbox()
        let directory = strdup(sandbox.directory.path)
        let services = UnsafeMutablePointer<sb_host_services>.allocate(capacity: 1)
        services.initialize(to: sb_host_services(
            struct_size: UInt32(MemoryLayout<sb_host_services>.size), host_context: nil, log: nil, state_directory: UnsafePointer(directory)
        ))
        defer { services.deallocate(); free(directory) }
        let engine = try LocalEngine(configuration: EngineConfiguration(json: Data()), host: EngineHost(services: services))
        try await engine.upsertContact(.init(chatId: "1@c.us", firstName: "Kept"))
        #expect(engine.status.message.contains("local.sqlite"))

        let path = sandbox.directory.appendingPathComponent("local.sqlite").path
        #expect(FileManager.default.fileExists(atPath: path))
        let reopened = try LocalEngine(configuration: EngineConfiguration(json: Data(#"{"database": "\#(path)"}"#.utf8)), host: EngineHost(services: nil))
        #expect(try await reopened.listContacts(.init()).map(\.name) == ["Kept"])
    }
}
