import ContactsEngineKit
import Foundation
import Logging
import Synchronization
import SwitchboardEngineRuntime

/// Which sessions run their engine in a process of its own.
public struct IsolationPolicy: Sendable {
    public var launcher: (any IsolatedEngineLauncher)?
    /// The server's `--isolation`; nil: shipped engines in-process, every other one in a process.
    public var serverDefault: EngineIsolation?
    /// The server's `--engine-processes per-engine`: a session that names no isolation and would
    /// get a process of its own shares its engine's instead. A session naming `process` still
    /// gets its own.
    public var sharedByDefault: Bool

    public init(launcher: (any IsolatedEngineLauncher)?, serverDefault: EngineIsolation? = nil, sharedByDefault: Bool = false) {
        self.launcher = launcher
        self.serverDefault = serverDefault
        self.sharedByDefault = sharedByDefault
    }

    /// For hosts that run no child processes (tools, tests of the in-process path).
    public static let inProcessOnly = IsolationPolicy(launcher: nil, serverDefault: .inProcess)

    /// An engine compiled into the server has no file a child could load: it runs in-process.
    public func isolation(for engine: LoadedEngine, requested: EngineIsolation?) -> EngineIsolation {
        guard engine.file != nil else { return .inProcess }
        if let requested { return requested }
        let chosen = serverDefault ?? (engine.isShipped ? .inProcess : .process)
        return chosen == .process && sharedByDefault ? .sharedProcess : chosen
    }
}

