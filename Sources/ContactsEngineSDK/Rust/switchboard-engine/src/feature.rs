//! The feature ids, in the order of the Swift SDK's `Feature.swift`, the one list every other is
//! checked against (a test of the host compares this file with it).

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    ContactsList,
    ContactsGet,
    ContactsUpsert,
    ContactsCheckExists,
    ContactsAbout,
    ContactsProfilePicture,
    ContactsBlock,
    ContactsUnblock,
    LidsList,
    LidsCount,
    LidsGetByLid,
    LidsGetByPn,
}

impl Feature {
    pub const ALL: [Feature; 12] = [
        Feature::ContactsList,
        Feature::ContactsGet,
        Feature::ContactsUpsert,
        Feature::ContactsCheckExists,
        Feature::ContactsAbout,
        Feature::ContactsProfilePicture,
        Feature::ContactsBlock,
        Feature::ContactsUnblock,
        Feature::LidsList,
        Feature::LidsCount,
        Feature::LidsGetByLid,
        Feature::LidsGetByPn,
    ];

    /// The id as the ABI carries it, NUL-terminated for the descriptor.
    pub const fn id_with_nul(self) -> &'static str {
        match self {
            Feature::ContactsList => "contacts.list\0",
            Feature::ContactsGet => "contacts.get\0",
            Feature::ContactsUpsert => "contacts.upsert\0",
            Feature::ContactsCheckExists => "contacts.check-exists\0",
            Feature::ContactsAbout => "contacts.about\0",
            Feature::ContactsProfilePicture => "contacts.profile-picture\0",
            Feature::ContactsBlock => "contacts.block\0",
            Feature::ContactsUnblock => "contacts.unblock\0",
            Feature::LidsList => "lids.list\0",
            Feature::LidsCount => "lids.count\0",
            Feature::LidsGetByLid => "lids.get-by-lid\0",
            Feature::LidsGetByPn => "lids.get-by-pn\0",
        }
    }

    /// The id, e.g. `"contacts.list"`.
    pub fn id(self) -> &'static str {
        let id = self.id_with_nul();
        &id[..id.len() - 1]
    }

    pub fn from_id(id: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|feature| feature.id() == id)
    }
}
