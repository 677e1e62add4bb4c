import AsyncHTTPClient
import Foundation
import Synchronization
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A real Switchboard server of one test's own, as a child process: the `switchboard` SwiftPM
/// built, on 127.0.0.1 at a free port, loading the plugins built beside it. Its log, and its data
/// unless a test names a data folder, live in a temporary folder that `stop` removes.
public final class SwitchboardProcess: @unchecked Sendable {
    public static var binary: String { "\(TestPlugins.buildProducts)/switchboard" }
    static var plugins: String { TestPlugins.buildProducts }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public struct Reply: Sendable {
        public var status: Int
        public var body: String
    }

    public let port: Int
    public let directory: URL
    /// The server's `--data` folder.
    public let data: String
    // Only touched by `init` and `stop`, which a test calls in turn.
    private let process = Process()

    public var url: String { "http://127.0.0.1:\(port)" }
    public var pid: Int32 { process.processIdentifier }

    /// Runs `body` with a started server, stopped and removed afterwards whatever happens;
    /// `plugin` is one more plugin file for it to load.
    public static func withServer<T>(plugin: String? = nil, _ body: (SwitchboardProcess) async throws -> T) async throws -> T {
        let server = try await start(plugin: plugin)
        defer { server.stop() }
        return try await body(server)
    }

    /// A started server; the caller stops it. `data` keeps what it stores past `stop`, for a
    /// next server on the same folder.
    /// `findsPluginsItself` starts it as README's `scripts/serve` does: no `--plugins` and no
    /// `SWITCHBOARD_PLUGINS`, so it looks beside its executable. `port` brings a stopped server
    /// back where its clients look for it.
    /// `executable` runs another copy of the server (one beside another engine host, say).
    public static func start(
        data: String? = nil, plugin: String? = nil, arguments: [String] = [], environment: [String: String] = [:],
        findsPluginsItself: Bool = false, port: Int? = nil, executable: String? = nil
    ) async throws -> SwitchboardProcess {
        try await SwitchboardProcess(
            data: data, plugin: plugin, arguments: arguments, environment: environment, findsPluginsItself: findsPluginsItself, port: port,
            executable: executable ?? binary)
    }

    private init(
        data: String?, plugin: String?, arguments: [String], environment: [String: String], findsPluginsItself: Bool, port: Int?,
        executable: String
    ) async throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw Failure(description: "no Switchboard binary at \(Self.binary): run `swift build --build-tests` first")
        }
        self.port = try port ?? TestPlugins.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-process-\(UUID().uuidString)")
        self.data = data ?? directory.appendingPathComponent("data").path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--port", String(self.port), "--data", self.data] + (findsPluginsItself ? [] : ["--plugins", Self.plugins])
            + (plugin.map { ["--plugin", $0] } ?? []) + arguments
        var environment = environment
        if findsPluginsItself { environment["SWITCHBOARD_PLUGINS"] = "" }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let log = directory.appendingPathComponent("switchboard.log")
        try Data().write(to: log)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        do {
            try await waitUntilAnswering()
        } catch {
            stop()
            throw error
        }
    }

    /// What the server wrote to its standard output and error.
    public var output: String {
        (try? String(contentsOf: directory.appendingPathComponent("switchboard.log"), encoding: .utf8)) ?? ""
    }

    public func signal(_ signal: Int32) {
        _ = Glibc.kill(process.processIdentifier, signal)
    }

    /// The exit status, or the signal that ended the process.
    public func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL rather than `terminate()`'s SIGTERM: a child started from a concurrency thread
    /// inherits its blocked signals, SIGTERM among them.
    public func stop() {
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            // Not `waitUntilExit`: it was seen spinning forever on a child already gone.
            var status: Int32 = 0
            for _ in 0..<500 where waitpid(process.processIdentifier, &status, WNOHANG) == 0 { usleep(10_000) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func waitUntilAnswering() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, process.isRunning {
            if (try? await request("GET", "/ping", timeout: .seconds(1)))?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "Switchboard did not answer on port \(port); its log:\n\(output)")
    }

    /// Talks to the server directly, behind the engine's back; a 4xx or 5xx answer is a failure.
    @discardableResult
    public func request(_ method: String, _ path: String, body: String? = nil, timeout: TimeAmount = .seconds(10)) async throws -> Reply {
        let reply = try await answer(method, path, body: body, timeout: timeout)
        guard reply.status < 400 else { throw Failure(description: "\(method) \(path): HTTP \(reply.status) \(reply.body)") }
        return reply
    }

    /// The server's answer, whatever its status.
    public func answer(_ method: String, _ path: String, body: String? = nil, timeout: TimeAmount = .seconds(10)) async throws -> Reply {
        var request = HTTPClientRequest(url: url + path)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        return Reply(status: Int(response.status.code), body: String(buffer: try await response.body.collect(upTo: 1 << 24)))
    }

    /// Fills a session's local engine with `switchboard import`, as an operator would.
    public func importSeed(_ seed: String, session: String) throws {
        let file = directory.appendingPathComponent("seed-\(UUID().uuidString).json")
        try Data(seed.utf8).write(to: file)
        let importer = Process()
        importer.executableURL = URL(fileURLWithPath: Self.binary)
        importer.arguments = ["import", "--session", session, "--data", data, file.path]
        importer.standardOutput = FileHandle.nullDevice
        try importer.run()
        importer.waitUntilExit()
        guard importer.terminationStatus == 0 else { throw Failure(description: "switchboard import exited with \(importer.terminationStatus)") }
    }
}

extension TestPlugins {
    /// Every port handed out in this process: the kernel may offer a released port again, and
    /// two servers of parallel tests told the same port would answer for each other.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port nothing listens on, and that no other test of this process was given: bound,
    /// read, then released for the caller's server to take.
    public static func freePort() throws -> Int {
        for _ in 0..<1_000 {
            let port = try kernelFreePort()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw SwitchboardProcess.Failure(description: "no port left that this process has not handed out")
    }

    /// A port that refuses connections for as long as `body` runs: bound but never listening, so
    /// no other socket can take it meanwhile.
    public static func withRefusingPort<T>(_ body: (Int) async throws -> T) async throws -> T {
        let (socket, port) = try boundLoopbackSocket()
        defer { close(socket) }
        return try await body(port)
    }

    private static func kernelFreePort() throws -> Int {
        let (socket, port) = try boundLoopbackSocket()
        close(socket)
        return port
    }

    /// A TCP socket bound to 127.0.0.1 at a port the kernel chose, not listening, and that port.
    private static func boundLoopbackSocket() throws -> (Int32, Int) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw SwitchboardProcess.Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else {
            close(socket)
            throw SwitchboardProcess.Failure(description: "bind: errno \(errno)")
        }
        return (socket, Int(UInt16(bigEndian: address.sin_port)))
    }
}
