@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import SwitchboardEngineRuntime
import SwitchboardTestSupport
import Testing

@Suite("The engine registry: scanning, refusing, rescanning")
struct EngineRegistryTests {
    @Test("a folder with good and bad plugins loads the good ones and lists the bad ones with reasons")
    func mixedFolder() throws {
        let folder = TestPlugins.makeFolder("mixed")
        try FileManager.default.copyItem(atPath: try TestPlugins.compileFixedEngine(), toPath: "\(folder)/a-fixed.so")
        try FileManager.default.copyItem(atPath: try TestPlugins.compile("test_engine.c", defines: ["ENTRY_MAJOR=2"]), toPath: "\(folder)/b-v2.so")
        try FileManager.default.copyItem(atPath: try TestPlugins.compile("test_engine.c"), toPath: "\(folder)/c-test.so")
        try "not a plugin".write(toFile: "\(folder)/d-text.so", atomically: true, encoding: .utf8)
        try "ignored: not .so".write(toFile: "\(folder)/notes.txt", atomically: true, encoding: .utf8)

        let registry = EngineRegistry(pluginDirectories: [folder])
        let report = registry.scan()
        #expect(report.loaded.sorted() == ["fixed", "test"])
        #expect(report.refused == ["\(folder)/b-v2.so", "\(folder)/d-text.so"])
        let listing = registry.listing
        #expect(listing.map(\.state) == [.loaded, .loaded, .refused, .refused])
        #expect(listing[2].reason?.contains("speaks plugin ABI v2") == true)
        #expect(listing[3].reason == "not a shared object: no ELF header")
        #expect(registry.engine(named: "fixed")?.metadata.features == [.contactsList, .contactsGet, .contactsCheckExists])
    }

    @Test("a second engine with the same name is refused; the first stays")
    func duplicateName() throws {
        let folder = TestPlugins.makeFolder("duplicate")
        let fixed = try TestPlugins.compileFixedEngine()
        try FileManager.default.copyItem(atPath: fixed, toPath: "\(folder)/one.so")
        try FileManager.default.copyItem(atPath: fixed, toPath: "\(folder)/two.so")
        let registry = EngineRegistry(pluginDirectories: [folder])
        registry.scan()
        #expect(registry.engine(named: "fixed")?.origin == .file("\(folder)/one.so"))
        let refused = registry.listing.filter { $0.state == .refused }
        #expect(refused.count == 1)
        #expect(refused.first?.file == "\(folder)/two.so")
        #expect(refused.first?.reason == "duplicate engine name \"fixed\": already provided by \(folder)/one.so")
    }

    @Test("a rescan loads new files and new versions, leaves unchanged ones, and old instances keep working")
    func rescan() async throws {
        let folder = TestPlugins.makeFolder("rescan")
        let registry = EngineRegistry(pluginDirectories: [folder])
        #expect(registry.scan() == ScanReport())

        let v1 = try TestPlugins.compile("test_engine.c", defines: ["ENGINE_VERSION=\"1.0.0\""])
        try FileManager.default.copyItem(atPath: v1, toPath: "\(folder)/test.so")
        #expect(registry.scan().loaded == ["test"])
        let first = try #require(registry.engine(named: "test"))
        #expect(first.metadata.version == "1.0.0")
        let oldInstance = try await first.makeInstance(configuration: Data(), context: InstanceContext(session: "s"))

        #expect(registry.scan() == ScanReport(), "an unchanged file is not opened again")

        // Install the new version the way package managers do: a new file moved over the old path.
        let v2 = try TestPlugins.compile("test_engine.c", defines: ["ENGINE_VERSION=\"2.0.0\""])
        try FileManager.default.copyItem(atPath: v2, toPath: "\(folder)/test.so.new")
        #expect(rename("\(folder)/test.so.new", "\(folder)/test.so") == 0)
        #expect(registry.scan().upgraded == ["test"])
        let second = try #require(registry.engine(named: "test"))
        #expect(second.metadata.version == "2.0.0")
        #expect(second.generation > first.generation)

        // The old version is still mapped: its instance answers.
        let contact = try await oldInstance.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "1@c.us"))
        #expect(contact.id == "1@c.us")
        oldInstance.shutdown()
    }

    @Test("an embedded engine registers without a file, and a plugin of the same name replaces it")
    func embeddedThenPlugin() throws {
        let registry = EngineRegistry(pluginFiles: [TestPlugins.product("LocalEngine")])
        try registry.registerEmbedded(EmbeddedProbe.descriptor)
        #expect(registry.engine(named: "probe")?.origin == .embedded)
        registry.scan()
        #expect(registry.engine(named: "local")?.origin == .file(TestPlugins.product("LocalEngine")))
        #expect(registry.listing.first { $0.name == "probe" }?.file == "embedded")
    }
}

/// An engine compiled into the test binary, published through the same C ABI as plugins.
final class EmbeddedProbe: ContactsEngine {
    static let name = "probe"
    static let version = "1.0.0"
    static let summary = "embedded engine for tests"
    static let features: Set<Feature> = [.contactsGet]
    static var descriptor: UnsafePointer<sb_engine_descriptor> { EngineExport.descriptor(for: EmbeddedProbe.self) }

    init(configuration: EngineConfiguration, host: EngineHost) throws {}

    func contact(_ request: ContactRequest) async throws -> Contact {
        Contact(id: request.contactId, name: "Probe")
    }
}
