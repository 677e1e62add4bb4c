import ArgumentParser
import Foundation
import SwitchboardCore

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one plugin's metadata without creating an engine; exits non-zero for a bad file.")

    @Argument(help: "The plugin file (.so).")
    var file: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let metadata: EngineMetadata
        do {
            metadata = try PluginLoader.inspect(file)
        } catch {
            FileHandle.standardError.write(Data("switchboard: \(file): refused: \(error.reason)\n".utf8))
            throw ExitCode(2)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(metadata), as: UTF8.self))
        } else {
            print("""
                name:        \(metadata.name)
                version:     \(metadata.version)
                abi:         \(metadata.abiVersion)
                summary:     \(metadata.summary)
                features:    \(metadata.features.map(\.rawValue).joined(separator: ", "))
                """)
        }
    }
}
