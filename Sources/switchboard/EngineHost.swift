import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardIsolation

#if canImport(Glibc)
import Glibc
#endif

/// The child process of process isolation; the server starts it, users do not.
struct EngineHost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-host", abstract: "Serve one plugin's instances to the server over descriptor 3 (started by the server).",
        shouldDisplay: false)

    @Argument(help: "The plugin file (.so).")
    var file: String

    @Flag(help: "Only read the plugin's metadata, write it to descriptor 3 as JSON, and exit.")
    var scan = false

    @Option(help: ArgumentHelp("Address-space limit of this process, in MiB; 0 for none.", valueName: "MiB"))
    var memoryLimit = 0

    @Option(help: ArgumentHelp("CPU-time limit of this process, in seconds; 0 for none.", valueName: "seconds"))
    var cpuLimit = 0

    @OptionGroup var plugins: PluginOptions

    func run() async throws {
        EngineHostChild.applyLimits(memoryMiB: memoryLimit, cpuSeconds: cpuLimit)
        let policy = try plugins.policy()
        if scan {
            let answer: ScanAnswer
            do throws(PluginRefusal) {
                answer = ScanAnswer(scanned: try PluginLoader.scan(file, trust: policy.trust))
            } catch {
                answer = ScanAnswer(refusal: error.reason)
            }
            let bytes = try JSONEncoder().encode(answer)
            _ = bytes.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
            return
        }
        if let failure = await EngineHostChild.serve(socket: 3, plugin: file, policy: policy) {
            FileHandle.standardError.write(Data("switchboard engine-host: \(file): \(failure)\n".utf8))
            throw ExitCode(3)
        }
    }
}
