import ContactsEngineKit
import Foundation
import SwitchboardTestSupport
import Testing

/// A plugin built against the v1.0 header as it shipped (Tests/Fixtures/abi-v1.0, never edited)
/// must keep loading and serving in every later host: this is the test that fails the day a
/// change to the host or the header breaks a v1.0 binary.
@Suite("A v1.0 plugin binary loads and serves in today's host", .serialized)
struct FrozenABITests {
    static func v1_0Plugin() async throws -> String {
        try await TestPlugins.compileOffPool("honest_engine.c", header: TestPlugins.frozenABIv1_0, libraries: ["-ljansson"])
    }

    @Test("over HTTP: listed with ABI 1.0; list pages and sorts, get, check-exists answer; an undeclared feature is 501")
    func servesOverHTTP() async throws {
        try await SwitchboardProcess.withServer(plugin: try await Self.v1_0Plugin()) { server in
            let engines = try JSONSerialization.jsonObject(with: Data(try await server.request("GET", "/api/engines").body.utf8))
            let honest = (engines as? [[String: Any]])?.first { $0["name"] as? String == "honest" }
            #expect(honest?["abiVersion"] as? String == "1.0", "\(engines)")

            #expect(try await server.request("POST", "/api/sessions", body: #"{"name": "old", "engine": "honest"}"#).status == 201)
            #expect(try await Self.ids(server, "limit=2&offset=1&sortBy=name") == ["14155550100@c.us", "447700900123@c.us"])
            #expect(try await Self.ids(server, "limit=2&sortBy=name&sortOrder=desc") == ["5511987654321@c.us", "33612345678@c.us"])
            #expect(try await Self.ids(server, "limit=3&offset=7&sortBy=id") == ["5511987654321@c.us", "819012345678@c.us"])

            let contact = try await server.request("GET", "/api/contacts?contactId=4930555010&session=old")
            #expect(contact.status == 200)
            #expect(contact.body.contains(#""name":"Konrad Zuse""#), "\(contact.body)")
            #expect(try await server.answer("GET", "/api/contacts?contactId=4930555011&session=old").status == 404)

            let exists = try await server.request("GET", "/api/contacts/check-exists?phone=14155550101&session=old")
            #expect(exists.body.contains(#""chatId":"14155550101@c.us""#), "\(exists.body)")
            #expect(try await server.request("GET", "/api/contacts/check-exists?phone=4915199999999&session=old").body
                .contains(#""numberExists":false"#))

            let undeclared = try await server.answer("GET", "/api/contacts/about?contactId=4930555010&session=old")
            #expect(undeclared.status == 501)
            #expect(undeclared.body.contains("honest"), "the 501 names the engine: \(undeclared.body)")
        }
    }

    @Test("switchboard verify passes it and reports ABI 1.0")
    func verifyPasses() async throws {
        let report = try await TestPlugins.runOffPool(SwitchboardProcess.binary, ["verify", try await Self.v1_0Plugin()])
        #expect(report.contains("PASS  loads through dlopen in a scanner process with a valid descriptor: honest 1.0.0, ABI 1.0\n"), "\(report)")
        #expect(report.hasSuffix(" passed, 0 failed\n"), "\(report)")
    }

    private static func ids(_ server: SwitchboardProcess, _ query: String) async throws -> [String] {
        let reply = try await server.request("GET", "/api/contacts/all?session=old&\(query)")
        let contacts = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [[String: Any]]
        return contacts?.compactMap { $0["id"] as? String } ?? []
    }
}

/// The header's feature id macros and `Feature` (ContactsEngineKit/Feature.swift, the one list)
/// must name the same features in the same order, so a C author and a Swift one mean the same.
@Suite("The header's SB_FEATURE_* macros are Feature.allCases")
struct HeaderFeatureTests {
    @Test("same ids, same order, each macro named after its id")
    func macrosMatchFeatures() throws {
        let header = try String(contentsOfFile: "\(TestPlugins.currentABI)/switchboard_engine.h", encoding: .utf8)
        let macros = header.split(separator: "\n").compactMap { line -> (name: String, id: String)? in
            guard let match = line.wholeMatch(of: /#define SB_FEATURE_([A-Z_]+) "([^"]+)"/) else { return nil }
            return (String(match.1), String(match.2))
        }
        #expect(macros.map(\.id) == Feature.allCases.map(\.rawValue))
        for macro in macros {
            let expected = macro.id.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
            #expect(macro.name == expected, "SB_FEATURE_\(macro.name) for \(macro.id)")
        }
    }
}

/// The Rust crate's `Feature` (switchboard-engine/src/feature.rs) names the same features as
/// `Feature.swift`, in the same order, and its `Need` (need.rs) the same needs as
/// `EngineNeed.swift`; and its ABI version is the header's, as the Swift SDK's is.
@Suite("The Rust SDK's feature and need ids and version are the header's and the Swift SDK's")
struct RustSDKFeatureTests {
    @Test("same feature and need ids, same order; the crate's major.minor is the ABI's")
    func idsMatchFeatures() throws {
        let source = try String(contentsOfFile: "\(Cargo.sdkCrate)/src/feature.rs", encoding: .utf8)
        let ids = source.matches(of: /=> "([a-z.-]+)\\0",/).map { String($0.1) }
        #expect(ids == Feature.allCases.map(\.rawValue))
        let needs = try String(contentsOfFile: "\(Cargo.sdkCrate)/src/need.rs", encoding: .utf8)
        #expect(needs.matches(of: /=> "([a-z-]+)\\0",/).map { String($0.1) } == EngineNeed.allCases.map(\.rawValue))
        let manifest = try String(contentsOfFile: "\(Cargo.sdkCrate)/Cargo.toml", encoding: .utf8)
        let version = try #require(manifest.firstMatch(of: /\nversion = "(\d+\.\d+)\.\d+"/)?.1)
        #expect(try String(version) + ".0" == EngineTemplateTests.sdkVersion())
        let ffi = try String(contentsOfFile: "\(Cargo.sdkCrate)/src/ffi.rs", encoding: .utf8)
        let abi = try #require(ffi.firstMatch(of: /ABI_VERSION_MAJOR: u32 = (\d+);\npub const ABI_VERSION_MINOR: u32 = (\d+);/))
        #expect("\(abi.1).\(abi.2).0" == (try EngineTemplateTests.sdkVersion()))
    }
}
