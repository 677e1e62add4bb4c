import Foundation
import SwitchboardTestSupport
import Testing

/// A session on the `carddav` plugin, pointed at a real Radicale, driven over WAHA's endpoints.
@Suite("A carddav session against a real Radicale")
struct CardDAVSessionTests {
    static func config(_ radicale: Radicale) -> String {
        #"{"url": "\#(radicale.root.absoluteString)", "username": "\#(Radicale.user)", "password": "\#(Radicale.password)", "refreshSeconds": 0}"#
    }

    @Test("serves WAHA's endpoints; an upsert shows up in Radicale; a card changed behind its back shows up after the refresh")
    func throughTheAPI() async throws {
        try await Radicale.withServer { radicale in
            try await radicale.putCard("grace.vcf", """
                BEGIN:VCARD
                VERSION:3.0
                UID:grace
                FN:Grace Hopper
                TEL;TYPE=CELL:+1 415 555 0101
                PHOTO;VALUE=uri:https://example.com/grace.jpg
                END:VCARD
                """)
            let plugins = [TestPlugins.product("CardDAVEngine")]
            try await withServer(pluginFiles: plugins) { server in
                let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "book", "engine": "carddav", "engineConfig": \#(Self.config(radicale))}"#)
                #expect(created.status == 201, "\(created.text)")

                let grace = try await server.get("/api/book/contacts/14155550101")
                #expect(grace["name"] == "Grace Hopper")
                #expect(grace["isMyContact"] == true)
                #expect(try await server.get("/api/contacts/profile-picture?contactId=14155550101&session=book")["profilePictureURL"] == "https://example.com/grace.jpg")

                let upsert = try await server.request(.PUT, "/api/book/contacts/4930555010@c.us", json: #"{"firstName": "Konrad", "lastName": "Zuse"}"#)
                #expect(upsert.status == 200, "\(upsert.text)")
                let cards = try await radicale.cardNames()
                #expect(cards.count == 2)
                let stored = try await cards.asyncCompactMap { try await radicale.getCard($0) }
                #expect(stored.contains { $0.contains("FN:Konrad Zuse") && $0.contains("4930555010") })

                try await radicale.putCard("grace.vcf", """
                    BEGIN:VCARD
                    VERSION:3.0
                    UID:grace
                    FN:Grace Brewster Hopper
                    TEL;TYPE=CELL:+1 415 555 0101
                    END:VCARD
                    """)
                #expect(try await server.get("/api/contacts?contactId=14155550101&session=book")["name"] == "Grace Brewster Hopper")
                let all = try await server.get("/api/contacts/all?session=book&sortBy=name")
                #expect(all.body.array?.compactMap { $0["name"]?.string } == ["Grace Brewster Hopper", "Konrad Zuse"])

                let about = try await server.get("/api/contacts/about?contactId=14155550101&session=book")
                #expect(about.status == 501)
                #expect(about["engine"] == "carddav")
                #expect(about["feature"] == "contacts.about")
                let features = try await server.get("/api/sessions/book/features")
                let served = Set((features["endpoints"]?.array ?? []).filter { $0["supported"] == true }.compactMap { $0["feature"]?.string })
                #expect(served == ["contacts.list", "contacts.get", "contacts.upsert", "contacts.profile-picture"])

                radicale.kill()
                let down = try await server.request(.PUT, "/api/book/contacts/4930555010@c.us", json: #"{"firstName": "K"}"#)
                #expect(down.status == 503, "\(down.text)")
                #expect(down["engine"] == "carddav")
            }
        }
    }
}

extension Sequence {
    func asyncCompactMap<T>(_ transform: (Element) async throws -> T?) async rethrows -> [T] {
        var results: [T] = []
        for element in self {
            if let value = try await transform(element) { results.append(value) }
        }
        return results
    }
}
