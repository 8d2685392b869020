//! iCalendar (RFC 5545) feeds of shifts, for Google Calendar, Outlook and Thunderbird:
//! one VEVENT per shift, times in UTC, lines folded at 75 octets, CRLF line ends.

use crate::time::Millis;
use std::fmt::Write;

/// One event of a feed.
pub struct CalendarEvent<'a> {
    /// Stable across fetches, so calendars update an event instead of duplicating it.
    pub uid: String,
    pub start: Millis,
    pub end: Millis,
    pub summary: &'a str,
    pub description: &'a str,
}

/// A whole VCALENDAR. `stamp` is when the feed was made (DTSTAMP).
pub fn calendar(name: &str, events: &[CalendarEvent<'_>], stamp: Millis) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//tocsin//on-call schedules//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{}", utc(stamp)));
        line(&mut out, &format!("DTSTART:{}", utc(e.start)));
        line(&mut out, &format!("DTEND:{}", utc(e.end)));
        line(&mut out, &format!("SUMMARY:{}", escape(e.summary)));
        if !e.description.is_empty() {
            line(&mut out, &format!("DESCRIPTION:{}", escape(e.description)));
        }
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// `20260302T010000Z`
fn utc(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

/// TEXT values escape backslash, semicolon, comma and newlines (RFC 5545 3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes a content line folded at 75 octets (never inside a UTF-8 character), CRLF-ended.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_escaped_folded_and_crlf() {
        let summary = "On call: 数据库 primary; DBA, night".repeat(3);
        let text = calendar(
            "dba",
            &[CalendarEvent {
                uid: "dba-alice-1@tocsin".into(),
                start: 1_772_413_200_000,
                end: 1_772_416_800_000,
                summary: &summary,
                description: "line1\nline2",
            }],
            0,
        );
        assert!(text.contains("DTSTART:20260302T010000Z\r\n"));
        assert!(text.contains("DESCRIPTION:line1\\nline2\r\n"));
        assert!(text.contains("\\; DBA\\, night"));
        for l in text.split("\r\n") {
            assert!(l.len() <= 75, "{l:?} is {} octets", l.len());
        }
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }
}
