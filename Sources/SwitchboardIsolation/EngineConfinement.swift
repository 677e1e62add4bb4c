import CEngineSandbox
import Foundation
import SwitchboardEngineRuntime

#if canImport(Glibc)
import Glibc
#endif

/// The sandbox as the engine host applied it to itself, sent to the server in `confined`.
public struct ConfinementReport: Codable, Sendable {
    public var applied: [String]
    public var missing: [String]
    public var failure: String?
    /// `uid:gid` the engine host runs as now.
    public var user: String?
}

/// The child side of the sandbox: what `switchboard-engine-host` applies to itself before it
/// maps any plugin code, from what the server decided (`SandboxSettings.arguments`).
public enum EngineConfinement {
    /// What one engine process may reach.
    public struct Request: Sendable {
        public var mode: SandboxMode
        public var plugin: String
        public var user: (uid: UInt32, gid: UInt32)?
        public var writable: [String]
        public var readable: [String]
        /// Granted `host:port` pairs; the ports become Landlock rules.
        public var connect: [String]
        public var allowExec: Bool
        public var openFiles: Int
        public var processLimit: Int
        public var fileSizeMiB: Int

        public init(
            mode: SandboxMode, plugin: String, user: (uid: UInt32, gid: UInt32)?, writable: [String], readable: [String], connect: [String],
            allowExec: Bool, openFiles: Int, processLimit: Int, fileSizeMiB: Int
        ) {
            self.mode = mode
            self.plugin = plugin
            self.user = user
            self.writable = writable
            self.readable = readable
            self.connect = connect
            self.allowExec = allowExec
            self.openFiles = openFiles
            self.processLimit = processLimit
            self.fileSizeMiB = fileSizeMiB
        }
    }

    /// What a shared library and its runtime read: the loader's cache, libraries, certificates
    /// and time zones, this PID namespace's /proc, the CPU count Dispatch sizes its pool by.
    static let systemPaths = [
        "/usr", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
        "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/proc", "/sys/devices/system/cpu", "/sys/fs/cgroup",
        "/dev/urandom", "/dev/random", "/dev/zero",
    ]
    /// Name resolution, read only when a network is granted.
    static let resolverPaths = [
        "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf", "/etc/services", "/etc/protocols",
    ]

    /// The layers `sbx_confine` applies, by the names the API shows.
    static let layerNames: [(Int32, String)] = [
        (SBX_LAYER_PROC, "proc"), (SBX_LAYER_LIMITS, "limits"), (SBX_LAYER_USER, "user"),
        (SBX_LAYER_CAPABILITIES, "capabilities"), (SBX_LAYER_NO_NEW_PRIVS, "no-new-privs"),
        (SBX_LAYER_LANDLOCK_FS, "landlock-fs"), (SBX_LAYER_LANDLOCK_NET, "landlock-net"),
        (SBX_LAYER_LANDLOCK_SCOPE, "landlock-scope"), (SBX_LAYER_SECCOMP, "seccomp"),
    ]

