@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import Synchronization
import Testing

/// The SDK's two paths through the C ABI, called as the host calls them: an engine that answers
/// at once (`SynchronousContactsEngine`) completes inside `call`, in the caller's own task and
/// with no task of its own; one that must wait gets a task, which `cancel` cancels. Either way
/// the completion comes exactly once.
@Suite("SynchronousContactsEngine: calls answered at once, and the asynchronous path beside them")
struct AtOnceCallTests {
    /// What the completions of calls brought, by the context of each call.
    final class Completions: Sendable {
        struct Completion: Equatable {
            var status: sb_status
            var text: String
        }
        let received = Mutex<[Int: [Completion]]>([:])
        /// Kept alive for the test: the contexts the calls pass.
        let contexts = Mutex<[CallContext]>([])

        func of(_ call: Int) -> [Completion] { received.withLock { $0[call] ?? [] } }

        /// Waits (at most 5 s) for a completion of `call`.
        func awaitCompletion(of call: Int) async throws -> Completion? {
            for _ in 0..<500 where of(call).isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            return of(call).first
        }
    }

    /// The context of each call: its number, with the recorder it reports to.
    final class CallContext: Sendable {
        let completions: Completions
        let number: Int
        init(_ completions: Completions, _ number: Int) {
            self.completions = completions
            self.number = number
        }
    }

    static let record: sb_completion = { context, status, bytes, length in
        let call = Unmanaged<CallContext>.fromOpaque(context!).takeUnretainedValue()
        let text = String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
        call.completions.received.withLock { $0[call.number, default: []].append(.init(status: status, text: text)) }
    }

    let completions = Completions()

    private func context(_ number: Int) -> UnsafeMutableRawPointer {
        let context = CallContext(completions, number)
        completions.contexts.withLock { $0.append(context) }
        return Unmanaged.passUnretained(context).toOpaque()
    }

    private func instance(of descriptor: UnsafePointer<sb_engine_descriptor>) throws -> OpaquePointer {
        var created: OpaquePointer?
        let status = Array("{}".utf8).withUnsafeBufferPointer {
            descriptor.pointee.create(descriptor, nil, $0.baseAddress, $0.count, &created, nil, nil)
        }
        #expect(status == SB_STATUS_OK)
        return try #require(created)
    }

    private func call(_ descriptor: UnsafePointer<sb_engine_descriptor>, _ instance: OpaquePointer, _ feature: Feature, _ json: String, _ number: Int) {
        let context = context(number)
        Array(json.utf8).withUnsafeBufferPointer { body in
            feature.rawValue.withCString { id in
                descriptor.pointee.call(instance, id, body.baseAddress, body.count, Self.record, context)
            }
        }
    }

