//! Reading a list of users whole, page by page: by `startIndex` and `count`
//! as RFC 7644 §3.4.2.4 pages, or by cursor where the service turns out to
//! ignore `startIndex`, as AWS IAM Identity Center does ("startIndex ...
//! not supported"; "Pagination requests must include cursor ... The first
//! request made with cursor must be empty ... If the response includes a
//! nextCursor field, its value can be used as the cursor value to retrieve
//! the next page").

use crate::scim::ListResponse;
use crate::users::User;
use allsync_sdk::http::encode;
use std::collections::HashSet;

/// Results asked for per page: the most AWS IAM Identity Center returns
/// ("Maximum value of 100"), and what Okta asks for (`count=100`).
pub const PAGE_SIZE: usize = 100;

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    /// The 1-based index of its first result.
    Index(usize),
    /// The cursor to send: empty for the first page.
    Cursor(String),
}

/// The pages of one list read so far, and where the next one starts.
#[derive(Debug)]
pub struct Pager {
    position: Position,
    users: Vec<User>,
    ids: HashSet<String>,
}

impl Pager {
    /// A list not read yet: its first page is asked for by index.
    pub fn new() -> Self {
        Pager {
            position: Position::Index(1),
            users: Vec::new(),
            ids: HashSet::new(),
        }
    }

    /// The paging part of the query for the page to ask for next.
    pub fn query(&self) -> String {
        match &self.position {
            Position::Index(start) => format!("startIndex={start}&count={PAGE_SIZE}"),
            Position::Cursor(cursor) => format!("cursor={}&count={PAGE_SIZE}", encode(cursor)),
        }
    }

    /// Takes in the page asked for; whether there is another to ask for, or
    /// why the list cannot be read whole.
    pub fn take(&mut self, page: ListResponse<User>) -> Result<bool, String> {
        let resources = page.resources.unwrap_or_default();
        let cursor = page.next_cursor.filter(|cursor| !cursor.is_empty());
        match self.position {
            Position::Index(asked) => {
                if asked > 1 && self.ignores_start_index(asked, page.start_index, &resources) {
                    self.start_over_by_cursor();
                    return Ok(true);
                }
                let received = resources.len();
                self.keep(resources);
                self.position = match cursor {
                    Some(cursor) => Position::Cursor(cursor),
                    None => Position::Index(asked + received),
                };
                let more = page.total_results.unwrap_or(0) >= asked + received;
                Ok(matches!(self.position, Position::Cursor(_)) || (received > 0 && more))
            }
            Position::Cursor(_) => {
                self.keep(resources);
                match (cursor, page.total_results) {
                    (Some(cursor), _) => {
                        self.position = Position::Cursor(cursor);
                        Ok(true)
                    }
                    (None, Some(total)) if total > self.users.len() => Err(format!(
                        "the service pages this list neither by startIndex nor by cursor: \
                         {} of its {total} users could be read",
                        self.users.len()
                    )),
                    (None, _) => Ok(false),
                }
            }
        }
    }

    /// Whether to ask for the first page again by cursor, the service having
    /// refused it by index (as a service that does not support `startIndex`
    /// may); so it is asked for.
    pub fn retry_by_cursor(&mut self) -> bool {
        let by_index = self.position == Position::Index(1);
        if by_index {
            self.start_over_by_cursor();
        }
        by_index
    }

    /// Every user read, once each.
    pub fn users(self) -> Vec<User> {
        self.users
    }

    /// Whether a page asked for at `asked` came back from somewhere else:
    /// the service says it starts elsewhere, or it repeats a user read before.
    fn ignores_start_index(&self, asked: usize, start: Option<usize>, page: &[User]) -> bool {
        start.is_some_and(|start| start != asked)
            || page.first().is_some_and(|user| self.ids.contains(&user.id))
    }

    fn start_over_by_cursor(&mut self) {
        self.users.clear();
        self.ids.clear();
        self.position = Position::Cursor(String::new());
    }

