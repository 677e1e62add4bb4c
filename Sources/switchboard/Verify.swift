import ArgumentParser
import Foundation
import SwitchboardConformance

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a plugin keeps the engine contract; exits 1 when a check fails.",
        discussion: """
            Loads the plugin, creates an engine from --config, and checks that every feature it serves \
            answers in the documented shape and every other one answers not-implemented, that malformed \
            input (and every phone number or id of a battery of malformed ones) gets invalid-input, that \
            every page of contacts.list for several limits, offsets, sort keys and orders is the matching \
            slice of the engine's own full list, that every id it answers is a chat id and contacts.get \
            answers each listed contact, that concurrent calls are safe, and that destroying an instance \
            with calls in flight completes them. A failing check prints the request that showed it. The \
            checks call upsert, block and unblock too: point the engine at a test backend.
            """)

    @Argument(help: "The plugin file (.so).")
    var file: String

    @Option(help: ArgumentHelp("The engine's configuration, a JSON object.", valueName: "json"))
    var config = "{}"

    @Option(help: ArgumentHelp("Seconds one call may take.", valueName: "seconds"))
    var callTimeout: Double = 10

    func validate() throws {
        guard (try? JSONSerialization.jsonObject(with: Data(config.utf8))) is [String: Any] else {
            throw ValidationError("--config must be a JSON object")
        }
        guard (0.001...3600).contains(callTimeout) else { throw ValidationError("--call-timeout must be between 0.001 and 3600 seconds") }
    }

    func run() async throws {
        let kit = ConformanceKit(path: file, configuration: Data(config.utf8), callTimeout: .milliseconds(Int(callTimeout * 1000)))
        let checks = await kit.run()
        for check in checks {
            print(check.passed ? "PASS  \(check.name)" : "FAIL  \(check.name): \(check.failure ?? "")")
        }
        let failed = checks.filter { !$0.passed }.count
        print("\(checks.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
