import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster of one test's own: Debian's `initdb` and `pg_ctl` on a fresh
/// folder, listening on 127.0.0.1 at a free port, trusting local connections. As root (CI),
/// the cluster belongs to the `postgres` user, since PostgreSQL refuses to run as root.
public final class PostgresServer: Sendable {
    public static let installHint = "install PostgreSQL: apt-get install postgresql (.ci/run does)"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let port: Int
    private let directory: String

    /// The URL `switchboard serve --store` takes.
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    /// Runs `body` with a started cluster, stopped and removed afterwards whatever happens.
    public static func withServer<T>(_ body: (PostgresServer) async throws -> T) async throws -> T {
        let server = try await PostgresServer()
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// One cluster for the whole test process, started by the first caller; each test makes a
    /// database of its own on it (`createDatabase`). Stopped when the process exits.
    public static func shared() async throws -> PostgresServer {
        try await sharedServer.value
    }

    private static let sharedServer = Task<PostgresServer, any Error> {
        let server = try await PostgresServer()
        sharedStopCommand.withLock { $0 = server.exitStopCommand() }
        atexit {
            // At exit nothing async runs any more: stop it the blocking way.
            if let command = PostgresServer.sharedStopCommand.withLock({ $0 }) { _ = system(command) }
        }
        return server
    }

    private static let sharedStopCommand = Mutex<String?>(nil)

    private func exitStopCommand() -> String {
        let bin = (try? Self.binaries()) ?? "/usr/bin"
        let stop = "\(bin)/pg_ctl -D \(directory)/data -m immediate -w stop"
        return "\(getuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : "")\(stop) >/dev/null 2>&1; rm -rf \(directory)"
    }

    /// A fresh, empty database on this cluster; its URL.
    public func createDatabase() async throws -> String {
        let name = "t_\(UUID().uuidString.prefix(8).lowercased())"
        try await run(["\(try Self.binaries())/psql", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE \(name)"])
        return "postgres://postgres@127.0.0.1:\(port)/\(name)"
    }

    /// `/usr/lib/postgresql/<version>/bin`, the newest installed.
    static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/initdb") else {
            throw Failure(description: "no initdb under \(root); \(installHint)")
        }
        return "\(root)/\(newest)/bin"
    }

    private init() async throws {
        let bin = try Self.binaries()
        port = try TestPlugins.freePort()
        // Outside the tests' private scratch folder: the postgres user must reach it.
        directory = "/tmp/switchboard-postgres-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory)
        }
        try await run(["\(bin)/initdb", "-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "--no-sync"])
        try await start()
    }

    /// Starts the cluster (again, after `crash`), on the same port, and waits until it accepts connections.
    public func start() async throws {
        try await run([
            "\(try Self.binaries())/pg_ctl", "-D", "\(directory)/data", "-l", "\(directory)/log", "-w", "-t", "60",
            "-o", "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c fsync=off", "start",
        ])
    }

    /// Stops the cluster the way a crash would (`pg_ctl stop -m immediate`): connections are cut,
    /// nothing is shut down cleanly, and the next `start` recovers from the log.
    public func crash() async throws {
        try await run(["\(try Self.binaries())/pg_ctl", "-D", "\(directory)/data", "-m", "immediate", "-w", "stop"])
    }

    public func stop() async throws {
        let bin = try Self.binaries()
        try await run(["\(bin)/pg_ctl", "-D", "\(directory)/data", "-m", "fast", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The server's log, for a failure message.
    public var log: String { (try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? "" }

    /// As the `postgres` user when root, on a thread of its own (it waits on a process). Output
    /// goes to a file, not a pipe: the server `pg_ctl` starts inherits its descriptors and keeps
    /// them open, so a pipe would never reach its end.
    private func run(_ command: [String]) async throws {
        let (executable, arguments) = getuid() == 0 ? ("/usr/sbin/runuser", ["-u", "postgres", "--"] + command) : (command[0], Array(command.dropFirst()))
        // One file per command: tests sharing the cluster run commands at the same time.
        let output = "\(directory)/command-output-\(UUID().uuidString)"
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            Thread {
                continuation.resume(with: Result {
                    _ = FileManager.default.createFile(atPath: output, contents: nil)
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
                    defer { try? handle.close() }
                    process.standardOutput = handle
                    process.standardError = handle
                    try process.run()
                    // Reaped here: `waitUntilExit` was seen never returning for `pg_ctl start`,
                    // whose server outlives it.
                    var status: Int32 = 0
                    while waitpid(process.processIdentifier, &status, WNOHANG) == 0 { usleep(10_000) }
                    guard status == 0 else {
                        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                        throw Failure(description: "\(command.joined(separator: " ")) ended with wait status \(status): \(text)")
                    }
                })
            }.start()
        }
    }
}
