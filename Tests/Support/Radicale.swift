import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// A real Radicale server of one test's own: on 127.0.0.1 at a free port, its storage in a
/// temporary folder, one user with a plain htpasswd password and one empty address book.
public final class Radicale: @unchecked Sendable {
    public static let pinnedVersion = "3.9.0"
    public static let installHint = "install Radicale: python3 -m venv .venv && .venv/bin/pip install radicale==\(pinnedVersion)"
    public static let user = "alice"
    public static let password = "wonderland"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let port: Int
    private let directory: URL
    // Only touched by `start` and `stop`, which a test calls in turn.
    private let process: Process

    /// With `tls`, the self-signed certificate the server presents (PEM), to trust it by.
    public let certificate: String?
    private var scheme: String { certificate == nil ? "http" : "https" }
    /// Trusts `certificate` when there is one; the shared client otherwise.
    private let client: HTTPClient
    public var root: URL { URL(string: "\(scheme)://127.0.0.1:\(port)/")! }
    public var addressBook: URL { URL(string: "\(scheme)://127.0.0.1:\(port)/\(Self.user)/contacts/")! }

    /// Runs `body` with a started server, stopped and removed afterwards whatever happens.
    ///
    /// `refusingSyncCollection` puts Radicale behind a WSGI wrapper that answers sync-collection
    /// with 501, as servers without RFC 6578 do.
    /// `tls` serves HTTPS with a self-signed certificate for 127.0.0.1, made here with openssl.
    public static func withServer<T>(refusingSyncCollection: Bool = false, tls: Bool = false, _ body: (Radicale) async throws -> T) async throws -> T {
        let server = try await Radicale(refusingSyncCollection: refusingSyncCollection, tls: tls)
        defer { server.stop() }
        return try await body(server)
    }

    private init(refusingSyncCollection: Bool, tls: Bool) async throws {
        let executable = try Self.executable()
        port = try TestPlugins.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("radicale-\(UUID().uuidString)")
        let book = directory.appendingPathComponent("storage/collection-root/\(Self.user)/contacts")
        try FileManager.default.createDirectory(at: book, withIntermediateDirectories: true)
        // Radicale's own way to mark a folder as an address book: no MKCOL needed.
        try Data(#"{"tag": "VADDRESSBOOK"}"#.utf8).write(to: book.appendingPathComponent(".Radicale.props"))
        try Data("\(Self.user):\(Self.password)\n".utf8).write(to: directory.appendingPathComponent("users"))
        var tlsSettings = ""
        if tls {
            let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
            try TestPlugins.run("/usr/bin/env", [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
            ])
            tlsSettings = "ssl = True\ncertificate = \(certificate)\nkey = \(key)"
            self.certificate = certificate
            var trusting = TLSConfiguration.makeClientConfiguration()
            trusting.trustRoots = .file(certificate)
            client = HTTPClient(configuration: .init(tlsConfiguration: trusting))
        } else {
            certificate = nil
            client = .shared
        }
        let configuration = directory.appendingPathComponent("config")
        try Data("""
            [server]
            hosts = 127.0.0.1:\(port)
            \(tlsSettings)
            [auth]
            type = htpasswd
            htpasswd_filename = \(directory.path)/users
            htpasswd_encryption = plain
            # Radicale waits a second after a wrong password by default: the test needs no brake.
            delay = 0
            [rights]
            type = owner_only
            [storage]
            filesystem_folder = \(directory.path)/storage
            [logging]
            level = warning

            """.utf8).write(to: configuration)

        process = Process()
        if refusingSyncCollection {
            process.executableURL = URL(fileURLWithPath: try Self.interpreter(of: executable))
            process.arguments = ["-c", Self.refusingSyncCollectionScript, configuration.path, String(port)]
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["--config", configuration.path]
        }
        let log = directory.appendingPathComponent("radicale.log")
        try Data().write(to: log)
        let logHandle = try FileHandle(forWritingTo: log)
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        do {
            try await waitUntilAnswering()
        } catch {
            stop()
            throw error
        }
    }

    /// Kills the server and removes its folder; the address book is gone with it.
    public func stop() {
        kill()
        if certificate != nil { try? client.syncShutdown() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Kills the server, as a crash would. SIGKILL rather than `terminate()`'s SIGTERM: a child
    /// started from a concurrency thread inherits its blocked signals, SIGTERM among them.
    public func kill() {
        guard process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private func waitUntilAnswering() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { break }
            // The address book answering, not just something on the port.
            if (try? await request("PROPFIND", addressBook, headers: [("Depth", "0")], timeout: .seconds(1)))?.status == 207 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("radicale.log"), encoding: .utf8)) ?? ""
        throw Failure(description: "Radicale did not answer on port \(port); its log:\n\(log)")
    }

    // MARK: Talking to Radicale directly, behind the engine's back

    public struct Reply {
        public var status: Int
        public var body: String
    }

    @discardableResult
    public func request(
        _ method: String, _ url: URL, headers: [(String, String)] = [], body: String? = nil, timeout: TimeAmount = .seconds(10)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(Self.user):\(Self.password)".utf8).base64EncodedString())
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 1 << 24)
        return Reply(status: Int(response.status.code), body: String(buffer: bytes))
    }

