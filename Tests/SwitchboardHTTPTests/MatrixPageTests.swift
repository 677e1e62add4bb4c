import ContactsEngineKit
import Foundation
import SwitchboardTestSupport
import Testing

/// `GET /engines` as a person sees it: Debian's Chromium, headless, with no network beyond
/// loopback, renders the page (which has no script); a screenshot is taken and the DOM holds
/// every engine, every feature id, each session and each refused plugin with its reason.
@Suite struct MatrixPageTests {
    static func chromium(_ arguments: [String]) async throws -> String {
        let profile = TestPlugins.makeFolder("chromium")
        let chromium = try SwaggerUITests.chromium()
        return try await HeavyTest.run { try await TestPlugins.runOffPool(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(profile)",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server",
        ] + arguments) }
    }

    @Test func thePageShowsEveryEngineFeatureSessionAndRefusal() async throws {
        let plugins = TestPlugins.makeFolder("matrix-plugins")
        try Data("not an ELF file".utf8).write(to: URL(fileURLWithPath: "\(plugins)/libBroken.so"))
        try await withServer(pluginDirectories: [plugins]) { server in
            #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "fx", "engine": "fixed"}"#).status == 201)
            let page = try await server.get("/engines")
            #expect(page.status == 200)
            #expect(page.contentType == "text/html; charset=utf-8")
            #expect(!page.text.contains("<script"), "readable without JavaScript")
            #expect(!page.text.contains("http"), "nothing loaded from another host")

            let url = "http://127.0.0.1:\(server.port)/engines"
            let screenshot = "\(TestPlugins.makeFolder("matrix-screenshot"))/engines.png"
            _ = try await Self.chromium(["--window-size=1600,1200", "--screenshot=\(screenshot)", url])
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
            #expect(png.count > 10_000, "a rendered page, not a blank one: \(png.count) bytes")

            let dom = try await Self.chromium(["--dump-dom", url])
            let engines = try await server.get("/api/engines").body.array ?? []
            let loaded = engines.filter { $0["state"] == "loaded" }.compactMap { $0["name"]?.string }
            #expect(Set(loaded) == ["fixed", "local", "test"])
            for engine in loaded { #expect(dom.contains(#"id="engine-\#(engine)">\#(engine)</th>"#), "\(engine) missing") }
            for feature in Feature.allCases { #expect(dom.contains("<code>\(feature.rawValue)</code>"), "\(feature.rawValue) missing") }
            #expect(dom.contains("<th scope=\"row\">fx</th><td>fixed</td><td>WORKING</td>"))
            let refused = try #require(engines.first { $0["state"] == "refused" })
            #expect(refused["file"]?.string?.hasSuffix("libBroken.so") == true)
            let reason = try #require(refused["reason"]?.string)
            // A serialized DOM escapes only these three in text.
            let asText = reason.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
            #expect(dom.contains(asText), "the refusal's reason: \(reason)")
        }
    }

    /// Measured in Chromium: a local page fetches `/engines` (web security off, so it may), lays
    /// it out in a frame 1280 pixels wide and writes what it measured into its own DOM.
    @Test func theSessionsTableFitsA1280PixelWindow() async throws {
        try await withServer { server in
            #expect(try await server.request(.POST, "/api/sessions", json: #"""
                {"name": "mixed-directory", "members": [{"name": "directory", "engine": "fixed"}, {"name": "book", "engine": "local"}],
                 "routes": {"contacts.get": ["directory", "book"], "*": ["book"]}}
                """#).status == 201)
            let harness = "\(TestPlugins.makeFolder("matrix-width"))/measure.html"
            try """
                <!DOCTYPE html><html><body style="margin:0">
                <iframe id="frame" style="width:1280px;height:900px;border:0"></iframe>
                <script>
                fetch("http://127.0.0.1:\(server.port)/engines").then(answer => answer.text()).then(html => {
                  const frame = document.getElementById("frame");
                  frame.onload = () => {
                    const page = frame.contentDocument;
                    document.body.setAttribute("data-widths",
                      [page.documentElement.scrollWidth, page.getElementById("sessions").getBoundingClientRect().right].join(" "));
                  };
                  frame.srcdoc = html;
                });
                </script>
                </body></html>
                """.write(toFile: harness, atomically: true, encoding: .utf8)
            let dom = try await Self.chromium([
                "--disable-web-security", "--virtual-time-budget=15000", "--dump-dom", "file://\(harness)",
            ])
            let measured = try #require(dom.firstMatch(of: /data-widths="(\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"/), "nothing measured: \(dom.suffix(2000))")
            #expect(Double(measured.output.1)! <= 1280, "the page scrolls sideways: \(measured.output.1) pixels wide")
            #expect(Double(measured.output.2)! <= 1280, "the sessions table ends at \(measured.output.2) pixels")
        }
    }

    @Test func aPageWithNothingRefusedSaysSo() async throws {
        try await withServer { server in
            let page = try await server.get("/engines")
            #expect(page.text.contains("<h2>Refused plugins</h2>\n<p>None.</p>"))
        }
    }
}
