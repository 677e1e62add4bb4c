import CEngineSandbox
import ContactsEngineKit
import Foundation
import SwitchboardEngineRuntime

#if os(Linux)
import Glibc
#endif

/// How strictly third-party engine processes are confined (`--sandbox`).
public enum SandboxMode: String, Sendable, CaseIterable {
    /// Every layer, or the engine does not start.
    case strict
    /// Every layer the kernel offers; what is missing is reported.
    case bestEffort = "best-effort"
    /// No confinement beyond a separate process (development only).
    case off
}

/// Whether a third-party engine gets a process per session or one per engine version: the
/// server's default is `--engine-processes`, a session's own choice its `"isolation"`
/// (`process` or `shared-process`).
public enum EngineProcesses: String, Sendable, CaseIterable {
    /// Neither a crash nor a compromise crosses sessions: each instance has its own process and
    /// sandbox, reaching only its own state folder.
    case perSession = "per-session"
    /// One process serves every session of an engine version; its sandbox reaches every
    /// session's state folder. Weaker: for many sessions on a trusted engine.
    case perEngine = "per-engine"
}

/// The server's sandbox policy for engine processes: the mode, the user engines run as, their
/// limits, and, for one process, how it is shared. What one process gets is `arguments(for:)`.
public struct SandboxSettings: Sendable {
    public var mode: SandboxMode
    public var processes: EngineProcesses
    /// The user and group engines run as when the server is root; nil when the server is not
    /// root (the engine then keeps the server's user, mapped in a user namespace).
    public var user: (uid: UInt32, gid: UInt32)?
    public var openFiles: Int
    /// Processes and threads of the engine's user (RLIMIT_NPROC counts them per user).
    public var processLimit: Int
    public var fileSizeMiB: Int

    public static let defaultOpenFiles = 1024
    public static let defaultProcessLimit = 4096
    public static let defaultFileSizeMiB = 1024

    public init(
        mode: SandboxMode, processes: EngineProcesses = .perSession, user: (uid: UInt32, gid: UInt32)? = nil,
        openFiles: Int = defaultOpenFiles, processLimit: Int = defaultProcessLimit, fileSizeMiB: Int = defaultFileSizeMiB
    ) {
        self.mode = mode
        self.processes = processes
        self.user = user
        self.openFiles = openFiles
        self.processLimit = processLimit
        self.fileSizeMiB = fileSizeMiB
    }

    /// No confinement, one process per engine version: hosts that only scan or inspect, and `--sandbox off`.
    public static let off = SandboxSettings(mode: .off, processes: .perEngine)

    /// These settings for a process shared as `processes` says.
    package func sharing(_ processes: EngineProcesses) -> SandboxSettings {
        var settings = self
        settings.processes = processes
        return settings
    }

    /// The account `name` (`nobody` by default) as uid and gid, when this process is root.
    public static func engineUser(named name: String) throws -> (uid: UInt32, gid: UInt32)? {
        guard geteuid() == 0 else { return nil }
        if let uid = UInt32(name) { return (uid, uid) }
        guard let entry = getpwnam(name) else { throw SandboxFailure("no such user \"\(name)\" for --engine-user") }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Why `strict` cannot hold on this kernel, or nil: checked once at start, so the operator
    /// learns of a missing layer before any session needs it.
    public static func missingKernelLayers() -> [String] {
        var missing: [String] = []
        let abi = sbx_landlock_abi()
        if abi < 1 { missing.append("landlock (not offered by this kernel)") }
        if abi < 4 { missing.append("landlock-net (needs Landlock ABI 4, Linux 6.7; this kernel offers \(abi))") }
        if abi < 6 { missing.append("landlock-scope (needs Landlock ABI 6, Linux 6.12; this kernel offers \(abi))") }
        if sbx_seccomp_available() == 0 { missing.append("seccomp (not offered by this kernel)") }
        return missing
    }

    /// The namespaces a process gets: all of them, the network one only when no network is
    /// granted (a granted network is the host's, narrowed to ports by Landlock), and a user
    /// namespace when the server is not root, since it may create the others only inside one.
    package func namespaces(grants: SandboxGrants) -> Int32 {
        guard mode != .off else { return 0 }
        var namespaces: Int32 = SBX_NS_PID | SBX_NS_MOUNT | SBX_NS_IPC | SBX_NS_UTS
        if grants.network.isEmpty { namespaces |= SBX_NS_NET }
        if geteuid() != 0 { namespaces |= SBX_NS_USER }
        return namespaces
    }

    /// The engine host's arguments for one process: what it may write (its state folder, or the
    /// whole state root for a shared process), read, connect to, and as whom it runs.
    package func arguments(writable: [String], grants: SandboxGrants) -> [String] {
        guard mode != .off else { return ["--sandbox", "off"] }
        var arguments = ["--sandbox", mode.rawValue, "--processes", processes.rawValue,
                         "--open-files", String(openFiles), "--process-limit", String(processLimit), "--file-size", String(fileSizeMiB)]
        if let user { arguments += ["--uid", String(user.uid), "--gid", String(user.gid)] }
        arguments += writable.flatMap { ["--write", $0] }
        arguments += grants.read.flatMap { ["--read", $0] }
        arguments += grants.network.flatMap { ["--connect", $0] }
        if grants.exec { arguments.append("--allow-exec") }
        return arguments
    }

    /// The first folder on the way to `path` that the engine user may not enter, or nil. Engine
    /// processes reach their state folders by path, so a data folder under a folder only root
    /// may enter (`/root` is 0700) leaves them unable to keep files there.
    public func unreachableFolder(on path: String) -> String? {
        guard mode != .off, let user else { return nil }
        var folder = URL(fileURLWithPath: path).standardizedFileURL.path
        var blocking: String?
        while true {
            var info = stat()
            if stat(folder, &info) == 0 {
                let mode = info.st_mode
                let enters = info.st_uid == user.uid ? mode & S_IXUSR != 0 : info.st_gid == user.gid ? mode & S_IXGRP != 0 : mode & S_IXOTH != 0
                if !enters { blocking = folder }
            }
            guard folder != "/" else { return blocking }
            folder = (folder as NSString).deletingLastPathComponent
        }
    }

    /// Gives a folder the engine may write to its user, who would otherwise not own it when the
    /// server runs as root.
    package func handOver(_ folder: String) {
        guard mode != .off, let user else { return }
        _ = chown(folder, user.uid, user.gid)
    }
}

/// The fixed, minimal environment of an engine process: nothing of the server's.
package enum EngineEnvironment {
    package static func variables(home: String?) -> [String] {
        [
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "LANG=C.UTF-8",
            "HOME=\(home ?? "/")",
            // The one folder it may write: where the engine host stages the plugin it loads, too.
            "TMPDIR=\(home ?? "/tmp")",
            // A crashing plugin should end its process at once: Swift's backtracer would spend
            // seconds symbolicating a C plugin's stack before the server learns of the crash.
            "SWIFT_BACKTRACE=enable=no",
        ]
    }
}

struct SandboxFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
