import ContactsEngineKit
import Foundation
import Logging
import CEngineSandbox
import NIOCore
import Synchronization
import SwitchboardEngineRuntime
import SwitchboardIsolation

/// The server's side of one engine's child process: the instances it serves, the calls in flight,
/// and its restarts. When the child dies, every call in flight fails at once with 503 naming the
/// engine and the signal, its instances report the failure (their sessions show FAILED), and the
/// child is started again after a backoff, its instances created again from their configurations.
///
/// The child's socket is a SwiftNIO channel on the server's event loop group (`WireConnection`);
/// its messages are read there (`ChildHandler`), and its exit is seen from its pidfd
/// (`ChildExit`). No thread of its own waits on either.
final class EngineProcess: Sendable {
    struct Restarts: Sendable {
        var first: Duration = .milliseconds(100)
        var longest: Duration = .seconds(30)
        /// A crash this soon after the previous one doubles the wait.
        var window: Duration = .seconds(60)
        /// Calls in a row that time out before the child is taken for hung and killed.
        var timeoutsBeforeKill = 3
    }

    let engineName: String
    private let plugin: String
    private let command: EngineProcessCommand
    private let restarts: Restarts
    private let metrics: HostMetrics
    private let logger: Logger
    private let sandbox: SandboxSettings
    /// What the process may write (its session's state folder, or every session's for a shared one) and is granted.
    private let writable: [String]
    private let grants: SandboxGrants
    private let deadlines: CallDeadlines
    private let group: any EventLoopGroup
    private static let handshakeTimeout = Duration.seconds(10)

    private struct Instance {
        let configuration: [UInt8]
        let context: InstanceContext
        var ready = false
    }

    /// A child as started: its process, its exit, and the namespaces it has.
    private struct Spawned: Sendable {
        let process: ChildProcess
        let exit: ChildExit
        /// The namespaces it was started in, for its report.
        let namespaces: Int32
        /// Why the namespaces asked for could not be had (best-effort only).
        let namespaceFailure: String?
    }

    private struct Child {
        let spawned: Spawned
        let connection: WireConnection
    }

    private struct State {
        var child: Child?
        /// Why no child serves, while one is being restarted.
        var down: String?
        /// Set when the server ends the child on purpose, so its death is reported as that.
        var killReason: String?
        var stopped = true
        var instances: [UInt64: Instance] = [:]
        var calls: [UInt64: PendingCall] = [:]
        var creating: [UInt64: PendingCall] = [:]
        var queries: [UInt64: PendingCall] = [:]
        var handshake: PendingCall?
        var timeoutsInARow = 0
        var nextWait: Duration
        var lastCrash: ContinuousClock.Instant?
        var restarts = 0
        /// The sandbox of the running child, as it reported it.
        var confinement: SandboxReport?
        /// The planned restart, kept so that stopping the process cancels it.
        var restart: Task<Void, Never>?
    }

    private let state: Mutex<State>
    private let numbers = SerialNumbers()

    init(
        engineName: String, plugin: String, command: EngineProcessCommand, restarts: Restarts, metrics: HostMetrics, logger: Logger,
        sandbox: SandboxSettings, writable: [String], grants: SandboxGrants, deadlines: CallDeadlines, group: any EventLoopGroup
    ) {
        self.deadlines = deadlines
        self.group = group
        self.sandbox = sandbox
        self.writable = writable
        self.grants = grants
        self.engineName = engineName
        self.plugin = plugin
        self.command = command
        self.restarts = restarts
        self.metrics = metrics
        self.logger = logger
        state = Mutex(State(nextWait: restarts.first))
    }

    // MARK: Instances

    func createInstance(configuration: Data, context: InstanceContext) async throws(EngineError) -> UInt64 {
        try await ensureRunning(timeout: context.callTimeout)
        let id = UInt64(numbers.next())
        state.withLock { $0.instances[id] = Instance(configuration: Array(configuration), context: context) }
        do throws(EngineError) {
            try await create(id, timeout: context.callTimeout)
        } catch {
            state.withLock { _ = $0.instances.removeValue(forKey: id) }
            stopIfUnused()
            throw error
        }
        return id
    }

