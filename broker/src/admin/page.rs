//! Bounded listings: every list the admin API returns holds at most
//! [`MAX_LIMIT`] items, in key order, continued with `?after=<last key>`.
//!
//! [`FirstKeys`] picks the `limit` smallest keys after the cursor in one
//! pass with a heap of `limit` entries, so a listing of 100,000 sessions
//! allocates for the page, not for the whole registry.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use super::error::ApiError;

/// Items per page when the request names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 1000;

/// `?limit=N&after=KEY` as sent.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PageQuery {
    /// Items wanted (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Continue after this key (the `next` of the previous page).
    pub after: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Items wanted, 1 to [`MAX_LIMIT`].
    pub limit: usize,
    /// Only keys greater than this.
    pub after: Option<String>,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

/// `limit` checked: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub fn check_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n @ 1..=MAX_LIMIT) => Ok(n),
        Some(_) => Err(ApiError::bad_request(format!(
            "`limit` must be 1 to {MAX_LIMIT}"
        ))),
    }
}

impl TryFrom<PageQuery> for Page {
    type Error = ApiError;

    fn try_from(q: PageQuery) -> Result<Self, ApiError> {
        Ok(Self {
            limit: check_limit(q.limit)?,
            after: q.after,
        })
    }
}

/// One page of a listing.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Listing<T> {
    /// How many items exist in all (every page).
    pub total: usize,
    /// This page, in key order.
    pub items: Vec<T>,
    /// The `after` of the next page; `None` on the last one.
    pub next: Option<String>,
}

struct Keyed<T> {
    key: String,
    value: T,
}

impl<T> PartialEq for Keyed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<T> Eq for Keyed<T> {}
impl<T> PartialOrd for Keyed<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Keyed<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// The first `limit` items by key after the cursor, fed one at a time.
pub struct FirstKeys<T> {
    page: Page,
    /// A max-heap: its top is the largest key kept, the one to evict.
    heap: BinaryHeap<Keyed<T>>,
    /// Items seen in all.
    total: usize,
    /// Items seen after the cursor.
    after_cursor: usize,
}

impl<T> FirstKeys<T> {
    /// An empty selection for `page`.
    pub fn new(page: Page) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(page.limit + 1),
            page,
            total: 0,
            after_cursor: 0,
        }
    }

    /// Offer one item; `value` is made only if it may be kept.
    pub fn offer(&mut self, key: &str, value: impl FnOnce() -> T) {
        self.total += 1;
        if self.page.after.as_deref().is_some_and(|after| key <= after) {
            return;
        }
        self.after_cursor += 1;
        if self.heap.len() == self.page.limit
            && self.heap.peek().is_some_and(|top| top.key.as_str() <= key)
        {
            return;
        }
        self.heap.push(Keyed {
            key: key.to_owned(),
            value: value(),
        });
        if self.heap.len() > self.page.limit {
            self.heap.pop();
        }
    }

    /// The page, its items in key order, each turned into what is shown by `show`
    /// (which may drop an item that changed in between).
    pub fn finish<U>(self, mut show: impl FnMut(&str, T) -> Option<U>) -> Listing<U> {
        let more = self.after_cursor > self.heap.len();
        let sorted = self.heap.into_sorted_vec();
        let next = more.then(|| sorted.last().map(|k| k.key.clone())).flatten();
        let items = sorted
            .into_iter()
            .filter_map(|k| show(&k.key, k.value))
            .collect();
        Listing {
            total: self.total,
            items,
            next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(keys: &[&str], limit: usize, after: Option<&str>) -> Listing<String> {
        let mut sel = FirstKeys::new(Page {
            limit,
            after: after.map(str::to_owned),
        });
        for k in keys {
            sel.offer(k, || k.to_string());
        }
        sel.finish(|_, v| Some(v))
    }

    #[test]
    fn pages_walk_every_key_once_in_order() {
        let keys = ["d", "a", "e", "c", "b"];
        let first = pick(&keys, 2, None);
        assert_eq!(first.items, ["a", "b"]);
        assert_eq!((first.total, first.next.as_deref()), (5, Some("b")));
        let second = pick(&keys, 2, Some("b"));
        assert_eq!(second.items, ["c", "d"]);
        let last = pick(&keys, 2, Some("d"));
        assert_eq!((last.items, last.next), (vec!["e".to_owned()], None));
        assert_eq!(pick(&keys, 5, None).next, None);
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(check_limit(None), Ok(DEFAULT_LIMIT));
        assert_eq!(check_limit(Some(1000)), Ok(1000));
        assert!(check_limit(Some(0)).is_err());
        assert!(check_limit(Some(1001)).is_err());
    }
}
