@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging
import Synchronization
import SwitchboardEngineRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Reads a plugin's metadata in a short-lived child (`switchboard-engine-host --scan`), so that
/// a plugin whose constructor or entry function crashes or hangs is refused with the reason and
/// its code never runs in the server. Results are cached by path, device, inode, size and mtime,
/// in memory and in a file when one is named, so a restart does not scan unchanged files again.
public final class ChildScanner: PluginScanner {
    private let command: EngineProcessCommand
    /// Scans run in the same sandbox as engines, with no folder to write and no grant: a
    /// plugin's constructor and entry function run there first.
    private let sandbox: SandboxSettings
    private let logger: Logger
    private let timeout: Duration
    private let cacheFile: String?
    private let cache: Mutex<[String: CachedScan]>
    /// Why the cache file was not read though it exists (it is not a scan cache); it is then
    /// rebuilt, every plugin scanned again.
    public let unreadableCache: String?

    /// What one scan found, for the file as it was then.
    struct CachedScan: Codable, Equatable {
        /// The ABI version of the host that read the file: a newer host reads more of a descriptor.
        var hostABI = "\(SB_ABI_VERSION_MAJOR).\(SB_ABI_VERSION_MINOR)"
        // The file's `FileIdentity`, field by field: the cache file's format.
        var device: UInt64, inode: UInt64, size: Int64, modified: Int64
        var scanned: ScannedPlugin?

        var identity: FileIdentity { FileIdentity(device: device, inode: inode, size: size, modified: modified) }
        var refusal: String?
    }

    public init(
        command: EngineProcessCommand, sandbox: SandboxSettings = .off, timeout: Duration = .seconds(10), cacheFile: String? = nil,
        logger: Logger = Logger(label: "switchboard.scan")
    ) {
        self.command = command
        self.sandbox = sandbox
        self.logger = logger
        self.timeout = timeout
        self.cacheFile = cacheFile
        var stored: [String: CachedScan] = [:]
        var unreadable: String?
        if let bytes = cacheFile.flatMap({ try? Data(contentsOf: URL(fileURLWithPath: $0)) }) {
            do {
                stored = try JSONDecoder().decode([String: CachedScan].self, from: bytes)
            } catch {
                unreadable = (error as? DecodingError)?.readableDescription ?? "\(error)"
            }
        }
        cache = Mutex(stored)
        unreadableCache = unreadable
    }

    public func scan(_ path: String, trust: PluginTrust) -> Result<ScannedPlugin, PluginRefusal> {
        guard var entry = Self.entry(for: path) else { return .failure(PluginRefusal("no such file")) }
        if let cached = remembered(path, trust: trust) { return cached }
        switch runScan(path, trust: trust) {
        case .success(let scanned): entry.scanned = scanned
        case .failure(let refusal): entry.refusal = refusal.reason
        }
        cache.withLock { $0[path] = entry }
        save()
        return entry.result
    }

    public func remembered(_ path: String, trust: PluginTrust) -> Result<ScannedPlugin, PluginRefusal>? {
        guard let entry = Self.entry(for: path), let cached = cache.withLock({ $0[path] }), cached.sameFile(as: entry),
              cached.scanned?.sha256 != nil || trust.pinnedSHA256.isEmpty
        else { return nil }
        return cached.result
    }

    public func remember(_ scanned: ScannedPlugin, for path: String) {
        guard var entry = Self.entry(for: path) else { return }
        entry.scanned = scanned
        cache.withLock { $0[path] = entry }
        save()
    }

    /// The file's identity as it is now, with nothing found yet; nil when it does not exist.
    private static func entry(for path: String) -> CachedScan? {
        FileIdentity(path: path).map { CachedScan(device: $0.device, inode: $0.inode, size: $0.size, modified: $0.modified) }
    }

    private func runScan(_ path: String, trust: PluginTrust) -> Result<ScannedPlugin, PluginRefusal> {
        let pipe: [Int32]
        let child: ChildProcess
        // The scan's only writable folder, where the engine host stages the plugin it reads.
        var template = Array("\(NSTemporaryDirectory())/switchboard-scan-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            return .failure(PluginRefusal("cannot scan: no scratch folder: \(String(cString: strerror(errno)))"))
        }
        let scratch = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        sandbox.handOver(scratch)
        do {
            let pair = try socketPair()
            pipe = [pair.server, pair.child]
            defer { close(pair.child) }
            var outputLogger = logger
            outputLogger[metadataKey: "plugin"] = "\(path)"
            outputLogger[metadataKey: "source"] = "scanner output"
            let output = try EngineOutput(logger: outputLogger, label: "scan")
            defer { output.childHasIt() }
            child = try ChildProcess.spawn(
                command.executable, command.arguments + sandbox.arguments(writable: [scratch], grants: .none) + ["--scan", path],
                socket: pair.child, output: output.writeEnd, namespaces: sandbox.namespaces(grants: .none),
                environment: EngineEnvironment.variables(home: scratch))
        } catch {
            return .failure(PluginRefusal("cannot scan: \(error)"))
        }
        defer { close(pipe[0]) }
        let deadline = ContinuousClock.now + timeout
        var output: [UInt8] = []
        var timedOut = false
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { timedOut = true; break }
            var poll = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&poll, 1, Int32(left.seconds * 1000) + 1)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 14)
            let count = chunk.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            output.append(contentsOf: chunk[0..<count])
        }
        if timedOut {
            child.kill()
            _ = child.waitForExit()
            return .failure(PluginRefusal("timed out while loading (\(timeout.seconds) s); never loaded in the server"))
        }
        let exit = child.waitForExit()
        if let answer = try? JSONDecoder().decode(ScanAnswer.self, from: Data(output)) {
            if let scanned = answer.scanned { return .success(scanned) }
            if let refusal = answer.refusal { return .failure(PluginRefusal(refusal)) }
        }
        return .failure(PluginRefusal(exit.hasPrefix("SIG") ? "crashed while loading: \(exit); never loaded in the server" : "scanner \(exit) without an answer"))
    }

    private func save() {
        guard let cacheFile, let data = try? JSONEncoder().encode(cache.withLock { $0 }) else { return }
        try? data.write(to: URL(fileURLWithPath: cacheFile), options: .atomic)
    }
}

/// What `engine-host --scan` writes to its descriptor 3.
public struct ScanAnswer: Codable, Sendable {
    public var scanned: ScannedPlugin?
    public var refusal: String?

    public init(scanned: ScannedPlugin? = nil, refusal: String? = nil) {
        self.scanned = scanned
        self.refusal = refusal
    }
}

extension ChildScanner.CachedScan {
    func sameFile(as other: Self) -> Bool {
        hostABI == other.hostABI && identity == other.identity
    }

    var result: Result<ScannedPlugin, PluginRefusal> {
        if let scanned { return .success(scanned) }
        return .failure(PluginRefusal(refusal ?? "refused"))
    }
}
