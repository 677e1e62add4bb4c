import Foundation
import SwitchboardTestSupport
import Testing

/// What a server maps at start: shipped plugins from their own files, not copies; and on a
/// restart, whose scan cache says what each unchanged file declares, only the engines its
/// sessions use, with `local` served by the engine compiled into the server.
@Suite struct StartUpTests {
    /// The engine plugin files mapped into a process, by path (a mapped copy's path ends in
    /// " (deleted)", since copies are unlinked once mapped).
    static func mappedEngines(_ pid: Int32) throws -> Set<String> {
        // Read to the end: /proc reports a size of 0, which reading by size stops at too early.
        guard let file = FileHandle(forReadingAtPath: "/proc/\(pid)/maps") else { throw CocoaError(.fileNoSuchFile) }
        defer { try? file.close() }
        let maps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        return Set(maps.split(separator: "\n").compactMap { line in
            guard let slash = line.firstIndex(of: "/"), line.contains("Engine.so") else { return nil }
            return String(line[slash...])
        })
    }

    @Test("a plugin-scans.json that is not a scan cache is rebuilt, and said so once at warning level")
    func garbageScanCache() async throws {
        let data = TestPlugins.makeFolder("garbage-scans")
        try "{not json".write(toFile: "\(data)/plugin-scans.json", atomically: true, encoding: .utf8)
        let server = try await SwitchboardProcess.start(data: data)
        defer { server.stop() }
        let lines = server.output.split(separator: "\n").filter { $0.contains("the plugin scan cache is not one") }
        #expect(lines.count == 1, "\(server.output)")
        #expect(lines.first?.contains(" warning ") == true && lines.first?.contains("plugin-scans.json") == true, "\(lines)")
        let rebuilt = try Data(contentsOf: URL(fileURLWithPath: "\(data)/plugin-scans.json"))
        #expect((try? JSONSerialization.jsonObject(with: rebuilt)) is [String: Any], "rewritten as a cache")
    }

    @Test("a first start maps the shipped plugins from their files; a restart maps only what a session asks for")
    func restartMapsOnlyWhatSessionsUse() async throws {
        let products = TestPlugins.buildProducts
        let data = TestPlugins.makeFolder("start-up")
        let first = try await SwitchboardProcess.start(data: data)
        let firstMapped = try Self.mappedEngines(first.pid)
        let engines = try await first.request("GET", "/api/engines").body
        first.stop()
        for plugin in ["libLocalEngine.so", "libFixedEngine.so", "libVCardEngine.so", "libWAHAEngine.so", "libCardDAVEngine.so", "libJSONLinesEngine.so"] {
            #expect(firstMapped.contains("\(products)/\(plugin)"), "\(plugin) not mapped from its own file: \(firstMapped.sorted())")
        }
        #expect(!firstMapped.contains { $0.hasSuffix("(deleted)") }, "a shipped plugin was mapped from a copy: \(firstMapped.sorted())")

        let second = try await SwitchboardProcess.start(data: data)
        defer { second.stop() }
        #expect(try Self.mappedEngines(second.pid).isEmpty, "the restart mapped plugins no session uses")
        #expect(try await second.request("GET", "/api/engines").body == engines, "the listing differs from the first start's")
        #expect(try await second.request("GET", "/api/contacts/all").status == 200)
        #expect(try await second.request("POST", "/api/sessions", body: #"{"name": "c", "engine": "fixed"}"#).status == 201)
        #expect(try await second.request("GET", "/api/contacts?contactId=14155550101&session=c").status == 200)
        #expect(try Self.mappedEngines(second.pid) == ["\(products)/libFixedEngine.so"])
    }
}
