import ContactsEngineKit
import Synchronization

/// What a scan of a plugin file tells without running its code in this process.
public struct ScannedPlugin: Codable, Hashable, Sendable {
    public var metadata: EngineMetadata
    /// Lowercase hex of the file's SHA-256, when some engine is pinned.
    public var sha256: String?

    public init(metadata: EngineMetadata, sha256: String?) {
        self.metadata = metadata
        self.sha256 = sha256
    }
}

/// Reads plugin metadata in a process of its own (GStreamer's scanner): a plugin that crashes or
/// hangs while loading is refused with the reason and never mapped into the server.
public protocol PluginScanner: Sendable {
    func scan(_ path: String, trust: PluginTrust) -> Result<ScannedPlugin, PluginRefusal>
    /// What a scan of the file, as it is now, found before; nil when none did (no scan is run).
    func remembered(_ path: String, trust: PluginTrust) -> Result<ScannedPlugin, PluginRefusal>?
    /// Keeps what loading the file in the server found (a shipped plugin), for `remembered`.
    func remember(_ scanned: ScannedPlugin, for path: String)
}

/// A plugin's code in this process: mapped at once (shipped and embedded engines), or only when
/// a session first asks for the engine in-process.
final class PluginLibrary: Sendable {
    private let path: String?
    private let trust: PluginTrust
    private let inPlace: Bool
    private let scanned: EngineMetadata?
    private let mapped: Mutex<Result<DescriptorPointer, PluginRefusal>?>

    init(loaded descriptor: DescriptorPointer) {
        path = nil
        trust = PluginTrust()
        inPlace = false
        scanned = nil
        mapped = Mutex(.success(descriptor))
    }

    /// - Parameter inPlace: a shipped plugin, mapped from its own path (`PluginStaging`).
    init(deferred path: String, trust: PluginTrust, metadata: EngineMetadata, inPlace: Bool = false) {
        self.path = path
        self.trust = trust
        self.inPlace = inPlace
        scanned = metadata
        mapped = Mutex(nil)
    }

    /// The descriptor, mapping the file on first use. The file must still say what it said
    /// when it was scanned: one replaced since then waits for a rescan.
    func descriptor() throws(PluginRefusal) -> DescriptorPointer {
        try mapped.withLock { mapped throws(PluginRefusal) -> DescriptorPointer in
            if let mapped { return try mapped.get() }
            let outcome: Result<DescriptorPointer, PluginRefusal>
            do throws(PluginRefusal) {
                let (descriptor, metadata) = try PluginLoader.open(path ?? "", trust: trust, inPlace: inPlace)
                outcome = metadata == scanned
                    ? .success(descriptor)
                    : .failure(PluginRefusal("the file changed since it was scanned; rescan the plugins"))
            } catch {
                outcome = .failure(error)
            }
            mapped = outcome
            return try outcome.get()
        }
    }
}
