import Foundation
import SwitchboardHTTP
import SwitchboardTestSupport
import Synchronization
import Testing

/// Composite sessions: one session, a member engine per feature, with the real engines
/// (`local` embedded, the `vcard` and `waha` plugins), the `waha` member in front of a second
/// `switchboard serve`.
@Suite("composite sessions")
struct CompositeSessionTests {
    static let plugins = [TestPlugins.product("WAHAEngine"), TestPlugins.product("VCardEngine"), TestPlugins.product("FixedEngine")]
    static let grace = "14155550101"

    /// A folder holding one vCard: Ada Lovelace, +1 415 555 0102.
    static func addressBook() throws -> String {
        let folder = TestPlugins.makeFolder("composite-vcards")
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lovelace;Ada;;;\r\nFN:Ada Lovelace\r\nTEL;TYPE=CELL:+1 415 555 0102\r\nEND:VCARD\r\n"
        try card.write(toFile: "\(folder)/ada.vcf", atomically: true, encoding: .utf8)
        return folder
    }

    static func body(upstream: String, book: String) -> String {
        """
        {"name": "c", "members": [
            {"name": "wweb", "engine": "waha", "engineConfig": {"url": "\(upstream)", "session": "default", "detectSeconds": 1}},
            {"name": "book", "engine": "vcard", "engineConfig": {"directory": "\(book)"}},
            {"name": "cache", "engine": "local"}],
         "routes": {
            "contacts.get": ["wweb", "cache"], "contacts.about": ["wweb", "cache"], "contacts.list": ["book"],
            "contacts.block": ["wweb", "cache"], "contacts.upsert": {"members": ["wweb", "cache"], "mirror": true},
            "*": ["cache"]}}
        """
    }

    static func route(_ server: TestServer, _ feature: String) async throws -> JSONValue? {
        try await server.get("/api/sessions/c/features")["routing"]?[feature]
    }