    /// Stores a card in the address book as a CardDAV client other than the engine would.
    public func putCard(_ name: String, _ vcard: String) async throws {
        let crlf = vcard.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        let reply = try await request("PUT", card(name), headers: [("Content-Type", "text/vcard; charset=utf-8")], body: crlf)
        guard (200..<300).contains(reply.status) else {
            throw Failure(description: "PUT \(name): HTTP \(reply.status) \(reply.body)")
        }
    }

    public func getCard(_ name: String) async throws -> String? {
        let reply = try await request("GET", card(name))
        return reply.status == 200 ? reply.body : nil
    }

    public func deleteCard(_ name: String) async throws {
        try await request("DELETE", card(name))
    }

    /// The file names of the cards in the address book.
    public func cardNames() async throws -> [String] {
        let reply = try await request("PROPFIND", addressBook, headers: [("Depth", "1")], body: """
            <?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>
            """)
        return reply.body.matches(of: /<(?:[A-Za-z]+:)?href>([^<]*)</).map { String($0.output.1) }
            .filter { $0.hasSuffix(".vcf") }
            .map { URL(string: $0)!.lastPathComponent }
            .sorted()
    }

    /// Makes every sync token handed out so far unknown to Radicale, as when a server expires them.
    public func forgetSyncTokens() throws {
        try FileManager.default.removeItem(at: directory.appendingPathComponent("storage/collection-root/\(Self.user)/contacts/.Radicale.cache/sync-token"))
    }

    private func card(_ name: String) -> URL { addressBook.appendingPathComponent(name) }

    // MARK: Finding and starting Radicale

    /// `$RADICALE`, else the repository's `.venv/bin/radicale`, else `radicale` on the PATH.
    private static func executable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let fileManager = FileManager.default
        if let path = environment["RADICALE"], !path.isEmpty {
            guard fileManager.isExecutableFile(atPath: path) else {
                throw Failure(description: "RADICALE=\(path) is not an executable; \(installHint)")
            }
            return path
        }
        let repositoryRoot = URL(fileURLWithPath: TestPlugins.repositoryRoot)
        let candidates = [repositoryRoot.appendingPathComponent(".venv/bin/radicale").path]
            + (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/radicale" }
        guard let found = candidates.first(where: fileManager.isExecutableFile(atPath:)) else {
            throw Failure(description: "Radicale not found (checked $RADICALE, \(candidates[0]) and the PATH): \(installHint)")
        }
        return found
    }

    /// The Python that runs `radicale`, from the script's `#!` line: it can import the package.
    private static func interpreter(of script: String) throws -> String {
        let firstLine = try String(contentsOfFile: script, encoding: .utf8).split(separator: "\n").first ?? ""
        guard firstLine.hasPrefix("#!") else { throw Failure(description: "\(script) has no #! line to find its Python") }
        return String(firstLine.dropFirst(2)).trimmingCharacters(in: .whitespaces)
    }

    private static let refusingSyncCollectionScript = """
        import io, sys
        from wsgiref.simple_server import WSGIRequestHandler, make_server
        import radicale, radicale.config

        application = radicale.Application(radicale.config.load([(sys.argv[1], False)]))

        def refusing_sync_collection(environ, start_response):
            if environ["REQUEST_METHOD"] == "REPORT":
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                if b"sync-collection" in body:
                    start_response("501 Not Implemented", [("Content-Length", "0")])
                    return [b""]
                environ["wsgi.input"] = io.BytesIO(body)
            return application(environ, start_response)

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, *arguments):
                pass

        make_server("127.0.0.1", int(sys.argv[2]), refusing_sync_collection, handler_class=QuietHandler).serve_forever()
        """
}

/// A TCP socket on 127.0.0.1 that accepts connections into its backlog and never answers:
/// a hung server.
public final class Listener: @unchecked Sendable {
    private let descriptor: Int32
    public let port: Int

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        // From the tests' pool: a kernel-chosen port could be one another test was told is free.
        address.sin_port = UInt16(try TestPlugins.freePort()).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard descriptor >= 0, bound else { throw Radicale.Failure(description: "cannot listen on 127.0.0.1: errno \(errno)") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    public func close() { _ = Glibc.close(descriptor) }
}
