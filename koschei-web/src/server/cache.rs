//! The response cache: successful responses by normalised request target, bounded in bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Reply;

/// Successful responses by cache key (the request target without unknown query parameters,
/// see [`crate::params::cache_key`]), each fresh for `ttl`.
///
/// When an entry is stale, the first request recomputes it while concurrent requests for the
/// same target keep getting the stale copy, so an expensive page is computed once per
/// `ttl` instead of by every worker at the same moment.
///
/// The cache holds at most `max_bytes` (keys, bodies and headers counted); when a new entry
/// does not fit, the oldest entries go first (expired ones are always older than fresh
/// ones).
///
/// Every request of a cacheable target takes the one lock, so nothing slow happens under
/// it: a hit clones the reply's shared body (a reference count, not the bytes), and making
/// room drops entries oldest first from an index by age, never scanning or sorting the
/// whole cache.
#[derive(Debug)]
pub(crate) struct ResponseCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, CacheEntry>,
    /// Keys by (insertion time, insertion number): oldest first.
    by_age: BTreeMap<(Instant, u64), String>,
    bytes: usize,
    inserted: u64,
}

#[derive(Debug)]
struct CacheEntry {
    at: Instant,
    seq: u64,
    refreshing: bool,
    size: usize,
    reply: Reply,
}

/// At most this many responses are cached; bodies above `MAX_CACHED_BODY` are not.
const MAX_CACHED: usize = 4096;
pub(crate) const MAX_CACHED_BODY: usize = 256 << 10;
pub(crate) const REFRESH_GRACE: Duration = Duration::from_secs(30);
/// Bookkeeping counted for every entry besides its key and body.
const ENTRY_OVERHEAD: usize = 128;

fn entry_size(key: &str, reply: &Reply) -> usize {
    2 * key.len()
        + reply.body.len()
        + reply
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len())
            .sum::<usize>()
        + ENTRY_OVERHEAD
}

impl ResponseCache {
    /// An empty cache holding at most `max_bytes`.
    pub(crate) fn new(max_bytes: usize) -> Self {
        ResponseCache {
            inner: Mutex::new(Inner::default()),
            max_bytes,
        }
    }

    /// The bytes held now (keys, bodies, headers and bookkeeping).
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.bytes)
    }

    /// A fresh (or being refreshed) response, or `None` when the caller must compute it.
    pub(crate) fn get(&self, key: &str, ttl: Duration, now: Instant) -> Option<Reply> {
        let mut inner = self.inner.lock().ok()?;
        let entry = inner.entries.get_mut(key)?;
        let age = now.saturating_duration_since(entry.at);
        // A refresh that has not finished within a grace period (its request panicked or
        // hangs) is taken over by the next request.
        if age < ttl || (entry.refreshing && age < ttl + REFRESH_GRACE) {
            return Some(entry.reply.clone());
        }
        entry.refreshing = true;
        None
    }

    /// Stores a computed response (only successes), or ends a refresh that failed.
    pub(crate) fn put(&self, key: &str, reply: &Reply, now: Instant) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.remove(key);
        let size = entry_size(key, reply);
        // One entry never takes more than an eighth of the cache.
        if reply.status != 200 || reply.body.len() > MAX_CACHED_BODY || size > self.max_bytes / 8 {
            return;
        }
        while inner.bytes + size > self.max_bytes || inner.entries.len() >= MAX_CACHED {
            if !inner.drop_oldest() {
                break;
            }
        }
        inner.inserted += 1;
        let seq = inner.inserted;
        inner.bytes += size;
        inner.by_age.insert((now, seq), key.to_owned());
        inner.entries.insert(
            key.to_owned(),
            CacheEntry {
                at: now,
                seq,
                refreshing: false,
                size,
                reply: reply.clone(),
            },
        );
    }
}

impl Inner {
    fn remove(&mut self, key: &str) {
        if let Some(old) = self.entries.remove(key) {
            self.bytes -= old.size;
            self.by_age.remove(&(old.at, old.seq));
        }
    }

