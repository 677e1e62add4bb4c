import ArgumentParser
import Foundation
import Logging
import SwitchboardEngineRuntime

struct Engines: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the engines: loaded ones with their features, refused files with the reason.")

    @OptionGroup var plugins: PluginOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Print the feature matrix as Markdown (what docs/engines.md holds).")
    var matrix = false

    func run() throws {
        let registry = try plugins.loadRegistry(logger: Logger(label: "switchboard.engines", factory: { _ in SwiftLogNoOpLogHandler() }))
        if matrix {
            print(FeatureMatrix(engines: registry.engines.map(\.metadata)).markdown, terminator: "")
        } else if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(registry.listing), as: UTF8.self))
        } else {
            print(Table.render(
                header: ["NAME", "VERSION", "ABI", "FEATURES", "FILE", "STATUS"],
                rows: registry.listing.map { entry in
                    [
                        entry.name ?? "-", entry.version ?? "-", entry.abiVersion ?? "-",
                        entry.features.isEmpty ? "-" : entry.features.map(\.rawValue).joined(separator: ","),
                        entry.file, entry.state == .loaded ? "loaded" : "refused: \(entry.reason ?? "")",
                    ]
                }))
        }
    }
}

enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