    @Test("a read answered at once completes inside call, in the caller's task: no task of its own")
    func answeredAtOnce() throws {
        let descriptor = EngineExport.descriptor(for: AtOnceProbe.self)
        let engine = try instance(of: descriptor)
        defer { descriptor.pointee.destroy(engine) }
        let caller = withUnsafeCurrentTask { $0.map { $0.hashValue } }
        AtOnceProbe.seen.withLock { $0 = [] }

        call(descriptor, engine, .contactsGet, #"{"contactId":"1@c.us"}"#, 1)
        // Already completed when `call` returned, and ran in this test's own task.
        #expect(completions.of(1) == [.init(status: SB_STATUS_OK, text: String(decoding: try JSONCoders.encode(Contact(id: "1@c.us", name: "At once")), as: UTF8.self))])
        #expect(AtOnceProbe.seen.withLock { $0 }.filter { $0.id == "1@c.us" && $0.method.hasPrefix("contact") }
            == [.init(method: "contactAtOnce", id: "1@c.us", task: caller)])

        call(descriptor, engine, .lidsCount, "{}", 2)
        #expect(completions.of(2) == [.init(status: SB_STATUS_OK, text: #"{"count":3}"#)])
        // An error thrown at once, and a request that does not decode, fail the call at once, once.
        call(descriptor, engine, .contactsGet, #"{"contactId":"missing@c.us"}"#, 3)
        #expect(completions.of(3) == [.init(status: SB_STATUS_NOT_FOUND, text: "no contact missing@c.us")])
        call(descriptor, engine, .contactsGet, #"{"contact":1}"#, 4)
        #expect(completions.of(4).map(\.status) == [SB_STATUS_INVALID_INPUT])
        // A cancel for a call answered at once finds nothing to cancel.
        descriptor.pointee.cancel(engine, context(1))
    }

    @Test("nil from the synchronous method takes the asynchronous path, which cancel still stops")
    func fallsBackAndCancels() async throws {
        let descriptor = EngineExport.descriptor(for: AtOnceProbe.self)
        let engine = try instance(of: descriptor)
        defer { descriptor.pointee.destroy(engine) }

        // `wait@c.us` is not answered at once: its asynchronous method sleeps for a minute.
        let number = 10
        let waiting = context(number)
        Array(#"{"contactId":"wait@c.us"}"#.utf8).withUnsafeBufferPointer { body in
            Feature.contactsGet.rawValue.withCString { id in
                descriptor.pointee.call(engine, id, body.baseAddress, body.count, Self.record, waiting)
            }
        }
        #expect(completions.of(number).isEmpty)
        descriptor.pointee.cancel(engine, waiting)
        let completion = try await completions.awaitCompletion(of: number)
        #expect(completion == .init(status: SB_STATUS_TIMEOUT, text: "cancelled by the host"))
        try await Task.sleep(for: .milliseconds(50))
        #expect(completions.of(number).count == 1)

        // A feature with no synchronous method (a write) takes the asynchronous path too.
        call(descriptor, engine, .contactsUpsert, #"{"chatId":"1@c.us","firstName":"A"}"#, 11)
        #expect(try await completions.awaitCompletion(of: 11) == .init(status: SB_STATUS_OK, text: "{}"))
        #expect(AtOnceProbe.seen.withLock { $0 }.contains { $0.method == "upsertContact" && $0.task != nil })
    }

    @Test("an engine implementing only the synchronous method serves the asynchronous one as well")
    func asynchronousDefaults() async throws {
        let engine = try AtOnceProbe(configuration: EngineConfiguration(json: Data()), host: EngineHost(services: nil))
        #expect(try await engine.countLids() == 3)
        #expect(try await engine.about(.init(contactId: "1@c.us")) == AboutResult(about: "answered at once"))
        // No synchronous method, no asynchronous one: not implemented, as for any engine.
        await #expect(throws: EngineError.notImplemented(.lidsList)) { try await engine.listLids(.init()) }
    }
}

/// An engine that answers reads at once, except `wait@c.us`, whose asynchronous method waits.
final class AtOnceProbe: SynchronousContactsEngine {
    static let name = "at-once-probe"
    static let version = "1.0.0"
    static let summary = "answers at once, for tests"
    static let features: Set<Feature> = [.contactsGet, .contactsAbout, .contactsUpsert, .lidsCount]

    struct Seen: Equatable {
        var method: String
        var id: String
        /// The hash of the task the method ran in; nil for none.
        var task: Int?
    }
    static let seen = Mutex<[Seen]>([])

    init(configuration: EngineConfiguration, host: EngineHost) throws {}

    private static func note(_ method: String, _ id: String) {
        let task = withUnsafeCurrentTask { $0.map { $0.hashValue } }
        seen.withLock { $0.append(Seen(method: method, id: id, task: task)) }
    }

    func contactAtOnce(_ request: ContactRequest) throws -> Contact? {
        Self.note("contactAtOnce", request.contactId)
        switch request.contactId {
        case "wait@c.us": return nil
        case "1@c.us": return Contact(id: "1@c.us", name: "At once")
        default: throw EngineError(.notFound, "no contact \(request.contactId)")
        }
    }

    func contact(_ request: ContactRequest) async throws -> Contact {
        Self.note("contact", request.contactId)
        try await Task.sleep(for: .seconds(60))
        return Contact(id: request.contactId)
    }

    func aboutAtOnce(_ request: ContactRequest) throws -> AboutResult? { AboutResult(about: "answered at once") }

    func countLidsAtOnce() throws -> Int? { 3 }

    func upsertContact(_ request: UpsertContactRequest) async throws {
        Self.note("upsertContact", request.chatId)
    }
}
