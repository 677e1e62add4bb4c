import CContactsEngine
import ContactsEngineKit
import Foundation
import Logging
import Synchronization

/// An engine the host can create instances of, whether embedded or loaded from a plugin file.
public struct LoadedEngine: Sendable {
    public enum Origin: Hashable, Sendable {
        case embedded
        case file(String)
    }

    public let metadata: EngineMetadata
    public let origin: Origin
    /// Increases each time a new version of the engine replaces the previous one.
    public let generation: Int
    /// Shipped with Switchboard (embedded, or found in a shipped folder): entered directly.
    public let isShipped: Bool
    let library: PluginLibrary
    /// The only threads that enter this plugin; nil for a shipped one.
    let threads: PluginThreads?
    /// The deadlines of its instances' calls: its registry's.
    public let deadlines: CallDeadlines

    init(
        metadata: EngineMetadata, origin: Origin, generation: Int, isShipped: Bool, library: PluginLibrary, threadLimits: PluginThreads.Limits,
        deadlines: CallDeadlines
    ) {
        self.metadata = metadata
        self.deadlines = deadlines
        self.origin = origin
        self.generation = generation
        self.isShipped = isShipped
        self.library = library
        threads = isShipped ? nil : PluginThreads(label: metadata.name, limits: threadLimits, deadlines: deadlines)
    }

    /// The plugin file, for a process of its own to load.
    public var file: String? {
        if case .file(let path) = origin { return path }
        return nil
    }

    /// Creates an instance; the returned handle is the host's only way to talk to it.
    public func makeInstance(configuration: Data, context: InstanceContext) async throws(EngineError) -> any EngineHandle {
        try await InProcessEngineHandle.make(engine: self, configuration: configuration, context: context)
    }
}

/// How the registry treats the plugin files it finds.
public struct PluginPolicy: Sendable {
    /// Folders holding the plugins built and installed with this Switchboard.
    public var shippedDirectories: [String]
    public var trust: PluginTrust
    public var threads: PluginThreads.Limits
    /// Reads third-party plugins' metadata without running their code here; nil maps them here.
    public var scanner: (any PluginScanner)?

    public init(
        shippedDirectories: [String] = [], trust: PluginTrust = PluginTrust(), threads: PluginThreads.Limits = PluginThreads.Limits(),
        scanner: (any PluginScanner)? = nil
    ) {
        self.shippedDirectories = shippedDirectories
        self.trust = trust
        self.threads = threads
        self.scanner = scanner
    }

    func isShipped(_ path: String) -> Bool {
        let folder = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent().path
        return shippedDirectories.contains { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path == folder }
    }
}

/// One line of the engine listing: a loaded engine, or a file that was refused and why.
public struct EngineListing: Codable, Hashable, Sendable {
    public enum State: String, Codable, Sendable { case loaded, refused }

    public let name: String?
    public let version: String?
    public let abiVersion: String?
    public let summary: String?
    public let license: String?
    public let homepage: String?
    public let features: [Feature]
    /// What the engine may need in a sandbox beyond its state folder (ABI 1.3).
    public let needs: [EngineNeed]
    /// The plugin file, or "embedded".
    public let file: String
    public let state: State
    public let reason: String?
    public let generation: Int?
}

/// What a scan changed.
public struct ScanReport: Codable, Hashable, Sendable {
    public var loaded: [String] = []
    /// Engines whose file changed and whose new version now replaces the old one.
    public var upgraded: [String] = []
    public var refused: [String] = []

    public init() {}
}

/// The engines this host knows: embedded ones, and plugins found by scanning a folder and
/// explicit paths. A rescan picks up new files and new versions; nothing is ever unloaded.
public final class EngineRegistry: Sendable {
    public let pluginDirectories: [String]
    public let pluginFiles: [String]
    public let policy: PluginPolicy

    private struct State {
        var engines: [String: LoadedEngine] = [:]
        /// The outcome for each plugin file at the identity it had when it was last read.
        var files: [String: (identity: FileIdentity, outcome: Result<String, PluginRefusal>)] = [:]
        var generations = 0
    }

