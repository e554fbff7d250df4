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
    /// Wait (see [`RetryPolicy::delay_ms`]) and try again.
    Retry,
    /// Ask for a fresh presigned URL and try again at once.
    Refresh,
    GiveUp,
}

/// Failed rounds (an upload's retries, or a flush's) after which an outbox image is stuck when
/// its last answer was a refusal that asking again will not change (see [`is_permanent`]).
pub const STUCK_AFTER_REFUSALS: u32 = 3;
/// Failed rounds of any kind after which an outbox image is stuck: 50 rounds of 30 s retries.
pub const STUCK_AFTER_ROUNDS: u32 = 50;
/// An outbox image this old (in milliseconds) that failed once more is stuck: a day.
pub const STUCK_AGE_MS: f64 = 86_400_000.0;

/// Whether HTTP `status` refuses for good: a 4xx other than 408 (timeout) and 429 (slow down).
pub fn is_permanent(status: Option<u16>) -> bool {
    matches!(status, Some(s) if (400..500).contains(&s) && s != 408 && s != 429)
}

/// Whether an outbox image that has failed `rounds` times, the last with `last_status`, and
/// was kept `age_ms` ago, is stuck: reported (`outboxstuck`) and left to `flushUploads()`.
pub fn is_stuck(rounds: u32, last_status: Option<u16>, age_ms: f64) -> bool {
    (is_permanent(last_status) && rounds >= STUCK_AFTER_REFUSALS)
        || rounds >= STUCK_AFTER_ROUNDS
        || age_ms >= STUCK_AGE_MS
}

/// How many times one upload may ask for a fresh URL after a refused signature.
pub const MAX_REFRESHES: u32 = 2;

impl RetryPolicy {
    /// Uploads: 4 attempts within about 4 seconds, then the outbox.
    pub const UPLOAD: RetryPolicy = RetryPolicy {
        attempts: 4,
        base_ms: 500,
        max_ms: 4000,
    };

    /// Uploads from the outbox (a flush): one quick retry, the rest waits for the next flush.
    pub const FLUSH: RetryPolicy = RetryPolicy {
        attempts: 2,
        base_ms: 300,
        max_ms: 1000,
    };

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

impl RetryPolicy {
    /// Like [`RetryPolicy::verdict`] for an upload through a presigned URL, which may also be
    /// refused for its signature: 400, 401 and 403 (a tampered or expired URL) ask for a fresh
    /// URL, at most [`MAX_REFRESHES`] times per upload. `refreshes` is how many were asked.
    pub fn upload_verdict(&self, attempt: u32, refreshes: u32, status: Option<u16>) -> Verdict {
        match status {
            Some(400 | 401 | 403)
                if refreshes < MAX_REFRESHES && attempt < self.attempts + MAX_REFRESHES =>
            {
                Verdict::Refresh
            }
            _ => self.verdict(attempt.saturating_sub(refreshes), status),
        }
    }
}
