/// A ``ContactsEngine`` that can answer reads without waiting: from memory, say. The SDK then
/// calls the synchronous method first, on the host's thread, and completes the call before
/// `call` returns, with no Swift task and nothing recorded for `cancel`; only when that method
/// answers `nil` does the call take the asynchronous path every engine has (a task per call,
/// cancellation as task cancellation).
///
/// Implement the methods of the reads you can answer at once; the rest keep their default,
/// which answers `nil`. Each may answer `nil` whenever it cannot answer without waiting (its
/// data is not loaded yet, or due for a check with its backend): the SDK then calls the
/// asynchronous method of the same feature, which must answer it.
///
/// ```swift
/// extension MyEngine: SynchronousContactsEngine {
///     func contactAtOnce(_ request: ContactRequest) throws -> Contact? {
///         guard let contacts = loaded.withLock({ $0 }) else { return nil }  // not loaded: contact(_:) waits
///         guard let contact = contacts[request.contactId] else { throw EngineError(.notFound, "no such contact") }
///         return contact
///     }
/// }
/// ```
///
/// A synchronous method runs on the thread that called into the plugin, which may be one of
/// the host's event loops: unlike `init`, it must never block, not even on a local file (no
/// I/O, no wait on a lock held across I/O). Errors are thrown as in the asynchronous methods. An engine
/// that implements only the synchronous method of a feature also serves the asynchronous one
/// (its default asks the synchronous method, and answers not-implemented on `nil`), so code
/// that calls the engine directly, such as its tests, keeps working.
///
/// Writes have no synchronous form: they usually wait on storage, and the task of the
/// asynchronous path is small beside that. A list asked for in pieces (the host's streaming of
/// `contacts.list`) also always takes the asynchronous path, which can pause for the host.
public protocol SynchronousContactsEngine: ContactsEngine {
    /// `contacts.list` without waiting, or nil to be called through `listContacts(_:)`.
    func listContactsAtOnce(_ request: ContactsPageRequest) throws -> [Contact]?
    /// `contacts.get` without waiting, or nil to be called through `contact(_:)`.
    func contactAtOnce(_ request: ContactRequest) throws -> Contact?
    /// `contacts.check-exists` without waiting, or nil to be called through `checkExists(_:)`.
    func checkExistsAtOnce(_ request: CheckExistsRequest) throws -> CheckExistsResult?
    /// `contacts.about` without waiting, or nil to be called through `about(_:)`.
    func aboutAtOnce(_ request: ContactRequest) throws -> AboutResult?
    /// `contacts.profile-picture` without waiting, or nil to be called through `profilePicture(_:)`.
    func profilePictureAtOnce(_ request: ProfilePictureRequest) throws -> ProfilePictureResult?
    /// `lids.list` without waiting, or nil to be called through `listLids(_:)`.
    func listLidsAtOnce(_ request: LidsPageRequest) throws -> [LidMapping]?
    /// `lids.count` without waiting, or nil to be called through `countLids()`.
    func countLidsAtOnce() throws -> Int?
    /// `lids.get-by-lid` without waiting, or nil to be called through `phoneNumber(forLid:)`.
    func phoneNumberAtOnce(forLid request: LidLookupRequest) throws -> LidMapping?
    /// `lids.get-by-pn` without waiting, or nil to be called through `lid(forPhoneNumber:)`.
    func lidAtOnce(forPhoneNumber request: PhoneNumberLookupRequest) throws -> LidMapping?
}

extension SynchronousContactsEngine {
    public func listContactsAtOnce(_ request: ContactsPageRequest) throws -> [Contact]? { nil }
    public func contactAtOnce(_ request: ContactRequest) throws -> Contact? { nil }
    public func checkExistsAtOnce(_ request: CheckExistsRequest) throws -> CheckExistsResult? { nil }
    public func aboutAtOnce(_ request: ContactRequest) throws -> AboutResult? { nil }
    public func profilePictureAtOnce(_ request: ProfilePictureRequest) throws -> ProfilePictureResult? { nil }
    public func listLidsAtOnce(_ request: LidsPageRequest) throws -> [LidMapping]? { nil }
    public func countLidsAtOnce() throws -> Int? { nil }
    public func phoneNumberAtOnce(forLid request: LidLookupRequest) throws -> LidMapping? { nil }
    public func lidAtOnce(forPhoneNumber request: PhoneNumberLookupRequest) throws -> LidMapping? { nil }

    // The asynchronous methods of an engine that implements only the synchronous ones.

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] {
        try Self.answered(try listContactsAtOnce(request), .contactsList)
    }
    public func contact(_ request: ContactRequest) async throws -> Contact {
        try Self.answered(try contactAtOnce(request), .contactsGet)
    }
    public func checkExists(_ request: CheckExistsRequest) async throws -> CheckExistsResult {
        try Self.answered(try checkExistsAtOnce(request), .contactsCheckExists)
    }
    public func about(_ request: ContactRequest) async throws -> AboutResult {
        try Self.answered(try aboutAtOnce(request), .contactsAbout)
    }
    public func profilePicture(_ request: ProfilePictureRequest) async throws -> ProfilePictureResult {
        try Self.answered(try profilePictureAtOnce(request), .contactsProfilePicture)
    }
    public func listLids(_ request: LidsPageRequest) async throws -> [LidMapping] {
        try Self.answered(try listLidsAtOnce(request), .lidsList)
    }
    public func countLids() async throws -> Int {
        try Self.answered(try countLidsAtOnce(), .lidsCount)
    }
    public func phoneNumber(forLid request: LidLookupRequest) async throws -> LidMapping {
        try Self.answered(try phoneNumberAtOnce(forLid: request), .lidsGetByLid)
    }
    public func lid(forPhoneNumber request: PhoneNumberLookupRequest) async throws -> LidMapping {
        try Self.answered(try lidAtOnce(forPhoneNumber: request), .lidsGetByPhoneNumber)
    }

    private static func answered<Result>(_ answer: Result?, _ feature: Feature) throws -> Result {
        guard let answer else { throw EngineError.notImplemented(feature) }
        return answer
    }
}
