//! Limits that protect the broker from one client or one address: new
//! connections per second per address ([`ConnectionRate`]), connections per
//! listener ([`ConnectionBudget`]), and the topic shape a client may use
//! ([`TopicLimits`]). Each refusal has its v5 reason code where the protocol
//! has one, and a counter (`courtier_limit_refusals_total{limit=...}`).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hashbrown::HashMap;
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Addresses tracked at most by [`ConnectionRate`].
pub const MAX_ADDRESSES: usize = 10_000;

/// A token bucket per address: `rate` new connections a second, with a
/// burst of one second's worth. Refused CONNECTs get CONNACK 0x9F
/// (Connection rate exceeded; 3.1.1: 3, Server unavailable).
#[derive(Debug)]
pub struct ConnectionRate {
    rate: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl ConnectionRate {
    /// `rate` connections per second per address (at least 1).
    pub fn new(rate: u32) -> Self {
        Self {
            rate: rate.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `addr` may open one more connection at `now` (and take it).
    pub fn allow(&self, addr: IpAddr, now: Instant) -> bool {
        let rate = f64::from(self.rate);
        let mut buckets = self.buckets.lock();
        if buckets.len() >= MAX_ADDRESSES && !buckets.contains_key(&addr) {
            // A bucket idle for a second is full again: forgetting it changes nothing.
            buckets.retain(|_, b| now.saturating_duration_since(b.at) < Duration::from_secs(1));
            if buckets.len() >= MAX_ADDRESSES {
                // Full of addresses active this very second: that many
                // sources are not one noisy client, and the connection
                // limits still apply. Let it through rather than grow.
                return true;
            }
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: rate,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One client's PUBLISH rate (`max_publish_rate`): a token bucket with a
/// burst of one second's worth, charged after each read for the PUBLISH
/// packets it carried. When it is overdrawn the connection is not read
/// until the balance is back at zero: the client is slowed by TCP
/// back-pressure, nothing is refused or lost (a v5 DISCONNECT 0x96 would
/// lose its session's in-flight state for a burst). Each pause is counted
/// as `courtier_limit_refusals_total{limit="publish_rate"}`.
#[derive(Debug)]
pub struct PublishRate {
    rate: f64,
    tokens: f64,
    at: Instant,
    /// Reads resume when this fires.
    pub pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl PublishRate {
    /// `rate` PUBLISH packets a second (at least 1), the bucket full at `now`.
    pub fn new(rate: u32, now: Instant) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            rate,
            tokens: rate,
            at: now,
            pause: None,
        }
    }

    /// Charge `publishes` at `now`; how long to stop reading, if at all.
    pub fn charge(&mut self, publishes: u32, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate) - f64::from(publishes);
        (self.tokens < 0.0).then(|| Duration::from_secs_f64(-self.tokens / self.rate))
    }
}

/// The connection slots a listener may use: the broker-wide
/// `max_connections` and, when set, the listener's own share.
#[derive(Debug, Clone)]
pub struct ConnectionBudget {
    global: Arc<Semaphore>,
    listener: Option<Arc<Semaphore>>,
    /// Connections open on this listener (`courtier_connections{listener}`).
    open: Arc<AtomicU64>,
}

/// Slots held by one connection, released on drop.
#[derive(Debug)]
pub struct Slot {
    _global: OwnedSemaphorePermit,
    _listener: Option<OwnedSemaphorePermit>,
    open: Arc<AtomicU64>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why no slot was free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSlot {
    /// `max_connections` reached.
    Broker,
    /// `max_connections_per_listener` reached on this listener.
    Listener,
}

impl ConnectionBudget {
    /// A listener's budget: `per_listener` of 0 means no limit of its own.
    pub fn new(global: Arc<Semaphore>, per_listener: usize) -> Self {
        Self {
            global,
            listener: (per_listener > 0).then(|| Arc::new(Semaphore::new(per_listener))),
            open: Arc::default(),
        }
    }

    /// The count of connections open on this listener, for `/metrics`.
    pub fn open(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.open)
    }

    /// Take a slot for a new connection, if both limits allow.
    pub fn try_take(&self) -> Result<Slot, NoSlot> {
        let listener = match &self.listener {
            Some(s) => Some(
                Arc::clone(s)
                    .try_acquire_owned()
                    .map_err(|_| NoSlot::Listener)?,
            ),
            None => None,
        };
        let global = Arc::clone(&self.global)
            .try_acquire_owned()
            .map_err(|_| NoSlot::Broker)?;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(Slot {
            _global: global,
            _listener: listener,
            open: Arc::clone(&self.open),
        })
    }
}

/// The topic shape clients may use: names and filters of at most `length`
/// bytes and `levels` levels. PUBLISH beyond them gets 0x90 (Topic Name
/// invalid), SUBSCRIBE 0x8F (Topic Filter invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicLimits {
    /// Longest topic name or filter, in bytes.
    pub length: u16,
    /// Most levels in a topic name or filter.
    pub levels: u16,
}

impl TopicLimits {
    /// Whether `topic` (a name, or a filter without its `$share/...` prefix)
    /// fits.
    pub fn allow(&self, topic: &str) -> bool {
        topic.len() <= usize::from(self.length)
            && topic.bytes().filter(|&b| b == b'/').count() < usize::from(self.levels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn a_burst_of_one_seconds_worth_then_the_rate() {
        let r = ConnectionRate::new(3);
        let t = Instant::now();
        let burst: Vec<bool> = (0..4).map(|_| r.allow(A, t)).collect();
        assert_eq!(burst, [true, true, true, false]);
        assert!(r.allow(B, t), "another address has its own bucket");
        // A third of a second later, one more.
        let later = t + Duration::from_millis(334);
        assert!(r.allow(A, later));
        assert!(!r.allow(A, later));
        // Idle for long: a full burst again, never more.
        let much_later = t + Duration::from_secs(60);
        assert_eq!((0..4).filter(|_| r.allow(A, much_later)).count(), 3);
    }

    #[test]
    fn the_rate_table_is_bounded() {
        let r = ConnectionRate::new(1);
        let t = Instant::now();
        for i in 0..MAX_ADDRESSES as u32 {
            assert!(r.allow(IpAddr::V4(i.into()), t));
        }
        assert!(r.allow(A, t), "not tracked, so not refused");
        assert!(r.allow(A, t));
        assert_eq!(r.buckets.lock().len(), MAX_ADDRESSES);
        assert!(r.allow(A, t + Duration::from_secs(1)));
        assert_eq!(r.buckets.lock().len(), 1);
    }

    #[test]
    fn slots_count_against_both_limits_and_come_back() {
        let global = Arc::new(Semaphore::new(3));
        let a = ConnectionBudget::new(Arc::clone(&global), 2);
        let b = ConnectionBudget::new(Arc::clone(&global), 0);
        let a1 = a.try_take().expect("free");
        let _a2 = a.try_take().expect("free");
        assert_eq!(a.try_take().unwrap_err(), NoSlot::Listener);
        let _b1 = b.try_take().expect("the broker has one left");
        assert_eq!(b.try_take().unwrap_err(), NoSlot::Broker);
        assert_eq!(a.open().load(Ordering::Relaxed), 2);
        drop(a1);
        assert_eq!(a.open().load(Ordering::Relaxed), 1);
        assert!(b.try_take().is_ok());
    }

    #[test]
    fn the_publish_rate_is_kept_on_average() {
        let t = Instant::now();
        let mut r = PublishRate::new(10, t);
        assert_eq!(r.charge(10, t), None, "a burst of one second's worth");
        // Twenty more in the same instant: two seconds of reading paused.
        let wait = r.charge(20, t).expect("overdrawn");
        assert!((wait.as_secs_f64() - 2.0).abs() < 1e-9, "{wait:?}");
        // After the pause the balance is back at zero: one more costs 0.1 s.
        let wait = r.charge(1, t + wait).expect("empty bucket");
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        // A client within the rate is never paused.
        let mut calm = PublishRate::new(10, t);
        for i in 0..100 {
            assert_eq!(calm.charge(1, t + Duration::from_millis(100 * i)), None);
        }
    }

    #[test]
    fn topic_shape() {
        let l = TopicLimits {
            length: 10,
            levels: 3,
        };
        assert!(l.allow("a/b/c"));
        assert!(!l.allow("a/b/c/d"));
        assert!(l.allow("0123456789"));
        assert!(!l.allow("0123456789a"));
        assert!(l.allow("a//"), "empty levels count: three here");
        assert!(!l.allow("a///"));
    }
}