    private let state = Mutex(State())
    private let logger: Logger
    private let metrics: HostMetrics
    /// The deadlines of every call to the engines it loads, wherever their instances run: one
    /// watchdog per registry, so each server (and each test's) keeps its own.
    public let deadlines = CallDeadlines()

    public init(
        pluginDirectories: [String] = [], pluginFiles: [String] = [], policy: PluginPolicy = PluginPolicy(), metrics: HostMetrics = .none,
        logger: Logger = Logger(label: "switchboard.engines")
    ) {
        self.pluginDirectories = pluginDirectories
        self.pluginFiles = pluginFiles
        self.policy = policy
        self.metrics = metrics
        self.logger = logger
    }

    /// Registers an engine compiled into the host. A plugin file of the same name later takes
    /// its place: that is how an embedded engine is upgraded without rebuilding the host.
    public func registerEmbedded(_ descriptor: UnsafePointer<sb_engine_descriptor>) throws(PluginRefusal) {
        let metadata = try PluginLoader.validate(descriptor)
        state.withLock { state in
            state.generations += 1
            state.engines[metadata.name] = LoadedEngine(
                metadata: metadata, origin: .embedded, generation: state.generations, isShipped: true,
                library: PluginLibrary(loaded: DescriptorPointer(pointer: descriptor)), threadLimits: policy.threads, deadlines: deadlines)
        }
        metrics.pluginLoaded(engine: metadata.name, kind: "embedded")
    }

    public func engine(named name: String) -> LoadedEngine? {
        state.withLock { $0.engines[name] }
    }

    public var engines: [LoadedEngine] {
        state.withLock { $0.engines.values.sorted { $0.metadata.name < $1.metadata.name } }
    }

    /// Every loaded engine and every refused file, loaded first, each sorted by name.
    public var listing: [EngineListing] {
        state.withLock { state in
            let loaded = state.engines.values.sorted { $0.metadata.name < $1.metadata.name }.map { engine in
                EngineListing(
                    name: engine.metadata.name, version: engine.metadata.version, abiVersion: engine.metadata.abiVersion,
                    summary: engine.metadata.summary, license: engine.metadata.license, homepage: engine.metadata.homepage,
                    features: engine.metadata.features, needs: engine.metadata.needs,
                    file: engine.origin.fileDescription, state: .loaded, reason: nil, generation: engine.generation)
            }
            let refused = state.files.sorted { $0.key < $1.key }.compactMap { path, record -> EngineListing? in
                guard case .failure(let refusal) = record.outcome else { return nil }
                return EngineListing(
                    name: nil, version: nil, abiVersion: nil, summary: nil, license: nil, homepage: nil, features: [], needs: [],
                    file: path, state: .refused, reason: refusal.reason, generation: nil)
            }
            return loaded + refused
        }
    }

    /// One scan at a time: two rescans racing would each load a changed file and bump its
    /// generation twice, restarting its sessions twice.
    private let scanning = Mutex(())

    /// Reads new and changed plugin files. Unchanged files are not opened again.
    @discardableResult
    public func scan() -> ScanReport {
        scanning.withLock { _ in
            var report = ScanReport()
            for path in candidateFiles() {
                guard let identity = FileIdentity(path: path) else {
                    report.refused.append(path)
                    metrics.pluginRefused()
                    state.withLock { $0.files[path] = (FileIdentity.missing, .failure(PluginRefusal("no such file"))) }
                    continue
                }
                let known = state.withLock { $0.files[path] }
                if let known, known.identity == identity { continue }
                let outcome: Result<String, PluginRefusal>
                do throws(PluginRefusal) {
                    let (library, metadata) = try read(path)
                    outcome = register(metadata, library, from: path, report: &report)
                } catch {
                    outcome = .failure(error)
                }
                if case .failure(let refusal) = outcome {
                    report.refused.append(path)
                    metrics.pluginRefused()
                    logger.warning("plugin refused", metadata: ["file": "\(path)", "reason": "\(refusal.reason)"])
                }
                state.withLock { $0.files[path] = (identity, outcome) }
            }
            return report
        }
    }