/// Owns the sessions: creates, updates (swapping engines at run time), starts, stops and
/// deletes them, persisting each change. Changes are serialized by the actor; the request path
/// reads the session table without entering it.
public actor SessionManager {
    public static let defaultSessionName = "default"
    public static let defaultEngineName = "local"

    public nonisolated let registry: EngineRegistry
    let store: any SessionStore
    /// How often a server on a shared store reads every session again, in case it missed a notification.
    nonisolated let reconcileInterval: Duration
    private let stateRoot: String?
    private let callTimeout: Duration
    private let enginePaths: EnginePathPolicy
    public nonisolated let isolation: IsolationPolicy
    private let metrics: HostMetrics
    private let logger: Logger
    private nonisolated let table = Mutex<[String: Session]>([:])

    /// - Parameter stateRoot: where each session's engines get their folders; nil gives none.
    /// - Parameter enginePaths: where engine configurations may point (the server confines them to its data folder).
    public init(
        registry: EngineRegistry, store: any SessionStore, stateRoot: String?, callTimeout: Duration = .seconds(10),
        enginePaths: EnginePathPolicy = .unconfined, isolation: IsolationPolicy = .inProcessOnly, metrics: HostMetrics = .none,
        reconcileInterval: Duration = .seconds(5), logger: Logger = Logger(label: "switchboard.sessions")
    ) {
        self.reconcileInterval = reconcileInterval
        self.isolation = isolation
        self.metrics = metrics
        self.registry = registry
        self.store = store
        // Absolute, so every path an engine is given, and every path its errors name, is too.
        self.stateRoot = stateRoot.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        self.callTimeout = callTimeout
        self.enginePaths = enginePaths
        self.logger = logger
    }

    public nonisolated func session(named name: String) -> Session? {
        table.withLock { $0[name] }
    }

    public nonisolated var sessions: [Session] {
        table.withLock { $0.values.sorted { $0.name < $1.name } }
    }

    /// Loads persisted sessions and starts those that were running. A fresh install gets
    /// session `default` on the default engine, started.
    public func restore() async throws {
        var records = try await store.loadAll()
        if records.isEmpty {
            let record = SessionRecord(name: Self.defaultSessionName, engine: Self.defaultEngineName, started: true)
            try await store.save(record)
            records = [record]
        }
        for record in records {
            let session = Session(record: record, metrics: metrics)
            table.withLock { $0[record.name] = session }
            if record.started { await startInstance(of: session) }
        }
    }

    public func create(_ record: SessionRecord) async throws(SessionError) -> Session {
        try await serialized { () async throws(SessionError) in
            guard SessionName.isValid(record.name) else { throw .invalidName(record.name) }
            guard session(named: record.name) == nil else { throw .alreadyExists(session: record.name) }
            try check(record)
            let session = Session(record: record, metrics: metrics)
            // A create that fails leaves no folders behind, unless they were there before it.
            let hadStateFolder = stateRoot.map { FileManager.default.fileExists(atPath: "\($0)/\(record.name)") } ?? true
            do throws(SessionError) {
                if record.started {
                    session.install(try await makeServing(for: record), status: .working)
                }
                try await persist(record)
            } catch {
                session.install(nil, status: .stopped)
                if !hadStateFolder { removeStateFolder(of: record.name) }
                throw error
            }
            table.withLock { $0[record.name] = session }
            logger.info("session created", metadata: ["session": "\(record.name)", "engine": "\(record.engine)"])
            return session
        }
    }

    /// Changes a session as `change` says (`SessionChange.applied(to:)`). A running session
    /// whose engine or engine configuration changes swaps to a new instance: calls in flight
    /// finish on the old one, which is then destroyed. If the new instance cannot be created the
    /// session keeps the old one. Sending the same engine and configuration again swaps nothing.
    /// A composite swaps only the members that change (engine, configuration or isolation),
    /// keeping the others' instances, and installs the whole composition at once.
    public func update(_ name: String, _ change: SessionChange) async throws(SessionError) -> Session {
        try await serialized { () async throws(SessionError) in
            let session = try existing(name)
            let record = try change.applied(to: session.record)
            let changesInstances = Self.changesInstances(from: session.record, to: record)
            // A session whose engine is no longer loaded may still have its config changed.
            if changesInstances { try check(record) }
            if session.status == .working, changesInstances {
                let current = session.serving
                let serving = try await makeServing(for: record, reusing: current)
                do throws(SessionError) {
                    try await save(record, to: session)
                } catch {
                    discard(serving, keeping: current)
                    throw error
                }
                session.install(serving, status: .working)
                logger.info("session swapped engine", metadata: ["session": "\(name)", "engine": "\(record.engines.joined(separator: ","))"])
            } else {
                try await save(record, to: session)
            }
            return session
        }
    }

    public func start(_ name: String) async throws(SessionError) -> Session {
        try await serialized { () async throws(SessionError) in
            let session = try existing(name)
            try await save(started: true, to: session)
            if session.status != .working { await startInstance(of: session) }
            return session
        }
    }

    public func stop(_ name: String) async throws(SessionError) -> Session {
        try await serialized { () async throws(SessionError) in
            let session = try existing(name)
            try await save(started: false, to: session)
            session.install(nil, status: .stopped)
            return session
        }
    }

    public func restart(_ name: String) async throws(SessionError) -> Session {
        try await serialized { () async throws(SessionError) in
            let session = try existing(name)
            try await save(started: true, to: session)
            await startInstance(of: session)
            return session
        }
    }

    /// Deletes the session's record and stops it. Its state folder (`<stateRoot>/<session>`) is
    /// kept, so a session created again under the name finds its state, unless `purge`: then it is
    /// removed once the session is stopped (an instance still finishing calls keeps the files it
    /// has open until it is destroyed).
    public func delete(_ name: String, purge: Bool = false) async throws(SessionError) {
        try await serialized { () async throws(SessionError) in
            let session = try existing(name)
            do {
                try await store.delete(named: name)
            } catch {
                throw .storage("session store unavailable: cannot delete session \"\(name)\": \(error)")
            }
            table.withLock { $0[name] = nil }
            session.install(nil, status: .stopped)
            if purge { removeStateFolder(of: name) }
        }
    }

    private func removeStateFolder(of session: String) {
        guard let stateRoot else { return }
        let folder = "\(stateRoot)/\(session)"
        guard FileManager.default.fileExists(atPath: folder) else { return }
        do {
            try FileManager.default.removeItem(atPath: folder)
        } catch {
            logger.error("cannot remove a deleted session's state folder", metadata: ["session": "\(session)", "folder": "\(folder)", "reason": "\(error)"])
        }
    }

    /// Moves running sessions on the named engines to the engines' current (new) versions, and
    /// retries those that failed to start on them: a fixed plugin brings its sessions back.
    public func upgradeSessions(using engines: [String]) async {
        // Nothing in it throws; the change still waits its turn behind the others.
        _ = try? await serialized { () async throws(SessionError) in
            for session in sessions where session.record.engines.contains(where: engines.contains) && session.record.started && session.status != .stopped {
                await startInstance(of: session, renewing: engines)
            }
        }
    }

    /// Stops every session (each instance is destroyed once its calls have left), then closes the
    /// store. Records keep saying which sessions run, so the next start restores them.
    public func shutDown() async {
        // Behind any change still writing, so the store is not closed under it.
        _ = try? await serialized { () async throws(SessionError) in
            for session in sessions { session.install(nil, status: .stopped) }
            do {
                try await store.close()
            } catch {
                logger.error("cannot close the session store", metadata: ["reason": "\(error)"])
            }
        }
    }

    // MARK: Following a shared store

    /// Reads one session from the shared store and serves it as stored: created, swapped,
    /// stopped or deleted by another server. Read inside the change queue, so a slower read
    /// cannot apply an older record over a newer one. A change of engine swaps the same way a
    /// local one does (new instance first, then the old drains), so no call fails; if the new
    /// instance cannot be created here, a running session keeps the instance it had, and the
    /// log says why.
    func adopt(named name: String) async {
        guard let store = store as? any SharedSessionStore else { return }
        _ = try? await serialized { () async throws(SessionError) in
            let stored: SessionRecord?
            do {
                stored = try await store.load(named: name)
            } catch {
                // Shutting down: the read was cancelled, nothing failed.
                if Task.isCancelled { return }
                logger.error("cannot read a session another server changed", metadata: ["session": "\(name)", "reason": "\(error)"])
                return
            }
            let local = session(named: name)
            switch (local, stored) {
            case (nil, nil):
                return
            case (let local?, nil):
                table.withLock { $0[name] = nil }
                local.install(nil, status: .stopped)
                logger.info("session deleted by another server", metadata: ["session": "\(name)"])
            case (nil, let record?):
                let session = Session(record: record, metrics: metrics)
                // Started before it is listed, so no request finds it STOPPED on its way up.
                if record.started { await startInstance(of: session) }
                table.withLock { $0[name] = session }
                logger.info("session created by another server", metadata: ["session": "\(name)", "engine": "\(record.engine)"])
            case (let local?, let record?):
                let old = local.record
                guard old != record else { return }
                let changesEngine = Self.changesInstances(from: old, to: record)
                if !record.started {
                    local.state.withLock { $0.record = record }
                    local.install(nil, status: .stopped)
                } else if changesEngine || local.status != .working {
                    do throws(SessionError) {
                        let serving = try await makeServing(for: record, reusing: local.serving)
                        local.state.withLock { $0.record = record }
                        local.install(serving, status: .working)
                    } catch {
                        local.state.withLock { $0.record = record }
                        if local.status != .working { local.install(nil, status: .failed, failure: "\(error)") }
                        logger.error("session changed by another server cannot start here", metadata: ["session": "\(name)", "reason": "\(error)"])
                    }
                } else {
                    local.state.withLock { $0.record = record }
                }
                logger.info("session changed by another server", metadata: ["session": "\(name)", "engine": "\(record.engine)"])
            }
        }
    }

    /// Every session, stored or served here, read again.
    func reconcileAll() async {
        guard let store = store as? any SharedSessionStore else { return }
        let stored: [SessionRecord]
        do {
            stored = try await store.loadAll()
        } catch {
            if Task.isCancelled { return }
            logger.error("cannot read the shared sessions", metadata: ["reason": "\(error)"])
            return
        }
        for name in Set(stored.map(\.name)).union(sessions.map(\.name)).sorted() {
            let local = session(named: name)?.record
            // Unchanged sessions are not read a second time.
            if let local, stored.contains(local) { continue }
            await adopt(named: name)
        }
    }

    /// Held by each change from its first check to its last write. The actor alone would let a
    /// second change run while the first awaits its write, and act on state the first is about to
    /// replace: two creates of one name, or an update installing an instance into a deleted session.
    private var changing = false
    private var waitingToChange: [CheckedContinuation<Void, Never>] = []

    private func serialized<T>(_ change: () async throws(SessionError) -> T) async throws(SessionError) -> T {
        while changing {
            await withCheckedContinuation { waitingToChange.append($0) }
        }
        changing = true
        defer {
            changing = false
            if !waitingToChange.isEmpty { waitingToChange.removeFirst().resume() }
        }
        return try await change()
    }

    private func existing(_ name: String) throws(SessionError) -> Session {
        guard let session = session(named: name) else { throw .notFound(session: name) }
        return session
    }

    /// Starts (or restarts) a session's instance; a failure leaves it FAILED with the reason.
    /// `renewing` restarts only a composite's members on those engines, keeping the others.
    private func startInstance(of session: Session, renewing engines: [String]? = nil) async {
        do {
            let current = engines == nil ? nil : session.serving
            session.install(try await makeServing(for: session.record, reusing: current, renewing: engines ?? []), status: .working)
        } catch {
            let reason = switch error {
            case .engineRefused(_, let engineError): engineError.message
            default: "\(error)"
            }
            session.install(nil, status: .failed, failure: reason)
            logger.error("session failed to start", metadata: ["session": "\(session.name)", "reason": "\(reason)"])
        }
    }

    /// Whether going from one record to the other needs new instances.
    private static func changesInstances(from old: SessionRecord, to new: SessionRecord) -> Bool {
        new.engine != old.engine || new.engineConfig != old.engineConfig || new.isolation != old.isolation || new.composition != old.composition
            || new.sandbox != old.sandbox
    }

    /// The engines a record names are loaded, and its composition can be served.
    private func check(_ record: SessionRecord) throws(SessionError) {
        guard let composition = record.composition else {
            guard let engine = registry.engine(named: record.engine) else { throw .unknownEngine(record.engine) }
            try Self.check(record.sandbox, for: engine, parameter: "sandbox")
            return
        }
        if let invalidity = composition.invalidity { throw invalidity }
        for member in composition.members {
            guard let engine = registry.engine(named: member.engine) else { throw .unknownEngine(member.engine) }
            try Self.check(member.sandbox ?? .none, for: engine, parameter: "members[\(member.name)].sandbox")
        }
    }

    private static func check(_ grants: SandboxGrants, for engine: LoadedEngine, parameter: String) throws(SessionError) {
        if let problem = grants.problem(forEngine: engine.metadata.name, declaring: engine.metadata.needs) {
            throw .invalidGrant(parameter: parameter, problem)
        }
    }

    /// The instances a record needs: one, or one per member. A composite keeps the instances of
    /// `current`'s members that it does not change (nor runs on an engine being `renewed`); if any
    /// new one cannot be made, those made are destroyed and nothing changes.
    private func makeServing(
        for record: SessionRecord, reusing current: RunningInstances? = nil, renewing renewed: [String] = []
    ) async throws(SessionError) -> RunningInstances {
        guard let composition = record.composition else {
            return .single(try await makeInstance(
                session: record.name, engine: record.engine, configuration: record.engineConfig, isolation: record.isolation,
                grants: record.sandbox, folder: record.engine))
        }
        var instances: [String: ActiveInstance] = [:]
        if case .composite(let old)? = current {
            for member in composition.members {
                if let previous = old.composition.member(named: member.name), previous.sameInstance(as: member),
                   !renewed.contains(member.engine), let instance = old.instances[member.name] {
                    instances[member.name] = instance
                }
            }
        }
        let kept = instances
        do throws(SessionError) {
            for member in composition.members where kept[member.name] == nil {
                instances[member.name] = try await makeInstance(
                    session: record.name, engine: member.engine, configuration: member.engineConfig, isolation: member.isolation,
                    grants: member.sandbox ?? .none, folder: "members/\(member.name)", member: member.name)
            }
        } catch {
            for (name, instance) in instances where kept[name] == nil { instance.drain() }
            throw error
        }
        return .composite(CompositeInstances(composition, instances))
    }

    /// Destroys the instances of `serving` that `current` does not run (a swap that was not installed).
    private func discard(_ serving: RunningInstances, keeping current: RunningInstances?) {
        let running = current?.instances ?? []
        for instance in serving.instances where !running.contains(where: { $0 === instance }) { instance.drain() }
    }

    private func makeInstance(
        session: String, engine name: String, configuration: Data, isolation requested: EngineIsolation?, grants: SandboxGrants,
        folder: String, member: String? = nil
    ) async throws(SessionError) -> ActiveInstance {
        guard let engine = registry.engine(named: name) else { throw .unknownEngine(name) }
        let context = InstanceContext(
            session: session, stateDirectory: stateDirectory(session: session, folder: folder), callTimeout: callTimeout, logger: logger,
            grants: grants)
        let isolation = isolation.isolation(for: engine, requested: requested)
        do throws(EngineError) {
            try enginePaths.check(configuration)
            let handle: any EngineHandle
            switch isolation {
            case .inProcess:
                handle = try await engine.makeInstance(configuration: configuration, context: context)
            case .process, .sharedProcess:
                guard let launcher = self.isolation.launcher else {
                    throw EngineError(.unavailable, "this host cannot run engines in a process of their own")
                }
                handle = try await launcher.makeInstance(
                    of: engine, configuration: configuration, context: context, shared: isolation == .sharedProcess)
            }
            return ActiveInstance(handle: handle, engine: engine, isolation: isolation)
        } catch {
            // A member's refusal names the member: two members may run one engine.
            let reason = member.map { EngineError(error.kind, "member \"\($0)\": \(error.message)") } ?? error
            throw .engineRefused(engine: name, reason)
        }
    }

    /// A single engine's folder is named after the engine, a member's after the member.
    private func stateDirectory(session: String, folder: String) -> String? {
        guard let stateRoot else { return nil }
        let path = "\(stateRoot)/\(session)/\(folder)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes the record, then, once it is stored, makes it the session's.
    private func save(_ record: SessionRecord, to session: Session) async throws(SessionError) {
        try await persist(record)
        session.state.withLock { $0.record = record }
    }

    /// Stores whether the session should run, across restarts.
    private func save(started: Bool, to session: Session) async throws(SessionError) {
        var record = session.record
        record.started = started
        try await save(record, to: session)
    }

    private func persist(_ record: SessionRecord) async throws(SessionError) {
        do {
            try await store.save(record)
        } catch {
            throw .storage("session store unavailable: cannot save session \"\(record.name)\": \(error)")
        }
    }
}

