//! `jsonl`: an address book in a JSON-lines file, one contact a line, read-only, watched for
//! changes. The file is what a script or an export from another system writes; a line is
//!     {"id": "14155550100", "name": "Ada Lovelace", "pushname": "Ada", "isMyContact": true}
//! with `id` a phone number (6 to 15 digits) or a chat id, and every other key of a contact
//! optional. Configuration: {"path": "<file>", "rescanSeconds": 1}, a relative path meaning the
//! session's state folder. Blank lines are skipped.
#![allow(non_snake_case)] // the library is named JSONLinesEngine, as the Swift engines' files are

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};
use switchboard_engine::*;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Configuration {
    path: String,
    rescan_seconds: Option<f64>,
}

/// One line of the file.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    id: String,
    name: Option<String>,
    pushname: Option<String>,
    short_name: Option<String>,
    #[serde(default)]
    is_my_contact: bool,
    #[serde(default)]
    is_blocked: bool,
}

/// What the file held when it was last read, and why the last read failed, if it did.
struct Book {
    contacts: Arc<ContactIndex>,
    modified: Option<SystemTime>,
    problem: Option<String>,
}

struct JSONLinesEngine {
    book: Arc<RwLock<Book>>,
}

/// Reads the whole file: every line a contact, or the first line that is not.
fn read(path: &Path) -> std::result::Result<ContactIndex, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mut contacts = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let line: Line = serde_json::from_str(line).map_err(|error| format!("line {}: {error}", number + 1))?;
        let id = if chat_id::is_phone_number(&line.id) { format!("{}{}", line.id, chat_id::CONTACT_SUFFIX) } else { line.id };
        if !chat_id::is_contact_id(&id) {
            return Err(format!("line {}: {id:?} is neither a phone number nor a chat id", number + 1));
        }
        let mut contact = Contact::new(id, line.name);
        (contact.pushname, contact.short_name) = (line.pushname, line.short_name);
        (contact.is_my_contact, contact.is_blocked) = (line.is_my_contact, line.is_blocked);
        contacts.push(contact);
    }
    Ok(ContactIndex::new(contacts))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|metadata| metadata.modified()).ok()
}

/// Reads the file again whenever its modification time changes, until the engine is dropped.
/// A file that became unreadable or malformed keeps the last good contacts, and says why in
/// the status. Its own thread, so calls never wait on the disk.
fn watch(book: Weak<RwLock<Book>>, path: PathBuf, every: Duration, host: Host) {
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        let Some(book) = book.upgrade() else { return };
        let now = modified(&path);
        if now == book.read().unwrap_or_else(|e| e.into_inner()).modified {
            continue;
        }
        let read = read(&path);
        let mut book = book.write().unwrap_or_else(|e| e.into_inner());
        book.modified = now;
        match read {
            Ok(contacts) => (book.contacts, book.problem) = (Arc::new(contacts), None),
            Err(problem) => {
                host.log(LogLevel::Warning, &format!("kept the last good contacts: {problem}"));
                book.problem = Some(problem);
            }
        }
    });
}

impl JSONLinesEngine {
    fn contacts(&self) -> Arc<ContactIndex> {
        self.book.read().unwrap_or_else(|e| e.into_inner()).contacts.clone()
    }
}

impl Engine for JSONLinesEngine {
    const NAME: &'static str = "jsonl";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str = "Contacts from a JSON-lines file, watched for changes (written in Rust)";
    const LICENSE: &'static str = "Apache-2.0";
    const FEATURES: &'static [Feature] = &[Feature::ContactsList, Feature::ContactsGet];
    // A file outside the session's state folder is read only where the session grants it.
    const NEEDS: &'static [Need] = &[Need::ReadPaths];

    /// Reads the file once, where blocking is fine: a missing or malformed file refuses the session.
    fn create(config: Config, host: Host) -> Result<Self> {
        let configuration: Configuration = config.decode()?;
        let every = configuration.rescan_seconds.unwrap_or(1.0);
        if !(0.01..=3600.0).contains(&every) {
            return Err(EngineError::invalid_input("rescanSeconds must be from 0.01 to 3600"));
        }
        let path = host.resolve(&configuration.path);
        let modified = modified(&path);
        let contacts = read(&path).map_err(EngineError::invalid_input)?;
        let book = Arc::new(RwLock::new(Book { contacts: Arc::new(contacts), modified, problem: None }));
        watch(Arc::downgrade(&book), path, Duration::from_secs_f64(every), host);
        Ok(JSONLinesEngine { book })
    }

    fn status(&self) -> Status {
        let book = self.book.read().unwrap_or_else(|e| e.into_inner());
        let mut status = Status::ok(format!("{} contacts", book.contacts.len()));
        if let Some(problem) = &book.problem {
            (status.health, status.message) = (Health::Degraded, problem.clone());
        }
        status.counters.insert("contacts".into(), book.contacts.len() as i64);
        status
    }

    fn list_contacts(&self, request: ContactsPageRequest, reply: Reply<Vec<Contact>>) {
        reply.send(self.contacts().page(&request))
    }

    fn get_contact(&self, request: ContactRequest, reply: Reply<Contact>) {
        reply.send(self.contacts().get(&request.contact_id))
    }
}

export_engine!(JSONLinesEngine);
