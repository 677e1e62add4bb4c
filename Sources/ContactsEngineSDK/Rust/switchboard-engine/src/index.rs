//! Contacts kept in both orders a page may ask for, so every page is a slice: the rules of the
//! Swift SDK's `ContactIndex`, stated in docs/writing-an-engine.md ("The rules every engine
//! keeps"). Text compares in Unicode code point order, which is `str`'s own `Ord` (UTF-8 bytes):
//! no normalization, no case folding.

use crate::chat_id::require_contact_id;
use crate::models::{Contact, ContactsPageRequest, SortKey, SortOrder};
use crate::EngineError;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The order of `sortBy=name`: named contacts first, by name, then unnamed ones (`None`); ties,
/// and the unnamed among themselves, by id. `""` is a name, the first of all: only `None` is unnamed.
pub fn name_order(a: &Contact, b: &Contact) -> Ordering {
    (a.name.is_none(), &a.name, &a.id).cmp(&(b.name.is_none(), &b.name, &b.id))
}

/// The page of `sorted` (ascending) that `offset`, `limit` (`None`: all the rest) and the
/// order ask for; descending counts from the other end. Negative numbers are invalid input.
pub fn page<T: Clone>(sorted: &[T], offset: i64, limit: Option<i64>, order: SortOrder) -> Result<Vec<T>, EngineError> {
    if offset < 0 {
        return Err(EngineError::invalid_input(format!("offset must not be negative: {offset}")));
    }
    if let Some(limit) = limit.filter(|limit| *limit < 0) {
        return Err(EngineError::invalid_input(format!("limit must not be negative: {limit}")));
    }
    let remaining = sorted.len().saturating_sub(usize::try_from(offset).unwrap_or(usize::MAX));
    let size = limit.map_or(remaining, |limit| remaining.min(usize::try_from(limit).unwrap_or(usize::MAX)));
    Ok(match order {
        SortOrder::Asc => sorted[sorted.len() - remaining..][..size].to_vec(),
        SortOrder::Desc => sorted[remaining - size..remaining].iter().rev().cloned().collect(),
    })
}

/// An engine's contacts by id, and in both orders. Build it once from what you load; `put` and
/// `remove` keep both orders for an engine whose contacts change.
#[derive(Clone, Debug, Default)]
pub struct ContactIndex {
    by_id: HashMap<String, Contact>,
    id_order: Vec<String>,
    by_name: Vec<Contact>,
}

impl ContactIndex {
    /// Contacts with the same id: the last one wins.
    pub fn new(contacts: impl IntoIterator<Item = Contact>) -> ContactIndex {
        let by_id: HashMap<String, Contact> = contacts.into_iter().map(|contact| (contact.id.clone(), contact)).collect();
        let mut id_order: Vec<String> = by_id.keys().cloned().collect();
        id_order.sort();
        let mut by_name: Vec<Contact> = by_id.values().cloned().collect();
        by_name.sort_by(name_order);
        ContactIndex { by_id, id_order, by_name }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// `contacts.get`: the contact, not-found when there is none, invalid-input for a malformed id.
    pub fn get(&self, id: &str) -> Result<Contact, EngineError> {
        let id = require_contact_id(id)?;
        self.by_id.get(id).cloned().ok_or_else(|| EngineError::not_found(format!("no contact {id}")))
    }

    /// `contacts.list`: the page `request` asks for.
    pub fn page(&self, request: &ContactsPageRequest) -> Result<Vec<Contact>, EngineError> {
        match request.sort_by {
            SortKey::Name => page(&self.by_name, request.offset, request.limit, request.sort_order),
            SortKey::Id => {
                let ids = page(&self.id_order, request.offset, request.limit, request.sort_order)?;
                Ok(ids.iter().map(|id| self.by_id[id].clone()).collect())
            }
        }
    }

    /// Adds or replaces the contact of its id.
    pub fn put(&mut self, contact: Contact) {
        if let Some(old) = self.by_id.insert(contact.id.clone(), contact.clone()) {
            let at = self.by_name.binary_search_by(|probe| name_order(probe, &old)).expect("indexed");
            self.by_name.remove(at);
        } else {
            let at = self.id_order.binary_search(&contact.id).unwrap_err();
            self.id_order.insert(at, contact.id.clone());
        }
        let at = self.by_name.binary_search_by(|probe| name_order(probe, &contact)).unwrap_or_else(|at| at);
        self.by_name.insert(at, contact);
    }

    pub fn remove(&mut self, id: &str) -> Option<Contact> {
        let old = self.by_id.remove(id)?;
        self.id_order.retain(|kept| kept != id);
        self.by_name.retain(|kept| kept.id != id);
        Some(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(id: &str, name: Option<&str>) -> Contact {
        Contact::new(format!("{id}@c.us"), name.map(String::from))
    }

    /// The same contacts and expected order as the Swift SDK's NameOrderTests: precomposed and
    /// decomposed É, names differing only in case, the empty name, a tie, two unnamed.
    #[test]
    fn code_point_name_order() {
        let contacts = vec![
            named("33100000001", Some("\u{C9}mile")),
            named("33100000002", Some("E\u{301}mile")),
            named("33100000003", Some("Emile")),
            named("33100000004", Some("emile")),
            named("33100000005", Some("Zo\u{EB}")),
            named("33100000006", Some("ada")),
            named("33100000007", Some("")),
            named("33100000009", Some("Emile")),
            named("33100000010", None),
            named("33100000008", None),
        ];
        let expected: Vec<String> = ["07", "03", "09", "02", "05", "06", "04", "01", "08", "10"].iter().map(|n| format!("331000000{n}@c.us")).collect();
        let index = ContactIndex::new(contacts);
        let ask = |sort_order| ContactsPageRequest { sort_by: SortKey::Name, sort_order, ..Default::default() };
        let ids = |page: Vec<Contact>| page.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(index.page(&ask(SortOrder::Asc)).unwrap()), expected);
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(ids(index.page(&ask(SortOrder::Desc)).unwrap()), reversed);
    }

    #[test]
    fn pages_and_bounds() {
        let letters = ["a", "b", "c", "d"];
        assert_eq!(page(&letters, 1, Some(2), SortOrder::Asc).unwrap(), ["b", "c"]);
        assert_eq!(page(&letters, 1, Some(2), SortOrder::Desc).unwrap(), ["c", "b"]);
        assert_eq!(page(&letters, 3, Some(5), SortOrder::Desc).unwrap(), ["a"]);
        assert_eq!(page(&letters, 9, None, SortOrder::Asc).unwrap(), Vec::<&str>::new());
        assert_eq!(page(&letters, 2, None, SortOrder::Asc).unwrap(), ["c", "d"]);
        assert!(page(&letters, -1, None, SortOrder::Asc).is_err() && page(&letters, 0, Some(-1), SortOrder::Asc).is_err());
    }

    #[test]
    fn put_moves_and_remove_drops() {
        let mut index = ContactIndex::new(vec![named("1000001", Some("b")), named("1000002", Some("c"))]);
        index.put(named("1000002", Some("a")));
        index.put(named("1000003", None));
        let request = ContactsPageRequest { sort_by: SortKey::Name, ..Default::default() };
        let ids: Vec<String> = index.page(&request).unwrap().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["1000002@c.us", "1000001@c.us", "1000003@c.us"]);
        index.remove("1000002@c.us");
        assert_eq!(index.len(), 2);
        assert!(matches!(index.get("1000002@c.us"), Err(e) if e.kind == crate::ErrorKind::NotFound));
        assert!(matches!(index.get("12ab"), Err(e) if e.kind == crate::ErrorKind::InvalidInput));
    }
}
