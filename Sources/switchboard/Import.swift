import ArgumentParser
import Foundation
import LocalEngineCore
import SwitchboardCore
import SwitchboardSQLiteStore

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import seed data (docs/local-engine.md describes the format) into a session's local engine.",
        discussion: "Safe while the server runs: the engine notices the change within a second.")

    @Argument(help: "The seed JSON file.")
    var file: String

    @Option(help: "The session whose local engine receives the data.")
    var session = SessionManager.defaultSessionName

    @Option(help: ArgumentHelp("The server's data folder.", valueName: "dir"))
    var data = ProcessInfo.processInfo.environment["SWITCHBOARD_DATA"] ?? "switchboard-data"

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

    /// The database the session's local engine uses: its configured `postgres` or `database`, else
    /// the file in its state folder.
    private func database() async throws -> Database {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let store = try SQLiteSessionStore(path: "\(data)/sessions.sqlite")
        let records = try await store.loadAll()
        try await store.close()
        let record = records.first { $0.name == session }
        guard record != nil || session == SessionManager.defaultSessionName else {
            throw ValidationError("session \"\(session)\" does not exist in \(data)")
        }
        if let record, record.engine != LocalEngine.name {
            throw ValidationError("session \"\(session)\" runs engine \"\(record.engine)\"; import fills the local engine only")
        }
        if let config = record?.engineConfig, let configured = try? JSONDecoder().decode(LocalEngine.Configuration.self, from: config) {
            if let url = configured.postgres { return .postgres(url) }
            if let path = configured.database { return .sqlite(path) }
        }
        return .sqlite("\(data)/state/\(session)/\(LocalEngine.name)/\(LocalEngine.databaseFileName)")
    }
}