    private func create(_ id: UInt64, timeout: Duration) async throws(EngineError) {
        guard let instance = state.withLock({ $0.instances[id] }) else { return }
        let message = WireMessage.create(
            instance: id, session: Array(instance.context.session.utf8), stateDirectory: Array((instance.context.stateDirectory ?? "").utf8),
            configuration: instance.configuration)
        _ = try await exchange(message, operation: "create", timeout: timeout) { state, call in state.creating[id] = call }
        state.withLock { $0.instances[id]?.ready = true }
    }

    func destroy(_ id: UInt64) {
        let connection = state.withLock { state -> WireConnection? in
            guard state.instances.removeValue(forKey: id) != nil else { return nil }
            return state.child?.connection
        }
        connection?.send(.destroy(instance: id))
        stopIfUnused()
    }

    /// The sandbox the child runs in now; nil while none runs.
    var confinement: SandboxReport? { state.withLock { $0.child == nil ? nil : $0.confinement } }

    /// Why the instance cannot serve now, or nil.
    func failure(of id: UInt64) -> String? {
        state.withLock { state in
            guard let instance = state.instances[id] else { return nil }
            return instance.ready ? nil : state.down ?? "engine \"\(engineName)\" is starting"
        }
    }

    // MARK: Calls

    func call(_ id: UInt64, _ feature: Feature, request: [UInt8], timeout: Duration) async throws(EngineError) -> [UInt8] {
        let call = UInt64(numbers.next())
        do throws(EngineError) {
            let result = try await exchange(.call(instance: id, call: call, feature: Array(feature.rawValue.utf8), request: request),
                                            operation: feature.rawValue, timeout: timeout, cancel: .cancel(call: call)) { state, pending in
                state.calls[call] = pending
            }
            state.withLock { $0.timeoutsInARow = 0 }
            return result
        } catch where error.kind == .timeout {
            state.withLock { _ = $0.calls.removeValue(forKey: call) }
            noteTimeout()
            throw error
        }
    }

    func query(_ id: UInt64, features: Bool, timeout: Duration) async throws(EngineError) -> [UInt8] {
        let query = UInt64(numbers.next())
        let message: WireMessage = features ? .features(instance: id, query: query) : .status(instance: id, query: query)
        do throws(EngineError) {
            return try await exchange(message, operation: features ? "instance_features" : "status", timeout: timeout) { state, pending in
                state.queries[query] = pending
            }
        } catch {
            state.withLock { _ = $0.queries.removeValue(forKey: query) }
            throw error
        }
    }

    /// Sends `message` and waits for the answer that `register` files its pending call under.
    /// `cancel`, when given, is sent if the server stops waiting first (deadline or caller gone).
    private func exchange(
        _ message: WireMessage, operation: String, timeout: Duration, cancel: WireMessage? = nil,
        register: @escaping (inout State, PendingCall) -> Void
    ) async throws(EngineError) -> [UInt8] {
        let pending = PendingCall(engineName: engineName, operation: operation, timeout: timeout, deadlines: deadlines)
        if let cancel {
            pending.whenAbandoned { [self] in
                state.withLock { $0.child?.connection }?.send(cancel)
            }
        }
        let result = await withTaskCancellationHandler {
            await send(message, pending, register: register)
        } onCancel: {
            pending.abandon()
        }
        return try result.get()
    }

    private func send(
        _ message: WireMessage, _ pending: PendingCall, register: @escaping (inout State, PendingCall) -> Void
    ) async -> Result<[UInt8], EngineError> {
        await withUnsafeContinuation { continuation in
            pending.install(continuation)
            let connection = state.withLock { state -> Result<WireConnection, EngineError> in
                guard let child = state.child, state.down == nil else {
                    return .failure(EngineError(.unavailable, state.down ?? "engine \"\(engineName)\" is not running"))
                }
                register(&state, pending)
                return .success(child.connection)
            }
            switch connection {
            case .success(let connection):
                pending.arm()
                connection.send(message)
            case .failure(let error):
                pending.settle(.failure(error))
            }
        }
    }

    private func noteTimeout() {
        let hung = state.withLock { state -> ChildProcess? in
            state.timeoutsInARow += 1
            guard state.timeoutsInARow >= restarts.timeoutsBeforeKill, let child = state.child, state.killReason == nil else { return nil }
            state.killReason = "engine \"\(engineName)\" was killed after \(state.timeoutsInARow) calls in a row timed out"
            return child.spawned.process
        }
        if let hung {
            logger.error("engine process hung; killing it", metadata: ["engine": "\(engineName)"])
            hung.kill()
        }
    }

