import CEngineSandbox
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How the server starts a child: `switchboard-engine-host …` with the given arguments.
public struct EngineProcessCommand: Sendable {
    public var executable: String
    /// Arguments every child gets (limits, trust), before the plugin file.
    public var arguments: [String]

    public init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }
}

/// A child process started by `sbx_spawn`: in the namespaces asked for, with standard input
/// from /dev/null, standard output and error into `output`, optionally one socket as its
/// descriptor 3, every other descriptor of the server closed, and only the environment given.
package struct ChildProcess: Sendable {
    let pid: pid_t
    /// Readable once the child has exited, whatever its own children hold open.
    package let pidfd: Int32
    /// In a PID namespace the child is the namespace's init (`sbx_become_init`), which exits
    /// with 128 + the signal that ended the engine host.
    let behindInit: Bool

    /// The socket number the child finds its end on.
    static let socketDescriptor: Int32 = 3

    package static func spawn(
        _ executable: String, _ arguments: [String], socket: Int32?, output: Int32, namespaces: Int32 = 0, environment: [String]
    ) throws -> ChildProcess {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        var pidfd: Int32 = -1
        var stage: UnsafePointer<CChar>?
        let result = executable.withCString { path in
            argv.withUnsafeBufferPointer { argv in
                envp.withUnsafeBufferPointer { envp in
                    var request = sbx_spawn_request(
                        executable: path, argv: argv.baseAddress, envp: envp.baseAddress, wire_fd: socket ?? -1, output_fd: output,
                        namespaces: namespaces)
                    return sbx_spawn(&request, &pid, &pidfd, &stage)
                }
            }
        }
        guard result == 0 else {
            let step = stage.map { String(cString: $0) } ?? "spawn"
            throw ChildFailure("cannot start \(executable): \(step): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid, pidfd: pidfd, behindInit: namespaces & SBX_NS_PID != 0)
    }

    /// Waits for the child to end and says how: "exited with status 3", or the signal.
    package func waitForExit() -> String {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        close(pidfd)
        return describe(status)
    }

    /// A wait status as words: "exited with status 3", or the signal's name.
    func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        let code = (status >> 8) & 0xFF
        if signal == 0, behindInit, (129...192).contains(code) { return Self.signalName(code - 128) }
        return signal == 0 ? "exited with status \(code)" : Self.signalName(signal)
    }

    package func kill() { _ = Glibc.kill(pid, SIGKILL) }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE",
            SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU", SIGTRAP: "SIGTRAP", SIGPIPE: "SIGPIPE",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}

struct ChildFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A connected pair of stream sockets, both close-on-exec (dup2 clears it on the child's copy).
package func socketPair() throws -> (server: Int32, child: Int32) {
    var pair: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
        throw ChildFailure("socketpair: \(String(cString: strerror(errno)))")
    }
    return (pair[0], pair[1])
}
