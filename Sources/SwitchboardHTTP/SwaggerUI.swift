import Foundation
import HTTPTypes
import Hummingbird

/// Swagger UI at `/`: its files served by this server from a folder (no network needed), or
/// loaded from a CDN. The folder is a copy of swagger-ui-dist (`scripts/swagger-ui` installs
/// one into the data folder); its version is read from the bundle itself, so the page, the
/// `X-Swagger-UI-Version` header and the log all name the files really served.
public struct SwaggerUI: Sendable {
    public enum Source: Sendable, Equatable {
        /// A folder holding swagger-ui-dist's `swagger-ui-bundle.js` and `swagger-ui.css`.
        case folder(String)
        /// A base URL holding the same files, e.g. `https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.33.1`.
        case cdn(String)
    }

    /// The files the page needs, each served under `/swagger-ui/`.
    static let files = ["swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"]
    static let assetPath = "/swagger-ui"

    public let source: Source
    /// The files' contents, read once at start (a folder source only).
    private let assets: [String: ByteBuffer]
    /// swagger-ui-dist's version, from the bundle; `nil` for a CDN or a folder without one.
    public let version: String?

    public init(_ source: Source) {
        self.source = source
        var assets: [String: ByteBuffer] = [:]
        if case .folder(let folder) = source {
            for name in Self.files.keys {
                if let data = FileManager.default.contents(atPath: "\(folder)/\(name)") { assets[name] = ByteBuffer(bytes: data) }
            }
        }
        self.assets = assets
        version = assets["swagger-ui-bundle.js"].flatMap(Self.version(inBundle:))
    }

    /// Whether `/` will render: the folder has every file (a CDN is assumed reachable).
    public var isComplete: Bool {
        if case .cdn = source { return true }
        return assets.count == Self.files.count
    }

    /// The bundle states its version once: `PACKAGE_VERSION:"5.33.1"`.
    static func version(inBundle bundle: ByteBuffer) -> String? {
        let text = String(buffer: bundle)
        guard let marker = text.range(of: "PACKAGE_VERSION:\"") else { return nil }
        let rest = text[marker.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    var page: String {
        let base: String = switch source {
        case .folder: Self.assetPath
        case .cdn(let url): url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        guard isComplete else {
            return """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>Switchboard API</title></head>
                <body><p>Swagger UI's files are not installed (scripts/swagger-ui puts them in the data folder).
                The OpenAPI document is at <a href="/-json">/-json</a>.</p></body></html>
                """
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="swagger-ui-version" content="\(version ?? "unknown")">
              <title>Switchboard API</title>
              <link rel="stylesheet" href="\(base)/swagger-ui.css">
            </head>
            <body>
              <div id="swagger-ui"></div>
              <script src="\(base)/swagger-ui-bundle.js"></script>
              <script>
                window.ui = SwaggerUIBundle({ url: "/-json", dom_id: "#swagger-ui" });
              </script>
            </body>
            </html>
            """
    }

    var routes: [APIRoute] {
        let page = self.page
        let version = self.version
        var routes = [
            APIRoute(.get, "/", "SwaggerUI_page", tag: .observability, summary: "Swagger UI", success: .html(), isOpen: true) { _, _ throws(APIError) in
                var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
                if let version { headers[Self.versionHeader] = version }
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
            },
        ]
        guard case .folder = source else { return routes }
        for (name, type) in Self.files.sorted(by: { $0.key < $1.key }) {
            guard let bytes = assets[name] else { continue }
            let operation = name.hasSuffix(".js") ? "SwaggerUI_script" : "SwaggerUI_stylesheet"
            routes.append(APIRoute(
                .get, "\(Self.assetPath)/\(name)", operation, tag: .observability, summary: "Swagger UI's \(name)",
                success: APISuccess(status: 200, content: [(type.components(separatedBy: ";")[0], .string)]), isOpen: true
            ) { _, _ throws(APIError) in
                Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400"], body: ResponseBody(byteBuffer: bytes))
            })
        }
        return routes
    }

    static let versionHeader = HTTPField.Name("X-Swagger-UI-Version")!
}