    // MARK: The child

    private func ensureRunning(timeout: Duration) async throws(EngineError) {
        let start = state.withLock { state -> Bool in
            guard state.stopped else { return false }
            state.stopped = false
            state.down = nil
            return true
        }
        if start {
            try await launch()
        } else if let down = state.withLock({ $0.child == nil ? $0.down : nil }) {
            throw EngineError(.unavailable, down)
        }
    }

    /// Starts a child and waits for its handshake.
    private func launch() async throws(EngineError) {
        let spawned: Spawned
        let socket: Int32
        do {
            (spawned, socket) = try spawn()
        } catch {
            throw EngineError(.unavailable, "engine \"\(engineName)\": \(error)")
        }
        let child = Child(spawned: spawned, connection: WireConnection(eventLoop: group.next()))
        let handshake = PendingCall(engineName: engineName, operation: "the engine host handshake", timeout: Self.handshakeTimeout, deadlines: deadlines)
        let result = await withUnsafeContinuation { continuation in
            handshake.install(continuation)
            state.withLock { state in
                state.child = child
                state.handshake = handshake
                state.killReason = nil
                state.timeoutsInARow = 0
                state.confinement = nil
            }
            handshake.arm()
            // A process the plugin forked may hold the child's end of the socket open after the
            // child died: its pidfd says so, and the socket is closed from here.
            spawned.exit.whenExited { child.connection.close() }
            child.connection.open(socket: socket) { [self] in ChildHandler(process: self, spawned: spawned) }.whenFailure { [self] error in
                noteEnd("engine \"\(engineName)\": \(error)")
                spawned.process.kill()
                connectionClosed(spawned, on: child.connection.eventLoop)
            }
        }
        do throws(EngineError) {
            _ = try result.get()
        } catch {
            state.withLock { if $0.killReason == nil { $0.killReason = "engine \"\(engineName)\": \(error.message)" } }
            spawned.process.kill()
            throw error
        }
    }

    /// Starts the engine host in its namespaces, with its output going to the log. Under
    /// `best-effort`, a kernel that refuses the namespaces gets a child without them, and the
    /// report says so; under `strict` the refusal stands.
    private func spawn() throws -> (Spawned, socket: Int32) {
        let (server, remote) = try socketPair()
        defer { close(remote) }
        var started = false
        defer { if !started { close(server) } }
        var outputLogger = logger
        outputLogger[metadataKey: "engine"] = "\(engineName)"
        outputLogger[metadataKey: "source"] = "engine output"
        let output = try EngineOutput(logger: outputLogger, label: "engine-\(engineName)")
        defer { output.childHasIt() }
        let arguments = command.arguments + sandbox.arguments(writable: writable, grants: grants) + [plugin]
        let environment = EngineEnvironment.variables(home: writable.count == 1 ? writable[0] : nil)
        let namespaces = sandbox.namespaces(grants: grants)
        let process: ChildProcess
        var namespaceFailure: String?
        do {
            process = try ChildProcess.spawn(
                command.executable, arguments, socket: remote, output: output.writeEnd, namespaces: namespaces, environment: environment)
        } catch where namespaces != 0 && sandbox.mode == .bestEffort {
            namespaceFailure = "namespaces: \(error)"
            process = try ChildProcess.spawn(command.executable, arguments, socket: remote, output: output.writeEnd, environment: environment)
        }
        let exit: ChildExit
        do {
            exit = try ChildExit(process)
        } catch {
            process.kill()
            _ = process.waitForExit()
            throw error
        }
        started = true
        let spawned = Spawned(
            process: process, exit: exit, namespaces: namespaceFailure == nil ? namespaces : 0, namespaceFailure: namespaceFailure)
        return (spawned, server)
    }

    /// The child's sandbox as it reported it, kept; or, under `--sandbox strict` with a layer
    /// missing, refused: the child is killed before it loads the plugin (false).
    private func accept(_ report: ConfinementReport, from spawned: Spawned) -> Bool {
        let confinement = sandboxReport(report, spawned: spawned)
        if let failure = confinement.failure, sandbox.mode == .strict {
            metrics.sandboxRefused(engine: engineName)
            logger.error("engine process refused: its sandbox cannot be applied in full", metadata: [
                "engine": "\(engineName)", "reason": "\(failure)",
            ])
            state.withLock { $0.killReason = "engine \"\(engineName)\" not started: --sandbox strict, and \(failure)" }
            spawned.process.kill()
            return false
        }
        state.withLock { $0.confinement = confinement }
        return true
    }

