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
        let database = try await databasePath()
        try FileManager.default.createDirectory(atPath: (database as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let summary = try LocalSeedImporter.importSeed(seed, intoDatabaseAt: database)
        print("imported \(summary.contacts) contacts, \(summary.accounts) accounts, \(summary.lids) LIDs into \(database)")
    }

    /// The database the session's local engine uses: its configured `database`, else the file in its state folder.
    private func databasePath() async throws -> String {
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
        if let config = record?.engineConfig, let configured = try? JSONDecoder().decode(LocalEngine.Configuration.self, from: config).database {
            return configured
        }
        return "\(data)/state/\(session)/\(LocalEngine.name)/\(LocalEngine.databaseFileName)"
    }
}
