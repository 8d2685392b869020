//! Instants as Unix milliseconds, and their RFC 3339 form at the edges.
//!
//! The engine and the store keep time as `i64` milliseconds: compact in memory and in the
//! event log, cheap to compare. Conversion to and from text happens only at the API edge.

use jiff::Timestamp;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Formats an instant as RFC 3339 in UTC with millisecond precision.
pub fn to_rfc3339(ms: Millis) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => format!("{ts:.3}"),
        Err(_) => String::from("invalid-time"),
    }
}

/// Parses an RFC 3339 instant (with offset) into milliseconds.
pub fn parse_rfc3339(text: &str) -> Result<Millis, String> {
    let ts = text
        .parse::<Timestamp>()
        .map_err(|e| format!("not an RFC 3339 time with offset ({e})"))?;
    // jiff reads offsets up to ±25:59:59; RFC 3339 and every real zone stay within ±23:59,
    // and a sender that writes +25:00 has a bug worth telling it about rather than a time
    // worth storing.
    if let Ok(pieces) = jiff::fmt::temporal::Pieces::parse(text) {
        if let Some(jiff::fmt::temporal::PiecesOffset::Numeric(n)) = pieces.offset() {
            if n.offset().seconds().unsigned_abs() >= 24 * 3600 {
                return Err(format!(
                    "not an RFC 3339 time: the offset {} is not within ±23:59",
                    n.offset()
                ));
            }
        }
    }
    Ok(ts.as_millisecond())
}

/// Parses a duration such as `5m`, `90s`, `1h30m` or `2 hours` into milliseconds.
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    let d: jiff::SignedDuration = text
        .trim()
        .parse()
        .map_err(|e| format!("not a duration like 30s, 5m or 1h ({e})"))?;
    if d.is_negative() {
        return Err("duration must not be negative".into());
    }
    i64::try_from(d.as_millis()).map_err(|_| "duration too large".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339() {
        let ms = parse_rfc3339("2026-03-02T09:00:00+08:00").unwrap();
        assert_eq!(to_rfc3339(ms), "2026-03-02T01:00:00.000Z");
        assert!(parse_rfc3339("2026-03-02 09:00").is_err());
        assert_eq!(
            parse_rfc3339("2026-03-02T09:00:00-23:59").unwrap(),
            parse_rfc3339("2026-03-03T08:59:00Z").unwrap()
        );
    }

    #[test]
    fn offsets_beyond_a_day_are_refused() {
        for text in ["2026-03-02T09:00:00+25:00", "2026-03-02T09:00:00-24:00"] {
            let err = parse_rfc3339(text).unwrap_err();
            assert!(err.contains("not within ±23:59"), "{text}: {err}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("5m").unwrap(), 300_000);
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("90s").unwrap(), 90_000);
        assert!(parse_duration("soon").is_err());
    }
}
