import Foundation
import SwitchboardHTTP
import SwitchboardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a client writing HTTP by hand meets: when the server closes the connection, and `HEAD`.
/// Raw sockets, since an HTTP client library would hide both. The server's idle timeout is an
/// hour, so an end of file the test sees came from the answer, not from the timeout.
@Suite struct HTTPFramingTests {
    static let patient = ConnectionTimeouts(idle: .seconds(3600))

    /// What the server sent on one connection after `request`, and whether it then closed it.
    /// Reading gives up after 20 s of silence (a connection left open), far past any answer.
    struct Exchange {
        var text: String
        var closed: Bool
    }

    static func exchange(port: Int, _ request: String) async throws -> Exchange {
        try await withCheckedThrowingContinuation { continuation in
            // Blocking socket calls, on a thread of their own rather than the concurrency pool.
            Thread {
                continuation.resume(with: Result { try exchangeBlocking(port: port, request) })
            }.start()
        }
    }

    private static func exchangeBlocking(port: Int, _ request: String) throws -> Exchange {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SwitchboardProcess.Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SwitchboardProcess.Failure(description: "connect: errno \(errno)") }
        var patience = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw SwitchboardProcess.Failure(description: "send: errno \(errno)")
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[0..<count]
            } else {
                // 0: the server closed its side; -1 with EAGAIN: 20 s and nothing, it left it open.
                return Exchange(text: String(decoding: received, as: UTF8.self), closed: count == 0)
            }
        }
    }

    /// The status lines of the answers in `text`, in order (a pipelined answer's follows the
    /// previous body on the same line).
    static func statusLines(_ text: String) -> [String] {
        text.matches(of: /HTTP\/1\.[01] \d{3} [^\r]*/).map { String($0.output) }
    }

    @Test func anHTTP10RequestWithoutKeepAliveIsAnsweredThenClosed() async throws {
        try await withServer(timeouts: Self.patient) { server in
            let answer = try await Self.exchange(port: server.port, "GET /ping HTTP/1.0\r\n\r\n")
            #expect(Self.statusLines(answer.text).count == 1, "\(answer.text)")
            #expect(answer.text.contains(" 200 "), "\(answer.text)")
            #expect(answer.closed, "the connection stayed open after the answer")
        }
    }

    @Test func anHTTP10RequestAskingForKeepAliveKeepsItsConnectionForTheNext() async throws {
        try await withServer(timeouts: Self.patient) { server in
            // Two requests on one connection: the first keeps it alive, the second does not.
            let answer = try await Self.exchange(
                port: server.port, "GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /ping HTTP/1.0\r\n\r\n")
            #expect(Self.statusLines(answer.text).count == 2, "\(answer.text)")
            #expect(answer.closed)
        }
    }

    @Test func anHTTP11RequestSayingCloseInAnyCaseIsClosed() async throws {
        try await withServer(timeouts: Self.patient) { server in
            let answer = try await Self.exchange(port: server.port, "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n")
            #expect(Self.statusLines(answer.text).count == 1, "\(answer.text)")
            #expect(answer.closed)
        }
    }

    @Test func bothContentLengthAndTransferEncodingAnswer400AndCloseAtOnce() async throws {
        try await withServer(timeouts: Self.patient) { server in
            let answer = try await Self.exchange(
                port: server.port,
                "POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n")
            #expect(Self.statusLines(answer.text).first?.contains(" 400 ") == true, "\(answer.text)")
            #expect(answer.text.contains("malformed HTTP request"), "\(answer.text)")
            #expect(answer.closed, "the connection stayed open after the 400")
            #expect(try await server.get("/ping").status == 200, "the server still serves")
        }
    }

    /// The head of an answer (status line and fields) and what follows it.
    static func split(_ text: String) -> (head: String, body: String) {
        guard let end = text.range(of: "\r\n\r\n") else { return (text, "") }
        return (String(text[..<end.lowerBound]), String(text[end.upperBound...]))
    }

    static func field(_ name: String, in head: String) -> String? {
        head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
            .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
    }

    @Test(arguments: ["/api/sessions", "/api/contacts/all?session=default", "/api/sessions/nobody"])
    func headAnswersAsGetWithoutTheBody(path: String) async throws {
        try await withServer(timeouts: Self.patient) { server in
            let get = Self.split(try await Self.exchange(port: server.port, "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text)
            let head = try await Self.exchange(port: server.port, "HEAD \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let (headFields, headBody) = Self.split(head.text)
            #expect(Self.statusLines(headFields) == Self.statusLines(get.head), "\(head.text)")
            #expect(headBody.isEmpty, "a HEAD answer has no body: \(headBody)")
            #expect(Self.field("Content-Type", in: headFields) == Self.field("Content-Type", in: get.head))
            // A chunked GET body is counted; whatever the GET's framing, HEAD names its length.
            let getLength = get.head.lowercased().contains("transfer-encoding: chunked") ? nil : Self.field("Content-Length", in: get.head)
            if let getLength { #expect(Self.field("Content-Length", in: headFields) == getLength) }
            #expect(head.closed)
        }
    }

    @Test func headIsListedInAllowBesideGet() async throws {
        try await withServer(timeouts: Self.patient) { server in
            let answer = try await Self.exchange(port: server.port, "PATCH /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let (fields, _) = Self.split(answer.text)
            #expect(Self.statusLines(fields).first?.contains(" 405 ") == true, "\(answer.text)")
            #expect(Self.field("Allow", in: fields)?.components(separatedBy: ", ").sorted() == ["GET", "HEAD", "POST"], "\(fields)")
            // HEAD where there is no GET: 405, still without a body.
            let post = try await Self.exchange(port: server.port, "HEAD /api/sessions/default/start HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(Self.statusLines(post.text).first?.contains(" 405 ") == true, "\(post.text)")
            #expect(Self.split(post.text).body.isEmpty)
        }
    }
}
