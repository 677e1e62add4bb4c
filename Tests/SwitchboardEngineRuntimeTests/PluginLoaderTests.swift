import ContactsEngineKit
import Foundation
import Synchronization
import SwitchboardEngineRuntime
import SwitchboardTestSupport
import Testing

@Suite("Loading plugins through dlopen")
struct PluginLoaderTests {
    @Test("the C engine, compiled here from the header alone, loads with its partial features")
    func cEngineFromHeaderAlone() throws {
        let path = try TestPlugins.compileFixedEngine()
        let metadata = try PluginLoader.inspect(path)
        #expect(metadata.name == "fixed")
        #expect(metadata.version == "1.0.0")
        #expect(metadata.abiVersion == "1.3")
        #expect(metadata.features == [.contactsList, .contactsGet, .contactsCheckExists])
    }

    @Test("the shipped plugins SwiftPM built load: local (Swift) and fixed (C)")
    func shippedPlugins() throws {
        let local = try PluginLoader.inspect(TestPlugins.product("LocalEngine"))
        #expect(local.name == "local")
        #expect(Set(local.features) == Set(Feature.allCases))
        let fixed = try PluginLoader.inspect(TestPlugins.product("FixedEngine"))
        #expect(fixed.name == "fixed")
    }

    @Test("each broken plugin is refused with a reason that says what is wrong", arguments: [
        (["ENTRY_MAJOR=2"], "speaks plugin ABI v2 (exports switchboard_engine_abi_v2); this host speaks ABI v1"),
        (["DESCRIPTOR_MAJOR=3"], "descriptor declares ABI v3.3; this host speaks ABI v1.3"),
        (["NO_NAME"], "descriptor has no engine name"),
        (["ENGINE_NAME=\"\""], "invalid engine name \"\""),
        (["ENGINE_NAME=\"Bad Name\""], "invalid engine name \"Bad Name\": must match [a-z0-9][a-z0-9-]{0,31}"),
        (["ENGINE_NAME=\"composite\""], "engine name \"composite\" is reserved: a session made of several engines reports it as its engine"),
        (["EXTRA_FEATURE=\"contacts.teleport\""], "declares unknown feature id \"contacts.teleport\""),
        (["STRUCT_SIZE=8"], "descriptor too small: struct_size 8"),
        (["OMIT_CALL"], "descriptor lacks one of create, destroy, call, instance_features, status"),
        (["NULL_DESCRIPTOR"], "switchboard_engine_abi_v1() returned no descriptor"),
    ])
    func refusals(defines: [String], reason: String) throws {
        let path = try TestPlugins.compile("test_engine.c", defines: defines)
        #expect(throws: PluginRefusal.self) { try PluginLoader.inspect(path) }
        do {
            _ = try PluginLoader.inspect(path)
        } catch {
            #expect(error.reason.contains(reason), "reason was: \(error.reason)")
        }
    }

    @Test("a file that is not a shared object, and one without the entry symbol, are refused")
    func notAPlugin() throws {
        let text = "\(TestPlugins.makeFolder("notelf"))/readme.so"
        try "just text".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(refusal(text) == "not a shared object: no ELF header")

        let object = "\(TestPlugins.scratch)/no_entry.o"
        try TestPlugins.run("/usr/bin/env", ["cc", "-c", "\(TestPlugins.repositoryRoot)/Tests/Fixtures/plugins/no_entry.c", "-o", object])
        #expect(refusal(object) == "not a shared object: ELF type 1, expected ET_DYN (3)")

        // A position-independent executable is ET_DYN too; dlopen itself refuses it.
        #expect(refusal("/bin/true")?.hasPrefix("dlopen failed:") == true)

        let noEntry = try TestPlugins.compile("no_entry.c")
        #expect(refusal(noEntry) == "no entry symbol switchboard_engine_abi_v1: not a Switchboard engine plugin, or built for another ABI")

        #expect(refusal("/nonexistent/plugin.so") == "cannot open file for reading: No such file or directory")
    }

    private func refusal(_ path: String) -> String? {
        do {
            _ = try PluginLoader.inspect(path)
            return nil
        } catch {
            return error.reason
        }
    }
}

extension TestPlugins {
    /// The shipped C engine, compiled here from the header alone with every warning an error.
    static func compileFixedEngine() throws -> String {
        try compileC("\(repositoryRoot)/Plugins/FixedEngine/fixed_engine.c", flags: ["-Wall", "-Wextra", "-Werror"])
    }
}

@Suite("The file that was checked is the file that is loaded")
struct PluginStagingTests {
    @Test("pinned plugins swapped back and forth during 60 loads: every load's hash matches the engine it mapped")
    func swappedBetweenCheckAndLoad() async throws {
        let alpha = try await TestPlugins.compileOffPool("test_engine.c", defines: ["ENGINE_NAME=\"alpha\""])
        let beta = try await TestPlugins.compileOffPool("test_engine.c", defines: ["ENGINE_NAME=\"beta\""])
        var pins: [String: String] = [:]
        for (name, path) in [("alpha", alpha), ("beta", beta)] {
            pins[name] = String(try await TestPlugins.runOffPool("/usr/bin/env", ["sha256sum", path]).prefix(64))
        }
        let folder = TestPlugins.makeFolder("swap")
        let path = "\(folder)/engine.so"
        try FileManager.default.copyItem(atPath: alpha, toPath: path)
        let trust = PluginTrust(pinnedSHA256: pins)
        // The loads and the swaps each on a thread of their own: 60 loads would hold a
        // concurrency thread for seconds.
        let loads = await withCheckedContinuation { (done: CheckedContinuation<[Result<ScannedPlugin, PluginRefusal>], Never>) in
            let swapping = Atomic<Bool>(true)
            Thread {
                var next = beta
                while swapping.load(ordering: .relaxed) {
                    try? FileManager.default.removeItem(atPath: "\(path).new")
                    try? FileManager.default.copyItem(atPath: next, toPath: "\(path).new")
                    rename("\(path).new", path)
                    next = next == beta ? alpha : beta
                }
            }.start()
            Thread {
                let loads = (0..<60).map { _ in Result { () throws(PluginRefusal) in try PluginLoader.scan(path, trust: trust) } }
                swapping.store(false, ordering: .relaxed)
                done.resume(returning: loads)
            }.start()
        }
        for load in loads {
            let scanned = try load.get()
            #expect(scanned.sha256 == pins[scanned.metadata.name])
        }
    }
}
