//! Write a [Switchboard](https://github.com/switchboard-contacts) contacts engine in Rust.
//!
//! An engine is a `cdylib` that exports one C function, `switchboard_engine_abi_v1`; this crate
//! writes it, and everything behind it, from an [`Engine`]: the descriptor, JSON in and out
//! through serde, the result contract's shapes, panics caught at the boundary, `cancel`, and
//! big lists in pieces with back-pressure. Its major and minor versions are the plugin ABI's
//! (`switchboard_engine.h`), as the Swift SDK's are.
//!
//! ```no_run
//! use switchboard_engine::*;
//!
//! struct Hello(ContactIndex);
//!
//! impl Engine for Hello {
//!     const NAME: &'static str = "hello";
//!     const VERSION: &'static str = "1.0.0";
//!     const SUMMARY: &'static str = "One contact";
//!     const FEATURES: &'static [Feature] = &[Feature::ContactsList, Feature::ContactsGet];
//!
//!     fn create(_config: Config, _host: Host) -> Result<Self> {
//!         Ok(Hello(ContactIndex::new([Contact::new("14155550100@c.us", Some("Ada".into()))])))
//!     }
//!     fn list_contacts(&self, request: ContactsPageRequest, reply: Reply<Vec<Contact>>) {
//!         reply.send(self.0.page(&request))
//!     }
//!     fn get_contact(&self, request: ContactRequest, reply: Reply<Contact>) {
//!         reply.send(self.0.get(&request.contact_id))
//!     }
//! }
//!
//! export_engine!(Hello);
//! ```

pub mod chat_id;
mod error;
mod export;
mod feature;
#[doc(hidden)]
pub mod ffi;
mod host;
mod index;
mod models;
mod need;
mod reply;

pub use error::{EngineError, ErrorKind, Result};
#[doc(hidden)]
pub use export::Exported;
pub use feature::Feature;
pub use host::{Config, Host, LogLevel};
pub use index::{name_order, page, ContactIndex};
pub use models::*;
pub use need::Need;
pub use reply::Reply;

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Degraded,
    Down,
}

/// What `GET /api/sessions/{name}` shows of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    pub health: Health,
    pub message: String,
    pub counters: BTreeMap<String, i64>,
}

impl Status {
    pub fn ok(message: impl Into<String>) -> Status {
        Status { health: Health::Ok, message: message.into(), counters: BTreeMap::new() }
    }
}

/// A contacts engine: metadata, a constructor, and one method per feature. Each method gets
/// the decoded request and a [`Reply`] to send the answer with, once, at once or later from
/// any thread; the methods you leave out answer not-implemented, which the API turns into a
/// `501` naming your engine and the feature. Methods must not block: answer from memory, or
/// move the reply to a thread of your own. An instance serves calls concurrently, hence `Sync`.
/// Dropping the engine is its shutdown: the host drops it at `destroy`, and calls still in
/// flight complete all the same.
pub trait Engine: Send + Sync + Sized + 'static {
    /// Unique among loaded engines: `[a-z0-9][a-z0-9-]{0,31}`.
    const NAME: &'static str;
    /// Your engine's own version, e.g. `"1.0.0"`.
    const VERSION: &'static str;
    /// One line for humans.
    const SUMMARY: &'static str;
    /// An SPDX expression, e.g. `"Apache-2.0"`.
    const LICENSE: &'static str = "";
    /// A URL for humans: source, issues, documentation.
    const HOMEPAGE: &'static str = "";
    /// Every feature the engine can serve with some configuration.
    const FEATURES: &'static [Feature];
    /// What the engine may need in a sandboxed engine process beyond its own state folder, e.g.
    /// `&[Need::Network]` for an engine that talks to a server. Declaring grants nothing: the
    /// operator grants each per session, and a call whose need was not granted should answer
    /// `ErrorKind::Unavailable`.
    const NEEDS: &'static [Need] = &[];

    /// One instance, for one session. Blocking reads of local files are fine here (and only
    /// here); never wait on the network. A relative path in `config` means `host.resolve(path)`.
    fn create(config: Config, host: Host) -> Result<Self>;

    /// What this instance serves now: a subset of `FEATURES`.
    fn active_features(&self) -> Vec<Feature> {
        Self::FEATURES.to_vec()
    }

    fn status(&self) -> Status {
        Status::ok("")
    }

    /// `contacts.list`: `ContactIndex::page` keeps every rule. An unpaginated list goes to the
    /// host in pieces of 1,000 contacts, with back-pressure; nothing for you to do.
    fn list_contacts(&self, _request: ContactsPageRequest, reply: Reply<Vec<Contact>>) {
        reply.not_implemented()
    }
    fn get_contact(&self, _request: ContactRequest, reply: Reply<Contact>) {
        reply.not_implemented()
    }
    fn upsert_contact(&self, _request: UpsertContactRequest, reply: Reply<Empty>) {
        reply.not_implemented()
    }
    /// `contacts.check-exists`: is the number registered on WhatsApp? `chatId` is that number's.
    fn check_exists(&self, _request: CheckExistsRequest, reply: Reply<CheckExistsResult>) {
        reply.not_implemented()
    }
    fn about(&self, _request: ContactRequest, reply: Reply<AboutResult>) {
        reply.not_implemented()
    }
    fn profile_picture(&self, _request: ProfilePictureRequest, reply: Reply<ProfilePictureResult>) {
        reply.not_implemented()
    }
    fn block(&self, _request: ContactRequest, reply: Reply<Empty>) {
        reply.not_implemented()
    }
    fn unblock(&self, _request: ContactRequest, reply: Reply<Empty>) {
        reply.not_implemented()
    }
    fn list_lids(&self, _request: LidsPageRequest, reply: Reply<Vec<LidMapping>>) {
        reply.not_implemented()
    }
    fn count_lids(&self, reply: Reply<CountResult>) {
        reply.not_implemented()
    }
    fn phone_number_for_lid(&self, _request: LidLookupRequest, reply: Reply<LidMapping>) {
        reply.not_implemented()
    }
    fn lid_for_phone_number(&self, _request: PhoneNumberLookupRequest, reply: Reply<LidMapping>) {
        reply.not_implemented()
    }
}

/// Exports `$engine` as the plugin's entry symbol, `switchboard_engine_abi_v1`.
#[macro_export]
macro_rules! export_engine {
    ($engine:ty) => {
        #[no_mangle]
        pub extern "C" fn switchboard_engine_abi_v1() -> *const $crate::ffi::Descriptor {
            static EXPORTED: ::std::sync::OnceLock<$crate::Exported> = ::std::sync::OnceLock::new();
            EXPORTED.get_or_init($crate::Exported::new::<$engine>).descriptor()
        }
    };
}
