@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging
import SwitchboardEngineRuntime
import SwitchboardTestSupport
import Testing

/// docs/plugin-abi.md says the header alone exports a C++ plugin's entry function (its prototype
/// gives C linkage, `SB_EXPORT` default visibility) and that an exception must be caught before it
/// reaches the host; Tests/Fixtures/plugins/cpp_engine.cpp does both, built with hidden visibility.
@Suite("A C++ engine exports its entry with the header's SB_EXPORT and prototype, and keeps its exceptions")
struct EntryExportTests {
    @Test("built with -fvisibility=hidden it loads, and an exception thrown in a call answers internal")
    func cppEngine() async throws {
        let plugin = try await TestPlugins.compileCOffPool(
            "\(TestPlugins.repositoryRoot)/Tests/Fixtures/plugins/cpp_engine.cpp", flags: ["-fvisibility=hidden", "-Wall"], libraries: ["-lstdc++"])
        #expect(try PluginLoader.inspect(plugin).name == "cpp")
        let quiet = Logger(label: "cpp") { _ in SwiftLogNoOpLogHandler() }
        let registry = EngineRegistry(pluginFiles: [plugin], logger: quiet)
        registry.scan()
        let engine = try #require(registry.engine(named: "cpp"), "\(registry.listing)")
        let instance = try await engine.makeInstance(configuration: Data("{}".utf8), context: InstanceContext(session: "cpp", logger: quiet))
        defer { instance.shutdown() }
        let thrown = await #expect(throws: EngineError.self) {
            try await instance.checkedResult(Operations.GetContact.self, ContactRequest(contactId: "14155550100@c.us"))
        }
        #expect(thrown?.kind == .internal && thrown?.message == "caught: no address book yet", "\(String(describing: thrown))")
    }
}