    /// Drops the oldest entry; `false` when the cache is empty.
    fn drop_oldest(&mut self) -> bool {
        match self.by_age.pop_first() {
            Some((_, key)) => {
                if let Some(e) = self.entries.remove(&key) {
                    self.bytes -= e.size;
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn cache_serves_fresh_then_one_refresher_while_others_get_stale() {
        let cache = ResponseCache::new(1 << 20);
        let ttl = Duration::from_secs(1);
        let t0 = Instant::now();
        assert_eq!(cache.get("/a", ttl, t0), None);
        let v1 = Reply::text(200, "v1");
        cache.put("/a", &v1, t0);
        assert_eq!(
            cache.get("/a", ttl, t0 + Duration::from_millis(500)),
            Some(v1.clone())
        );
        // Stale: the first caller recomputes, the others get the old reply meanwhile.
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(cache.get("/a", ttl, t1), None);
        assert_eq!(cache.get("/a", ttl, t1), Some(v1.clone()));
        // A refresh that never finishes is taken over after the grace period.
        assert_eq!(cache.get("/a", ttl, t1 + REFRESH_GRACE), None);
        let v2 = Reply::text(200, "v2");
        cache.put("/a", &v2, t1);
        assert_eq!(cache.get("/a", ttl, t1), Some(v2));
        // Errors are not cached and drop the old entry.
        cache.put("/a", &Reply::text(503, "down"), t1);
        assert_eq!(cache.get("/a", ttl, t1), None);
        // Other targets are separate.
        assert_eq!(cache.get("/b", ttl, t1), None);
    }

    #[test]
    fn hits_share_the_body_and_eviction_keeps_insertion_order() {
        let cache = ResponseCache::new(1 << 20);
        let ttl = Duration::from_secs(600);
        let t0 = Instant::now();
        cache.put("/a", &Reply::text(200, &"a".repeat(1000)), t0);
        let (Some(h1), Some(h2)) = (cache.get("/a", ttl, t0), cache.get("/a", ttl, t0)) else {
            panic!("both hits expected");
        };
        assert!(Arc::ptr_eq(&h1.body.0, &h2.body.0), "a hit copied the body");
        // Replacing an entry moves it to the young end: in a cache full with eight
        // entries, /p0 replaced last survives the next insertion and /p1 goes.
        let body = "x".repeat(1000);
        let size = entry_size("/p0", &Reply::text(200, &body));
        let full = ResponseCache::new(8 * size);
        let at = |i: u64| t0 + Duration::from_secs(i);
        for i in 0..8 {
            full.put(&format!("/p{i}"), &Reply::text(200, &body), at(i));
        }
        full.put("/p0", &Reply::text(200, &body), at(8));
        full.put("/p8", &Reply::text(200, &body), at(9));
        let now = at(10);
        assert!(
            full.get("/p0", ttl, now).is_some(),
            "replaced entry evicted"
        );
        assert!(full.get("/p8", ttl, now).is_some(), "newest evicted");
        assert_eq!(full.get("/p1", ttl, now), None, "oldest kept");
        assert!(full.bytes() <= 8 * size);
    }

    #[test]
    fn cache_stays_within_its_byte_budget_dropping_the_oldest() {
        let budget = 1 << 20;
        let cache = ResponseCache::new(budget);
        let ttl = Duration::from_secs(600);
        let t0 = Instant::now();
        let body = "x".repeat(100 << 10);
        // 30 distinct large entries (3 MB) into a 1 MiB cache.
        for i in 0..30u64 {
            let key = format!("/p{i}");
            cache.put(&key, &Reply::text(200, &body), t0 + Duration::from_secs(i));
            assert!(cache.bytes() <= budget, "{} > {budget}", cache.bytes());
        }
        let now = t0 + Duration::from_secs(30);
        assert_eq!(cache.get("/p0", ttl, now), None, "oldest evicted");
        assert!(cache.get("/p29", ttl, now).is_some(), "newest kept");
        // Replacing an entry does not count it twice.
        let before = cache.bytes();
        cache.put("/p29", &Reply::text(200, &body), now);
        assert_eq!(cache.bytes(), before);
        // An entry larger than an eighth of the budget is not kept.
        let big = "y".repeat(200 << 10);
        cache.put("/big", &Reply::text(200, &big), now);
        assert_eq!(cache.get("/big", ttl, now), None);
    }
}