    /// The welcome was sent: the child serves.
    private func handshakeDone() {
        state.withLock { $0.handshake }?.settle(.success([]))
    }

    /// Why the child is being ended, unless one was given already (`always` overrides it).
    private func noteEnd(_ reason: String, always: Bool = false) {
        state.withLock { if always || $0.killReason == nil { $0.killReason = reason } }
    }

    private func receive(_ message: WireMessage) {
        switch message {
        case .created(let id, let status, let text):
            state.withLock { $0.creating.removeValue(forKey: id) }?.settle(EngineError.outcome(status: Int64(clamping: status), payload: text))
        case .completion(let call, let status, let bytes):
            state.withLock { $0.calls.removeValue(forKey: call) }?.settle(EngineError.outcome(status: Int64(clamping: status), payload: bytes))
        case .answer(let query, let bytes):
            state.withLock { $0.queries.removeValue(forKey: query) }?.settle(.success(bytes))
        case .log(let id, let level, let text):
            guard let context = state.withLock({ $0.instances[id]?.context }) else { return }
            var logger = context.logger
            logger[metadataKey: "engine"] = "\(engineName)"
            logger[metadataKey: "session"] = "\(context.session)"
            logger.log(level: Logger.Level(pluginLevel: Int64(clamping: level)), "\(String(decoding: text, as: UTF8.self))")
        case .hello, .confined, .welcome, .create, .destroy, .call, .features, .status, .cancel:
            return
        }
    }

    /// The child's own report, with the namespaces the server started it in.
    private func sandboxReport(_ report: ConfinementReport, spawned child: Spawned) -> SandboxReport {
        let namespaces: [(flag: Int32, name: String)] = [
            (SBX_NS_PID, "pid-namespace"), (SBX_NS_MOUNT, "mount-namespace"),
            (SBX_NS_IPC, "ipc-namespace"), (SBX_NS_UTS, "uts-namespace"),
            (SBX_NS_NET, "network-namespace"), (SBX_NS_USER, "user-namespace"),
        ]
        // Descriptor and environment hygiene hold in every mode, `off` included.
        var layers = ["descriptors", "environment"]
        layers += namespaces.filter { child.namespaces & $0.flag != 0 }.map(\.name)
        var missing = report.missing
        var failure = report.failure
        if let namespaceFailure = child.namespaceFailure {
            let asked = sandbox.namespaces(grants: grants)
            missing += namespaces.filter { asked & $0.flag != 0 }.map(\.name)
            failure = failure ?? namespaceFailure
        }
        return SandboxReport(
            mode: sandbox.mode.rawValue, layers: layers + report.applied, missing: missing, failure: failure, user: report.user, grants: grants,
            processes: sandbox.processes.rawValue)
    }

    /// The child's socket closed: it died, was stopped, or its pidfd said it exited. One that
    /// closed its socket but lives on is given a second, then killed; `ended` follows its exit.
    private func connectionClosed(_ spawned: Spawned, on eventLoop: any EventLoop) {
        let patience = eventLoop.scheduleTask(in: .seconds(1)) { spawned.process.kill() }
        spawned.exit.whenExited { [self] in
            patience.cancel()
            ended(spawned)
        }
    }

