import Foundation
import SwitchboardTestSupport
import Testing

/// Real third-party WAHA clients against a real server: WAHA's own typed SDK validates every
/// answer, and schemathesis checks every operation against the document the server publishes.
@Suite struct WAHACompatibilityTests {
    @Test func wahaPyModelsValidateEveryContactsLidsSessionsAndServerAnswer() async throws {
        try PythonTools.require(PythonTools.python)
        try await withServer { server in
            let output = try await TestPlugins.runOffPool(
                PythonTools.python, ["\(PythonTools.scripts)/waha_models.py", "http://127.0.0.1:\(server.port)"])
            #expect(output.contains("0 failures"), "\(output)")
            #expect(!output.contains("FAIL"), "\(output)")
        }
    }

    /// Bounded: a few dozen cases per operation over every phase but the stateful one, which
    /// would chain creates and deletes of sessions for minutes. Zero failures of any check.
    @Test func schemathesisFindsNoFailureInAnyCheck() async throws {
        try PythonTools.require(PythonTools.schemathesis)
        try await withServer { server in
            let report = TestPlugins.makeFolder("schemathesis")
            let arguments = [
                "--config-file", "\(PythonTools.scripts)/schemathesis.toml", "--no-color",
                "run", "http://127.0.0.1:\(server.port)/-json",
                "--checks", "all", "--phases", "examples,coverage,fuzzing", "--max-examples", "25",
                "--seed", "1", "--workers", "1", "--request-timeout", "20",
                "--report", "ndjson", "--report-dir", report,
            ]
            let output: String
            do {
                output = try await HeavyTest.run { try await TestPlugins.runOffPool(PythonTools.schemathesis, arguments) }
            } catch let failure as TestPlugins.CommandFailed {
                Issue.record("schemathesis failed:\n\(failure.output.suffix(20_000))")
                return
            }
            // "N generated, N passed": every case passed, and there were enough of them to mean something.
            let counts = try #require(output.firstMatch(of: /(\d+) generated, (\d+) passed/), "\(output.suffix(5000))")
            #expect(counts.output.1 == counts.output.2)
            #expect((Int(counts.output.1) ?? 0) > 1000)
            print("schemathesis: \(counts.output.0)")
        }
    }
}
