import Foundation

/// Rust engines built as their authors build them, with cargo, but offline: crates come from
/// Debian's packages (`Sources/ContactsEngineSDK/Rust/debian-registry.toml`, passed with
/// `--config`, so nothing in a crate's folder sends an outside author away from crates.io), and
/// the SDK crate, which a template names by version, from this repository (a `[patch]`, as
/// SwiftPM's mirror does for the Swift template).
public enum Cargo {
    public static let sdkCrate = "\(TestPlugins.repositoryRoot)/Sources/ContactsEngineSDK/Rust/switchboard-engine"
    public static let debianRegistry = "\(TestPlugins.repositoryRoot)/Sources/ContactsEngineSDK/Rust/debian-registry.toml"

    /// Builds the crate in `folder` (debug) into `target` (default `folder/target`), on a thread
    /// of its own, and returns its `lib<library>.so`.
    public static func buildPlugin(_ folder: String, library: String, target: String? = nil) async throws -> String {
        let target = target ?? "\(folder)/target"
        try await TestPlugins.runOffPool("/usr/bin/env", [
            "cargo", "build", "--offline", "--quiet", "--manifest-path", "\(folder)/Cargo.toml", "--target-dir", target,
            "--config", debianRegistry, "--config", #"patch.crates-io.switchboard-engine.path="\#(sdkCrate)""#,
        ])
        return "\(target)/debug/lib\(library).so"
    }
}
