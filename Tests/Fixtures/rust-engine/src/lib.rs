//! The crate's boundary under test (Tests/SwitchboardConformanceTests/RustBoundaryTests.swift):
//!   contacts.list             answered from a thread of the engine's own, after the call returned
//!   contacts.get              answered at once, on the host's thread
//!   contacts.about            panics
//!   contacts.block            drops its reply without answering
//!   contacts.profile-picture  waits until the host cancels the call, and counts the cancellation
//! Configuration: {"count": <contacts>}.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_engine::*;

struct Boundary {
    contacts: Arc<ContactIndex>,
    cancelled: Arc<AtomicI64>,
}

impl Engine for Boundary {
    const NAME: &'static str = "rust-boundary";
    const VERSION: &'static str = "1.0.0";
    const SUMMARY: &'static str = "Misbehaves on purpose, one way per feature";
    const FEATURES: &'static [Feature] = &[
        Feature::ContactsList, Feature::ContactsGet, Feature::ContactsAbout, Feature::ContactsBlock, Feature::ContactsProfilePicture,
    ];

    fn create(config: Config, _host: Host) -> Result<Self> {
        let count = config.decode::<std::collections::HashMap<String, usize>>()?.get("count").copied().unwrap_or(3);
        let contacts = (0..count).map(|n| Contact::new(format!("{}@c.us", 10_000_000_000u64 + n as u64), Some(format!("Contact {n:06}"))));
        Ok(Boundary { contacts: Arc::new(ContactIndex::new(contacts)), cancelled: Arc::default() })
    }

    fn status(&self) -> Status {
        let mut status = Status::ok("");
        status.counters.insert("cancelled".into(), self.cancelled.load(Ordering::Relaxed));
        status
    }

    fn list_contacts(&self, request: ContactsPageRequest, reply: Reply<Vec<Contact>>) {
        let contacts = self.contacts.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            reply.send(contacts.page(&request))
        });
    }

    fn get_contact(&self, request: ContactRequest, reply: Reply<Contact>) {
        reply.send(self.contacts.get(&request.contact_id))
    }

    fn about(&self, _request: ContactRequest, _reply: Reply<AboutResult>) {
        panic!("about is not written yet")
    }

    fn block(&self, _request: ContactRequest, reply: Reply<Empty>) {
        drop(reply)
    }

    fn profile_picture(&self, _request: ProfilePictureRequest, reply: Reply<ProfilePictureResult>) {
        let cancelled = self.cancelled.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while !reply.is_cancelled() && start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(5));
            }
            if reply.is_cancelled() {
                cancelled.fetch_add(1, Ordering::Relaxed);
            }
            reply.fail(EngineError::unavailable("gave up"))
        });
    }
}

export_engine!(Boundary);
