//! Truncated exponential backoff with full jitter (delays drawn uniformly in [0, min(cap, base·2^n)]),
//! shared by push reconnects and, later, the outbox.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base_ms: u64,
    pub cap_ms: u64,
}

impl Backoff {
    pub const fn new(base_ms: u64, cap_ms: u64) -> Self {
        Backoff { base_ms, cap_ms }
    }

    /// The ceiling for retry number `attempt` (0 for the first retry).
    pub fn ceiling_ms(&self, attempt: u32) -> u64 {
        let factor = 1u64.checked_shl(attempt.min(63)).unwrap_or(u64::MAX);
        self.base_ms.saturating_mul(factor).min(self.cap_ms)
    }

    /// The delay before retry `attempt`, given a uniform random number in [0, 1).
    pub fn delay_ms(&self, attempt: u32, unit_random: f64) -> u64 {
        let r = if unit_random.is_finite() { unit_random.clamp(0.0, 1.0) } else { 0.5 };
        (self.ceiling_ms(attempt) as f64 * r) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_stays_at_the_cap() {
        let b = Backoff::new(1000, 180_000);
        let ceilings: Vec<u64> = (0..10).map(|n| b.ceiling_ms(n)).collect();
        assert_eq!(ceilings, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 180000, 180000]);
        assert_eq!(b.ceiling_ms(200), 180_000, "no overflow for huge attempt numbers");
    }

    #[test]
    fn jitter_stays_within_the_ceiling() {
        let b = Backoff::new(500, 30_000);
        assert_eq!(b.delay_ms(3, 0.0), 0);
        assert_eq!(b.delay_ms(3, 0.5), 2000);
        assert!(b.delay_ms(3, 0.999_999) < 4000);
        assert_eq!(b.delay_ms(3, f64::NAN), 2000);
        assert_eq!(b.delay_ms(3, 7.0), 4000);
    }
}