    /// The child exited: reaps it for how, fails what was in flight, then restarts it if instances
    /// still need it.
    private func ended(_ child: Spawned) {
        let exit = child.process.waitForExit()
        let (reason, waiting, restartAfter) = state.withLock { state -> (String, [PendingCall], Duration?) in
            let reason = state.killReason ?? "engine \"\(engineName)\" crashed (\(exit))"
            let waiting = Array(state.calls.values) + Array(state.creating.values) + Array(state.queries.values) + [state.handshake].compactMap { $0 }
            state.calls = [:]
            state.creating = [:]
            state.queries = [:]
            state.handshake = nil
            state.child = nil
            for id in state.instances.keys { state.instances[id]?.ready = false }
            guard !state.stopped else { return (reason, waiting, nil) }
            state.down = reason
            let now = ContinuousClock.now
            if let last = state.lastCrash, now - last < restarts.window {
                state.nextWait = min(state.nextWait * 2, restarts.longest)
            } else {
                state.nextWait = restarts.first
            }
            state.lastCrash = now
            return (reason, waiting, state.instances.isEmpty ? nil : state.nextWait)
        }
        for call in waiting { call.settle(.failure(EngineError(.unavailable, reason))) }
        guard let restartAfter else {
            state.withLock { state in
                if state.instances.isEmpty { state.stopped = true }
            }
            return
        }
        logger.error("engine process ended; restarting it", metadata: [
            "engine": "\(engineName)", "reason": "\(reason)", "after": "\(restartAfter.seconds) s",
        ])
        let planned = Task { await restart(after: restartAfter) }
        state.withLock { $0.restart = planned }
    }

    private func restart(after wait: Duration) async {
        try? await Task.sleep(for: wait)
        guard state.withLock({ !$0.stopped && $0.child == nil }) else { return }
        do throws(EngineError) {
            try await launch()
        } catch {
            return  // `ended` ran for the failed child and planned the next try
        }
        state.withLock { state in
            state.down = nil
            state.restarts += 1
        }
        metrics.engineRestarted(engine: engineName)
        let instances = state.withLock { $0.instances }
        for (id, instance) in instances {
            do throws(EngineError) {
                try await create(id, timeout: instance.context.callTimeout)
            } catch {
                logger.error("instance not recreated after restart", metadata: ["engine": "\(engineName)", "reason": "\(error.message)"])
            }
        }
        logger.info("engine process restarted", metadata: ["engine": "\(engineName)"])
    }

    /// Ends the child once no instance needs it: its socket is closed, and it exits.
    private func stopIfUnused() {
        let child = state.withLock { state -> Child? in
            guard state.instances.isEmpty, !state.stopped else { return nil }
            state.stopped = true
            state.restart?.cancel()
            state.restart = nil
            state.killReason = "engine \"\(engineName)\" stopped: no instance needs it"
            return state.child
        }
        child?.connection.close()
    }
}

extension EngineProcess {
    /// Reads one child's messages on its channel's event loop: the handshake (`hello`, then
    /// `confined`, answered with `welcome`), then answers to calls, queries and creates.
    private final class ChildHandler: ChannelInboundHandler {
        typealias InboundIn = WireMessage
        typealias OutboundOut = WireMessage

        private enum Phase {
            case hello
            case confined(version: UInt64)
            case serving
            case ending
        }

        private let process: EngineProcess
        private let spawned: Spawned
        private var phase = Phase.hello

        init(process: EngineProcess, spawned: Spawned) {
            self.process = process
            self.spawned = spawned
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let message = unwrapInboundIn(data)
            switch phase {
            case .serving:
                process.receive(message)
            case .hello:
                guard case .hello(let magic, let versions) = message, magic == WireMessage.magic else {
                    return end(context, "engine host did not complete the handshake")
                }
                guard let version = WireMessage.versions.last(where: versions.contains) else {
                    return end(context, "engine host speaks protocol versions \(versions); this server speaks \(WireMessage.versions)", always: true)
                }
                phase = .confined(version: version)
            case .confined(let version):
                guard case .confined(let bytes) = message, let report = try? JSONDecoder().decode(ConfinementReport.self, from: Data(bytes)) else {
                    return end(context, "engine host did not report its sandbox")
                }
                guard process.accept(report, from: spawned) else {
                    phase = .ending
                    return context.close(promise: nil)
                }
                phase = .serving
                context.writeAndFlush(wrapOutboundOut(.welcome(version: version)), promise: nil)
                process.handshakeDone()
            case .ending:
                return
            }
        }

        private func end(_ context: ChannelHandlerContext, _ reason: String, always: Bool = false) {
            process.noteEnd(reason, always: always)
            phase = .ending
            context.close(promise: nil)
        }

        /// A frame too large or malformed, or the socket failed: the connection ends.
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            switch phase {
            case .hello: process.noteEnd("engine host did not complete the handshake")
            case .confined: process.noteEnd("engine host did not report its sandbox")
            case .serving, .ending: break
            }
            phase = .ending
            process.connectionClosed(spawned, on: context.eventLoop)
        }
    }
}
