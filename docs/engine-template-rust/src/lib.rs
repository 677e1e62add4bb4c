//! A Switchboard engine in Rust serving a CSV file's contacts. Configuration: {"path": "<file>"},
//! a relative path meaning the session's state folder. An optional first line "id,name"; then
//! one contact a line: a phone number (6 to 15 digits, or <digits>@c.us), a comma, the name
//! (the rest of the line; empty: unnamed). The file is read in `create`, where blocking is
//! fine; every call answers from memory before it returns.
use switchboard_engine::*;

struct CsvAddressBook {
    contacts: ContactIndex,
}

#[derive(serde::Deserialize)]
struct Configuration {
    path: String,
}

impl Engine for CsvAddressBook {
    const NAME: &'static str = "csv-rust";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str = "Contacts from a CSV file (id,name)";
    const LICENSE: &'static str = "Apache-2.0";
    const HOMEPAGE: &'static str = "https://example.com/csv-rust"; // yours
    const FEATURES: &'static [Feature] = &[Feature::ContactsList, Feature::ContactsGet];

    fn create(config: Config, host: Host) -> Result<Self> {
        let path = host.resolve(&config.decode::<Configuration>()?.path);
        let text = std::fs::read_to_string(&path)
            .map_err(|error| EngineError::invalid_input(format!("cannot read {}: {error}", path.display())))?;
        let (mut contacts, mut seen) = (Vec::new(), std::collections::HashSet::new());
        for (number, line) in text.lines().enumerate().filter(|(n, line)| !line.is_empty() && !(*n == 0 && *line == "id,name")) {
            let (phone, name) = line.split_once(',').unwrap_or((line, ""));
            let id = chat_id::require_phone_number(phone.strip_suffix(chat_id::CONTACT_SUFFIX).unwrap_or(phone))
                .map_err(|error| EngineError::invalid_input(format!("line {}: {}", number + 1, error.message)))?;
            if !seen.insert(id.clone()) {
                return Err(EngineError::invalid_input(format!("{id} is there twice")));
            }
            contacts.push(Contact::new(id, (!name.is_empty()).then(|| name.to_string())));
        }
        Ok(CsvAddressBook { contacts: ContactIndex::new(contacts) })
    }

    fn status(&self) -> Status {
        Status::ok(format!("{} contacts", self.contacts.len()))
    }

    fn list_contacts(&self, request: ContactsPageRequest, reply: Reply<Vec<Contact>>) {
        reply.send(self.contacts.page(&request))
    }

    fn get_contact(&self, request: ContactRequest, reply: Reply<Contact>) {
        reply.send(self.contacts.get(&request.contact_id))
    }
}

export_engine!(CsvAddressBook);
