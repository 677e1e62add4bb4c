import ContactsEngineKit
import Foundation
import LocalEngineCore
import SwitchboardHTTP
import SwitchboardTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The unpaginated list streams (ABI 1.2's `call_in_pieces`): the engine's pieces flow to the
/// socket in a chunked body, with back-pressure from a slow client to the engine, and a failure
/// after the first piece cuts the connection instead of passing off a cut list as whole. The
/// engines are real: `local` through the Swift SDK, and `piecewise_engine.c`, whose
/// configuration makes it honest, deaf to pause, contract-breaking or stalled.
@Suite("Unpaginated lists in pieces")
struct ListInPiecesTests {
    @Test("local's 2,500 contacts stream chunked and equal the pages joined, in both orders")
    func localStreamsWholeList() async throws {
        let folder = TestPlugins.makeFolder("pieces")
        let database = "\(folder)/many.sqlite"
        let contacts = (0..<2_500).map { LocalSeed.Contact(id: String(49_000_000_000 + $0), name: "Contact \(String(format: "%04d", 2_499 - $0))") }
        _ = try LocalSeedImporter.importSeed(LocalSeed(contacts: contacts), intoDatabaseAt: database)
        try await withServer { server in
            let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "many", "engine": "local", "engineConfig": {"database": "\#(database)"}}"#)
            #expect((200..<300).contains(created.status), "\(created.text)")
            for query in ["", "&sortBy=name&sortOrder=desc"] {
                let all = try await server.get("/api/contacts/all?session=many\(query)")
                #expect(all.status == 200)
                #expect(all.headers["transfer-encoding"] == "chunked" && all.headers["content-length"] == nil, "\(all.headers)")
                #expect(all.contentType == "application/json; charset=utf-8")
                var pages: [JSONValue] = []
                for offset in stride(from: 0, to: 2_500, by: 1_000) {
                    pages += try await server.get("/api/contacts/all?session=many\(query)&limit=1000&offset=\(offset)").body.array ?? []
                }
                #expect(pages.count == 2_500)
                #expect(all.body.array == pages, "the streamed list differs from its pages (\(all.body.array?.count ?? -1) contacts)")
            }
            // A list that fits in one piece comes whole, with its length.
            let one = try await server.get("/api/contacts/all?session=default")
            #expect(one.body == [] && one.headers["content-length"] == "2", "\(one.headers)")
        }
    }

    @Test("a C engine's pieces are joined into one array, the same as its whole answer")
    func cEnginePieces() async throws {
        let plugin = try await TestPlugins.compileOffPool("piecewise_engine.c")
        try await withServer(pluginFiles: [plugin]) { server in
            try await server.createPiecewise("p", #"{"count": 2345, "perPiece": 100}"#)
            let all = try await server.get("/api/contacts/all?session=p")
            #expect(all.status == 200 && all.headers["transfer-encoding"] == "chunked", "\(all.status) \(all.headers)")
            let ids = all.body.array?.compactMap { $0["id"]?.string } ?? []
            #expect(ids == (0..<2_345).map { "\(49_000_000_000 + $0)@c.us" })
            #expect(all.body[0]?.keys == ContactsAPITests.contactKeys, "each contact in the API's shape")
            let counters = try await server.engineCounters("p")
            #expect(counters["pieces"] == 23 && counters["completed"] == 1, "\(counters)")
        }
    }

    @Test("a plugin built against the frozen 1.1 header, without pieces, answers the whole list at once")
    func pluginWithoutPieces() async throws {
        let plugin = try await TestPlugins.compileOffPool("honest_engine.c", header: TestPlugins.frozenABIv1_1, libraries: ["-ljansson"])
        try await withServer(pluginFiles: [plugin]) { server in
            let created = try await server.request(.POST, "/api/sessions", json: #"{"name": "old", "engine": "honest"}"#)
            #expect((200..<300).contains(created.status), "\(created.text)")
            let all = try await server.get("/api/contacts/all?session=old")
            #expect(all.status == 200 && all.headers["content-length"] == String(all.text.utf8.count), "\(all.headers)")
            let page = try await server.get("/api/contacts/all?session=old&limit=1000")
            #expect(all.body.array?.isEmpty == false && all.body == page.body, "\(all.text)")
        }
    }

    @Test("a client that stops reading pauses the engine; reading on resumes it and loses nothing")
    func slowClientPausesEngine() async throws {
        let plugin = try await TestPlugins.compileOffPool("piecewise_engine.c")
        try await withServer(pluginFiles: [plugin]) { server in
            try await server.createPiecewise("slow", #"{"count": 100000, "perPiece": 1000}"#)
            let connection = try await RawConnection.open(port: server.port, path: "/api/contacts/all?session=slow")
            defer { connection.close() }
            // 100,000 contacts are about 19 MB of JSON, more than the socket buffers hold.
            let paused = try await server.waitForCounters("slow") { $0["pauses", default: 0] >= 1 }
            #expect(paused["completed"] == 0 && paused["pieces", default: 0] < 99, "\(paused)")

            let body = try await connection.readChunkedBody()
            let list = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
            #expect(list.count == 100_000)
            #expect(list.last?["id"] as? String == "49000099999@c.us")
            let done = try await server.engineCounters("slow")
            #expect(done["resumes", default: 0] >= 1 && done["completed"] == 1, "\(done)")
        }
    }

    @Test("an engine that keeps sending while asked to pause is stopped at the hold limit; the server goes on")
    func engineDeafToPause() async throws {
        let plugin = try await TestPlugins.compileOffPool("piecewise_engine.c")
        try await withServer(pluginFiles: [plugin]) { server in
            try await server.createPiecewise("deaf", #"{"count": 1000000, "perPiece": 1000, "mode": "ignore-pause"}"#)
            let connection = try await RawConnection.open(port: server.port, path: "/api/contacts/all?session=deaf")
            defer { connection.close() }
            let stopped = try await server.waitForCounters("deaf") { $0["completed"] == 1 }
            #expect(stopped["pauses", default: 0] >= 1 && stopped["cancels", default: 0] + stopped["stops", default: 0] >= 1, "\(stopped)")
            // 16 MiB of its ~60-byte contacts is about 280,000: it was stopped long before the end.
            #expect(stopped["pieces", default: 0] < 999, "\(stopped)")
            let body = try await connection.readChunkedBody()
            #expect((try? JSONDecoder().decode([JSONValue].self, from: Data(body))) == nil, "a cut list must not parse as whole")
            #expect(try await server.get("/api/contacts/all?session=deaf&limit=2").body.array?.count == 2)
        }
    }

    @Test("a piece that breaks the contract cuts the connection and counts as a contract break")
    func pieceBreaksContract() async throws {
        let plugin = try await TestPlugins.compileOffPool("piecewise_engine.c")
        try await withServer(pluginFiles: [plugin]) { server in
            try await server.createPiecewise("b", #"{"count": 2500, "perPiece": 100, "mode": "break"}"#)
            let connection = try await RawConnection.open(port: server.port, path: "/api/contacts/all?session=b")
            defer { connection.close() }
            let head = try await connection.readHead()
            #expect(head.hasPrefix("HTTP/1.1 200"), "\(head)")
            let body = try await connection.readChunkedBody()
            #expect((try? JSONDecoder().decode([JSONValue].self, from: Data(body))) == nil, "a cut list must not parse as whole")
            let status = try await server.get("/api/sessions/b")
            #expect(status["engine"]?["health"]?["counters"]?["host.contractBreaks"]?.int == 1, "\(status.text)")
            _ = try await server.waitForCounters("b") { $0["completed"] == 1 }
        }
    }

    @Test("an engine that stalls after its first piece times out; the call is cancelled and the connection cut")
    func stalledEngineTimesOut() async throws {
        let plugin = try await TestPlugins.compileOffPool("piecewise_engine.c")
        try await withServer(pluginFiles: [plugin], callTimeout: .seconds(1)) { server in
            try await server.createPiecewise("stuck", #"{"count": 2500, "perPiece": 100, "mode": "stall"}"#)
            let began = ContinuousClock.now
            let connection = try await RawConnection.open(port: server.port, path: "/api/contacts/all?session=stuck")
            defer { connection.close() }
            let body = try await connection.readChunkedBody()
            #expect(ContinuousClock.now - began >= .seconds(1))
            #expect((try? JSONDecoder().decode([JSONValue].self, from: Data(body))) == nil, "a cut list must not parse as whole")
            let counters = try await server.waitForCounters("stuck") { $0["completed"] == 1 }
            #expect(counters["pieces"] == 1 && counters["cancels"] == 1, "\(counters)")
        }
    }

    @Test("a client that hangs up mid-list stops the engine")
    func clientHangsUp() async throws {
        let plugin = try await TestPlugins.compileOffPool("piecewise_engine.c")
        try await withServer(pluginFiles: [plugin]) { server in
            try await server.createPiecewise("gone", #"{"count": 1000000, "perPiece": 1000}"#)
            let connection = try await RawConnection.open(port: server.port, path: "/api/contacts/all?session=gone")
            _ = try await server.waitForCounters("gone") { $0["pauses", default: 0] >= 1 }
            connection.close()
            let counters = try await server.waitForCounters("gone") { $0["completed"] == 1 }
            #expect(counters["pieces", default: 0] < 999, "\(counters)")
            #expect(counters["stops", default: 0] + counters["cancels", default: 0] >= 1, "\(counters)")
            // The session's instance was left: it still answers, and a swap is not held up.
            #expect(try await server.get("/api/contacts/all?session=gone&limit=3").body.array?.count == 3)
        }
    }
}

extension TestServer {
    func createPiecewise(_ name: String, _ engineConfig: String) async throws {
        let created = try await request(.POST, "/api/sessions", json: #"{"name": "\#(name)", "engine": "piecewise", "engineConfig": \#(engineConfig)}"#)
        #expect((200..<300).contains(created.status), "\(created.text)")
    }

    /// The engine's own counters, from the session's status.
    func engineCounters(_ session: String) async throws -> [String: Int] {
        let status = try await get("/api/sessions/\(session)")
        guard case .object(let counters)? = status["engine"]?["health"]?["counters"] else { return [:] }
        return counters.compactMapValues(\.int)
    }

    /// The engine's counters once `done` holds of them; fails after 10 s.
    func waitForCounters(_ session: String, until done: ([String: Int]) -> Bool) async throws -> [String: Int] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let counters = try await engineCounters(session)
            if done(counters) { return counters }
            guard ContinuousClock.now < deadline else {
                Issue.record("the counters never got there: \(counters)")
                return counters
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// One HTTP/1.1 request over a plain socket, read only when the test says: how a slow or
/// departing client is played. Blocking reads run on a thread of their own, never on the pool.
final class RawConnection: Sendable {
    private let socket: Int32
    private let head = Mutex<[UInt8]>([])

    private init(socket: Int32) {
        self.socket = socket
    }

    static func open(port: Int, path: String) async throws -> RawConnection {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        // A small receive buffer, so that not reading soon holds the server back.
        var size: Int32 = 64 * 1024
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawConnectionError("connect failed: errno \(errno)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { throw RawConnectionError("send failed") }
        return RawConnection(socket: fd)
    }

    private let closed = Atomic(false)

    /// Hangs up as a client that leaves does, with unread bytes: a reset, not a polite close.
    func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(socket)
    }

    deinit {
        close()
    }

    /// The status line and headers.
    func readHead() async throws -> String {
        try await offPool { [self] in
            var bytes: [UInt8] = []
            while !bytes.suffix(4).elementsEqual("\r\n\r\n".utf8) {
                guard let byte = try readSome(1).first else { break }
                bytes.append(byte)
            }
            head.withLock { $0 = bytes }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The chunked body, decoded, up to where the server closed the connection: the whole body
    /// when it ended properly, else what came before the cut.
    func readChunkedBody() async throws -> [UInt8] {
        if head.withLock({ $0.isEmpty }) { _ = try await readHead() }
        return try await offPool { [self] in
            var raw: [UInt8] = []
            while true {
                let some = try readSome(1 << 16)
                if some.isEmpty { break }
                raw += some
            }
            var body: [UInt8] = []
            var at = 0
            while let lineEnd = raw[at...].firstRange(of: Array("\r\n".utf8)),
                  let size = Int(String(decoding: raw[at..<lineEnd.lowerBound], as: UTF8.self), radix: 16) {
                let start = lineEnd.upperBound
                body += raw[start..<min(start + size, raw.count)]
                guard size > 0, start + size + 2 <= raw.count else { break }
                at = start + size + 2
            }
            return body
        }
    }

    private func readSome(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let read = recv(socket, &buffer, count, 0)
        guard read >= 0 else {
            if errno == ECONNRESET { return [] }
            throw RawConnectionError("recv failed: errno \(errno)")
        }
        return Array(buffer.prefix(read))
    }

    private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

struct RawConnectionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
