import ContactsEngineKit
import Foundation
import Synchronization

/// The `vcard` engine: a read-only address book served from the `.vcf` files of one folder.
///
/// Configuration: `{"directory": "<path>"}`, required. Only the folder's own files are read,
/// not its subfolders (an export is one flat folder; recursing would pick up backups and
/// archives kept beside it). Hidden files are ignored: editors and macOS leave `.name.vcf`
/// companions there that are not cards. Symbolic links to files are followed.
///
/// Files added, changed or removed while the engine runs are picked up: a request that finds
/// the last look at the folder a second old or more lists it again (names, sizes and
/// modification times), and reads only the files that changed. Reading happens on a queue of
/// its own, so requests never hold a thread of the Swift concurrency pool on disk I/O; they
/// are answered from an immutable in-memory catalog that each scan replaces whole.
///
/// How a card becomes a contact is `CardContact`'s doc comment.
public final class VCardEngine: ContactsEngine {
    public static let name = "vcard"
    public static let version = "1.0.0"
    public static let summary = "Read-only contacts from the vCard (.vcf) files of a folder"
    public static let features: Set<Feature> = [.contactsList, .contactsGet, .contactsProfilePicture]
    /// In a sandboxed engine process it reaches a folder of cards outside its state folder only when granted.
    public static let needs: Set<EngineNeed> = [.readPaths]
    /// The shortest time between two looks at the folder, unless the configuration says otherwise:
    /// listing it on every request would cost more than the answer.
    static let refreshInterval: Duration = .seconds(1)

    public struct Configuration: Codable, Sendable, StrictConfiguration {
        public enum CodingKeys: String, CodingKey, CaseIterable { case directory, rescanSeconds }
        public var directory: String
        /// Seconds between two looks at the folder; `refreshInterval` when absent.
        public var rescanSeconds: Double?
        public init(directory: String, rescanSeconds: Double? = nil) {
            self.directory = directory
            self.rescanSeconds = rescanSeconds
        }
    }

    private struct State {
        /// The last scan's files by name; written only by scans, which the scan queue runs one at a time.
        var files: [String: LoadedFile] = [:]
        /// `nil` until the first scan finishes.
        var catalog: Catalog?
        var lastScan: ContinuousClock.Instant
        /// Why the folder could not be listed last time; a scan that can list it clears it.
        var failure: String?
    }

    private let directory: URL
    private let rescanInterval: Duration
    private let host: EngineHost
    private let scanQueue = DispatchQueue(label: "switchboard.vcard.scan")
    private let state: Mutex<State>

    public init(configuration: EngineConfiguration, host: EngineHost) throws {
        let settings = try configuration.decode(Configuration.self)
        guard !settings.directory.isEmpty else {
            throw EngineError(.invalidInput, "invalid configuration: directory: empty path")
        }
        let folder = host.resolve(configuredPath: settings.directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            // The path tried, whole: a relative one is in the engine's state folder, which the operator may not guess.
            let given = folder == settings.directory ? "" : " (\"\(settings.directory)\", in the engine's state folder)"
            throw EngineError(.invalidInput, "invalid configuration: directory: \(folder) is not a directory\(given)")
        }
        if let seconds = settings.rescanSeconds, !(0...86_400).contains(seconds) {
            throw EngineError(.invalidInput, "invalid configuration: rescanSeconds: must be from 0 to 86400; got \(seconds)")
        }
        rescanInterval = settings.rescanSeconds.map { .milliseconds(Int($0 * 1000)) } ?? Self.refreshInterval
        directory = URL(fileURLWithPath: folder, isDirectory: true)
        self.host = host
        state = Mutex(State(lastScan: .now))
        // Started now but not awaited: creating the engine must not wait on reading the folder.
        scanQueue.async { self.scan() }
    }

