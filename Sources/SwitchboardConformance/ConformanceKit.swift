@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Logging
import SwitchboardEngineRuntime

/// Checks that a plugin keeps the contract the host and the API rely on: it loads, every feature
/// it declares answers in the documented shape, every other one answers not-implemented, bad
/// input (and a battery of malformed phone numbers and ids) is invalid-input rather than a crash
/// or a lookup, its pages are the slices of its own full list in the documented orders with
/// valid ids, `get` answers each listed contact field by field and not-found for others, and
/// `check-exists` names the number asked about (`ListOracle`), concurrent calls are safe, and destroying an
/// instance with calls in flight completes every call. `switchboard verify` prints the report;
/// a failing check names the request that showed it.
///
/// Given a scanner and a launcher (as `switchboard verify` gives them), the kit runs the plugin
/// as a server runs a third-party engine: its metadata read by the sandboxed scanner, its
/// instances served by a sandboxed engine process with the grants given, and none of its code
/// mapped into the kit's process. Without them, the plugin loads here, as a shipped engine does.
///
/// The checks call the engine's features with sample requests, the upsert, block and unblock
/// checks included: point it at a test backend, not at an address book someone uses.
public struct ConformanceKit: Sendable {
    public struct Check: Sendable, Hashable {
        public let name: String
        /// `nil` when the check passed; otherwise what was wrong.
        public let failure: String?

        public var passed: Bool { failure == nil }

        public init(name: String, failure: String?) {
            self.name = name
            self.failure = failure
        }
    }

    /// A contact id no real address book holds, used where a check needs one.
    public static let sampleID = "10000000001@c.us"

    let path: String
    let configuration: Data
    /// The instances' state folder, as a server gives each session's: where a relative path in
    /// the configuration points.
    let stateDirectory: String?
    let callTimeout: Duration
    let concurrentCalls: Int
    let scanner: (any PluginScanner)?
    let launcher: (any IsolatedEngineLauncher)?
    let grants: SandboxGrants

    public init(
        path: String, configuration: Data = Data("{}".utf8), stateDirectory: String? = nil, callTimeout: Duration = .seconds(10),
        concurrentCalls: Int = 64, scanner: (any PluginScanner)? = nil, launcher: (any IsolatedEngineLauncher)? = nil,
        grants: SandboxGrants = .none
    ) {
        self.path = path
        self.configuration = configuration
        self.stateDirectory = stateDirectory
        self.callTimeout = callTimeout
        self.concurrentCalls = concurrentCalls
        self.scanner = scanner
        self.launcher = launcher
        self.grants = grants
    }

