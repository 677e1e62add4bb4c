import ContactsEngineKit
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML element name with its namespace, as WebDAV compares them: prefixes mean nothing.
struct QName: Hashable, Sendable {
    var namespace: String
    var name: String

    static func dav(_ name: String) -> QName { QName(namespace: "DAV:", name: name) }
    static func cardDAV(_ name: String) -> QName { QName(namespace: "urn:ietf:params:xml:ns:carddav", name: name) }

    static let multistatus = dav("multistatus")
    static let response = dav("response")
    static let href = dav("href")
    static let status = dav("status")
    static let propstat = dav("propstat")
    static let prop = dav("prop")
    static let resourcetype = dav("resourcetype")
    static let collection = dav("collection")
    static let getetag = dav("getetag")
    static let syncToken = dav("sync-token")
    static let validSyncToken = dav("valid-sync-token")
    static let currentUserPrincipal = dav("current-user-principal")
    static let addressbookHomeSet = cardDAV("addressbook-home-set")
    static let addressbook = cardDAV("addressbook")
    static let addressData = cardDAV("address-data")

    /// The element as written in request bodies, whose root declares `d:` and `card:`.
    var prefixed: String { (namespace == "DAV:" ? "d:" : "card:") + name }
}

/// The request bodies the engine sends.
enum DAVRequestBody {
    static func propfind(_ properties: [QName]) -> String {
        document("d:propfind", "<d:prop>\(empty(properties))</d:prop>")
    }

    static func multiget(hrefs: [String]) -> String {
        let hrefElements = hrefs.map { "<d:href>\(escaped($0))</d:href>" }.joined()
        return document("card:addressbook-multiget", "<d:prop>\(empty([.getetag, .addressData]))</d:prop>\(hrefElements)")
    }

    static func syncCollection(token: String) -> String {
        document("d:sync-collection", """
            <d:sync-token>\(escaped(token))</d:sync-token><d:sync-level>1</d:sync-level>\
            <d:prop>\(empty([.getetag]))</d:prop>
            """)
    }

    private static func document(_ root: String, _ content: String) -> String {
        #"<?xml version="1.0" encoding="utf-8"?><\#(root) xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">\#(content)</\#(root)>"#
    }

    private static func empty(_ names: [QName]) -> String {
        names.map { "<\($0.prefixed)/>" }.joined()
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// A parsed XML element: just what a multistatus needs.
struct XMLNode: Sendable {
    var name: QName
    var text = ""
    var children: [XMLNode] = []

    func child(_ name: QName) -> XMLNode? { children.first { $0.name == name } }
    func children(_ name: QName) -> [XMLNode] { children.filter { $0.name == name } }
    var trimmedText: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    static func parse(_ data: Data) throws(EngineError) -> XMLNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw EngineError(.internal, "malformed XML from the CardDAV server: \(reason)")
        }
        return root
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var open: [XMLNode] = []
        var root: XMLNode?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            open.append(XMLNode(name: QName(namespace: namespaceURI ?? "", name: name)))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !open.isEmpty { open[open.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            if !open.isEmpty { open[open.count - 1].text += String(decoding: block, as: UTF8.self) }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let finished = open.popLast() else { return }
            if open.isEmpty { root = finished } else { open[open.count - 1].children.append(finished) }
        }
    }
}

/// A `207 Multi-Status` answer (RFC 4918), with the sync token RFC 6578 adds.
struct Multistatus: Sendable {
    struct Response: Sendable {
        var href: String
        /// The response's own status: RFC 6578 reports a removed member as a 404 here.
        var status: Int?
        /// The properties of the `200` propstats only: the others are ones the server lacks.
        var properties: [QName: XMLNode]

        func text(_ property: QName) -> String? {
            properties[property].map(\.trimmedText).flatMap { $0.isEmpty ? nil : $0 }
        }

        func href(in property: QName) -> String? {
            properties[property]?.child(.href)?.trimmedText
        }

        func resourceTypes() -> Set<QName> {
            Set(properties[.resourcetype]?.children.map(\.name) ?? [])
        }
    }

    var responses: [Response]
    var syncToken: String?

    init(_ data: Data) throws(EngineError) {
        let root = try XMLNode.parse(data)
        guard root.name == .multistatus else {
            throw EngineError(.internal, "malformed XML from the CardDAV server: expected multistatus, got \(root.name.name)")
        }
        responses = try root.children(.response).map { (node) throws(EngineError) in
            guard let href = node.child(.href)?.trimmedText, !href.isEmpty else {
                throw EngineError(.internal, "malformed XML from the CardDAV server: a response without href")
            }
            var properties: [QName: XMLNode] = [:]
            for propstat in node.children(.propstat) where Self.statusCode(propstat.child(.status)) == 200 {
                for property in propstat.child(.prop)?.children ?? [] { properties[property.name] = property }
            }
            return Response(href: href, status: Self.statusCode(node.child(.status)), properties: properties)
        }
        syncToken = root.child(.syncToken)?.trimmedText
    }

    /// `HTTP/1.1 404 Not Found` → 404.
    private static func statusCode(_ node: XMLNode?) -> Int? {
        guard let line = node?.trimmedText else { return nil }
        let fields = line.split(separator: " ")
        return fields.count >= 2 ? Int(fields[1]) : nil
    }
}
