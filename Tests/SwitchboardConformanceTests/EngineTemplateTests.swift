import Foundation
import SwitchboardConformance
import SwitchboardTestSupport
import Testing

/// docs/writing-an-engine.md promises that the template in docs/engine-template builds into a
/// plugin the host loads. This builds it from scratch, outside this package, as an author would.
@Suite("The engine template in docs/ builds, outside this package, into a plugin that passes verify")
struct EngineTemplateTests {
    @Test("copy, build with SwiftPM against the SDK, verify")
    func templateBuildsAndPasses() async throws {
        let folder = TestPlugins.makeFolder("template")
        let package = "\(folder)/HelloEngine"
        try FileManager.default.copyItem(atPath: "\(TestPlugins.repositoryRoot)/docs/engine-template", toPath: package)
        // The template names the SDK by a path relative to docs/; from the copy, name this checkout.
        let manifest = "\(package)/Package.swift"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        #expect(text.contains(#"path: "../..""#))
        try text.replacingOccurrences(of: #"path: "../..""#, with: "path: \"\(TestPlugins.repositoryRoot)\"")
            .write(toFile: manifest, atomically: true, encoding: .utf8)

        try await TestPlugins.runOffPool("/usr/bin/env", ["swift", "build", "--package-path", package, "--scratch-path", "\(package)/.build"])
        let plugin = "\(package)/.build/debug/libHelloEngine.so"
        let config = #"{"contacts": [{"id": "14155550100", "name": "Ada Lovelace"}, {"id": "4930555010", "name": "Konrad Zuse"}]}"#
        let checks = await ConformanceKit(path: plugin, configuration: Data(config.utf8)).run()
        #expect(checks.first?.name == "loads through dlopen with a valid descriptor: hello 1.0.0, ABI 1.0")
        let failed = checks.filter { !$0.passed }
        #expect(failed.isEmpty, "\(failed)")
    }
}
