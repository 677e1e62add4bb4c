//! WhatsApp's chat id and phone number rules, as the Swift SDK's `ChatID` states them. The host
//! passes ids in full form; anything else in a request is malformed, and answers invalid-input.

use crate::EngineError;

pub const CONTACT_SUFFIX: &str = "@c.us";
pub const GROUP_SUFFIX: &str = "@g.us";
pub const LID_SUFFIX: &str = "@lid";

/// `1123@c.us` → `1123`; an id without `@` whole.
pub fn user_part(id: &str) -> &str {
    id.split('@').next().unwrap_or(id)
}

pub fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// A contact id in full form: `<digits>@c.us`, `<digits>@lid` or a group's `<digits>[-<digits>]@g.us`.
pub fn is_contact_id(id: &str) -> bool {
    if let Some(user) = id.strip_suffix(CONTACT_SUFFIX).or_else(|| id.strip_suffix(LID_SUFFIX)) {
        return is_digits(user);
    }
    match id.strip_suffix(GROUP_SUFFIX) {
        Some(group) => {
            let parts: Vec<&str> = group.split('-').collect();
            parts.len() <= 2 && parts.iter().all(|part| is_digits(part))
        }
        None => false,
    }
}

/// A phone number as `contacts.check-exists` takes it: 6 to 15 digits (E.164 allows 15), country
/// code first, no `+`, no spaces.
pub fn is_phone_number(text: &str) -> bool {
    is_digits(text) && (6..=15).contains(&text.len())
}

/// `id` when it is a contact id in full form, else invalid-input naming it.
pub fn require_contact_id(id: &str) -> Result<&str, EngineError> {
    if is_contact_id(id) {
        Ok(id)
    } else {
        Err(EngineError::invalid_input(format!("not a chat id: {id:?} (<digits>@c.us, <digits>@lid, <digits>[-<digits>]@g.us)")))
    }
}

/// The chat id `<phone>@c.us` of a phone number, else invalid-input naming it.
pub fn require_phone_number(phone: &str) -> Result<String, EngineError> {
    if is_phone_number(phone) {
        Ok(format!("{phone}{CONTACT_SUFFIX}"))
    } else {
        Err(EngineError::invalid_input(format!("not a phone number: {phone:?} (6 to 15 digits, country code first)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_ids() {
        for good in ["14155550100@c.us", "123@lid", "120363@g.us", "1203-63@g.us"] {
            assert!(is_contact_id(good), "{good}");
        }
        for bad in ["12ab", "12ab@c.us", "+14155550100", "+14155550100@c.us", "1415 555 0100", "", "@c.us", "14155550100@x.us", "1-2-3@g.us", "1-@g.us", "1-2@lid"] {
            assert!(!is_contact_id(bad), "{bad}");
        }
    }

    #[test]
    fn phone_numbers() {
        assert!(is_phone_number("141555") && is_phone_number("123456789012345"));
        for bad in ["12ab", "1", "12345", "1234567890123456", "+14155550100", "1415 555 0100", ""] {
            assert!(!is_phone_number(bad), "{bad}");
        }
    }
}