    private func register(
        _ metadata: EngineMetadata, _ library: PluginLibrary, from path: String, report: inout ScanReport
    ) -> Result<String, PluginRefusal> {
        state.withLock { state in
            if let current = state.engines[metadata.name], case .file(let otherPath) = current.origin, otherPath != path,
               FileManager.default.fileExists(atPath: otherPath) {
                return .failure(PluginRefusal("duplicate engine name \"\(metadata.name)\": already provided by \(otherPath)"))
            }
            let isUpgrade = state.engines[metadata.name] != nil
            state.generations += 1
            state.engines[metadata.name] = LoadedEngine(
                metadata: metadata, origin: .file(path), generation: state.generations, isShipped: policy.isShipped(path),
                library: library, threadLimits: policy.threads, deadlines: deadlines)
            if isUpgrade { report.upgraded.append(metadata.name) } else { report.loaded.append(metadata.name) }
            metrics.pluginLoaded(engine: metadata.name, kind: isUpgrade ? "upgraded" : "loaded")
            logger.info("engine \(isUpgrade ? "upgraded" : "loaded")", metadata: [
                "engine": "\(metadata.name)", "version": "\(metadata.version)", "file": "\(path)",
            ])
            return .success(metadata.name)
        }
    }

    /// A third-party plugin is read by the scanner, in a process of its own, and mapped here only
    /// if a session asks for it in-process. A shipped one is trusted to load here: mapped at once
    /// from its own path, unless the scanner remembers what the same file declared, in which case
    /// it too waits for a session (a restart maps only the engines its sessions use), and the
    /// engine compiled into the server serves in its place if it declares exactly the same.
    private func read(_ path: String) throws(PluginRefusal) -> (PluginLibrary, EngineMetadata) {
        let shipped = policy.isShipped(path)
        guard let scanner = policy.scanner else {
            let (descriptor, metadata) = try PluginLoader.open(path, trust: policy.trust, inPlace: shipped)
            return (PluginLibrary(loaded: descriptor), metadata)
        }
        if shipped {
            if case .success(let remembered)? = scanner.remembered(path, trust: policy.trust) {
                let metadata = remembered.metadata
                if let embedded = state.withLock({ $0.engines[metadata.name] }), embedded.origin == .embedded, embedded.metadata == metadata {
                    return (embedded.library, metadata)
                }
                return (PluginLibrary(deferred: path, trust: policy.trust, metadata: metadata, inPlace: true), metadata)
            }
            let (descriptor, metadata) = try PluginLoader.open(path, trust: policy.trust, inPlace: true)
            scanner.remember(ScannedPlugin(metadata: metadata, sha256: nil), for: path)
            return (PluginLibrary(loaded: descriptor), metadata)
        }
        let scanned = try scanner.scan(path, trust: policy.trust).get()
        try PluginLoader.checkPin(of: scanned.metadata.name, sha256: scanned.sha256, trust: policy.trust)
        return (PluginLibrary(deferred: path, trust: policy.trust, metadata: scanned.metadata), scanned.metadata)
    }

    /// `scan()` on a thread of its own: scanning opens files and may wait on child processes,
    /// which must not hold one of the concurrency pool's threads.
    public func scanOffPool() async -> ScanReport {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.scan()) }.start()
        }
    }

    /// Plugin files: `*.so` in each folder, sorted, then the explicit files.
    private func candidateFiles() -> [String] {
        let inFolders = pluginDirectories.flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasSuffix(".so") }
                .sorted()
                .map { (directory as NSString).appendingPathComponent($0) }
        }
        return inFolders + pluginFiles.filter { !inFolders.contains($0) }
    }
}

extension LoadedEngine.Origin {
    public var fileDescription: String {
        switch self {
        case .embedded: "embedded"
        case .file(let path): path
        }
    }
}
