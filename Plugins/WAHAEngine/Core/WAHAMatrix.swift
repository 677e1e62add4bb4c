import ContactsEngineKit

/// WAHA's published engine support matrix for the contacts and LIDs endpoints
/// (/work/shared/reference/waha-contacts-api.md), row by row as WAHA writes it. WAHA has no
/// endpoint that says what its engine serves, so this table is how the engine knows.
enum WAHAMatrix {
    enum Engine: String, CaseIterable, Sendable {
        case webjs = "WEBJS", wpp = "WPP", noweb = "NOWEB", gows = "GOWS"
    }

    /// NOWEB serves the list and LID rows only with its store on; a NOWEB without it answers
    /// them 501, and the engine demotes them then.
    static let rows: [(features: Set<Feature>, engines: Set<Engine>)] = [
        ([.contactsList, .contactsGet], [.webjs, .wpp, .noweb, .gows]),
        ([.contactsUpsert], [.webjs, .noweb, .gows]),
        ([.contactsCheckExists], [.webjs, .wpp, .noweb, .gows]),
        ([.contactsAbout], [.webjs, .wpp]),
        ([.contactsProfilePicture], [.webjs, .wpp, .noweb, .gows]),
        ([.contactsBlock, .contactsUnblock], [.webjs, .wpp]),
        ([.lidsList, .lidsCount, .lidsGetByLid, .lidsGetByPhoneNumber], [.webjs, .wpp, .noweb, .gows]),
    ]

    /// The features of the engine `/api/server/version` names, in any case; `nil` when it is not WAHA's.
    static func features(ofEngine name: String) -> Set<Feature>? {
        guard let engine = Engine(rawValue: name.uppercased()) else { return nil }
        return rows.reduce(into: []) { features, row in
            if row.engines.contains(engine) { features.formUnion(row.features) }
        }
    }
}
