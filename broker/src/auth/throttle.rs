//! Slowing down password guessing: an address that keeps failing to
//! authenticate waits longer and longer for each refusal.
//!
//! The first [`FREE_FAILURES`] failures are answered at once (a mistyped
//! password must not hurt); after that each refusal waits twice as long as
//! the previous one, from [`FIRST_DELAY`] up to [`MAX_DELAY`]. An address
//! that stays quiet for [`FORGET_AFTER`] starts afresh, and so does one that
//! authenticates. The table is bounded ([`MAX_ADDRESSES`]): when it is full
//! of recent failures, a new address is not tracked rather than the memory
//! growing (the connection limit still applies to it).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use hashbrown::HashMap;
use parking_lot::Mutex;

/// Failures answered without delay.
pub const FREE_FAILURES: u32 = 3;
/// The delay after the free failures.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest delay.
pub const MAX_DELAY: Duration = Duration::from_secs(8);
/// Quiet time after which an address's failures are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(60);
/// Addresses tracked at most.
pub const MAX_ADDRESSES: usize = 10_000;

/// Recent failures of one address.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Authentication failures by client address.
#[derive(Debug, Default)]
pub struct FailureThrottle {
    by_address: Mutex<HashMap<IpAddr, Failures>>,
}

impl FailureThrottle {
    /// Record a failure of `addr` at `now`; how long to wait before
    /// answering it.
    pub fn failed(&self, addr: IpAddr, now: Instant) -> Duration {
        let mut table = self.by_address.lock();
        if table.len() >= MAX_ADDRESSES && !table.contains_key(&addr) {
            table.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
            if table.len() >= MAX_ADDRESSES {
                return Duration::ZERO;
            }
        }
        let entry = table.entry(addr).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        delay_after(entry.count)
    }

    /// `addr` authenticated: forget its failures.
    pub fn succeeded(&self, addr: IpAddr) {
        let mut table = self.by_address.lock();
        if !table.is_empty() {
            table.remove(&addr);
        }
    }
}

/// The wait for the `count`-th failure in a row.
fn delay_after(count: u32) -> Duration {
    let Some(doublings) = count.checked_sub(FREE_FAILURES + 1) else {
        return Duration::ZERO;
    };
    // 2^5 × 250 ms already exceeds the cap: no need to shift further.
    FIRST_DELAY
        .saturating_mul(1 << doublings.min(5))
        .min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn delays_grow_per_address_up_to_the_cap() {
        let t = FailureThrottle::default();
        let now = Instant::now();
        let delays: Vec<_> = (0..10).map(|_| t.failed(A, now)).collect();
        let expect = [0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 8000].map(ms);
        assert_eq!(delays, expect);
        // Another address is not slowed by A's failures.
        assert_eq!(t.failed(B, now), Duration::ZERO);
    }

    #[test]
    fn quiet_time_or_a_success_forgets() {
        let t = FailureThrottle::default();
        let now = Instant::now();
        for _ in 0..5 {
            t.failed(A, now);
        }
        assert_eq!(t.failed(A, now + FORGET_AFTER), Duration::ZERO);
        for _ in 0..5 {
            t.failed(B, now);
        }
        t.succeeded(B);
        assert_eq!(t.failed(B, now), Duration::ZERO);
    }

    #[test]
    fn the_table_is_bounded() {
        let t = FailureThrottle::default();
        let now = Instant::now();
        for i in 0..MAX_ADDRESSES as u32 {
            t.failed(IpAddr::V4(i.into()), now);
        }
        // Full of recent failures: a new address is not tracked...
        let new = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
        for _ in 0..10 {
            assert_eq!(t.failed(new, now), Duration::ZERO);
        }
        assert_eq!(t.by_address.lock().len(), MAX_ADDRESSES);
        // ...until the old ones are stale and make room.
        t.failed(new, now + FORGET_AFTER);
        assert_eq!(t.by_address.lock().len(), 1);
    }
}