    public func run() async -> [Check] {
        var report = Report()
        let quiet = Logger(label: "switchboard.verify") { _ in SwiftLogNoOpLogHandler() }
        let registry = EngineRegistry(pluginFiles: [path], policy: PluginPolicy(scanner: scanner), logger: quiet)
        registry.scan()
        let loading = scanner == nil ? "loads through dlopen with a valid descriptor" : "loads through dlopen in a scanner process with a valid descriptor"
        guard let entry = registry.listing.first, entry.state == .loaded, let name = entry.name, let engine = registry.engine(named: name) else {
            report.fail(loading, registry.listing.first?.reason ?? "no engine found in \(path)")
            return report.checks
        }
        report.pass("\(loading): \(name) \(engine.metadata.version), ABI \(engine.metadata.abiVersion)")
        if let problem = grants.problem(forEngine: name, declaring: engine.metadata.needs) {
            report.fail("the grants answer needs the engine declares", problem)
            return report.checks
        }
        let context = InstanceContext(session: "verify", stateDirectory: stateDirectory, callTimeout: callTimeout, logger: quiet, grants: grants)

        let instance: any EngineHandle
        do {
            instance = try await makeInstance(of: engine, context: context)
        } catch {
            report.fail("creates an instance from the configuration", "\(error.kind.name): \(error.message)")
            return report.checks
        }
        report.pass("creates an instance from the configuration")
        defer { instance.shutdown() }
        if let sandbox = instance.sandbox {
            let ungranted = Set(engine.metadata.needs).subtracting(grants.needs).map(\.rawValue).sorted()
            report.check(
                "runs in an engine process: \(sandbox.summary)"
                    + (ungranted.isEmpty ? "" : "; not granted: \(ungranted.joined(separator: ", ")) (calls needing them should answer unavailable)"),
                sandbox.failure)
        }

        let declared = Set(engine.metadata.features)
        let active = await instance.activeFeatures()
        report.check("the instance serves a subset of what the descriptor declares",
                     active.isSubset(of: declared) ? nil : "instance serves undeclared \(active.subtracting(declared).map(\.rawValue).sorted())")
        let status = await instance.status()
        report.check("status is well-formed JSON", status.message.hasSuffix("reported a malformed status") ? status.message : nil)

        let samples = await Samples.gather(from: instance, active: active)
        for feature in Feature.allCases {
            if active.contains(feature) {
                await report.check("\(feature.rawValue) answers in the documented shape", Self.documentedShape(feature, instance, samples))
                if let bad = Self.badRequest(for: feature) {
                    await report.check("\(feature.rawValue) answers malformed input with invalid-input", Self.refusesBadInput(feature, bad, instance))
                }
                if let battery = MalformedInputs.requests(for: feature) {
                    await report.check("\(feature.rawValue) answers every malformed phone number or id with invalid-input",
                                       MalformedInputs.firstAccepted(feature, battery, instance)?.description)
                }
            } else {
                // The one call of a feature the instance does not serve: every other check keeps to `active`.
                await report.check("\(feature.rawValue), not served, answers not-implemented", Self.notImplemented(feature, instance))
            }
        }
        if active.contains(.contactsList) {
            await checkAgainstFullList(instance, active: active, into: &report)
        }
        await report.check("\(concurrentCalls) concurrent calls per feature all answer, as they do one at a time",
                           concurrentCalls(instance, active: active, samples: samples))
        await report.check("destroying an instance with calls in flight completes every call", destroyWithCallsInFlight(engine, context: context))
        return report.checks
    }

    // MARK: The checks

    /// After the feature checks, so an engine that starts empty holds the contact upsert added.
    private func checkAgainstFullList(_ instance: any EngineHandle, active: Set<Feature>, into report: inout Report) async {
        let pagesCheck = "contacts.list pages equal the slices of the full list, for every limit, offset, sortBy and sortOrder"
        let idsCheck = "every id contacts.list answers is a valid chat id"
        let oracle: ListOracle
        switch await ListOracle.load(instance) {
        case .success(let loaded): oracle = loaded
        case .failure(let failure):
            report.fail(pagesCheck, failure.description)
            return
        }
        let findings = await oracle.pages()
        report.check(pagesCheck, findings.wrongPage?.description)
        report.check(idsCheck, findings.invalidID?.description)
        await report.check("contacts.list in pieces is the full list, in order", oracle.inPieces()?.description)
        if active.contains(.contactsGet) {
            await report.check("contacts.get answers each listed contact as listed, field by field", oracle.gets()?.description)
            await report.check("contacts.get invents no contact for ids contacts.list does not hold", oracle.unknownIDs()?.description)
        }
        if active.contains(.contactsCheckExists) {
            await report.check("contacts.check-exists says a listed number exists only under its own chatId", oracle.checkExists()?.description)
        }
    }

