//! When to try a request again, and how long to wait first.

/// Exponential backoff with jitter and a bounded number of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure, before jitter.
    pub base_ms: u32,
    /// No wait is longer than this.
    pub max_ms: u32,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Done,
    Retry,
    GiveUp,
}

impl RetryPolicy {
    /// Metadata callbacks: 5 attempts over about 7 seconds.
    pub const CALLBACK: RetryPolicy = RetryPolicy {
        attempts: 5,
        base_ms: 500,
        max_ms: 4000,
    };

    /// The wait before the next attempt after `failures` failed ones (1 for the first):
    /// `base·2^(failures−1)`, capped at `max_ms`, of which a random half is kept
    /// (`jitter` in [0, 1)) so that clients that failed together do not retry together.
    pub fn delay_ms(&self, failures: u32, jitter: f64) -> u32 {
        let exp = u64::from(self.base_ms) << failures.saturating_sub(1).min(20);
        let capped = exp.min(u64::from(self.max_ms)) as f64;
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        (capped / 2.0 + jitter * capped / 2.0) as u32
    }

    /// After attempt number `attempt` (from 1) ended with HTTP `status` (`None`: the network
    /// failed): done on 2xx; again on a network error, 408, 429 and 5xx while attempts remain;
    /// otherwise give up (a 4xx will not change by asking again).
    pub fn verdict(&self, attempt: u32, status: Option<u16>) -> Verdict {
        let retryable = match status {
            Some(s) if (200..300).contains(&s) => return Verdict::Done,
            None => true,
            Some(s) => s == 408 || s == 429 || (500..600).contains(&s),
        };
        if retryable && attempt < self.attempts {
            Verdict::Retry
        } else {
            Verdict::GiveUp
        }
    }
}
