//! Message rates from successive `/overview` samples: the broker only counts (rates are the
//! client's job), so each poll's counters minus the previous poll's, over the time between them.

use std::collections::VecDeque;

use super::admin_wire::Overview;

/// Rate points kept per series: 3 minutes at one poll every 2 s.
pub const RATE_POINTS: usize = 90;

/// The counters one poll read, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    at_ms: u64,
    received: u64,
    sent: u64,
}

/// Messages per second in and out, as chart series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rates {
    last: Option<Sample>,
    /// (time in ms, PUBLISH received per second), oldest first.
    pub incoming: VecDeque<(u64, f64)>,
    /// (time in ms, PUBLISH sent per second), oldest first.
    pub outgoing: VecDeque<(u64, f64)>,
}

impl Rates {
    /// Adds the poll that read `overview` at `at_ms`. The first sample gives no rate; a sample
    /// no later than the previous one is ignored; counters that went down mean the broker
    /// restarted, so the series starts again from this sample.
    pub fn record(&mut self, overview: &Overview, at_ms: u64) {
        let sample = Sample {
            at_ms,
            received: overview.messages_received,
            sent: overview.messages_sent,
        };
        let Some(last) = self.last else {
            self.last = Some(sample);
            return;
        };
        if at_ms <= last.at_ms {
            return;
        }
        self.last = Some(sample);
        if sample.received < last.received || sample.sent < last.sent {
            self.incoming.clear();
            self.outgoing.clear();
            return;
        }
        let seconds = (at_ms - last.at_ms) as f64 / 1000.0;
        let rate = |now: u64, then: u64| (now - then) as f64 / seconds;
        push(
            &mut self.incoming,
            (at_ms, rate(sample.received, last.received)),
        );
        push(&mut self.outgoing, (at_ms, rate(sample.sent, last.sent)));
    }

    /// The newest rates in and out, if there are any yet.
    pub fn latest(&self) -> Option<(f64, f64)> {
        Some((self.incoming.back()?.1, self.outgoing.back()?.1))
    }
}

fn push(series: &mut VecDeque<(u64, f64)>, point: (u64, f64)) {
    if series.len() == RATE_POINTS {
        series.pop_front();
    }
    series.push_back(point);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(received: u64, sent: u64) -> Overview {
        Overview {
            messages_received: received,
            messages_sent: sent,
            ..Overview::default()
        }
    }

    #[test]
    fn rates_are_differences_over_elapsed_time() {
        let mut rates = Rates::default();
        rates.record(&counters(100, 50), 10_000);
        assert_eq!(rates.latest(), None, "one sample has no rate");
        rates.record(&counters(120, 90), 12_000);
        rates.record(&counters(120, 90), 14_000);
        // A late poll: 2.5 s between them.
        rates.record(&counters(125, 100), 16_500);
        let incoming: Vec<_> = rates.incoming.iter().copied().collect();
        assert_eq!(incoming, [(12_000, 10.0), (14_000, 0.0), (16_500, 2.0)]);
        assert_eq!(rates.latest(), Some((2.0, 4.0)));
    }

    #[test]
    fn restarts_and_stale_samples_do_not_make_rates() {
        let mut rates = Rates::default();
        rates.record(&counters(100, 100), 1_000);
        rates.record(&counters(110, 110), 3_000);
        rates.record(&counters(500, 500), 3_000);
        assert_eq!(rates.latest(), Some((5.0, 5.0)), "same instant ignored");
        rates.record(&counters(4, 2), 5_000);
        assert!(rates.incoming.is_empty() && rates.outgoing.is_empty());
        rates.record(&counters(8, 2), 7_000);
        assert_eq!(rates.latest(), Some((2.0, 0.0)));
    }

    #[test]
    fn series_are_bounded() {
        let mut rates = Rates::default();
        for i in 0..=(RATE_POINTS as u64 + 10) {
            rates.record(&counters(i, i), i * 2_000);
        }
        assert_eq!(rates.incoming.len(), RATE_POINTS);
        assert_eq!(
            rates.incoming.back().map(|p| p.0),
            Some((RATE_POINTS as u64 + 10) * 2_000)
        );
    }
}