    private static func documentedShape(_ feature: Feature, _ instance: any EngineHandle, _ samples: Samples) async -> String? {
        do {
            switch feature {
            case .contactsList:
                let page = try await instance.checkedResult(Operations.ListContacts.self, ContactsPageRequest(limit: 3, offset: 0, sortBy: .id), enforcingContract: false)
                if page.count > 3 { return "limit 3 answered \(page.count) contacts" }
                if page.map(\.id) != page.map(\.id).sorted(by: CodePointOrder.precedes) { return "sortBy=id answered ids out of order: \(page.map(\.id))" }
            case .contactsGet:
                let contact = try await instance.checkedResult(Operations.GetContact.self, ContactRequest(contactId: samples.contactID), enforcingContract: false)
                if contact.id != samples.contactID { return "asked for \(samples.contactID), answered \(contact.id)" }
            case .contactsUpsert:
                _ = try await instance.checkedResult(Operations.UpsertContact.self, UpsertContactRequest(chatId: sampleID, firstName: "Conformance", lastName: "Check"))
            case .contactsCheckExists:
                let result = try await instance.checkedResult(Operations.CheckExists.self, CheckExistsRequest(phone: ChatID.userPart(of: samples.contactID)), enforcingContract: false)
                if result.numberExists, result.chatId == nil { return "numberExists is true but chatId is missing" }
            case .contactsAbout:
                _ = try await instance.checkedResult(Operations.About.self, ContactRequest(contactId: samples.contactID))
            case .contactsProfilePicture:
                _ = try await instance.checkedResult(Operations.ProfilePicture.self, ProfilePictureRequest(contactId: samples.contactID))
            case .contactsBlock:
                _ = try await instance.checkedResult(Operations.Block.self, ContactRequest(contactId: samples.contactID))
            case .contactsUnblock:
                _ = try await instance.checkedResult(Operations.Unblock.self, ContactRequest(contactId: samples.contactID))
            case .lidsList:
                let page = try await instance.checkedResult(Operations.ListLids.self, LidsPageRequest(limit: 3, offset: 0))
                if page.count > 3 { return "limit 3 answered \(page.count) mappings" }
            case .lidsCount:
                let count = try await instance.checkedResult(Operations.CountLids.self, Empty())
                if count.count < 0 { return "count is negative: \(count.count)" }
            case .lidsGetByLid:
                _ = try await instance.checkedResult(Operations.PhoneNumberForLid.self, LidLookupRequest(lid: "10000000001@lid"))
            case .lidsGetByPhoneNumber:
                _ = try await instance.checkedResult(Operations.LidForPhoneNumber.self, PhoneNumberLookupRequest(pn: sampleID))
            }
            return nil
        } catch where error.kind == .notFound && feature.acceptsNotFound {
            return nil
        } catch {
            return "\(error.kind.name): \(error.message)"
        }
    }

    private static func notImplemented(_ feature: Feature, _ instance: any EngineHandle) async -> String? {
        do {
            _ = try await instance.call(feature, request: Array(sampleRequest(for: feature).utf8))
            return "answered success for a feature it does not serve"
        } catch where error.kind == .notImplemented {
            return nil
        } catch {
            return "answered \(error.kind.name) (\(error.message)), not not-implemented"
        }
    }

    private static func refusesBadInput(_ feature: Feature, _ request: String, _ instance: any EngineHandle) async -> String? {
        do {
            _ = try await instance.call(feature, request: Array(request.utf8))
            return "accepted \(request)"
        } catch where error.kind == .invalidInput {
            return nil
        } catch {
            return "answered \(error.kind.name) (\(error.message)) for \(request)"
        }
    }

    private func concurrentCalls(_ instance: any EngineHandle, active: Set<Feature>, samples: Samples) async -> String? {
        let features = active.filter(\.isReadOnly).sorted()
        var expected: [Feature: Outcome] = [:]
        for feature in features {
            expected[feature] = await Outcome(of: feature, request: Self.sampleRequest(for: feature, samples: samples), on: instance)
        }
        let outcomes = await withTaskGroup(of: (Feature, Outcome).self) { group in
            for feature in features {
                let request = Self.sampleRequest(for: feature, samples: samples)
                for _ in 0..<concurrentCalls {
                    group.addTask { (feature, await Outcome(of: feature, request: request, on: instance)) }
                }
            }
            return await group.reduce(into: [(Feature, Outcome)]()) { $0.append($1) }
        }
        let differing = outcomes.filter { expected[$0.0] != $0.1 }
        guard let first = differing.first else { return nil }
        return "\(differing.count) of \(outcomes.count) calls differ from the same call made alone, e.g. \(first.0.rawValue): \(first.1) instead of \(expected[first.0].map { "\($0)" } ?? "?")"
    }

    /// In the engine process the launcher starts, when there is one; otherwise here.
    private func makeInstance(of engine: LoadedEngine, context: InstanceContext) async throws(EngineError) -> any EngineHandle {
        guard let launcher else { return try await engine.makeInstance(configuration: configuration, context: context) }
        return try await launcher.makeInstance(of: engine, configuration: configuration, context: context, shared: false)
    }

    private func destroyWithCallsInFlight(_ engine: LoadedEngine, context: InstanceContext) async -> String? {
        let instance: any EngineHandle
        do {
            instance = try await makeInstance(of: engine, context: context)
        } catch {
            return "cannot create a second instance: \(error.message)"
        }
        let features = await instance.activeFeatures().filter(\.isReadOnly).sorted()
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            for feature in features {
                for _ in 0..<concurrentCalls / 4 {
                    group.addTask {
                        let outcome = await Outcome(of: feature, request: Self.sampleRequest(for: feature), on: instance)
                        return outcome == .failed(.timeout)
                    }
                }
            }
            instance.shutdown()
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        return timedOut == 0 ? nil : "\(timedOut) calls never completed after destroy (timed out after \(callTimeout))"
    }