    public var status: EngineStatus {
        state.withLock { state in
            let counters = state.catalog?.counters ?? Catalog.emptyCounters
            switch (state.catalog, state.failure) {
            case (nil, nil): return EngineStatus(message: "reading \(directory.path)", counters: counters)
            case (nil, let failure?): return EngineStatus(health: .down, message: failure, counters: counters)
            case (_?, let failure?): return EngineStatus(health: .degraded, message: "\(failure); serving the last files read", counters: counters)
            case (_?, nil): return EngineStatus(message: ".vcf files of \(directory.path)", counters: counters)
            }
        }
    }

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] {
        try PageBounds.check(offset: request.offset, limit: request.limit)
        return try await read { catalog in try catalog.entries.page(request).map(\.contact) }
    }

    public func contact(_ request: ContactRequest) async throws -> Contact {
        try await entry(request.contactId).contact
    }

    /// `refresh` changes nothing: the photo comes from the card, which is at most a second stale.
    public func profilePicture(_ request: ProfilePictureRequest) async throws -> ProfilePictureResult {
        ProfilePictureResult(profilePictureURL: try await entry(request.contactId).photoURL)
    }

    private func entry(_ rawID: String) async throws -> CardContact {
        guard let id = ChatID.normalizedContactID(rawID) else { throw EngineError(.invalidInput, "invalid contact id: \(rawID)") }
        return try await read { catalog in
            guard let entry = catalog.entries[id] else { throw EngineError(.notFound, "no card has the number of \(id)") }
            return entry
        }
    }

    // MARK: Scanning

    /// Answers from the catalog, after a scan of the folder when the last one is old enough.
    private func read<T: Sendable>(_ body: (Catalog) throws -> T) async throws -> T {
        let due = state.withLock { state in
            let now = ContinuousClock.now
            guard now - state.lastScan >= rescanInterval else { return false }
            state.lastScan = now
            return true
        }
        // With no scan due, the first one may still be running: wait for it behind it in the queue.
        if due || state.withLock({ $0.catalog == nil }) {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                scanQueue.async {
                    if due { self.scan() }
                    done.resume()
                }
            }
        }
        return try state.withLock { state in
            guard let catalog = state.catalog else {
                throw EngineError(.unavailable, state.failure ?? "\(directory.path) has not been read yet")
            }
            return try body(catalog)
        }
    }

    /// Lists the folder and, when anything changed, reads the changed files and installs a new
    /// catalog. Runs on `scanQueue` only.
    private func scan() {
        let listing: [String: FileFingerprint]
        do {
            listing = try Self.vCardFiles(in: directory)
        } catch {
            let failure = "cannot list \(directory.path): \(error.localizedDescription)"
            let isNew = state.withLock { state in
                defer { state.failure = failure }
                return state.failure != failure
            }
            if isNew { host.log(.error, failure) }
            return
        }
        let (previous, isCurrent) = state.withLock { state in
            (state.files, state.catalog != nil && state.failure == nil && state.files.mapValues(\.fingerprint) == listing)
        }
        guard !isCurrent else { return }

        var files: [String: LoadedFile] = [:]
        for (name, fingerprint) in listing {
            if let known = previous[name], known.fingerprint == fingerprint {
                files[name] = known
            } else {
                files[name] = load(name, fingerprint: fingerprint)
            }
        }
        let catalog = Catalog(files: files) { host.log(.info, $0) }
        state.withLock { state in
            state.files = files
            state.catalog = catalog
            state.failure = nil
        }
    }

    /// Reads and parses one file, logging each card it skips: once per version of the file. A file
    /// that cannot be read counts as empty until it changes, rather than being retried every second.
    private func load(_ name: String, fingerprint: FileFingerprint) -> LoadedFile {
        let data: Data
        do {
            data = try Data(contentsOf: directory.appendingPathComponent(name))
        } catch {
            host.log(.warning, "cannot read \(name): \(error.localizedDescription)")
            return LoadedFile(fingerprint: fingerprint, cards: [])
        }
        let cards = CardContact.read(data)
        for (index, card) in cards.enumerated() {
            if case .failure(let problem) = card {
                host.log(.warning, "skipped card \(index + 1) of \(name) (line \(problem.line)): \(problem.reason)")
            }
        }
        return LoadedFile(fingerprint: fingerprint, cards: cards)
    }

    /// The folder's `.vcf` files (any case, hidden ones left out) and their fingerprints.
    static func vCardFiles(in directory: URL) throws -> [String: FileFingerprint] {
        let manager = FileManager.default
        var listing: [String: FileFingerprint] = [:]
        for name in try manager.contentsOfDirectory(atPath: directory.path)
        where !name.hasPrefix(".") && name.lowercased().hasSuffix(".vcf") {
            let path = directory.appendingPathComponent(name).resolvingSymlinksInPath().path
            // A file removed since the listing, or a folder named `.vcf`, is simply not there.
            guard let attributes = try? manager.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  let modified = attributes[.modificationDate] as? Date,
                  let size = (attributes[.size] as? NSNumber)?.intValue
            else { continue }
            listing[name] = FileFingerprint(modified: modified, size: size)
        }
        return listing
    }
}
