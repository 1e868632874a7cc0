//! The pure accounting of a run: which sequence numbers arrived (loss and duplicates), and
//! latency percentiles.

/// The sequence numbers one subscriber received from one publisher.
///
/// A bitset indexed by sequence number: constant work per message, one bit of memory per
/// message sent, and exact duplicate detection (which QoS 1 allows and QoS 2 forbids).
#[derive(Debug, Default, Clone)]
pub(crate) struct SeqTracker {
    /// Bit `n` is set once sequence number `n` has been seen.
    seen: Vec<u64>,
    /// Distinct sequence numbers seen.
    unique: u64,
    /// Deliveries of a sequence number already seen.
    duplicates: u64,
}

impl SeqTracker {
    /// Records one delivery of `seq`.
    pub(crate) fn record(&mut self, seq: u32) {
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if word >= self.seen.len() {
            // Grow geometrically so a long run costs amortised O(1) per message.
            let len = (word + 1).max(self.seen.len() * 2);
            self.seen.resize(len, 0);
        }
        let mask = 1u64 << bit;
        if self.seen[word] & mask == 0 {
            self.seen[word] |= mask;
            self.unique += 1;
        } else {
            self.duplicates += 1;
        }
    }

    /// Distinct sequence numbers received.
    pub(crate) fn unique(&self) -> u64 {
        self.unique
    }

    /// Deliveries beyond the first of a sequence number.
    pub(crate) fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// How many of the sequence numbers `0..sent` never arrived.
    pub(crate) fn lost(&self, sent: u64) -> u64 {
        sent.saturating_sub(self.unique_below(sent))
    }

    /// Distinct sequence numbers below `limit` (anything above would be a broker inventing
    /// messages, which this keeps out of the loss figure).
    fn unique_below(&self, limit: u64) -> u64 {
        let full_words = (limit / 64) as usize;
        let mut count: u64 = self
            .seen
            .iter()
            .take(full_words)
            .map(|w| u64::from(w.count_ones()))
            .sum();
        let rest = limit % 64;
        if rest > 0
            && let Some(word) = self.seen.get(full_words)
        {
            count += u64::from((word & ((1u64 << rest) - 1)).count_ones());
        }
        count
    }
}

/// Latency percentiles in microseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize)]
pub(crate) struct Percentiles {
    /// Median.
    pub(crate) p50_us: f64,
    /// 99th percentile.
    pub(crate) p99_us: f64,
    /// 99.9th percentile.
    pub(crate) p999_us: f64,
    /// The largest sample.
    pub(crate) max_us: f64,
}

impl Percentiles {
    /// Sorts `samples` (microseconds) and reads the percentiles; all zero when empty.
    pub(crate) fn from_micros(samples: &mut [u32]) -> Self {
        samples.sort_unstable();
        let us = |p| percentile(samples, p).map_or(0.0, f64::from);
        Self {
            p50_us: us(50.0),
            p99_us: us(99.0),
            p999_us: us(99.9),
            max_us: us(100.0),
        }
    }
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of `sorted`: the smallest sample with at
/// least `p` % of the samples at or below it. `None` when there are no samples.
pub(crate) fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    // Shave off floating-point noise first: 99.9 % of 1000 must be rank 999, not 1000.
    let exact = p * sorted.len() as f64 / 100.0;
    let rank = (exact * (1.0 - 1e-12)).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_delivery_loses_nothing() {
        let mut t = SeqTracker::default();
        (0..1000).for_each(|s| t.record(s));
        assert_eq!((t.unique(), t.duplicates(), t.lost(1000)), (1000, 0, 0));
    }

    #[test]
    fn gaps_and_repeats_are_counted() {
        let mut t = SeqTracker::default();
        for s in [0, 1, 1, 3, 64, 64, 64, 65, 200] {
            t.record(s);
        }
        assert_eq!(t.unique(), 6);
        assert_eq!(t.duplicates(), 3);
        // Of 0..66, only 0, 1, 3, 64 and 65 arrived.
        assert_eq!(t.lost(66), 61);
        // Sequence 200 is above what was sent: it does not hide a loss.
        assert_eq!(t.lost(4), 1);
        assert_eq!(SeqTracker::default().lost(10), 10);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(500));
        assert_eq!(percentile(&sorted, 99.0), Some(990));
        assert_eq!(percentile(&sorted, 99.9), Some(999));
        assert_eq!(percentile(&sorted, 100.0), Some(1000));
        assert_eq!(percentile(&[7], 99.9), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn percentiles_sort_their_samples() {
        let mut samples = vec![3, 1, 2, 4];
        let p = Percentiles::from_micros(&mut samples);
        assert_eq!(p.p50_us, 2.0);
        assert_eq!(p.p99_us, 4.0);
        assert_eq!(p.max_us, 4.0);
        assert_eq!(Percentiles::from_micros(&mut []), Percentiles::default());
    }
}
