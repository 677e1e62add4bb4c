import Foundation
import Synchronization

/// Real plugins for tests: the ones SwiftPM built, and C fixtures compiled here with `cc -shared`.
public enum TestPlugins {
    /// The repository root, found from this file's path.
    public static let repositoryRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()

    /// The folder where SwiftPM put this test binary, and beside it the `.dynamic` products.
    public static let buildProducts: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // The test binary lives in `<products>/<Package>PackageTests.xctest` on Linux.
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("libFixedEngine.so").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.path
    }()

    /// A shared library product of this package, e.g. `LocalEngine` → `<products>/libLocalEngine.so`.
    public static func product(_ name: String) -> String {
        "\(buildProducts)/lib\(name).so"
    }

    private static let built = Mutex<[String: String]>([:])

    /// The folder of today's ABI header, the one plugins are built against.
    public static let currentABI = "\(repositoryRoot)/Sources/ContactsEngineSDK/Sources/CContactsEngine/include"
    /// The folder of the v1.0 header as it shipped, frozen: what old plugin binaries were built against.
    public static let frozenABIv1_0 = "\(repositoryRoot)/Tests/Fixtures/abi-v1.0"
    /// The v1.1 header as it shipped, frozen: the last before results in pieces.
    public static let frozenABIv1_1 = "\(repositoryRoot)/Tests/Fixtures/abi-v1.1"

    /// Compiles `Tests/Fixtures/plugins/<source>` with an ABI header (today's unless told) and
    /// `libraries` (e.g. `-ljansson`) alone; cached per flags.
    public static func compile(_ source: String, defines: [String] = [], header: String = currentABI, libraries: [String] = []) throws -> String {
        try compileC("\(repositoryRoot)/Tests/Fixtures/plugins/\(source)", flags: ["-O1", "-Wall"] + defines.map { "-D\($0)" },
                     header: header, libraries: libraries)
    }

    /// `compile` waited for on a thread of its own, so the compiler holds none of the two
    /// threads Swift concurrency has here.
    public static func compileOffPool(
        _ source: String, defines: [String] = [], header: String = currentABI, libraries: [String] = []
    ) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try compile(source, defines: defines, header: header, libraries: libraries) }) }.start()
        }
    }

    /// `compileC` waited for on a thread of its own.
    public static func compileCOffPool(_ path: String, flags: [String], libraries: [String] = []) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try compileC(path, flags: flags, libraries: libraries) }) }.start()
        }
    }

    /// Compiles a C file of this repository into a plugin with an ABI header and `libraries`
    /// alone, once per file and flags. Tests compile in parallel, so each output gets a name no
    /// other compile takes.
    public static func compileC(_ path: String, flags: [String], header: String = currentABI, libraries: [String] = []) throws -> String {
        let key = ([path, header] + flags + libraries).joined(separator: " ")
        if let built = built.withLock({ $0[key] }) { return built }
        let name = (path as NSString).lastPathComponent.replacingOccurrences(of: ".c", with: "")
        let output = "\(scratch)/\(UUID().uuidString.prefix(8))-\(name).so"
        try run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-I", header] + flags + [path, "-o", output] + libraries + ["-lpthread"])
        built.withLock { $0[key] = output }
        return output
    }

    /// A private folder for this test process.
    public static let scratch: String = {
        let path = NSTemporaryDirectory() + "switchboard-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// A new empty folder.
    public static func makeFolder(_ label: String) -> String {
        let path = "\(scratch)/\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs a long command (a whole `swift build`) on a thread of its own, so that waiting for it
    /// holds none of the two threads Swift concurrency has here: other tests keep running.
    @discardableResult
    public static func runOffPool(_ executable: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try run(executable, arguments) }) }.start()
        }
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw CommandFailed(command: ([executable] + arguments).joined(separator: " "), status: process.terminationStatus, output: text)
        }
        return text
    }

    public struct CommandFailed: Error, Equatable, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let output: String

        public init(command: String, status: Int32, output: String) {
            self.command = command
            self.status = status
            self.output = output
        }

        public var description: String { "\(command) exited \(status): \(output)" }
    }
}
