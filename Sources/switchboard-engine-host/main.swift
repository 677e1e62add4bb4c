// `switchboard-engine-host`: the process a third-party engine runs in, started by the server
// (never by hand) in namespaces of its own, with its socket to the server as descriptor 3. It
// confines itself before anything else: no thread exists yet, so Landlock binds the whole
// process, and no plugin code (not even a constructor) runs before the sandbox is in place.
// It links only what a plugin host needs, not the server's HTTP stack or databases.
import CEngineSandbox
import Foundation
import SwitchboardEngineRuntime
import SwitchboardIsolation

// In a PID namespace of its own, a small init stays PID 1 and this process goes on as PID 2.
let inPIDNamespace = sbx_become_init() == 1
let options = EngineProcessArguments.parseOrExit()
WireServer.applyLimits(memoryMiB: options.memoryLimit, cpuSeconds: options.cpuLimit)
let held = EngineConfinement.holdPlugin(options.file)
let folders = EngineConfinement.holdFolders(options.writable)
let confinement = EngineConfinement.apply(options.confinement, inPIDNamespace: inPIDNamespace)
let pluginPath = EngineConfinement.loadablePath(options.file, held: held)
// Where the engine host stages the plugin: TMPDIR, its state folder, reached as the engine's user can.
if let temporary = ProcessInfo.processInfo.environment["TMPDIR"] {
    setenv("TMPDIR", EngineConfinement.reachable(temporary, held: folders), 1)
}
let strict = options.confinement.mode == .strict

if options.scan {
    let answer: ScanAnswer
    if strict, let failure = confinement.failure {
        answer = ScanAnswer(refusal: "not scanned: --sandbox strict, and \(failure)")
    } else {
        do throws(PluginRefusal) {
            answer = ScanAnswer(scanned: try PluginLoader.scan(pluginPath, trust: options.policy.trust))
        } catch {
            answer = ScanAnswer(refusal: error.reason)
        }
    }
    let bytes = (try? JSONEncoder().encode(answer)) ?? Data()
    _ = bytes.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
    exit(0)
}

let plugin = pluginPath
let policy = options.policy
let reachableFolders = folders
Task.detached { [confinement] in
    // Under strict with a layer missing the server ends this process once it reads the report;
    // the plugin is never loaded meanwhile, since the server sends no welcome.
    let failure = await WireServer.serve(
        socket: 3, plugin: plugin, policy: policy, confinement: confinement,
        stateDirectory: { EngineConfinement.reachable($0, held: reachableFolders) })
    if let failure {
        FileHandle.standardError.write(Data("switchboard-engine-host: \(plugin): \(failure)\n".utf8))
        exit(3)
    }
    exit(0)
}
dispatchMain()