    @Test("routes each feature to its member, falls back on reads while the upstream is stopped, answers writes 503 naming the member, recovers, and the features endpoint follows each step")
    func routesFallsBackAndRecovers() async throws {
        let upstreamData = TestPlugins.makeFolder("composite-upstream")
        var upstream = try await SwitchboardProcess.start(data: upstreamData)
        defer { upstream.stop() }
        let port = upstream.port
        try await withServer(pluginFiles: Self.plugins) { server in
            let created = try await server.request(.POST, "/api/sessions", json: Self.body(upstream: upstream.url, book: try Self.addressBook()))
            #expect(created.status == 201, "\(created.text)")
            #expect(created["engine"]?["engine"] == "composite")
            #expect(created["engine"]?["members"]?.array?.compactMap { $0["name"]?.string } == ["wweb", "book", "cache"])
            #expect(created["engine"]?["members"]?[0]?["engine"] == "waha")

            // The waha member serves what its upstream detected: wait for the first detection.
            #expect(try await eventually { try await Self.route(server, "contacts.about")?["servedBy"] == "wweb" ? true : nil })
            let get = try await Self.route(server, "contacts.get")
            #expect(get?["servedBy"] == "wweb")
            #expect(get?["standby"] == ["cache"])
            #expect(try await Self.route(server, "contacts.list")?["servedBy"] == "book")
            #expect(try await Self.route(server, "lids.count")?["servedBy"] == "cache")

            // A mirrored write reaches both members.
            let put = try await server.request(.PUT, "/api/c/contacts/\(Self.grace)@c.us", json: #"{"firstName": "Grace", "lastName": "Hopper"}"#)
            #expect(put.status == 200, "\(put.text)")
            #expect(put.headers["x-switchboard-member"] == "wweb, cache")
            let onUpstream = try await upstream.request("GET", "/api/contacts?contactId=\(Self.grace)")
            #expect(onUpstream.body.contains("Grace Hopper"))

            let contact = try await server.get("/api/contacts?contactId=\(Self.grace)&session=c")
            #expect(contact.status == 200 && contact["name"] == "Grace Hopper", "\(contact.text)")
            #expect(contact.headers["x-switchboard-member"] == "wweb")
            let list = try await server.get("/api/contacts/all?session=c")
            #expect(list.headers["x-switchboard-member"] == "book")
            #expect(list.body.array?.compactMap { $0["name"]?.string } == ["Ada Lovelace"])
            #expect(try await server.get("/api/contacts/about?contactId=\(Self.grace)&session=c").headers["x-switchboard-member"] == "wweb")
            #expect(try await server.get("/api/c/lids/count").headers["x-switchboard-member"] == "cache")

            upstream.stop()
            // Reads keep answering, from the next member.
            let fallback = try await server.get("/api/contacts?contactId=\(Self.grace)&session=c")
            #expect(fallback.status == 200 && fallback["name"] == "Grace Hopper", "\(fallback.text)")
            #expect(fallback.headers["x-switchboard-member"] == "cache")
            // A write does not fall through: 503 naming the member.
            let block = try await server.request(.POST, "/api/contacts/block", json: #"{"contactId": "\#(Self.grace)", "session": "c"}"#)
            #expect(block.status == 503, "\(block.text)")
            #expect(block["member"] == "wweb")
            #expect(block["engine"] == "waha")
            // A mirrored write that one member missed: 503, who acknowledged, who failed.
            let partial = try await server.request(.PUT, "/api/c/contacts/\(Self.grace)@c.us", json: #"{"firstName": "Amazing", "lastName": "Grace"}"#)
            #expect(partial.status == 503, "\(partial.text)")
            #expect(partial["acknowledged"] == ["cache"])
            #expect(partial["failed"] == ["wweb"])
            #expect(try await server.get("/api/contacts?contactId=\(Self.grace)&session=c")["name"] == "Amazing Grace")
            // The features endpoint shows the read served by the healthy member, the write still routed to the failing one.
            #expect(try await eventually { try await Self.route(server, "contacts.get")?["servedBy"] == "cache" ? true : nil })
            #expect(try await Self.route(server, "contacts.block")?["servedBy"] == "wweb")
            #expect(try await server.get("/api/sessions/c")["status"] == "WORKING")

            // The upstream comes back where it was, with what it stored.
            upstream = try await SwitchboardProcess.start(data: upstreamData, port: port)
            let recovered = try await eventually {
                let answer = try await server.get("/api/contacts?contactId=\(Self.grace)&session=c")
                return answer.headers["x-switchboard-member"] == "wweb" && answer["name"] == "Grace Hopper" ? true : nil
            }
            #expect(recovered)
            #expect(try await eventually { try await Self.route(server, "contacts.get")?["servedBy"] == "wweb" ? true : nil })
            let metrics = try await server.get("/metrics").text
            #expect(metrics.contains(#"member="cache""#) && metrics.contains("switchboard_member_calls_total"))
        }
    }

    @Test("a member that stops serving a feature live (the waha engine's demotion) moves the route at once, reads and writes alike")
    func demotionMovesTheRoute() async throws {
        try await SwitchboardProcess.withServer { upstream in
            // The upstream session runs `fixed`: no about, no upsert.
            try await upstream.request("POST", "/api/sessions", body: #"{"name": "s", "engine": "fixed"}"#)
            try await withServer(pluginFiles: Self.plugins) { server in
                let body = """
                    {"name": "c", "members": [
                        {"name": "wweb", "engine": "waha", "engineConfig": {"url": "\(upstream.url)", "session": "s", "detectSeconds": 1}},
                        {"name": "cache", "engine": "local"}],
                     "routes": {"*": ["wweb", "cache"]}}
                    """
                #expect(try await server.request(.POST, "/api/sessions", json: body).status == 201)
                // Until its first detection the waha member is taken to serve everything; then about moves.
                #expect(try await eventually { try await Self.route(server, "contacts.about")?["servedBy"] == "cache" ? true : nil })
                #expect(try await Self.route(server, "contacts.about")?["standby"] == [])
                #expect(try await Self.route(server, "contacts.get")?["servedBy"] == "wweb")
                let put = try await server.request(.PUT, "/api/c/contacts/\(Self.grace)@c.us", json: #"{"firstName": "Grace"}"#)
                #expect(put.status == 200, "\(put.text)")
                #expect(put.headers["x-switchboard-member"] == "cache")
                #expect(try await server.get("/api/contacts/about?contactId=\(Self.grace)&session=c").headers["x-switchboard-member"] == "cache")
                let features = try await server.get("/api/sessions/c/features")
                #expect(features["features"]?.array?.count == 12, "every feature is served by some member")
                let page = try await server.get("/engines").text
                #expect(page.contains("✔ wweb") && page.contains("✔ cache"))
            }
        }
    }

    @Test("members are added, replaced and routes reordered under load, failing no request")
    func swapsUnderLoad() async throws {
        try await withServer(pluginFiles: Self.plugins) { server in
            // `fixed` knows this contact; each `local` member learns it from the mirrored write.
            @Sendable func members(f engine: String, extra: Bool) -> String {
                #"[{"name": "l", "engine": "local"}, {"name": "f", "engine": "\#(engine)"}"#
                    + (extra ? #", {"name": "x", "engine": "fixed"}"# : "") + "]"
            }
            @Sendable func routes(_ get: [String]) -> String {
                let order = get.map { "\"\($0)\"" }.joined(separator: ", ")
                return #"{"contacts.get": [\#(order)], "contacts.upsert": {"members": ["l", "f"], "mirror": true}, "*": ["l"]}"#
            }
            let created = try await server.request(
                .POST, "/api/sessions", json: #"{"name": "c", "members": \#(members(f: "local", extra: false)), "routes": \#(routes(["f", "l"]))}"#)
            #expect(created.status == 201, "\(created.text)")
            let put = try await server.request(.PUT, "/api/c/contacts/4930555010@c.us", json: #"{"firstName": "Konrad", "lastName": "Zuse"}"#)
            #expect(put.status == 200, "\(put.text)")

            let load = try await underLoad(server, "/api/contacts?contactId=4930555010&session=c", answering: "Konrad Zuse") {
                for round in 0..<15 {
                    let body: String = switch round % 3 {
                    case 0: #"{"members": \#(members(f: round.isMultiple(of: 2) ? "fixed" : "local", extra: false))}"#
                    case 1: #"{"members": \#(members(f: "fixed", extra: true)), "routes": \#(routes(["x", "f", "l"]))}"#
                    default: #"{"members": \#(members(f: "local", extra: false)), "routes": \#(routes(round.isMultiple(of: 4) ? ["l", "f"] : ["f", "l"]))}"#
                    }
                    let swapped = try await server.request(.PUT, "/api/sessions/c", json: body)
                    #expect(swapped.status == 200, "\(swapped.text)")
                    try await Task.sleep(for: .milliseconds(30))
                }
            }
            #expect(load.failures.withLock { $0 } == [])
            #expect(load.served.load(ordering: .relaxed) > 100, "the load really overlapped the swaps")
        }
    }

    @Test("a swap keeps the instances of members it does not change")
    func unchangedMembersKeepTheirInstance() async throws {
        // The test engine counts the about calls of each instance: a new instance starts from 0.
        try await withServer(pluginFiles: Self.plugins + [try TestPlugins.compile("test_engine.c")]) { server in
            let body = #"{"name": "c", "members": [{"name": "a", "engine": "test"}, {"name": "b", "engine": "test"}], "routes": {"*": ["a"]}}"#
            #expect(try await server.request(.POST, "/api/sessions", json: body).status == 201)
            #expect(try await server.get("/api/contacts/about?contactId=\(Self.grace)&session=c").status == 200)
            func completed(_ member: Int) async throws -> JSONValue? {
                try await server.get("/api/sessions/c")["engine"]?["members"]?[member]?["health"]?["counters"]?["aboutCompleted"]
            }
            #expect(try await completed(0) == 1)
            let swapped = try await server.request(
                .PUT, "/api/sessions/c", json: #"{"members": [{"name": "a", "engine": "test"}, {"name": "b", "engine": "fixed"}], "routes": {"*": ["a", "b"]}}"#)
            #expect(swapped.status == 200, "\(swapped.text)")
            #expect(swapped["engine"]?["members"]?[1]?["engine"] == "fixed")
            #expect(try await completed(0) == 1, "member a kept its instance")
            let replaced = try await server.request(
                .PUT, "/api/sessions/c", json: #"{"members": [{"name": "a", "engine": "test", "engineConfig": {"x": 1}}, {"name": "b", "engine": "fixed"}]}"#)
            #expect(replaced.status == 200, "\(replaced.text)")
            #expect(try await completed(0) == 0, "a new configuration is a new instance")
        }
    }

    @Test("a plugin upgrade renews the members on that engine and keeps the others' instances")
    func upgradeRenewsOnlyItsMembers() async throws {
        let folder = TestPlugins.makeFolder("composite-upgrade")
        let kept = try TestPlugins.compile("test_engine.c", defines: ["ENGINE_NAME=\"kept\""])
        try FileManager.default.copyItem(atPath: kept, toPath: "\(folder)/kept.so")
        let v1 = try TestPlugins.compile("test_engine.c", defines: ["ENGINE_VERSION=\"1.0.0\""])
        try FileManager.default.copyItem(atPath: v1, toPath: "\(folder)/test.so")
        try await withServer(pluginFiles: [], pluginDirectories: [folder]) { server in
            let body = #"{"name": "c", "members": [{"name": "a", "engine": "test"}, {"name": "b", "engine": "kept"}], "routes": {"contacts.about": ["b"], "*": ["a"]}}"#
            let created = try await server.request(.POST, "/api/sessions", json: body)
            #expect(created.status == 201, "\(created.text)")
            #expect(try await server.get("/api/contacts/about?contactId=\(Self.grace)&session=c").headers["x-switchboard-member"] == "b")

            let v2 = try TestPlugins.compile("test_engine.c", defines: ["ENGINE_VERSION=\"2.0.0\""])
            try FileManager.default.copyItem(atPath: v2, toPath: "\(folder)/test.so.new")
            #expect(rename("\(folder)/test.so.new", "\(folder)/test.so") == 0)
            let report = try await server.request(.POST, "/api/engines/rescan")
            #expect(report["upgraded"] == ["test"], "\(report.text)")
            let members = try await server.get("/api/sessions/c")["engine"]?["members"]
            #expect(members?[0]?["version"] == "2.0.0")
            #expect(members?[1]?["health"]?["counters"]?["aboutCompleted"] == 1, "member b kept its instance")
        }
    }

    @Test("a composite persists: a server restarted on the same data serves it again")
    func persists() async throws {
        let data = TestPlugins.makeFolder("composite-persist")
        let body = #"{"name": "c", "members": [{"name": "a", "engine": "local"}, {"name": "b", "engine": "fixed"}], "routes": {"contacts.list": ["b"], "*": {"members": ["a"], "mirror": true}}}"#
        try await withServer(data: data, pluginFiles: Self.plugins) { server in
            let created = try await server.request(.POST, "/api/sessions", json: body)
            #expect(created.status == 201, "\(created.text)")
        }
        try await withServer(data: data, pluginFiles: Self.plugins) { server in
            let session = try await server.get("/api/sessions/c")
            #expect(session["status"] == "WORKING", "\(session.text)")
            #expect(session["engine"]?["routes"]?["contacts.list"] == ["members": ["b"], "mirror": false])
            #expect(session["engine"]?["routes"]?["*"] == ["members": ["a"], "mirror": true])
            #expect(try await server.get("/api/contacts/all?session=c").headers["x-switchboard-member"] == "b")
        }
    }

    @Test("a read whose member times out is answered by the next member")
    func timeoutFallsThroughOnReads() async throws {
        // `slow` answers about after 20 s; the server waits 1 s for a call.
        try await withServer(pluginFiles: [try TestPlugins.compile("test_engine.c")], callTimeout: .seconds(1)) { server in
            let body = #"{"name": "c", "members": [{"name": "slow", "engine": "test", "engineConfig": {"aboutDelayMs": 20000}}, {"name": "quick", "engine": "test"}], "routes": {"*": ["slow", "quick"]}}"#
            let created = try await server.request(.POST, "/api/sessions", json: body)
            #expect(created.status == 201, "\(created.text)")
            let about = try await server.get("/api/contacts/about?contactId=\(Self.grace)&session=c")
            #expect(about.status == 200, "\(about.text)")
            #expect(about.headers["x-switchboard-member"] == "quick")
        }
    }

    @Test("the request's log line names the member that answered")
    func logNamesTheMember() async throws {
        try await SwitchboardProcess.withServer { server in
            try await server.request("POST", "/api/sessions", body: #"{"name": "c", "members": [{"name": "dir", "engine": "fixed"}], "routes": {"*": ["dir"]}}"#)
            try await server.request("GET", "/api/contacts/all?session=c")
            let logged = try await eventually {
                server.output.split(separator: "\n").contains { $0.contains("GET /api/contacts/all 200") && $0.contains("member=dir") } ? true : nil
            }
            #expect(logged, "\(server.output.suffix(2000))")
        }
    }

    @Test("a single-engine session answers no member header")
    func singleEngineHasNoMemberHeader() async throws {
        try await withServer { server in
            let answer = try await server.get("/api/contacts/all")
            #expect(answer.status == 200)
            #expect(answer.headers["x-switchboard-member"] == nil)
        }
    }

    @Test("a feature no route names answers 501 naming the session, the feature and the route")
    func unroutedFeature() async throws {
        try await withServer(pluginFiles: Self.plugins) { server in
            let body = #"{"name": "c", "members": [{"name": "f", "engine": "fixed"}], "routes": {"contacts.get": ["f"], "contacts.about": ["f"]}}"#
            #expect(try await server.request(.POST, "/api/sessions", json: body).status == 201)
            let list = try await server.get("/api/contacts/all?session=c")
            #expect(list.status == 501, "\(list.text)")
            #expect(list["feature"] == "contacts.list")
            #expect(list["session"] == "c")
            #expect(list["route"] == [])
            // Routed to a member whose engine lacks the feature: the route is named.
            let about = try await server.get("/api/contacts/about?contactId=\(Self.grace)&session=c")
            #expect(about.status == 501)
            #expect(about["route"] == ["f"])
            #expect(try await server.get("/api/sessions/c/features")["routing"]?["contacts.about"]?["servedBy"] == .null)
        }
    }

    @Test("invalid compositions are refused with a JSON error naming the key at fault", arguments: [
        (#""engine": "local", "members": [{"name": "a", "engine": "local"}], "routes": {"*": ["a"]}"#, 422, "engine"),
        (#""members": [{"name": "a", "engine": "local"}]"#, 422, "routes"),
        (#""routes": {"*": ["a"]}"#, 422, "members"),
        (#""members": [], "routes": {"*": ["a"]}"#, 422, "members"),
        (#""members": [{"name": "a", "engine": "local"}], "routes": {"*": ["b"]}"#, 422, "routes"),
        (#""members": [{"name": "a", "engine": "local"}], "routes": {"contacts.nothing": ["a"]}"#, 422, "routes"),
        (#""members": [{"name": "a", "engine": "local"}], "routes": {"*": []}"#, 422, "routes"),
        (#""members": [{"name": "a", "engine": "local"}], "routes": {"*": ["a", "a"]}"#, 422, "routes"),
        (#""members": [{"name": "a", "engine": "local"}, {"name": "a", "engine": "fixed"}], "routes": {"*": ["a"]}"#, 422, "members"),
        (#""members": [{"name": "a b", "engine": "local"}], "routes": {"*": ["a b"]}"#, 422, "members"),
        (#""members": [{"name": "a", "engine": "nope"}], "routes": {"*": ["a"]}"#, 422, "engine"),
        (#""members": [{"name": "a", "engine": "composite"}], "routes": {"*": ["a"]}"#, 422, "members"),
        (#""members": [{"name": "a", "engine": "local", "engineConfig": 3}], "routes": {"*": ["a"]}"#, 400, "members"),
        (#""members": [{"name": "a", "engine": "local"}], "routes": {"*": 3}"#, 400, "*"),
        (#""members": [{"name": "a", "engine": "local"}], "isolation": "process", "routes": {"*": ["a"]}"#, 422, "isolation"),
    ])
    func invalidCompositions(fields: String, status: Int, parameter: String) async throws {
        try await withServer(pluginFiles: Self.plugins) { server in
            let answer = try await server.request(.POST, "/api/sessions", json: #"{"name": "c", \#(fields)}"#)
            #expect(answer.status == status, "\(answer.text)")
            #expect(answer["statusCode"]?.int == status)
            let named = answer["parameter"]?.string ?? answer["engine"]?.string
            #expect(named == parameter || (parameter == "engine" && answer["engine"] == "nope"), "\(answer.text)")
            #expect(try await server.get("/api/sessions/c").status == 404, "nothing was created")
        }
    }

    @Test("a composite has at most 8 members")
    func memberLimit() async throws {
        try await withServer(pluginFiles: Self.plugins) { server in
            func body(_ count: Int) -> String {
                let members = (0..<count).map { #"{"name": "m\#($0)", "engine": "fixed"}"# }.joined(separator: ", ")
                return #"{"name": "c\#(count)", "members": [\#(members)], "routes": {"*": ["m0"]}}"#
            }
            #expect(try await server.request(.POST, "/api/sessions", json: body(8)).status == 201)
            let refused = try await server.request(.POST, "/api/sessions", json: body(9))
            #expect(refused.status == 422)
            #expect(refused["parameter"] == "members")
            #expect(refused.text.contains("at most 8"))
        }
    }

    @Test("updates refuse what does not fit a composite, and turn it back into one engine with 'engine'")
    func updates() async throws {
        try await withServer(pluginFiles: Self.plugins) { server in
            let body = #"{"name": "c", "members": [{"name": "a", "engine": "local"}], "routes": {"*": ["a"]}}"#
            #expect(try await server.request(.POST, "/api/sessions", json: body).status == 201)
            let config = try await server.request(.PUT, "/api/sessions/c", json: #"{"engineConfig": {}}"#)
            #expect(config.status == 422 && config["parameter"] == "engineConfig", "\(config.text)")
            let both = try await server.request(.PUT, "/api/sessions/c", json: #"{"engine": "fixed", "routes": {"*": ["a"]}}"#)
            #expect(both.status == 422 && both["parameter"] == "engine", "\(both.text)")
            let dangling = try await server.request(.PUT, "/api/sessions/c", json: #"{"routes": {"*": ["b"]}}"#)
            #expect(dangling.status == 422 && dangling["parameter"] == "routes", "\(dangling.text)")
            let single = try await server.request(.PUT, "/api/sessions/c", json: #"{"engine": "fixed"}"#)
            #expect(single.status == 200)
            #expect(single["engine"]?["engine"] == "fixed")
            #expect(single["engine"]?["members"] == nil)
            #expect(try await server.get("/api/sessions/c/features")["routing"] == nil)
            let routesOnly = try await server.request(.PUT, "/api/sessions/c", json: #"{"routes": {"*": ["a"]}}"#)
            #expect(routesOnly.status == 422 && routesOnly["parameter"] == "members", "\(routesOnly.text)")
        }
    }

    /// Polls `probe` until it answers, for at most twenty seconds; false if it never did.
    func eventually(_ probe: () async throws -> Bool?) async throws -> Bool {
        for _ in 0..<200 {
            if try await probe() == true { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
