import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How the server starts a child: `switchboard engine-host …` with the given arguments.
public struct EngineHostCommand: Sendable {
    public var executable: String
    /// Arguments every child gets (limits, trust), before the plugin file.
    public var arguments: [String]

    public init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }
}

/// A child process started with posix_spawn: standard input from /dev/null, standard output
/// into the server's standard error (a plugin's printf must not corrupt anything), and optionally
/// one socket as its file descriptor 3.
struct ChildProcess {
    let pid: pid_t

    /// The socket number the child finds its end on.
    static let socketDescriptor: Int32 = 3

    static func spawn(_ executable: String, _ arguments: [String], socket: Int32?, output: Int32 = 2) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        if let socket { posix_spawn_file_actions_adddup2(&actions, socket, socketDescriptor) }

        // A child spawned from a thread that blocks signals inherits the mask; give it none, and
        // the default action for every signal.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // A crashing plugin should end its process at once: Swift's backtracer would spend
        // seconds symbolicating a C plugin's stack before the server learns of the crash. And a
        // plugin has no business with the server's API key.
        let inherited = ProcessInfo.processInfo.environment.filter { $0.key != "SWIFT_BACKTRACE" && $0.key != "WAHA_API_KEY" }
        let variables: [String] = inherited.map { "\($0.key)=\($0.value)" } + ["SWIFT_BACKTRACE=enable=no"]
        let environment: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environment)
        guard result == 0 else { throw ChildFailure("cannot start \(executable): \(String(cString: strerror(result)))") }
        return ChildProcess(pid: pid)
    }

    /// Waits for the child to end and says how: "exited with status 3", or the signal.
    func waitForExit() -> String {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return Self.describe(status)
    }

    /// How the child ended, if it has; waits at most `patience` (then it is still running).
    func exited(within patience: Duration) -> String? {
        let deadline = ContinuousClock.now + patience
        repeat {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return Self.describe(status) }
            usleep(10_000)
        } while ContinuousClock.now < deadline
        return nil
    }

    /// A wait status as words: "exited with status 3", or the signal's name.
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        return signal == 0 ? "exited with status \((status >> 8) & 0xFF)" : signalName(signal)
    }

    func kill() { _ = Glibc.kill(pid, SIGKILL) }

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
func socketPair() throws -> (server: Int32, child: Int32) {
    var pair: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
        throw ChildFailure("socketpair: \(String(cString: strerror(errno)))")
    }
    return (pair[0], pair[1])
}
