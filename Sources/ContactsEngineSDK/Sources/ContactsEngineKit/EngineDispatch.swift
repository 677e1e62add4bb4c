import Foundation

/// About 200 KB of JSON: small enough that the first piece leaves at once and the host holds
/// a few at a time, big enough that the per-piece costs (a call across the ABI, a write to the
/// socket) vanish beside the bytes.
let contactsPerPiece = 1_000

extension ContactsEngine {
    /// Runs one feature from its JSON request to its JSON result: what the C ABI calls into.
    @_spi(SwitchboardHost) public func perform(_ feature: Feature, request: [UInt8]) async throws -> [UInt8] {
        switch feature {
        case .contactsList: try await OperationCoding.run(Operations.ListContacts.self, request) { try await listContacts($0) }
        case .contactsGet: try await OperationCoding.run(Operations.GetContact.self, request) { try await contact($0) }
        case .contactsUpsert: try await OperationCoding.run(Operations.UpsertContact.self, request) { try await upsertContact($0); return Empty() }
        case .contactsCheckExists: try await OperationCoding.run(Operations.CheckExists.self, request) { try await checkExists($0) }
        case .contactsAbout: try await OperationCoding.run(Operations.About.self, request) { try await about($0) }
        case .contactsProfilePicture: try await OperationCoding.run(Operations.ProfilePicture.self, request) { try await profilePicture($0) }
        case .contactsBlock: try await OperationCoding.run(Operations.Block.self, request) { try await block($0); return Empty() }
        case .contactsUnblock: try await OperationCoding.run(Operations.Unblock.self, request) { try await unblock($0); return Empty() }
        case .lidsList: try await OperationCoding.run(Operations.ListLids.self, request) { try await listLids($0) }
        case .lidsCount: try await OperationCoding.run(Operations.CountLids.self, request) { _ in CountResult(count: try await countLids()) }
        case .lidsGetByLid: try await OperationCoding.run(Operations.PhoneNumberForLid.self, request) { try await phoneNumber(forLid: $0) }
        case .lidsGetByPhoneNumber: try await OperationCoding.run(Operations.LidForPhoneNumber.self, request) { try await lid(forPhoneNumber: $0) }
        }
    }

    /// `perform` with the result in pieces, for the C ABI's `call_in_pieces`: a list goes to
    /// `send` as JSON arrays of `contactsPerPiece` contacts, the last one returned,
    /// so a 100,000-contact list is never one 20 MB buffer. Any other feature is answered whole.
    /// `send` answers false when the host wants no more; the rest is then not written.
    @_spi(SwitchboardHost) public func performInPieces(
        _ feature: Feature, request: [UInt8], send: ([UInt8]) async -> Bool
    ) async throws -> [UInt8] {
        guard feature == .contactsList else { return try await perform(feature, request: request) }
        // Each piece waits for the next before it goes: the last one travels in the completion.
        var written: [UInt8]?
        var stopped = false
        let listRequest = try request.withUnsafeBufferPointer { try OperationCoding.request(Operations.ListContacts.self, $0) }
        try await listContacts(listRequest, inPiecesOf: contactsPerPiece) { contacts in
            if let previous = written, !(await send(previous)) {
                stopped = true
                return false
            }
            written = Self.piece(contacts)
            return true
        }
        if stopped { throw CancellationError() }
        return written ?? Self.piece([])
    }

    private static func piece(_ contacts: ArraySlice<Contact>) -> [UInt8] {
        var writer = JSONWriter()
        writer.array(contacts)
        return writer.bytes
    }
}

/// A call's JSON both ways, for each operation: generic over the operation alone, not over the
/// engine, so that each is compiled for its operation's types (an engine reaches the dispatch
/// as an existential, and code generic over it looks the request's and result's types up at
/// run time, on every call).
enum OperationCoding {
    /// The request, read by `JSONReader`, or by JSONDecoder when the reader gives up, which then
    /// answers with its error or value.
    static func request<Operation: EngineOperation>(_: Operation.Type, _ body: UnsafeBufferPointer<UInt8>) throws -> Operation.Request {
        do {
            return try JSONCoders.decode(readable: Operation.Request.self, from: body)
        } catch let error as DecodingError {
            throw EngineError(.invalidInput, "invalid \(Operation.feature.rawValue) request: \(error.readableDescription)")
        }
    }

    static func run<Operation: EngineOperation>(
        _: Operation.Type,
        _ body: [UInt8],
        _ work: (Operation.Request) async throws -> Operation.Result
    ) async throws -> [UInt8] {
        JSONCoders.encode(writable: try await work(try body.withUnsafeBufferPointer { try request(Operation.self, $0) }))
    }

    static func runAtOnce<Operation: EngineOperation>(
        _: Operation.Type,
        _ body: UnsafeBufferPointer<UInt8>,
        _ work: (Operation.Request) throws -> Operation.Result?
    ) throws -> [UInt8]? {
        try work(try request(Operation.self, body)).map { JSONCoders.encode(writable: $0) }
    }
}

extension SynchronousContactsEngine {
    /// `perform` without waiting: the result's JSON when the engine answers `feature` at once,
    /// nil when it must wait (or has no synchronous form of it), and `perform` must run instead.
    /// Runs on the caller's thread; what it throws is the call's failure, as from `perform`.
    func performAtOnce(_ feature: Feature, request: UnsafeBufferPointer<UInt8>) throws -> [UInt8]? {
        switch feature {
        case .contactsList: try OperationCoding.runAtOnce(Operations.ListContacts.self, request) { try listContactsAtOnce($0) }
        case .contactsGet: try OperationCoding.runAtOnce(Operations.GetContact.self, request) { try contactAtOnce($0) }
        case .contactsCheckExists: try OperationCoding.runAtOnce(Operations.CheckExists.self, request) { try checkExistsAtOnce($0) }
        case .contactsAbout: try OperationCoding.runAtOnce(Operations.About.self, request) { try aboutAtOnce($0) }
        case .contactsProfilePicture: try OperationCoding.runAtOnce(Operations.ProfilePicture.self, request) { try profilePictureAtOnce($0) }
        case .lidsList: try OperationCoding.runAtOnce(Operations.ListLids.self, request) { try listLidsAtOnce($0) }
        case .lidsCount: try OperationCoding.runAtOnce(Operations.CountLids.self, request) { _ in try countLidsAtOnce().map(CountResult.init(count:)) }
        case .lidsGetByLid: try OperationCoding.runAtOnce(Operations.PhoneNumberForLid.self, request) { try phoneNumberAtOnce(forLid: $0) }
        case .lidsGetByPhoneNumber: try OperationCoding.runAtOnce(Operations.LidForPhoneNumber.self, request) { try lidAtOnce(forPhoneNumber: $0) }
        case .contactsUpsert, .contactsBlock, .contactsUnblock: nil
        }
    }
}

/// One encoder and one decoder for every call: they are thread-safe, and creating them per call
/// is a measurable part of a call's cost. The encoder writes what `JSONWriter` writes: sorted
/// keys, for stable output to clients, diffs and tests.
@_spi(SwitchboardHost) public enum JSONCoders {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    public static let decoder = JSONDecoder()
}
