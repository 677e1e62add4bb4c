import ArgumentParser
import Foundation
import SwitchboardEngineRuntime
import SwitchboardIsolation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one plugin's metadata without creating an engine; exits non-zero for a bad file.")

    @Argument(help: "The plugin file (.so).")
    var file: String

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var plugins: PluginOptions

    func run() throws {
        let metadata: EngineMetadata
        // Read in a child: a plugin that crashes while loading takes that child down, not this command.
        switch ChildScanner(command: plugins.engineHostCommand()).scan(file, trust: try plugins.policy().trust) {
        case .success(let scanned):
            metadata = scanned.metadata
        case .failure(let error):
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
                license:     \(metadata.license ?? "-")
                homepage:    \(metadata.homepage ?? "-")
                features:    \(metadata.features.map(\.rawValue).joined(separator: ", "))
                needs:       \(metadata.needs.isEmpty ? "-" : metadata.needs.map(\.rawValue).joined(separator: ", "))
                """)
        }
    }
}
