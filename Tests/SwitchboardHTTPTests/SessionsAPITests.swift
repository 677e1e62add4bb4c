import AsyncHTTPClient
import ContactsEngineKit
import Foundation
import NIOHTTP1
import SwitchboardHTTP
import SwitchboardTestSupport
import Synchronization
import Testing

@Suite("Sessions: lifecycle, validation, persistence, swapping engines at run time")
struct SessionsAPITests {
    @Test("a fresh server has session default on local, WORKING")
    func defaultSession() async throws {
        try await withServer { server in
            let list = try await server.get("/api/sessions")
            #expect(list.status == 200)
            let session = try #require(list.body[0])
            #expect(session["name"] == "default")
            #expect(session["status"] == "WORKING")
            #expect(session["engine"]?["engine"] == "local")
            #expect(session["engine"]?["version"] == "0.1.0")
            #expect(session["engine"]?["health"]?["health"] == "ok")
        }
    }

    @Test("create, get, stop, start, restart, delete, with WAHA's statuses and codes")
    func lifecycle() async throws {
        try await withServer { server in
            let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "sales", "engine": "fixed", "config": {"webhooks": []}}"#)
            #expect(created.status == 201)
            #expect(created["status"] == "WORKING")
            #expect(created["config"] == ["webhooks": []])

            let duplicate = try await server.request(.POST, "/api/sessions", json: #"{"name": "sales", "engine": "fixed"}"#)
            #expect(duplicate.status == 422)
            #expect(duplicate["error"] == "Session \"sales\" already exists")

            let stopped = try await server.request(.POST, "/api/sessions/sales/stop")
            #expect(stopped.status == 201)
            #expect(stopped["status"] == "STOPPED")
            #expect(try await server.get("/api/sessions").body.array?.count == 1, "running sessions only, unless all=true")
            #expect(try await server.get("/api/sessions?all=true").body.array?.count == 2)

            #expect(try await server.request(.POST, "/api/sessions/sales/start")["status"] == "WORKING")
            #expect(try await server.request(.POST, "/api/sessions/sales/restart")["status"] == "WORKING")
            #expect(try await server.get("/api/sessions/sales")["engine"]?["engine"] == "fixed")

            let deleted = try await server.request(.DELETE, "/api/sessions/sales")
            #expect(deleted.status == 200)
            let gone = try await server.get("/api/sessions/sales")
            #expect(gone.status == 404)
            #expect(gone["session"] == "sales")
            #expect(try await server.get("/api/contacts/all?session=sales").status == 422)
        }
    }