    /// Confines this process. Must run before it starts a thread: Landlock binds only the
    /// calling thread and what it starts afterwards.
    /// - Parameter inPIDNamespace: this process runs in a PID namespace of its own (behind its init), so it mounts a /proc of it.
    public static func apply(_ request: Request, inPIDNamespace: Bool) -> ConfinementReport {
        guard request.mode != .off else { return ConfinementReport(applied: [], missing: [], user: currentUser) }
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 1
        guard threads == 1 else {
            return ConfinementReport(
                applied: [], missing: layerNames.map(\.1), failure: "\(threads) threads were running before the sandbox", user: currentUser)
        }
        var readable = systemPaths
        if !request.connect.isEmpty { readable += resolverPaths }
        readable += mappedLibraryFolders()
        // The plugin file alone, not its folder: a data folder may sit beside it.
        readable.append(request.plugin)
        readable += request.readable
        let writable = request.writable + ["/dev/null"]
        let ports = request.connect.compactMap { SandboxGrants.port(of: $0) }
        var report = sbx_report()
        withCStrings(readable) { readPaths in
            withCStrings(writable) { writePaths in
                ports.withUnsafeBufferPointer { ports in
                    var policy = sbx_policy(
                        read_paths: readPaths.baseAddress, read_count: readPaths.count, write_paths: writePaths.baseAddress,
                        write_count: writePaths.count, tcp_ports: ports.baseAddress, tcp_port_count: ports.count,
                        // Always: without a network grant the process is in a network namespace
                        // of its own as well, and then no TCP port is allowed either.
                        restrict_network: 1, allow_exec: request.allowExec ? 1 : 0, mount_proc: inPIDNamespace ? 1 : 0,
                        uid: request.user?.uid ?? UInt32.max, gid: request.user?.gid ?? UInt32.max,
                        open_files: UInt64(request.openFiles), processes: UInt64(request.processLimit),
                        file_size: UInt64(request.fileSizeMiB) << 20)
                    _ = sbx_confine(&policy, &report)
                }
            }
        }
        let applied = Int32(report.applied)
        let failure = withUnsafeBytes(of: report.failure) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let missing = layerNames.filter { applied & $0.0 == 0 }.map(\.1)
        return ConfinementReport(
            applied: layerNames.filter { applied & $0.0 != 0 }.map(\.1), missing: missing,
            failure: failure.isEmpty ? (missing.isEmpty ? nil : "missing \(missing.joined(separator: ", "))") : failure, user: currentUser)
    }

    /// Opens the plugin while this process may still read any file, so that a plugin in a
    /// folder only root can enter still loads after the switch to the engine's user. Call before
    /// `apply`; then `loadablePath` says which path to load.
    public static func holdPlugin(_ path: String) -> Int32 {
        open(path, O_RDONLY | O_CLOEXEC)
    }

    /// The plugin's own path when the engine's user can read it there (a shipped plugin keeps
    /// being recognised by its folder), else the descriptor `holdPlugin` opened, by its /proc path.
    public static func loadablePath(_ path: String, held descriptor: Int32) -> String {
        access(path, R_OK) == 0 || descriptor < 0 ? path : "/proc/self/fd/\(descriptor)"
    }

    /// The folders the engine may write, opened while this process may still enter any folder:
    /// a data folder only root may enter (mode 0700, as under /root) still lets the engine's user
    /// reach its own state folder, through the descriptor. Call before `apply`.
    public static func holdFolders(_ paths: [String]) -> [String: Int32] {
        var held: [String: Int32] = [:]
        for path in paths {
            let descriptor = sbx_open_folder(path)
            if descriptor >= 0 { held[path] = descriptor }
        }
        return held
    }

    /// `path` as the engine's user can reach it: itself when it can, else through the held
    /// descriptor of the folder that holds it (`/proc/self/fd/N/…`).
    public static func reachable(_ path: String, held: [String: Int32]) -> String {
        guard access(path, X_OK) != 0 else { return path }
        for (folder, descriptor) in held where path == folder || path.hasPrefix(folder + "/") {
            return "/proc/self/fd/\(descriptor)" + path.dropFirst(folder.count)
        }
        return path
    }

    private static var currentUser: String { "\(getuid()):\(getgid())" }

    /// The folders of the libraries mapped now (the Swift runtime's among them), which a
    /// plugin's own dependencies are likely to share.
    static func mappedLibraryFolders() -> [String] {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return [] }
        var folders: [String] = []
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            guard path.hasSuffix(".so") || path.contains(".so.") else { continue }
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            if !folders.contains(folder) { folders.append(folder) }
        }
        return folders
    }

    private static func withCStrings<T>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> T) -> T {
        let pointers = strings.map { UnsafePointer(strdup($0)) }
        defer { pointers.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        return pointers.withUnsafeBufferPointer(body)
    }
}
