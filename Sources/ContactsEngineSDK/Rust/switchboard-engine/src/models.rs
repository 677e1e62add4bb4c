//! The requests and results of every feature, in the JSON shapes docs/plugin-abi.md documents,
//! through serde. Unknown keys in a request are ignored (a later ABI minor may add some).

use crate::chat_id;
use serde::{Deserialize, Serialize};

/// A contact. Its fields are declared in sorted key order and all written, `null` included, so
/// serde_json's compact output is the SDK writer's form the host reads without decoding again.
/// `Contact::new` fills the documented defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub is_blocked: bool,
    pub is_group: bool,
    pub is_me: bool,
    pub is_my_contact: bool,
    #[serde(rename = "isWAContact")]
    pub is_wa_contact: bool,
    pub name: Option<String>,
    pub number: String,
    pub pushname: Option<String>,
    pub short_name: Option<String>,
}

impl Contact {
    /// A contact with the documented defaults: `number` is the id's user part, `isGroup` true
    /// for `@g.us`, `isWAContact` true, every other flag false, no other name.
    pub fn new(id: impl Into<String>, name: Option<String>) -> Contact {
        let id = id.into();
        Contact {
            number: chat_id::user_part(&id).to_string(),
            is_group: id.ends_with(chat_id::GROUP_SUFFIX),
            id,
            name,
            is_blocked: false,
            is_me: false,
            is_my_contact: false,
            is_wa_contact: true,
            pushname: None,
            short_name: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    #[default]
    Id,
    Name,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

/// `contacts.list`. `limit` `None`: every contact from `offset` on. Signed, so that a negative
/// number decodes and is refused by the paging rules with their message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactsPageRequest {
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: i64,
    #[serde(default)]
    pub sort_by: SortKey,
    #[serde(default)]
    pub sort_order: SortOrder,
}

/// `contacts.get`, `contacts.about`, `contacts.block`, `contacts.unblock`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactRequest {
    pub contact_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePictureRequest {
    pub contact_id: String,
    #[serde(default)]
    pub refresh: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpsertContactRequest {
    pub chat_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CheckExistsRequest {
    pub phone: String,
}

/// `chatId` only when the number exists: `CheckExistsResult::exists` and `::absent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckExistsResult {
    pub number_exists: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
}

impl CheckExistsResult {
    pub fn exists(chat_id: impl Into<String>) -> Self {
        CheckExistsResult { number_exists: true, chat_id: Some(chat_id.into()) }
    }

    pub fn absent() -> Self {
        CheckExistsResult { number_exists: false, chat_id: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AboutResult {
    pub about: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfilePictureResult {
    #[serde(rename = "profilePictureURL")]
    pub profile_picture_url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct LidsPageRequest {
    pub limit: i64,
    pub offset: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct LidLookupRequest {
    pub lid: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PhoneNumberLookupRequest {
    pub pn: String,
}

/// A LID and its phone number, either `None` when unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LidMapping {
    pub lid: Option<String>,
    pub pn: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CountResult {
    pub count: i64,
}

/// The `{}` of features that answer nothing, and of `lids.count`'s request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}
