import Foundation
import SwitchboardConformance
import SwitchboardEngineRuntime
import SwitchboardTestSupport
import Testing

/// docs/writing-an-engine.md promises that the template in docs/engine-template builds into a
/// plugin the host loads. This builds it from scratch, outside this repository, as an author would.
@Suite("The engine template in docs/ builds, outside this package, into a plugin that passes verify")
struct EngineTemplateTests {
    @Test("copied out of the repository, it builds against the SDK package alone, by URL, and passes verify")
    func templateBuildsAndPasses() async throws {
        let folder = TestPlugins.makeFolder("template")
        // The SDK as it is published: its folder as a repository of its own, tagged with the
        // ABI version it speaks. SwiftPM's mirror sends the template's URL there.
        let sdk = "\(folder)/contacts-engine-sdk"
        try FileManager.default.copyItem(atPath: "\(TestPlugins.repositoryRoot)/Sources/ContactsEngineSDK", toPath: sdk)
        try? FileManager.default.removeItem(atPath: "\(sdk)/.build")
        let git = ["-C", sdk, "-c", "user.name=Switchboard tests", "-c", "user.email=tests@switchboard.invalid"]
        try await TestPlugins.runOffPool("/usr/bin/env", ["git", "init", "-q", sdk])
        try await TestPlugins.runOffPool("/usr/bin/env", ["git"] + git + ["add", "-A"])
        try await TestPlugins.runOffPool("/usr/bin/env", ["git"] + git + ["commit", "-qm", "SDK"])
        try await TestPlugins.runOffPool("/usr/bin/env", ["git"] + git + ["tag", try Self.sdkVersion()])

        let package = "\(folder)/HelloEngine"
        try FileManager.default.copyItem(atPath: "\(TestPlugins.repositoryRoot)/docs/engine-template", toPath: package)
        let manifest = try String(contentsOfFile: "\(package)/Package.swift", encoding: .utf8)
        let url = try #require(manifest.firstMatch(of: /\.package\(url: "([^"]+)"/)?.1, "the template names the SDK by URL")
        try await TestPlugins.runOffPool("/usr/bin/env", ["swift", "package", "--package-path", package, "config", "set-mirror", "--original", String(url), "--mirror", sdk])
        try await TestPlugins.runOffPool("/usr/bin/env", ["swift", "build", "--package-path", package, "--scratch-path", "\(package)/.build"])

        // Resolving the template fetched the SDK and nothing else: no host dependency.
        let resolved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(package)/Package.resolved"))) as? [String: Any]
        let pins = (resolved?["pins"] as? [[String: Any]])?.compactMap { $0["identity"] as? String }
        #expect(pins == ["contacts-engine-sdk"])

        let plugin = "\(package)/.build/debug/libHelloEngine.so"
        let metadata = try PluginLoader.inspect(plugin)
        #expect(metadata.license == "Apache-2.0" && metadata.homepage == "https://example.com/hello-engine", "ABI 1.1's descriptor members: \(metadata)")
        let config = #"{"contacts": [{"id": "14155550100", "name": "Ada Lovelace"}, {"id": "4930555010", "name": "Konrad Zuse"}, {"id": "4420755501", "name": "Ada Byron"}]}"#
        let checks = await ConformanceKit(path: plugin, configuration: Data(config.utf8)).run()
        #expect(checks.first?.name == "loads through dlopen with a valid descriptor: hello 1.0.0, ABI 1.3")
        let failed = checks.filter { !$0.passed }
        #expect(failed.isEmpty, "\(failed)")
    }

    @Test("docs/writing-an-engine.md shows the template's Package.swift in full, as it is")
    func documentShowsTheManifest() throws {
        let doc = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/docs/writing-an-engine.md", encoding: .utf8)
        let manifest = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/docs/engine-template/Package.swift", encoding: .utf8)
        let shown = doc.firstMatch(of: /<!-- engine-template\/Package.swift begins -->\n```swift\n(?<code>[\s\S]*?)```\n<!-- engine-template\/Package.swift ends -->/)?.code
        #expect(shown.map(String.init) == manifest, "copy docs/engine-template/Package.swift into the document")
    }

    /// The SDK's version: major and minor are the ABI's, from the header.
    static func sdkVersion() throws -> String {
        let header = try String(contentsOfFile: "\(TestPlugins.repositoryRoot)/Sources/ContactsEngineSDK/Sources/CContactsEngine/include/switchboard_engine.h", encoding: .utf8)
        let major = try #require(header.firstMatch(of: /#define SB_ABI_VERSION_MAJOR (\d+)/)?.1)
        let minor = try #require(header.firstMatch(of: /#define SB_ABI_VERSION_MINOR (\d+)/)?.1)
        return "\(major).\(minor).0"
    }
}
