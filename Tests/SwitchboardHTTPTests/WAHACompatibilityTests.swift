import Foundation
import SwitchboardTestSupport
import Testing

/// Real third-party WAHA clients against a real server: WAHA's own typed SDK validates every
/// answer, and schemathesis checks every operation against the document the server publishes.
@Suite struct WAHACompatibilityTests {
    @Test func wahaPyModelsValidateEveryContactsLidsSessionsAndServerAnswer() async throws {
        try PythonTools.require(PythonTools.python)
        try await withServer { server in
            let output = try await HeavyTest.run { try await TestPlugins.runOffPool(
                PythonTools.python, ["\(PythonTools.scripts)/waha_models.py", "http://127.0.0.1:\(server.port)"]) }
            #expect(output.contains("0 failures"), "\(output)")
            #expect(!output.contains("FAIL"), "\(output)")
        }
    }

    /// Bounded: about fifteen cases per operation and phase over every phase but the stateful one, which
    /// would chain creates and deletes of sessions for minutes. Zero failures of any check.
    @Test func schemathesisFindsNoFailureInAnyCheck() async throws {
        try PythonTools.require(PythonTools.schemathesis)
        try await withServer { server in
            let report = TestPlugins.makeFolder("schemathesis")
            let arguments = [
                "--config-file", "\(PythonTools.scripts)/schemathesis.toml", "--no-color",
                "run", "http://127.0.0.1:\(server.port)/-json",
                "--checks", "all", "--phases", "examples,coverage,fuzzing", "--max-examples", "15",
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
            #expect((Int(counts.output.1) ?? 0) > 800)
            print("schemathesis: \(counts.output.0)")
        }
    }
}

/// The kctl-waha CLI's session commands against a real server: none hears a 404 (the session
/// sub-resources it reads exist), and restrictions are known, not "unknown".
@Suite struct KctlWAHATests {
    static let kctl = "\(PythonTools.venv)/bin/kctl-waha"

    @Test func sessionCommandsGetAnswersNot404s() async throws {
        try PythonTools.require(Self.kctl)
        // A dozen Python start-ups: one heavy test.
        try await HeavyTest.run { try await withServer { server in
            let home = TestPlugins.makeFolder("kctl-home")
            /// What kctl-waha printed, and whether it exited 0.
            func kctl(_ arguments: [String]) async throws -> (output: String, succeeded: Bool) {
                do {
                    return (try await TestPlugins.runOffPool("/usr/bin/env", ["HOME=\(home)", "XDG_CONFIG_HOME=\(home)/.config", "NO_COLOR=1", "COLUMNS=200", Self.kctl] + arguments), true)
                } catch let failure as TestPlugins.CommandFailed {
                    return (failure.output, false)
                }
            }
            let configured = try await kctl(["config", "add", "test", "--url", "http://127.0.0.1:\(server.port)", "--api-key", "unused", "--default"])
            #expect(configured.succeeded, "\(configured.output)")
            for command in [
                ["sessions", "list"], ["sessions", "status"], ["sessions", "get", "default"],
                ["sessions", "start", "kc"], ["sessions", "stop", "kc", "--force"], ["sessions", "restart", "kc", "--force"],
                ["sessions", "logout", "kc", "--force"], ["sessions", "delete", "kc", "--force"],
            ] {
                let answer = try await kctl(["--json", "-p", "test"] + command)
                #expect(answer.succeeded && !answer.output.contains("404"), "\(command): \(answer.output)")
            }
            #expect(try await server.get("/api/sessions/kc").status == 404, "deleted")
            // No paired number is kctl's warning (exit 1), read from the `me` route, not a 404.
            let me = try await kctl(["--json", "-p", "test", "sessions", "me", "default"])
            #expect(me.output.contains("no paired number") && !me.output.contains("404"), "\(me.output)")
            let restrictions = try await kctl(["--json", "-p", "test", "sessions", "restrictions", "default"])
            #expect(restrictions.output.contains(#""summary": "none""#), "\(restrictions.output)")
            // A QR code: WAHA's 422 for a session that waits for none, which kctl explains.
            let qr = try await kctl(["-p", "test", "sessions", "qr", "default", "--format", "raw"])
            #expect(!qr.succeeded && qr.output.contains("422") && qr.output.contains("SCAN_QR_CODE"), "\(qr.output)")
        } }
    }
}
