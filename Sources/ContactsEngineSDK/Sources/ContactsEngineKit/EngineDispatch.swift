import Foundation

/// About 200 KB of JSON: small enough that the first piece leaves at once and the host holds
/// a few at a time, big enough that the per-piece costs (a call across the ABI, a write to the
/// socket) vanish beside the bytes.
let contactsPerPiece = 1_000

extension ContactsEngine {
    /// Runs one feature from its JSON request to its JSON result: what the C ABI calls into.
    @_spi(SwitchboardHost) public func perform(_ feature: Feature, request: [UInt8]) async throws -> [UInt8] {
        switch feature {
        case .contactsList: try await run(Operations.ListContacts.self, request) { try await listContacts($0) }
        case .contactsGet: try await run(Operations.GetContact.self, request) { try await contact($0) }
        case .contactsUpsert: try await run(Operations.UpsertContact.self, request) { try await upsertContact($0); return Empty() }
        case .contactsCheckExists: try await run(Operations.CheckExists.self, request) { try await checkExists($0) }
        case .contactsAbout: try await run(Operations.About.self, request) { try await about($0) }
        case .contactsProfilePicture: try await run(Operations.ProfilePicture.self, request) { try await profilePicture($0) }
        case .contactsBlock: try await run(Operations.Block.self, request) { try await block($0); return Empty() }
        case .contactsUnblock: try await run(Operations.Unblock.self, request) { try await unblock($0); return Empty() }
        case .lidsList: try await run(Operations.ListLids.self, request) { try await listLids($0) }
        case .lidsCount: try await run(Operations.CountLids.self, request) { _ in CountResult(count: try await countLids()) }
        case .lidsGetByLid: try await run(Operations.PhoneNumberForLid.self, request) { try await phoneNumber(forLid: $0) }
        case .lidsGetByPhoneNumber: try await run(Operations.LidForPhoneNumber.self, request) { try await lid(forPhoneNumber: $0) }
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
        try await listContacts(try Self.decoded(Operations.ListContacts.self, request), inPiecesOf: contactsPerPiece) { contacts in
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

    private static func decoded<Operation: EngineOperation>(_: Operation.Type, _ body: [UInt8]) throws -> Operation.Request {
        do {
            return try JSONCoders.decode(Operation.Request.self, from: body)
        } catch let error as DecodingError {
            throw EngineError(.invalidInput, "invalid \(Operation.feature.rawValue) request: \(error.readableDescription)")
        }
    }

    private func run<Operation: EngineOperation>(
        _: Operation.Type,
        _ body: [UInt8],
        _ work: (Operation.Request) async throws -> Operation.Result
    ) async throws -> [UInt8] {
        try JSONCoders.encode(try await work(try Self.decoded(Operation.self, body)))
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
