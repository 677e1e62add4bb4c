import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Hummingbird
import LocalEngineCore
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardEngineRuntime
import SwitchboardSessions
import SwitchboardHTTP
import SwitchboardSQLiteStore
import SwitchboardTestSupport
import Synchronization
import Testing

/// A real Switchboard server on 127.0.0.1 (random port), in this process, with real plugins,
/// talked to over real HTTP with AsyncHTTPClient.
final class TestServer: Sendable {
    let port: Int
    let sessions: SessionManager
    let data: String
    private let group: ServiceGroup
    private let running: Task<Void, Error>

    static let client = HTTPClient(eventLoopGroupProvider: .singleton)

    /// Plugins: the C `fixed` engine, the Swift `local` plugin, and the host's test engine.
    static func pluginFiles() throws -> [String] {
        [TestPlugins.product("FixedEngine"), try TestPlugins.compile("test_engine.c")]
    }

    static func start(
        data: String? = nil, pluginFiles: [String]? = nil, pluginDirectories: [String] = [], apiKey: APIKey? = nil,
        callTimeout: Duration = .seconds(5), swaggerUI: SwaggerUI = SwaggerUI(.folder(SwaggerUIFiles.folder)),
        timeouts: ConnectionTimeouts = ConnectionTimeouts(), metricsPublic: Bool = false
    ) async throws -> TestServer {
        let data = data ?? TestPlugins.makeFolder("server")
        let logger = Logger(label: "test-server") { _ in SwiftLogNoOpLogHandler() }
        // A registry of this server's own: suites run in parallel in this one process.
        let metrics = ServerMetrics()
        let registry = EngineRegistry(
            pluginDirectories: pluginDirectories, pluginFiles: try pluginFiles ?? Self.pluginFiles(), metrics: metrics.host, logger: logger)
        try registry.registerEmbedded(LocalEngine.descriptor)
        registry.scan()
        let sessions = SessionManager(
            registry: registry, store: try SQLiteSessionStore(path: "\(data)/sessions.sqlite"), stateRoot: "\(data)/state",
            callTimeout: callTimeout, metrics: metrics.host, logger: logger)
        try await sessions.restore()

        let port = Mutex<Int?>(nil)
        let options = SwitchboardServer.Options(apiKey: apiKey, swaggerUI: swaggerUI, timeouts: timeouts, metricsPublic: metricsPublic)
        let router = SwitchboardServer.router(dependencies: ServerDependencies(sessions: sessions, version: "test", metrics: metrics), options: options)
        // A port from the tests' own pool, not the kernel's choice: a child server of another
        // test may have been told a port the kernel would hand out again.
        let app = Application(
            router: router, server: SwitchboardServer.httpServer(options),
            configuration: .init(address: .hostname("127.0.0.1", port: try TestPlugins.freePort())),
            onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } }, logger: logger)
        // As `switchboard serve` composes them: the sessions shut down after the server.
        let group = ServiceGroup(configuration: .init(services: [sessions, app], logger: logger))
        let running = Task { try await group.run() }
        while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(5)) }
        return TestServer(port: port.withLock { $0! }, sessions: sessions, data: data, group: group, running: running)
    }

    private init(port: Int, sessions: SessionManager, data: String, group: ServiceGroup, running: Task<Void, Error>) {
        self.port = port
        self.sessions = sessions
        self.data = data
        self.group = group
        self.running = running
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }

    // MARK: Requests

    struct Answer: Sendable {
        let status: Int
        let body: JSONValue
        let text: String
        let contentType: String?
        /// Header values by lowercased name (the last one of a name).
        let headers: [String: String]

        subscript(key: String) -> JSONValue? { body[key] }
    }

    func request(_ method: HTTPMethod, _ path: String, json: String? = nil, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws -> Answer {
        try await Self.request(method, "http://127.0.0.1:\(port)\(path)", json: json, body: body, headers: headers)
    }

    static func request(_ method: HTTPMethod, _ url: String, json: String? = nil, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        let text = String(buffer: bytes)
        let parsed = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
        let headers = Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        return Answer(
            status: Int(response.status.code), body: parsed, text: text, contentType: response.headers.first(name: "content-type"), headers: headers)
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Answer {
        try await request(.GET, path, headers: headers)
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var int: Int? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// An integer or a fraction, as a Double.
    var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var keys: Set<String> {
        if case .object(let object) = self { return Set(object.keys) }
        return []
    }
}

/// Runs `body` with a fresh server and stops it afterwards, even when `body` fails.
func withServer<T>(
    data: String? = nil, pluginFiles: [String]? = nil, pluginDirectories: [String] = [], apiKey: APIKey? = nil, callTimeout: Duration = .seconds(5),
    swaggerUI: SwaggerUI = SwaggerUI(.folder(SwaggerUIFiles.folder)), timeouts: ConnectionTimeouts = ConnectionTimeouts(),
    metricsPublic: Bool = false, _ body: (TestServer) async throws -> T
) async throws -> T {
    let server = try await TestServer.start(
        data: data, pluginFiles: pluginFiles, pluginDirectories: pluginDirectories, apiKey: apiKey, callTimeout: callTimeout,
        swaggerUI: swaggerUI, timeouts: timeouts, metricsPublic: metricsPublic)
    do {
        let result = try await body(server)
        try await server.stop()
        return result
    } catch {
        try? await server.stop()
        throw error
    }
}
