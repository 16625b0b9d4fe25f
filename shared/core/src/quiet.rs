//! Quiet hours in the recipient's local time, DST-safe: the end of a window is computed as a
//! local wall-clock time and converted back, never by adding fixed hours.
use crate::tenant::QuietHours;
use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Countries whose whole numbering plan is one IANA zone. Elsewhere (US, CA, BR, AU, MX, RU,
/// ES, PT, …) the tenant's zone is used unless the caller names `recipient_timezone`.
const SINGLE_ZONE: &[(&str, &str)] = &[
    ("AE", "Asia/Dubai"),
    ("AT", "Europe/Vienna"),
    ("BD", "Asia/Dhaka"),
    ("BE", "Europe/Brussels"),
    ("BG", "Europe/Sofia"),
    ("CH", "Europe/Zurich"),
    ("CO", "America/Bogota"),
    ("CZ", "Europe/Prague"),
    ("DE", "Europe/Berlin"),
    ("DK", "Europe/Copenhagen"),
    ("EG", "Africa/Cairo"),
    ("FI", "Europe/Helsinki"),
    ("FR", "Europe/Paris"),
    ("GB", "Europe/London"),
    ("GH", "Africa/Accra"),
    ("GR", "Europe/Athens"),
    ("HK", "Asia/Hong_Kong"),
    ("HU", "Europe/Budapest"),
    ("IE", "Europe/Dublin"),
    ("IL", "Asia/Jerusalem"),
    ("IN", "Asia/Kolkata"),
    ("IT", "Europe/Rome"),
    ("JM", "America/Jamaica"),
    ("JP", "Asia/Tokyo"),
    ("KE", "Africa/Nairobi"),
    ("KR", "Asia/Seoul"),
    ("NG", "Africa/Lagos"),
    ("NL", "Europe/Amsterdam"),
    ("NO", "Europe/Oslo"),
    ("PE", "America/Lima"),
    ("PH", "Asia/Manila"),
    ("PK", "Asia/Karachi"),
    ("PL", "Europe/Warsaw"),
    ("PR", "America/Puerto_Rico"),
    ("RO", "Europe/Bucharest"),
    ("SA", "Asia/Riyadh"),
    ("SE", "Europe/Stockholm"),
    ("SG", "Asia/Singapore"),
    ("TH", "Asia/Bangkok"),
    ("TW", "Asia/Taipei"),
    ("UA", "Europe/Kyiv"),
    ("VN", "Asia/Ho_Chi_Minh"),
    ("ZA", "Africa/Johannesburg"),
];

pub fn zone_of_region(region: &str) -> Option<Tz> {
    SINGLE_ZONE.iter().find(|(r, _)| *r == region).and_then(|(_, z)| z.parse().ok())
}

/// The recipient's zone: named by the caller, else the number's single zone, else the tenant's.
pub fn recipient_zone(explicit: Option<&str>, region: Option<&str>, tenant_zone: &str) -> Tz {
    explicit
        .and_then(|z| z.parse().ok())
        .or_else(|| region.and_then(zone_of_region))
        .or_else(|| tenant_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC)
}

/// The first instant at or after the local wall-clock time `naive` (a time skipped by a DST
/// jump resolves to the first minute that exists; an ambiguous one to its later instance).
fn resolve(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    let mut t = naive;
    for _ in 0..(3 * 60) {
        match tz.from_local_datetime(&t) {
            chrono::LocalResult::Single(d) => return d.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(_, later) => return later.with_timezone(&Utc),
            chrono::LocalResult::None => t += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&naive)
}

fn in_window(t: NaiveTime, start: NaiveTime, end: NaiveTime) -> bool {
    if start == end {
        false
    } else if start < end {
        t >= start && t < end
    } else {
        t >= start || t < end
    }
}

/// When `now` falls inside the quiet window in `tz`, the instant the window ends.
pub fn quiet_until(now: DateTime<Utc>, tz: Tz, quiet: &QuietHours) -> Option<DateTime<Utc>> {
    let (start, end) = quiet.bounds()?;
    let local = now.with_timezone(&tz).naive_local();
    if !in_window(local.time(), start, end) {
        return None;
    }
    let mut day = local.date();
    if local.time() >= end {
        day = day.succ_opt()?;
    }
    let until = resolve(tz, day.and_time(end));
    (until > now).then_some(until)
}

/// Start of the next local day in `tz` (warmup caps and daily quotas roll over then).
pub fn next_local_midnight(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let tomorrow = now.with_timezone(&tz).date_naive().succ_opt().unwrap_or_default();
    resolve(tz, tomorrow.and_time(NaiveTime::MIN))
}

/// The local date in `tz` as `YYYY-MM-DD`, for period keys.
pub fn local_date(now: DateTime<Utc>, tz: Tz) -> String {
    now.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str, e: &str) -> QuietHours {
        QuietHours { start: s.into(), end: e.into() }
    }
    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn overnight_window_west_of_utc() {
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        // 22:30 PST on 14 Jan = 06:30Z on 15 Jan → quiet until 09:00 PST = 17:00Z.
        assert_eq!(
            quiet_until(utc("2026-01-15T06:30:00Z"), tz, &q("21:00", "09:00")),
            Some(utc("2026-01-15T17:00:00Z"))
        );
        // 07:00 PST, still quiet, same morning.
        assert_eq!(
            quiet_until(utc("2026-01-15T15:00:00Z"), tz, &q("21:00", "09:00")),
            Some(utc("2026-01-15T17:00:00Z"))
        );
        // 12:00 PST: not quiet.
        assert_eq!(quiet_until(utc("2026-01-15T20:00:00Z"), tz, &q("21:00", "09:00")), None);
    }

    #[test]
    fn overnight_window_east_of_utc() {
        let tz: Tz = "Asia/Tokyo".parse().unwrap();
        // 23:00 JST = 14:00Z → until 09:00 JST next day = 00:00Z.
        assert_eq!(
            quiet_until(utc("2026-03-10T14:00:00Z"), tz, &q("21:00", "09:00")),
            Some(utc("2026-03-11T00:00:00Z"))
        );
        // 09:00 JST exactly is outside.
        assert_eq!(quiet_until(utc("2026-03-11T00:00:00Z"), tz, &q("21:00", "09:00")), None);
    }

    #[test]
    fn dst_ending_that_night_keeps_the_local_end() {
        // Chicago leaves DST at 02:00 on 1 Nov 2026: 22:30 CDT (03:30Z) → 09:00 CST = 15:00Z,
        // not 14:00Z as "now + 10h30" would give.
        let tz: Tz = "America/Chicago".parse().unwrap();
        assert_eq!(
            quiet_until(utc("2026-11-01T03:30:00Z"), tz, &q("21:00", "09:00")),
            Some(utc("2026-11-01T15:00:00Z"))
        );
    }

    #[test]
    fn dst_starting_that_night_and_a_skipped_end_time() {
        // Paris enters DST at 02:00 on 29 Mar 2026: 23:00 CET (22:00Z) → 09:00 CEST = 07:00Z.
        let tz: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            quiet_until(utc("2026-03-28T22:00:00Z"), tz, &q("21:00", "09:00")),
            Some(utc("2026-03-29T07:00:00Z"))
        );
        // A window ending at 02:30, a time that does not exist that night, ends at 03:00 CEST.
        assert_eq!(
            quiet_until(utc("2026-03-28T23:30:00Z"), tz, &q("00:00", "02:30")),
            Some(utc("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn same_day_window_and_empty_window() {
        let tz = chrono_tz::UTC;
        assert_eq!(
            quiet_until(utc("2026-05-01T12:30:00Z"), tz, &q("12:00", "13:00")),
            Some(utc("2026-05-01T13:00:00Z"))
        );
        assert_eq!(quiet_until(utc("2026-05-01T13:00:00Z"), tz, &q("12:00", "13:00")), None);
        assert_eq!(quiet_until(utc("2026-05-01T12:30:00Z"), tz, &q("12:00", "12:00")), None);
    }

    #[test]
    fn zone_inference() {
        assert_eq!(recipient_zone(Some("Europe/Paris"), Some("JP"), "UTC").name(), "Europe/Paris");
        assert_eq!(recipient_zone(None, Some("JP"), "America/Chicago").name(), "Asia/Tokyo");
        assert_eq!(recipient_zone(None, Some("US"), "America/Chicago").name(), "America/Chicago", "US has many zones");
        assert_eq!(recipient_zone(None, None, "nonsense").name(), "UTC");
    }

    #[test]
    fn next_midnight_and_dates() {
        let tz: Tz = "America/Chicago".parse().unwrap();
        assert_eq!(next_local_midnight(utc("2026-01-15T20:00:00Z"), tz), utc("2026-01-16T06:00:00Z"));
        assert_eq!(local_date(utc("2026-01-16T03:00:00Z"), tz), "2026-01-15");
    }
}