    fn keep(&mut self, page: Vec<User>) {
        for user in page {
            if self.ids.insert(user.id.clone()) {
                self.users.push(user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(ids: &[&str], extra: serde_json::Value) -> ListResponse<User> {
        let mut body = json!({
            "Resources": ids.iter().map(|id| json!({ "id": id, "userName": id })).collect::<Vec<_>>()
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(body).unwrap()
    }

    fn ids(pager: Pager) -> Vec<String> {
        pager.users().into_iter().map(|user| user.id).collect()
    }

    #[test]
    fn pages_by_index_until_total_results_are_read() {
        let mut pager = Pager::new();
        assert_eq!(pager.query(), "startIndex=1&count=100");
        let first = page(&["a", "b"], json!({ "totalResults": 3, "startIndex": 1 }));
        assert_eq!(pager.take(first), Ok(true));
        assert_eq!(
            pager.query(),
            "startIndex=3&count=100",
            "the service may send fewer than asked"
        );
        assert_eq!(
            pager.take(page(&["c"], json!({ "totalResults": 3, "startIndex": 3 }))),
            Ok(false)
        );
        assert_eq!(ids(pager), ["a", "b", "c"]);
    }

    #[test]
    fn an_empty_page_or_a_missing_total_ends_the_list() {
        let mut pager = Pager::new();
        assert_eq!(pager.take(page(&["a"], json!({}))), Ok(false));
        let mut shrunk = Pager::new();
        assert_eq!(
            shrunk.take(page(&["a"], json!({ "totalResults": 5 }))),
            Ok(true)
        );
        assert_eq!(
            shrunk.take(page(&[], json!({ "totalResults": 5 }))),
            Ok(false)
        );
    }

    #[test]
    fn a_service_that_ignores_start_index_is_read_again_by_cursor() {
        let mut pager = Pager::new();
        let first = page(&["a", "b"], json!({ "totalResults": 3, "startIndex": 1 }));
        assert_eq!(pager.take(first), Ok(true));
        let again = page(&["a", "b"], json!({ "totalResults": 3, "startIndex": 1 }));
        assert_eq!(pager.take(again), Ok(true));
        assert_eq!(
            pager.query(),
            "cursor=&count=100",
            "the first cursor request is empty"
        );
        assert_eq!(
            pager.take(page(&["a", "b"], json!({ "nextCursor": "x/y=" }))),
            Ok(true)
        );
        assert_eq!(pager.query(), "cursor=x%2Fy%3D&count=100");
        assert_eq!(pager.take(page(&["c"], json!({}))), Ok(false));
        assert_eq!(ids(pager), ["a", "b", "c"]);
    }

    #[test]
    fn a_repeated_page_without_a_start_index_is_caught_too() {
        let mut pager = Pager::new();
        assert_eq!(
            pager.take(page(&["a"], json!({ "totalResults": 2 }))),
            Ok(true)
        );
        assert_eq!(
            pager.take(page(&["a"], json!({ "totalResults": 2 }))),
            Ok(true)
        );
        assert_eq!(pager.query(), "cursor=&count=100");
    }

    #[test]
    fn a_service_paging_neither_way_is_an_error_not_a_short_list() {
        let mut pager = Pager::new();
        pager
            .take(page(&["a"], json!({ "totalResults": 2, "startIndex": 1 })))
            .unwrap();
        pager
            .take(page(&["a"], json!({ "totalResults": 2, "startIndex": 1 })))
            .unwrap();
        let why = pager
            .take(page(&["a"], json!({ "totalResults": 2, "startIndex": 1 })))
            .unwrap_err();
        assert_eq!(
            why,
            "the service pages this list neither by startIndex nor by cursor: 1 of its 2 users could be read"
        );
    }

    #[test]
    fn a_first_page_refused_by_index_is_asked_for_once_by_cursor() {
        let mut pager = Pager::new();
        assert!(pager.retry_by_cursor());
        assert_eq!(pager.query(), "cursor=&count=100");
        assert!(!pager.retry_by_cursor(), "refused both ways");
    }

    #[test]
    fn a_cursor_offered_unasked_is_followed() {
        let mut pager = Pager::new();
        assert_eq!(
            pager.take(page(&["a"], json!({ "nextCursor": "n1" }))),
            Ok(true)
        );
        assert_eq!(pager.query(), "cursor=n1&count=100");
    }
}
