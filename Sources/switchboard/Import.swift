import ArgumentParser
import Foundation
import LocalEngineCore
import Logging
import SwitchboardSessions
import SwitchboardPostgresStore
import SwitchboardSQLiteStore

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import seed data (docs/local-engine.md describes the format) into a session's local engine.",
        discussion: "Safe while the server runs: the engine notices the change within a second.")

    @Argument(help: "The seed JSON file.")
    var file: String

    @Option(help: "The session whose local engine receives the data.")
    var session = SessionManager.defaultSessionName

    @Option(help: "For a composite session: the member, on engine local, whose engine receives the data.")
    var member: String?

    @Option(help: ArgumentHelp("The server's data folder.", valueName: "dir"))
    var data = ProcessInfo.processInfo.environment["SWITCHBOARD_DATA"] ?? "switchboard-data"

    @Option(help: ArgumentHelp(
        "Where the server stores its sessions, as serve's --store: postgres://user[:password]@host[:port]/database ($SWITCHBOARD_STORE). Default: <data>/sessions.sqlite.",
        valueName: "url"))
    var store: String?

    func run() async throws {
        let seed: LocalSeed
        do {
            seed = try JSONDecoder().decode(LocalSeed.self, from: try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw ValidationError("cannot read \(file): \(error)")
        }
        let summary: ImportSummary, target: String
        switch try await database() {
        case let .postgres(url):
            summary = try await LocalSeedImporter.importSeed(seed, intoPostgres: url)
            target = url
        case let .sqlite(path):
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            summary = try LocalSeedImporter.importSeed(seed, intoDatabaseAt: path)
            target = path
        }
        print("imported \(summary.contacts) contacts, \(summary.accounts) accounts, \(summary.lids) LIDs into \(target)")
    }

    private enum Database {
        case sqlite(String)
        case postgres(String)
    }

    /// The database the session's (or the member's) local engine uses: its configured `postgres`
    /// or `database` (a relative one in its state folder, as the engine resolves it), else the
    /// file in its state folder.
    private func database() async throws -> Database {
        let (engine, engineConfig, stateFolder) = try target(in: try await record())
        guard engine == LocalEngine.name else {
            let who = member.map { "member \"\($0)\" of session \"\(session)\"" } ?? "session \"\(session)\""
            throw ValidationError("\(who) runs engine \"\(engine)\"; import fills the local engine only")
        }
        if let configured = try? JSONDecoder().decode(LocalEngine.Configuration.self, from: engineConfig) {
            if let url = configured.postgres { return .postgres(url) }
            if let path = configured.database { return .sqlite(path.hasPrefix("/") ? path : "\(stateFolder)/\(path)") }
        }
        return .sqlite("\(stateFolder)/\(LocalEngine.databaseFileName)")
    }

    /// The session as the server's store holds it; nil for `default` before a server created it.
    private func record() async throws -> SessionRecord? {
        let record: SessionRecord?
        let storeURL = store ?? ProcessInfo.processInfo.environment["SWITCHBOARD_STORE"].flatMap { $0.isEmpty ? nil : $0 }
        if let storeURL {
            let logger = Logger(label: "switchboard.import") { _ in SwiftLogNoOpLogHandler() }
            let shared = try PostgresSessionStore(url: storeURL, logger: logger)
            let name = session
            record = try await shared.whileRunning {
                try await shared.migrate()
                return try await shared.load(named: name)
            }
        } else {
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let local = try SQLiteSessionStore(path: "\(data)/sessions.sqlite")
            record = try await local.loadAll().first { $0.name == session }
            try await local.close()
        }
        guard record != nil || session == SessionManager.defaultSessionName else {
            throw ValidationError("session \"\(session)\" does not exist in \(storeURL ?? "\(data)/sessions.sqlite")")
        }
        return record
    }

    /// The engine, configuration and state folder import fills: the session's, or for a composite
    /// the member's (`serve` gives each member a folder of its own, `members/<member>`).
    private func target(in record: SessionRecord?) throws -> (engine: String, config: Data, stateFolder: String) {
        let sessionFolder = "\(data)/state/\(session)"
        guard let composition = record?.composition else {
            if let member { throw ValidationError("session \"\(session)\" is not composite: it has no member \"\(member)\"") }
            return (record?.engine ?? LocalEngine.name, record?.engineConfig ?? Data("{}".utf8), "\(sessionFolder)/\(LocalEngine.name)")
        }
        let members = composition.members.map { "\($0.name) (\($0.engine))" }.joined(separator: ", ")
        guard let member else {
            throw ValidationError(
                "session \"\(session)\" is composite, each member with an engine of its own: name the member to fill with --member (members: \(members))")
        }
        guard let chosen = composition.member(named: member) else {
            throw ValidationError("composite session \"\(session)\" has no member \"\(member)\" (members: \(members))")
        }
        return (chosen.engine, chosen.engineConfig, "\(sessionFolder)/members/\(member)")
    }
}