    // MARK: Requests

    static func sampleRequest(for feature: Feature, samples: Samples = Samples()) -> String {
        switch feature {
        case .contactsList: #"{"limit": 3, "offset": 0}"#
        case .contactsGet, .contactsAbout, .contactsBlock, .contactsUnblock: #"{"contactId": "\#(samples.contactID)"}"#
        case .contactsProfilePicture: #"{"contactId": "\#(samples.contactID)", "refresh": false}"#
        case .contactsUpsert: #"{"chatId": "\#(sampleID)", "firstName": "Conformance"}"#
        case .contactsCheckExists: #"{"phone": "\#(ChatID.userPart(of: samples.contactID))"}"#
        case .lidsList: #"{"limit": 3, "offset": 0}"#
        case .lidsCount: "{}"
        case .lidsGetByLid: #"{"lid": "10000000001@lid"}"#
        case .lidsGetByPhoneNumber: #"{"pn": "\#(sampleID)"}"#
        }
    }

    /// A request of the wrong shape for the feature; `nil` where any JSON is a valid request.
    static func badRequest(for feature: Feature) -> String? {
        switch feature {
        case .contactsList: #"{"limit": "many"}"#
        case .contactsGet, .contactsAbout, .contactsProfilePicture, .contactsBlock, .contactsUnblock: #"{"contactId": 42}"#
        case .contactsUpsert: #"{"firstName": "no chat id"}"#
        case .contactsCheckExists: #"{"phone": ["1"]}"#
        case .lidsList: "[1, 2]"
        case .lidsCount: nil
        case .lidsGetByLid: "{"
        case .lidsGetByPhoneNumber: #"{"pn": null}"#
        }
    }
}

/// Requests built from what the engine holds, so checks ask for a contact that exists when there is one.
struct Samples: Sendable {
    var contactID = ConformanceKit.sampleID

    static func gather(from instance: any EngineHandle, active: Set<Feature>) async -> Samples {
        var samples = Samples()
        if active.contains(.contactsList),
           let first = try? await instance.checkedResult(Operations.ListContacts.self, ContactsPageRequest(limit: 1, offset: 0), enforcingContract: false).first {
            samples.contactID = first.id
        }
        return samples
    }
}

/// What a call came to, compared across concurrent and lone calls.
enum Outcome: Hashable, CustomStringConvertible {
    case answered([UInt8])
    case failed(EngineError.Kind)

    init(of feature: Feature, request: String, on instance: any EngineHandle) async {
        do {
            self = .answered(Self.canonical(try await instance.call(feature, request: Array(request.utf8))))
        } catch {
            self = .failed(error.kind)
        }
    }

    /// The same JSON with its keys sorted: an engine may write an object's keys in any order.
    private static func canonical(_ bytes: [UInt8]) -> [UInt8] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
              let sorted = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return bytes }
        return Array(sorted)
    }

    var description: String {
        switch self {
        case .answered(let bytes): "answered \(bytes.count) bytes"
        case .failed(let kind): kind.name
        }
    }
}

private struct Report {
    var checks: [ConformanceKit.Check] = []

    mutating func pass(_ name: String) { checks.append(.init(name: name, failure: nil)) }

    mutating func fail(_ name: String, _ failure: String) { checks.append(.init(name: name, failure: failure)) }
    mutating func check(_ name: String, _ failure: String?) { checks.append(.init(name: name, failure: failure)) }
}

extension Feature {
    /// Features a conformance check may call many times without changing the engine's data.
    var isReadOnly: Bool {
        switch self {
        case .contactsUpsert, .contactsBlock, .contactsUnblock: false
        default: true
        }
    }

    /// Features whose sample request may fairly name something the engine does not hold.
    var acceptsNotFound: Bool {
        switch self {
        case .contactsGet, .contactsAbout, .contactsProfilePicture, .contactsBlock, .contactsUnblock, .lidsGetByLid, .lidsGetByPhoneNumber: true
        default: false
        }
    }
}
