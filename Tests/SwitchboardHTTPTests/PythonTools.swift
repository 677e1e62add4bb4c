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
