import ArgumentParser
import Foundation
import Logging
import SwitchboardCore

/// Where plugins come from, shared by every command that loads engines.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugins"), help: ArgumentHelp(
        "A folder of engine plugins (*.so); repeatable. Default: $SWITCHBOARD_PLUGINS, else the folder of this executable (where the engines shipped with it are built) and ./plugins.",
        valueName: "dir"))
    var directories: [String] = []

    @Option(name: .customLong("plugin"), help: ArgumentHelp("One plugin file to load; repeatable.", valueName: "file"))
    var files: [String] = []

    var resolvedDirectories: [String] {
        if !directories.isEmpty { return directories }
        if let configured = ProcessInfo.processInfo.environment["SWITCHBOARD_PLUGINS"], !configured.isEmpty {
            return configured.split(separator: ":").map(String.init)
        }
        let executableFolder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        return [executableFolder, "plugins"].filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// A registry with the embedded engines, then every plugin found.
    func loadRegistry(logger: Logger) throws -> EngineRegistry {
        let registry = EngineRegistry(pluginDirectories: resolvedDirectories, pluginFiles: files, logger: logger)
        try registry.registerEmbedded(EmbeddedEngines.local)
        registry.scan()
        return registry
    }
}
