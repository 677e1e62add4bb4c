import Foundation
import SwitchboardHTTP
import SwitchboardTestSupport
import Testing

/// Swagger UI as a user sees it: Debian's Chromium, headless, with every host name but
/// 127.0.0.1 unresolvable, renders the page the server serves and lists its operations.
@Suite struct SwaggerUITests {
    static func chromium() throws -> String {
        for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw PythonTools.Missing(description: "Chromium is missing: apt-get install chromium (.ci/run does)")
    }

    /// The page's DOM after its scripts ran, fetched with no network beyond loopback.
    static func renderedPage(_ url: String) async throws -> String {
        let profile = TestPlugins.makeFolder("chromium")
        let chromium = try chromium()
        return try await HeavyTest.run { try await TestPlugins.runOffPool(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(profile)",
            // No network: every name but the loopback address fails to resolve, no proxy is used.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server",
            "--virtual-time-budget=15000", "--dump-dom", url,
        ]) }
    }

    @Test func theServedSwaggerUIListsTheOperationsWithNoNetwork() async throws {
        try await withServer { server in
            let page = try await server.get("/")
            #expect(page.status == 200)
            let version = try #require(page.headers["x-swagger-ui-version"])
            #expect(page.text.contains(#"content="\#(version)""#))
            #expect(!page.text.contains("http"), "the page loads nothing from another host")

            let dom = try await Self.renderedPage("http://127.0.0.1:\(server.port)/")
            #expect(dom.contains("opblock-summary-path"), "no operation rendered")
            for path in ["/api/contacts/all", "/api/{session}/lids/pn/{phoneNumber}", "/api/sessions/{session}/me", "/api/server/version"] {
                #expect(dom.contains(path), "\(path) not listed")
            }
        }
    }

    /// The same check fails for the CDN page, which is what makes the check above mean something.
    @Test func theCDNPageDoesNotRenderWithNoNetwork() async throws {
        try await withServer(swaggerUI: SwaggerUI(.cdn("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.33.1"))) { server in
            let page = try await server.get("/")
            #expect(page.text.contains("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.33.1/swagger-ui-bundle.js"))
            let dom = try await Self.renderedPage("http://127.0.0.1:\(server.port)/")
            #expect(!dom.contains("opblock-summary-path"))
        }
    }

    @Test func aFolderWithoutTheFilesSaysHowToInstallThem() async throws {
        try await withServer(swaggerUI: SwaggerUI(.folder(TestPlugins.makeFolder("empty")))) { server in
            let page = try await server.get("/")
            #expect(page.status == 200)
            #expect(page.text.contains("scripts/swagger-ui"))
            #expect(try await server.get("/swagger-ui/swagger-ui-bundle.js").status == 404)
        }
    }
}
