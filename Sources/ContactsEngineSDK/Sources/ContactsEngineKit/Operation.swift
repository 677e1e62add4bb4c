/// Pairs a feature with the Swift types of its JSON request and result, so the SDK (which
/// decodes requests in a plugin) and the host (which encodes them) can never disagree. Both
/// have a `JSONReader` and a `JSONWriter` form, so no call needs Foundation's coders or a
/// dynamic cast to find them.
public protocol EngineOperation: SendableMetatype {
    associatedtype Request: JSONReadable & JSONWritable & Sendable
    associatedtype Result: JSONReadable & JSONWritable & Sendable
    static var feature: Feature { get }
    /// What is wrong with a result that decoded but breaks the contract (ResultContract.swift),
    /// or nil. The host answers 502 for such a result; the conformance kit fails the check.
    static func contractViolation(of result: Result, for request: Request, bytes: [UInt8]) -> String?
    /// Whether a result's bytes can be answered as they are, read without decoding them
    /// (CanonicalResult.swift); `.decode` unless the operation has such a reading.
    @_spi(SwitchboardHost) static func canonicalReading(of bytes: [UInt8], for request: Request) -> CanonicalReading
}

extension EngineOperation {
    public static func contractViolation(of result: Result, for request: Request, bytes: [UInt8]) -> String? { nil }
}

public enum Operations {
    public enum ListContacts: EngineOperation {
        public typealias Request = ContactsPageRequest
        public typealias Result = [Contact]
        public static var feature: Feature { .contactsList }
    }
    public enum GetContact: EngineOperation {
        public typealias Request = ContactRequest
        public typealias Result = Contact
        public static var feature: Feature { .contactsGet }
    }
    public enum UpsertContact: EngineOperation {
        public typealias Request = UpsertContactRequest
        public typealias Result = Empty
        public static var feature: Feature { .contactsUpsert }
    }
    public enum CheckExists: EngineOperation {
        public typealias Request = CheckExistsRequest
        public typealias Result = CheckExistsResult
        public static var feature: Feature { .contactsCheckExists }
    }
    public enum About: EngineOperation {
        public typealias Request = ContactRequest
        public typealias Result = AboutResult
        public static var feature: Feature { .contactsAbout }
    }
    public enum ProfilePicture: EngineOperation {
        public typealias Request = ProfilePictureRequest
        public typealias Result = ProfilePictureResult
        public static var feature: Feature { .contactsProfilePicture }
    }
    public enum Block: EngineOperation {
        public typealias Request = ContactRequest
        public typealias Result = Empty
        public static var feature: Feature { .contactsBlock }
    }
    public enum Unblock: EngineOperation {
        public typealias Request = ContactRequest
        public typealias Result = Empty
        public static var feature: Feature { .contactsUnblock }
    }
    public enum ListLids: EngineOperation {
        public typealias Request = LidsPageRequest
        public typealias Result = [LidMapping]
        public static var feature: Feature { .lidsList }
    }
    public enum CountLids: EngineOperation {
        public typealias Request = Empty
        public typealias Result = CountResult
        public static var feature: Feature { .lidsCount }
    }
    public enum PhoneNumberForLid: EngineOperation {
        public typealias Request = LidLookupRequest
        public typealias Result = LidMapping
        public static var feature: Feature { .lidsGetByLid }
    }
    public enum LidForPhoneNumber: EngineOperation {
        public typealias Request = PhoneNumberLookupRequest
        public typealias Result = LidMapping
        public static var feature: Feature { .lidsGetByPhoneNumber }
    }
}
