@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging
import SwitchboardEngineRuntime
import SwitchboardTestSupport
import Testing

/// The switchboard-engine crate's side of the ABI, through dlopen: a Rust engine that answers from
/// its own threads, panics, forgets a reply and waits for `cancel` (Tests/Fixtures/rust-engine)
/// still completes every call exactly once, with what the host expects.
@Suite("The Rust SDK keeps the ABI's promises: any thread, panics, forgotten replies, cancel, pieces", .serialized)
struct RustBoundaryTests {
    static let quiet = Logger(label: "rust-boundary") { _ in SwiftLogNoOpLogHandler() }

    /// A panic's message, and its backtrace when `RUST_BACKTRACE` is set, is written by Rust's
    /// hook before the call completes: symbolizing a backtrace in this big test binary takes
    /// seconds, so only the cancel test keeps a short deadline.
    static func instance(count: Int, callTimeout: Duration = .seconds(20)) async throws -> any EngineHandle {
        let plugin = try await Cargo.buildPlugin(
            "\(TestPlugins.repositoryRoot)/Tests/Fixtures/rust-engine", library: "rust_boundary", target: "\(TestPlugins.scratch)/rust-boundary")
        let registry = EngineRegistry(pluginFiles: [plugin], logger: quiet)
        registry.scan()
        let engine = try #require(registry.engine(named: "rust-boundary"), "\(registry.listing)")
        let context = InstanceContext(session: "boundary", callTimeout: callTimeout, logger: quiet)
        return try await engine.makeInstance(configuration: Data(#"{"count": \#(count)}"#.utf8), context: context)
    }

    @Test("a list answered from the engine's own thread, whole and in pieces that a slow reader pauses")
    func anyThreadAndPieces() async throws {
        let instance = try await Self.instance(count: 12_000)
        defer { instance.shutdown() }
        let page = try await instance.checkedResult(Operations.ListContacts.self, ContactsPageRequest(limit: 2, offset: 1, sortBy: .name, sortOrder: .desc))
        #expect(page.map(\.name) == ["Contact 011998", "Contact 011997"])
        let whole = try await instance.checkedResult(Operations.ListContacts.self, ContactsPageRequest()).map(\.id)
        #expect(whole.count == 12_000)
        // serde_json writes the SDK writer's form, which the host forwards without decoding.
        let request = ContactsPageRequest(limit: 3)
        let bytes = try await instance.call(.contactsList, request: try JSONCoders.encode(request))
        #expect(Operations.ListContacts.canonicalReading(of: bytes, for: request) == .forward, "\(String(decoding: bytes, as: UTF8.self))")
        // 12,000 contacts are about 2.4 MB: read slowly, the host asks the engine to pause above 1 MiB.
        let pieces = try await instance.checkedAnswerInPieces(Operations.ListContacts.self, ContactsPageRequest())
        defer { pieces.close() }
        var ids: [String] = [], count = 0
        try await pieces.forEach { bytes in
            count += 1
            ids += try JSONCoders.decode([Contact].self, from: bytes).map(\.id)
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(count == 12 && ids == whole, "\(count) pieces")
    }

    @Test("a panic answers internal and the engine goes on; a reply dropped unsent answers internal")
    func panicsAndDroppedReplies() async throws {
        let instance = try await Self.instance(count: 3)
        defer { instance.shutdown() }
        for _ in 0..<2 {
            let panicked = await #expect(throws: EngineError.self) {
                try await instance.checkedResult(Operations.About.self, ContactRequest(contactId: "10000000000@c.us"))
            }
            #expect(panicked?.kind == .internal, "\(String(describing: panicked))")
            #expect(panicked?.message == "the engine panicked in contacts.about (its message is on standard error)", "\(String(describing: panicked))")
        }
        let dropped = await #expect(throws: EngineError.self) {
            try await instance.checkedResult(Operations.Block.self, ContactRequest(contactId: "10000000000@c.us"))
        }
        #expect(dropped?.message == "the engine dropped its reply to contacts.block without answering", "\(String(describing: dropped))")
        let contact = try await instance.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "10000000001@c.us"))
        #expect(contact.name == "Contact 000001")
    }

    @Test("a call past its deadline reaches the engine as cancel, which its reply sees")
    func cancelReachesTheEngine() async throws {
        let instance = try await Self.instance(count: 3, callTimeout: .milliseconds(300))
        defer { instance.shutdown() }
        let timedOut = await #expect(throws: EngineError.self) {
            try await instance.checkedResult(Operations.ProfilePicture.self, ProfilePictureRequest(contactId: "10000000000@c.us"))
        }
        #expect(timedOut?.kind == .timeout)
        var cancelled = 0
        for _ in 0..<100 where cancelled == 0 {
            cancelled = await instance.status().counters["cancelled"] ?? 0
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(cancelled == 1)
    }
}
