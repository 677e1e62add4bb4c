import Foundation
import SwitchboardTestSupport
import Testing

/// Engines that contradict themselves: each is the honest fixture with one lie compiled in, and
/// `switchboard verify`, run as a user runs it, must exit 1 printing the request that shows it.
@Suite("verify catches an engine's lies and prints the request that shows each", .serialized)
struct VerifyCatchesLiesTests {
    static let pages = "contacts.list pages equal the slices of the full list, for every limit, offset, sortBy and sortOrder"
    static let get = "contacts.get answers each listed contact as listed, field by field"

    @Test("the honest fixture passes: exit 0, every check passed")
    func honestPasses() async throws {
        let plugin = try await TestPlugins.compileOffPool("honest_engine.c", libraries: ["-ljansson"])
        let report = try await TestPlugins.runOffPool(SwitchboardProcess.binary, ["verify", plugin])
        #expect(report.hasSuffix(" passed, 0 failed\n"), "\(report)")
        #expect(report.contains("PASS  \(Self.pages)"))
    }

    @Test("each lie: exit 1, and a FAIL line with the request that showed it", arguments: [
        ("IGNORES_OFFSET", "FAIL  \(pages): contacts.list {\"offset\":1,\"sortBy\":\"id\",\"sortOrder\":\"asc\"} answered "),
        ("IGNORES_SORT", "FAIL  \(pages): contacts.list {\"offset\":0,\"sortBy\":\"id\",\"sortOrder\":\"desc\"} answered "),
        ("LONG_PAGE", "contacts.list {\"limit\":1,\"offset\":0,\"sortBy\":\"id\",\"sortOrder\":\"asc\"} answered "),
        ("INVALID_IDS", "contacts.list {\"offset\":0,\"sortOrder\":\"asc\"} answered "),
        ("ACCEPTS_MALFORMED", "FAIL  contacts.check-exists answers every malformed phone number or id with invalid-input: "
            + "contacts.check-exists {\"phone\":\"12ab\"} answered success; expected invalid-input"),
        ("GET_ANSWERS_OTHER", "FAIL  \(get): contacts.get {\"contactId\":\"12025550123@c.us\"} "
            + "answered id \"33612345678@c.us\"; expected id \"12025550123@c.us\", as contacts.list holds it"),
        ("GET_OTHER_NAME", "FAIL  \(get): contacts.get {\"contactId\":\"12025550123@c.us\"} "
            + "answered name \"Someone else\"; expected name \"Ada Lovelace\", as contacts.list holds it"),
        ("GET_INVENTS", "FAIL  contacts.get invents no contact for ids contacts.list does not hold: contacts.get {\"contactId\":\"10000000000@c.us\"} "
            + "answered contact 10000000000@c.us (name \"Invented\", isMyContact false); expected not-found, or a stranger"),
        ("CHECK_EXISTS_OTHER", "FAIL  contacts.check-exists says a listed number exists only under its own chatId: contacts.check-exists "
            + "{\"phone\":\"12025550123\"} answered numberExists true, chatId \"33612345678@c.us\"; expected chatId \"12025550123@c.us\""),
        ("DESC_IGNORED_8_20", "FAIL  \(pages): contacts.list {\"limit\":8,\"offset\":0,\"sortBy\":\"id\",\"sortOrder\":\"desc\"} "
            + "answered \"12025550123@c.us\" first at position 0; expected \"819012345678@c.us\" there, of 8"),
    ])
    func lieIsCaught(lie: String, failingRequest: String) async throws {
        let plugin = try await TestPlugins.compileOffPool("honest_engine.c", defines: [lie], libraries: ["-ljansson"])
        do {
            let report = try await TestPlugins.runOffPool(SwitchboardProcess.binary, ["verify", plugin])
            Issue.record("verify passed an engine built with \(lie): \(report)")
        } catch let failure as TestPlugins.CommandFailed {
            #expect(failure.status == 1)
            #expect(failure.output.contains(failingRequest), "\(failure.output)")
            #expect(!failure.output.hasSuffix(" 0 failed\n"))
        }
    }

    @Test("invalid ids are named with the request that answered them")
    func invalidIDNamed() async throws {
        let plugin = try await TestPlugins.compileOffPool("honest_engine.c", defines: ["INVALID_IDS"], libraries: ["-ljansson"])
        let failure = await #expect(throws: TestPlugins.CommandFailed.self) {
            try await TestPlugins.runOffPool(SwitchboardProcess.binary, ["verify", plugin])
        }
        #expect(failure?.output.contains("14155550100\"") == true, "\(failure?.output ?? "")")
        #expect(failure?.output.contains("FAIL  every id contacts.list answers is a valid chat id") == true, "\(failure?.output ?? "")")
    }
}
