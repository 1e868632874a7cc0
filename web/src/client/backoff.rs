//! When to try again after a connection is lost: capped exponential backoff with jitter.
//! Pure (the random number is an argument), so the schedule is unit-tested on the host.

use std::time::Duration;

use courtier_proto::reason::ReasonCode;

/// The reconnect schedule: attempt `n` (from 0) waits a random time between half and all of
/// `min(initial * 2^n, max)`. The randomness ("equal jitter") keeps a thousand pages that lost
/// the same broker from all coming back in the same millisecond; the lower half-bound keeps a
/// page from hammering a broker that is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// The delay ceiling before the first retry.
    pub initial: Duration,
    /// The largest delay ever waited.
    pub max: Duration,
}

impl Default for ReconnectPolicy {
    /// 0.5 s, doubling to at most 30 s.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl ReconnectPolicy {
    /// The delay before retry `attempt` (0 for the first), given `random` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        // 2^16 times any sane initial delay is past any sane maximum.
        let factor = 1u32 << attempt.min(16);
        let ceiling = self.initial.saturating_mul(factor).min(self.max);
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ceiling.mul_f64(0.5 + random / 2.0)
    }
}

/// Whether a broker that refused a connection with `reason` may accept a later attempt
/// unchanged. Retrying bad credentials or a ban only gets a client noticed; a busy or
/// restarting server is worth another try.
pub fn refusal_is_temporary(reason: ReasonCode) -> bool {
    matches!(
        reason,
        ReasonCode::UnspecifiedError
            | ReasonCode::ServerUnavailable
            | ReasonCode::ServerBusy
            | ReasonCode::ServerShuttingDown
            | ReasonCode::QuotaExceeded
            | ReasonCode::ConnectionRateExceeded
            | ReasonCode::UseAnotherServer
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn delays_double_up_to_the_cap() {
        let policy = ReconnectPolicy::default();
        let ceilings: Vec<_> = (0..10).map(|n| policy.delay(n, 1.0)).collect();
        assert_eq!(
            ceilings,
            [
                500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000
            ]
            .map(MS)
        );
        assert_eq!(policy.delay(u32::MAX, 1.0), MS(30_000));
    }

    #[test]
    fn jitter_stays_within_half_and_all_of_the_ceiling() {
        let policy = ReconnectPolicy::default();
        assert_eq!(policy.delay(2, 0.0), MS(1000));
        assert_eq!(policy.delay(2, 0.5), MS(1500));
        assert_eq!(policy.delay(2, 0.999), MS(1999));
        // Out-of-range randomness is clamped rather than trusted.
        assert_eq!(policy.delay(2, -3.0), MS(1000));
        assert_eq!(policy.delay(2, f64::NAN), MS(1000));
        assert_eq!(policy.delay(2, 7.0), MS(2000));
    }

    #[test]
    fn only_temporary_refusals_are_retried() {
        assert!(refusal_is_temporary(ReasonCode::ServerUnavailable));
        assert!(refusal_is_temporary(ReasonCode::ServerBusy));
        assert!(!refusal_is_temporary(ReasonCode::BadUserNameOrPassword));
        assert!(!refusal_is_temporary(ReasonCode::NotAuthorized));
        assert!(!refusal_is_temporary(ReasonCode::Banned));
        assert!(!refusal_is_temporary(
            ReasonCode::UnsupportedProtocolVersion
        ));
    }
}
