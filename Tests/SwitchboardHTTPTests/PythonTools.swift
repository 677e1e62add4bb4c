import Foundation
import SwitchboardTestSupport

/// The Python tools `scripts/test` installs into `.venv`, pinned there.
enum PythonTools {
    static let venv = "\(TestPlugins.repositoryRoot)/.venv"
    static let scripts = "\(TestPlugins.repositoryRoot)/Tests/Python"
    static let python = "\(venv)/bin/python"
    static let schemathesis = "\(venv)/bin/schemathesis"
    static let installHint = "run scripts/test once: it installs the pinned Python tools into .venv"

    static func require(_ path: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else { throw Missing(description: "\(path) is missing; \(installHint)") }
    }

    struct Missing: Error, CustomStringConvertible { let description: String }
}

/// Swagger UI's files, as `scripts/test` installs them (`scripts/swagger-ui .venv/swagger-ui`).
enum SwaggerUIFiles {
    static let folder = "\(PythonTools.venv)/swagger-ui"
}

/// One at a time for the tests that load the machine most (schemathesis, Chromium, megabytes
/// of oversized bodies and headers): run together, on two cores, they starve the other tests'
/// servers past their call timeouts.
actor HeavyTest {
    static let lock = HeavyTest()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    static func run<T>(_ body: () async throws -> T) async throws -> T {
        await lock.acquire()
        do {
            let result = try await body()
            await lock.release()
            return result
        } catch {
            await lock.release()
            throw error
        }
    }

    private func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
