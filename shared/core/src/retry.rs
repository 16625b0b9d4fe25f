//! Retry timing: the configured schedule (`HERALD_RETRY_BACKOFF`), jitter around each step,
//! a provider's `Retry-After` as a floor, and SQS's 12-hour visibility ceiling as a cap.
use rand::Rng;
use std::time::Duration;

/// SQS ChangeMessageVisibility cannot push a message further than 12 h from its receive.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600 - 60);

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub backoff: Vec<Duration>,
    pub max_attempts: u32,
    /// Fraction of each step that jitter may add or remove (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { backoff: parse_durations("30s,2m,10m,1h").expect("valid default"), max_attempts: 5, jitter: 0.2 }
    }
}

impl RetryPolicy {
    /// The un-jittered delay after the `failed_attempts`-th failure (1-based). Past the end
    /// of the schedule, each step doubles the last one, capped.
    pub fn base_delay(&self, failed_attempts: u32) -> Duration {
        let n = failed_attempts.max(1) as usize;
        let last = *self.backoff.last().unwrap_or(&Duration::from_secs(30));
        let base = match self.backoff.get(n - 1) {
            Some(d) => *d,
            None => {
                let extra = (n - self.backoff.len()).min(16) as u32;
                last.saturating_mul(2u32.saturating_pow(extra))
            }
        };
        base.min(MAX_VISIBILITY)
    }

    /// The bounds jitter keeps a delay within, before `Retry-After` is applied.
    pub fn bounds(&self, failed_attempts: u32) -> (Duration, Duration) {
        let base = self.base_delay(failed_attempts).as_secs_f64();
        let lo = (base * (1.0 - self.jitter)).max(0.0);
        let hi = base * (1.0 + self.jitter);
        (Duration::from_secs_f64(lo), Duration::from_secs_f64(hi).min(MAX_VISIBILITY))
    }

    pub fn delay(&self, failed_attempts: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let (lo, hi) = self.bounds(failed_attempts);
        let jittered = if hi > lo { rng.gen_range(lo..=hi) } else { lo };
        // SQS visibility is whole seconds; round up so a Retry-After floor is never undercut.
        let d = retry_after.map_or(jittered, |ra| jittered.max(ra));
        Duration::from_secs(d.as_secs() + u64::from(d.subsec_nanos() > 0)).min(MAX_VISIBILITY)
    }

    pub fn exhausted(&self, attempts_made: u32) -> bool {
        attempts_made >= self.max_attempts
    }
}

/// Parses `30s`, `2m`, `1h`, `500ms`, `1d` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::try_from_secs_f64(secs).ok()).flatten()
}

/// A point in time given as RFC 3339 or as a duration before `now` (`10m`, `24h`).
pub fn parse_time_or_ago(s: &str, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let ago = chrono::Duration::from_std(parse_duration(s)?).ok()?;
    now.checked_sub_signed(ago)
}

pub fn parse_durations(s: &str) -> Option<Vec<Duration>> {
    let v: Option<Vec<_>> = s.split(',').filter(|p| !p.trim().is_empty()).map(parse_duration).collect();
    v.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None, "too large, not a panic");
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z").unwrap().to_utc();
        assert_eq!(parse_time_or_ago("10m", now).unwrap().to_rfc3339(), "2026-01-01T11:50:00+00:00");
        assert_eq!(parse_time_or_ago("2025-12-31T00:00:00Z", now).unwrap().to_rfc3339(), "2025-12-31T00:00:00+00:00");
        assert_eq!(parse_time_or_ago("yesterday", now), None);
        assert_eq!(parse_durations("5m,15m,60m").unwrap().len(), 3);
        assert_eq!(parse_durations(""), None);
    }

    #[test]
    fn schedule_is_followed_within_jitter() {
        let p = RetryPolicy { backoff: parse_durations("30s,2m,10m,1h").unwrap(), max_attempts: 5, jitter: 0.2 };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for (n, base) in [(1, 30.0), (2, 120.0), (3, 600.0), (4, 3600.0)] {
            for _ in 0..200 {
                let d = p.delay(n, None, &mut rng).as_secs_f64();
                assert!(d >= base * 0.8 && d <= base * 1.2 + 1.0, "attempt {n}: {d}");
            }
        }
        assert_eq!(p.base_delay(5), Duration::from_secs(7200), "past the schedule it doubles");
        assert_eq!(p.base_delay(40), MAX_VISIBILITY, "capped by SQS visibility");
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = RetryPolicy { backoff: vec![Duration::from_secs(1)], max_attempts: 3, jitter: 0.5 };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..50 {
            assert!(p.delay(1, Some(Duration::from_secs(7)), &mut rng) >= Duration::from_secs(7));
        }
        assert!(p.exhausted(3));
        assert!(!p.exhausted(2));
    }
}