    @Test("invalid names, unknown engines and refused configurations are refused with a reason")
    func validation() async throws {
        try await withServer { server in
            let badName = try await server.request(.POST, "/api/sessions", json: #"{"name": "no spaces", "engine": "fixed"}"#)
            #expect(badName.status == 400)
            #expect(badName["parameter"] == "name")
            #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "contacts"}"#).status == 400, "reserved name")

            let unknownEngine = try await server.request(.POST, "/api/sessions", json: #"{"name": "x", "engine": "nope"}"#)
            #expect(unknownEngine.status == 422)
            #expect(unknownEngine["engine"] == "nope")

            let refused = try await server.request(.POST, "/api/sessions", json: #"{"name": "x", "engine": "test", "engineConfig": {"bad": true}}"#)
            #expect(refused.status == 422)
            #expect(refused["message"] == "engine \"test\" refused the configuration: the option 'bad' is not accepted")
            #expect(try await server.get("/api/sessions/x").status == 404, "a refused session is not created")

            let notObject = try await server.request(.POST, "/api/sessions", json: #"{"name": "x", "engine": "fixed", "engineConfig": [1]}"#)
            #expect(notObject.status == 400)
            #expect(notObject["parameter"] == "engineConfig")

            let badLocal = try await server.request(.POST, "/api/sessions", json: #"{"name": "y", "engine": "local", "engineConfig": {"database": 5}}"#)
            #expect(badLocal.status == 422)

            // A failed swap keeps the old engine serving.
            let swap = try await server.request(.PUT, "/api/sessions/default", json: #"{"engine": "test", "engineConfig": {"bad": 1}}"#)
            #expect(swap.status == 422)
            #expect(try await server.get("/api/sessions/default")["engine"]?["engine"] == "local")
            #expect(try await server.get("/api/contacts/all").status == 200)
        }
    }

    @Test("a deleted session's state folder is kept, or removed with purge=true; a failed create leaves none")
    func stateFolders() async throws {
        try await withServer { server in
            let folder = { (session: String) in "\(server.data)/state/\(session)" }
            for (name, purge) in [("kept", ""), ("purged", "?purge=true")] {
                #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "\#(name)", "engine": "local"}"#).status == 201)
                #expect(try await server.request(.PUT, "/api/\(name)/contacts/14155550101@c.us", json: #"{"firstName": "Ada"}"#).status == 200)
                #expect(FileManager.default.fileExists(atPath: "\(folder(name))/local/local.sqlite"))
                #expect(try await server.request(.DELETE, "/api/sessions/\(name)\(purge)").status == 200)
            }
            #expect(FileManager.default.fileExists(atPath: "\(folder("kept"))/local/local.sqlite"), "kept without purge")
            #expect(!FileManager.default.fileExists(atPath: folder("purged")), "removed with purge")

            let refused = try await server.request(.POST, "/api/sessions", json: #"{"name": "refused", "engine": "local", "engineConfig": {"database": ""}}"#)
            #expect(refused.status == 422)
            #expect(!FileManager.default.fileExists(atPath: folder("refused")), "a failed create left its folders")
        }
    }

    @Test("a swap to another engine without engineConfig starts from {}; an engine refuses a key it does not read, naming it")
    func swapConfigurationAndUnknownKeys() async throws {
        try await withServer { server in
            #expect(try await server.request(.POST, "/api/sessions", json: #"{"name": "swapper", "engine": "fixed", "engineConfig": {"checkExists": false}}"#).status == 201)
            let swapped = try await server.request(.PUT, "/api/sessions/swapper", json: #"{"engine": "local"}"#)
            #expect(swapped.status == 200, "\(swapped.text)")
            #expect(swapped["engine"]?["config"]?.keys == [], "fixed's configuration was kept: \(swapped.text)")
            let sameEngine = try await server.request(.PUT, "/api/sessions/swapper", json: #"{"engine": "local", "config": {"note": 1}}"#)
            #expect(sameEngine.status == 200)

            let unknown = try await server.request(.PUT, "/api/sessions/swapper", json: #"{"engineConfig": {"checkExists": false}}"#)
            #expect(unknown.status == 422)
            #expect(unknown.message?.contains("unknown key 'checkExists'; this engine reads database, postgres") == true, "\(unknown.text)")
            let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "typo", "engine": "local", "engineConfig": {"databse": "x.sqlite"}}"#)
            #expect(created.status == 422)
            #expect(created.message?.contains("unknown key 'databse'") == true, "\(created.text)")
        }
    }

    @Test("the features query reports what the session's instance serves now")
    func features() async throws {
        try await withServer { server in
            _ = try await server.request(.POST, "/api/sessions", json: #"{"name": "fx", "engine": "fixed"}"#)
            let fixed = try await server.get("/api/sessions/fx/features")
            #expect(fixed["engine"] == "fixed")
            #expect(fixed["features"] == ["contacts.list", "contacts.get", "contacts.check-exists"])
            let endpoints = try #require(fixed["endpoints"]?.array)
            #expect(endpoints.count == Feature.allCases.reduce(0) { $0 + $1.endpoints.count })
            #expect(endpoints.first { $0["path"] == "/api/contacts/block" }?["supported"] == false)
            #expect(endpoints.first { $0["path"] == "/api/{session}/contacts/{id}" }?["supported"] == true)

            _ = try await server.request(.PUT, "/api/sessions/fx", json: #"{"engineConfig": {"checkExists": false}}"#)
            #expect(try await server.get("/api/sessions/fx/features")["features"] == ["contacts.list", "contacts.get"])

            let local = try await server.get("/api/sessions/default/features")
            #expect(local["features"]?.array?.count == Feature.allCases.count)
        }
    }

    @Test("sessions and local data persist across a restart on the same data folder")
    func persistence() async throws {
        let data = TestPlugins.makeFolder("persist")
        try await withServer(data: data) { server in
            _ = try await server.request(.POST, "/api/sessions", json: #"{"name": "kept", "engine": "fixed", "engineConfig": {"checkExists": false}}"#)
            _ = try await server.request(.POST, "/api/sessions", json: #"{"name": "parked", "engine": "fixed", "start": false}"#)
            _ = try await server.request(.PUT, "/api/default/contacts/4930555010@c.us", json: #"{"firstName": "Konrad"}"#)
        }
        try await withServer(data: data) { server in
            let kept = try await server.get("/api/sessions/kept")
            #expect(kept["status"] == "WORKING")
            #expect(kept["engine"]?["config"] == ["checkExists": false])
            #expect(try await server.get("/api/sessions/parked")["status"] == "STOPPED")
            #expect(try await server.get("/api/contacts?contactId=4930555010")["name"] == "Konrad")
        }
    }

    @Test("ten concurrent creates of one name: one 201, nine 422, and one session")
    func concurrentCreates() async throws {
        try await withServer { server in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await server.request(.POST, "/api/sessions", json: #"{"name": "dup", "engine": "fixed"}"#).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.sorted() == [201] + Array(repeating: 422, count: 9))
            let names = try await server.get("/api/sessions").body.array?.compactMap { $0["name"]?.string }
            #expect(names?.filter { $0 == "dup" }.count == 1)
        }
    }

    @Test("swapping a session's engine while requests flow fails no request")
    func swapUnderLoad() async throws {
        try await withServer { server in
            // Both engines know this contact, so every answer is a 200 whichever engine serves it.
            _ = try await server.request(.PUT, "/api/default/contacts/4930555010@c.us", json: #"{"firstName": "Konrad", "lastName": "Zuse"}"#)
            let load = try await underLoad(server, "/api/contacts?contactId=4930555010", answering: "Konrad Zuse") {
                for round in 0..<20 {
                    let engine = round.isMultiple(of: 2) ? "fixed" : "local"
                    let swapped = try await server.request(.PUT, "/api/sessions/default", json: #"{"engine": "\#(engine)"}"#)
                    #expect(swapped.status == 200)
                    #expect(swapped["engine"]?["engine"] == .string(engine))
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(load.failures.withLock { $0 } == [])
            #expect(load.served.load(ordering: .relaxed) > 100, "the load really overlapped the swaps")
        }
    }
}

/// Runs `work` while eight clients request `path` in a loop, each answer checked for a 200
/// naming `name`; returns what they counted once `work` is done.
func underLoad(
    _ server: TestServer, _ path: String, answering name: String, while work: @escaping @Sendable () async throws -> Void
) async throws -> LoadCounters {
    let load = LoadCounters()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<8 {
            group.addTask {
                while !load.stop.load(ordering: .relaxed) {
                    let answer = try await server.get(path)
                    if answer.status == 200, answer["name"] == .string(name) {
                        load.served.add(1, ordering: .relaxed)
                    } else {
                        load.failures.withLock { $0.append("\(answer.status) \(answer.text)") }
                    }
                }
            }
        }
        group.addTask {
            defer { load.stop.store(true, ordering: .relaxed) }
            try await work()
        }
        try await group.waitForAll()
    }
    return load
}

/// Shared by the load tasks of a test.
final class LoadCounters: Sendable {
    let stop = Atomic<Bool>(false)
    let served = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
}
