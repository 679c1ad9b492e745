//! How much of the account's storage is used, as the folder pane shows it.

/// Storage used and allowed, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub used: u64,
    pub limit: u64,
}

/// From this share of the limit on, the folder pane warns: mail may soon bounce.
const WARN_PERCENT: u64 = 90;

impl Quota {
    /// Whole percent used, capped at 100 (a server may let usage pass its limit).
    pub fn percent(&self) -> u64 {
        if self.limit == 0 {
            return 100;
        }
        (u128::from(self.used) * 100 / u128::from(self.limit)).min(100) as u64
    }

    pub fn warns(&self) -> bool {
        self.percent() >= WARN_PERCENT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_from_ninety_percent_and_caps_at_a_hundred() {
        assert!(!Quota { used: 89, limit: 100 }.warns());
        assert!(Quota { used: 90, limit: 100 }.warns());
        assert_eq!(Quota { used: 250, limit: 100 }.percent(), 100);
        assert_eq!(Quota { used: 1, limit: 0 }.percent(), 100);
        assert_eq!(Quota { used: u64::MAX, limit: u64::MAX }.percent(), 100);
    }
}
