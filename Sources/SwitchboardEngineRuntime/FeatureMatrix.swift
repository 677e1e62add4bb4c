import ContactsEngineKit

/// Features × engines: which endpoint each engine supports. Derived from the engines' own
/// descriptors and the feature list; served by the API and written to docs/engines.md.
public struct FeatureMatrix: Codable, Hashable, Sendable {
    public struct EngineColumn: Codable, Hashable, Sendable {
        public let name: String
        public let version: String
        public let summary: String
        /// What it may need in a sandbox beyond its state folder.
        public let needs: [EngineNeed]
    }

    public struct FeatureRow: Codable, Hashable, Sendable {
        public let id: String
        public let summary: String
        public let endpoints: [String]
        /// Engine name → supported.
        public let engines: [String: Bool]
    }

    public let engines: [EngineColumn]
    public let features: [FeatureRow]

    public init(engines metadata: [EngineMetadata]) {
        let sorted = metadata.sorted { $0.name < $1.name }
        engines = sorted.map { EngineColumn(name: $0.name, version: $0.version, summary: $0.summary, needs: $0.needs) }
        features = Feature.allCases.map { feature in
            FeatureRow(
                id: feature.rawValue, summary: feature.summary, endpoints: feature.endpoints.map(\.description),
                engines: Dictionary(uniqueKeysWithValues: sorted.map { ($0.name, $0.features.contains(feature)) }))
        }
    }

    /// A Markdown table, one row per endpoint, one column per engine.
    public var markdown: String {
        var lines = [
            "| endpoint | feature | " + engines.map(\.name).joined(separator: " | ") + " |",
            "|---|---|" + String(repeating: "---|", count: engines.count),
        ]
        for row in features {
            let marks = engines.map { row.engines[$0.name] == true ? "✔️" : "" }.joined(separator: " | ")
            for endpoint in row.endpoints {
                lines.append("| `\(endpoint)` | `\(row.id)` | \(marks) |")
            }
        }
        lines.append("")
        for engine in engines {
            lines.append("- **\(engine.name)** \(engine.version): \(engine.summary)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
