//! What `POST /api/v1/silences` accepts, checked whole before anything is logged: matchers as
//! strings, a one-off time range (`starts_at`, and `ends_at` or `duration`) or a weekly
//! `recurrence`, the author and a comment. Each refusal names the field at fault.

use crate::error::{ApiError, ApiResult};
use serde::Deserialize;
use tocsin_core::command::{MaintenanceAction, SilenceAction};
use tocsin_core::config::maintenance::{window, RawMaintenance};
use tocsin_core::silence::{
    parse_matcher, uuid_v4, validate_matchers, Matcher, SilenceSpec, MAX_MATCHERS,
};
use tocsin_core::time::{parse_duration, parse_rfc3339, Millis};
use tocsin_core::user_regex::MAX_PATTERN_BYTES;

/// A matcher's text: the longest pattern, with room for its name, quotes and escapes.
pub const MAX_MATCHER_BYTES: usize = 2 * MAX_PATTERN_BYTES;
pub const MAX_COMMENT_BYTES: usize = 4096;
pub const MAX_AUTHOR_BYTES: usize = 256;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSilence {
    matchers: Vec<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    duration: Option<String>,
    author: Option<String>,
    comment: Option<String>,
    recurrence: Option<Recurrence>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    days: Option<Vec<String>>,
    from: String,
    to: String,
    time_zone: String,
    until: Option<String>,
}

/// A checked request: the log entry to write, with its new id.
#[derive(Debug, PartialEq)]
pub enum Checked {
    OneOff {
        id: String,
        action: SilenceAction,
    },
    Recurring {
        id: String,
        action: MaintenanceAction,
    },
}

/// Checks a request made at `now` by the token `caller` (the default author).
pub fn check(new: NewSilence, caller: &str, now: Millis) -> ApiResult<Checked> {
    let bad = |m: String| ApiError::bad_request(m);
    let matchers = matchers(&new.matchers)?;
    let comment = new.comment.unwrap_or_default().trim().to_string();
    if comment.is_empty() {
        return Err(bad("comment: required; say why alerts are silenced".into()));
    }
    if comment.len() > MAX_COMMENT_BYTES {
        return Err(bad(format!("comment: at most {MAX_COMMENT_BYTES} bytes")));
    }
    let author = new.author.map(|a| a.trim().to_string()).unwrap_or_default();
    let author = if author.is_empty() {
        caller.to_string()
    } else {
        author
    };
    if author.len() > MAX_AUTHOR_BYTES {
        return Err(bad(format!("author: at most {MAX_AUTHOR_BYTES} bytes")));
    }
    // Chosen here and logged, so a replay makes the same silence or window.
    let id = uuid_v4(rand::random());
    if let Some(r) = new.recurrence {
        if new.starts_at.is_some() || new.ends_at.is_some() || new.duration.is_some() {
            return Err(bad("a recurring silence takes its times from recurrence; leave out starts_at, ends_at and duration".into()));
        }
        let raw = RawMaintenance {
            name: id.clone(),
            // Kept in the form they parse back from, whatever spacing or quoting was sent.
            matchers: matchers.iter().map(Matcher::to_string).collect(),
            time_zone: r.time_zone,
            days: r.days,
            from: r.from,
            to: r.to,
            comment,
            until: r.until,
        };
        let mut errors = Vec::new();
        let Some(w) = window(&mut errors, "recurrence", raw.clone()) else {
            let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            return Err(bad(all.join("; ")));
        };
        if w.until.is_some_and(|u| u <= now) {
            return Err(bad("recurrence.until: must be in the future".into()));
        }
        let action = MaintenanceAction::Create {
            window: raw,
            author,
        };
        return Ok(Checked::Recurring { id, action });
    }
    let starts_at = match &new.starts_at {
        Some(text) => time("starts_at", text)?,
        None => now,
    };
    let ends_at = match (&new.ends_at, &new.duration) {
        (Some(text), None) => time("ends_at", text)?,
        (None, Some(text)) => {
            let d = parse_duration(text).map_err(|e| bad(format!("duration: {e}")))?;
            starts_at.saturating_add(d)
        }
        (None, None) => {
            return Err(bad(
                "give ends_at or duration (like 2h), or a recurrence".into()
            ))
        }
        (Some(_), Some(_)) => return Err(bad("give ends_at or duration, not both".into())),
    };
    if ends_at <= starts_at {
        return Err(bad("ends_at: must be after starts_at".into()));
    }
    if ends_at <= now {
        return Err(bad("ends_at: the silence would be over already".into()));
    }
    let action = SilenceAction::Set {
        id: None,
        new_id: id.clone(),
        silence: SilenceSpec {
            matchers,
            starts_at,
            ends_at,
            created_by: author,
            comment,
        },
    };
    Ok(Checked::OneOff { id, action })
}

/// `service="db"`, `host=~"web-.*"`, `alertname!=X`: parsed, within limits, and not all
/// matching the empty string (which would mute every alert).
pub fn matchers(texts: &[String]) -> ApiResult<Vec<Matcher>> {
    let bad = |m: String| ApiError::bad_request(m);
    if texts.len() > MAX_MATCHERS {
        return Err(bad(format!("matchers: at most {MAX_MATCHERS}")));
    }
    let mut out = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        if text.len() > MAX_MATCHER_BYTES {
            return Err(bad(format!(
                "matchers[{i}]: at most {MAX_MATCHER_BYTES} bytes"
            )));
        }
        out.push(parse_matcher(text).map_err(|e| bad(format!("matchers[{i}]: {e}")))?);
    }
    validate_matchers(&out).map_err(|e| {
        let e = e.trim_start_matches("silence invalid: ");
        bad(format!(
            "matchers: {e}; a silence must not mute every alert"
        ))
    })?;
    Ok(out)
}

fn time(field: &str, text: &str) -> ApiResult<Millis> {
    parse_rfc3339(text).map_err(|e| ApiError::bad_request(format!("{field}: {text:?} is {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Millis = 1_772_413_200_000; // 2026-03-02T01:00:00Z

    fn check_json(v: serde_json::Value) -> Result<Checked, String> {
        let new: NewSilence = serde_json::from_value(v).map_err(|e| e.to_string())?;
        check(new, "ops-token", NOW).map_err(|e| e.message)
    }

    #[test]
    fn a_one_off_with_a_duration_starts_now_and_defaults_its_author() {
        let Checked::OneOff { id, action } =
            check_json(json!({"matchers": ["service=\"db\"", "host=~web-.*"], "duration": "2h", "comment": "  deploy "})).unwrap()
        else {
            panic!("one-off expected")
        };
        let SilenceAction::Set {
            id: None,
            new_id,
            silence,
        } = action
        else {
            panic!("a create expected")
        };
        assert_eq!(new_id, id);
        assert_eq!((silence.starts_at, silence.ends_at), (NOW, NOW + 7_200_000));
        assert_eq!(silence.created_by, "ops-token");
        assert_eq!(silence.comment, "deploy");
        assert_eq!(silence.matchers[1].to_string(), "host=~\"web-.*\"");
    }

    #[test]
    fn a_recurrence_becomes_a_window_in_the_config_form() {
        let got = check_json(json!({"matchers": ["service = db"], "comment": "patching", "author": "alice",
            "recurrence": {"days": ["sun"], "from": "01:00", "to": "03:00", "time_zone": "Asia/Shanghai"}}))
        .unwrap();
        let Checked::Recurring {
            id,
            action: MaintenanceAction::Create { window, author },
        } = got
        else {
            panic!("recurring expected: {got:?}")
        };
        assert_eq!(window.name, id);
        assert_eq!(window.matchers, vec!["service=\"db\"".to_string()]);
        assert_eq!(author, "alice");
        assert_eq!(window.comment, "patching");
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (
                json!({"matchers": ["service=db"], "duration": "2h"}),
                "comment: required",
            ),
            (
                json!({"matchers": [], "duration": "2h", "comment": "x"}),
                "matchers: at least one matcher required",
            ),
            (
                json!({"matchers": ["host=~\".*\""], "duration": "2h", "comment": "x"}),
                "must not match the empty string",
            ),
            (
                json!({"matchers": ["nonsense"], "duration": "2h", "comment": "x"}),
                "matchers[0]: bad matcher format",
            ),
            (
                json!({"matchers": ["a=\"(\"", "b=~\"(\""], "duration": "2h", "comment": "x"}),
                "matchers[1]: invalid matcher b=~\"(\": invalid regular expression",
            ),
            (
                json!({"matchers": ["a=b"], "comment": "x"}),
                "give ends_at or duration",
            ),
            (
                json!({"matchers": ["a=b"], "duration": "2h", "ends_at": "2026-03-02T05:00:00Z", "comment": "x"}),
                "not both",
            ),
            (
                json!({"matchers": ["a=b"], "duration": "soon", "comment": "x"}),
                "duration: not a duration",
            ),
            (
                json!({"matchers": ["a=b"], "ends_at": "2026-03-02 05:00", "comment": "x"}),
                "ends_at: \"2026-03-02 05:00\" is not an RFC 3339 time",
            ),
            (
                json!({"matchers": ["a=b"], "ends_at": "2026-03-02T00:00:00Z", "comment": "x"}),
                "ends_at: must be after starts_at",
            ),
            (
                json!({"matchers": ["a=b"], "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-03-02T00:30:00Z", "comment": "x"}),
                "would be over already",
            ),
            (
                json!({"matchers": ["a=b"], "duration": "1h", "comment": "x", "recurrence": {"from": "01:00", "to": "02:00", "time_zone": "UTC"}}),
                "leave out starts_at",
            ),
            (
                json!({"matchers": ["a=b"], "comment": "x", "recurrence": {"days": ["someday"], "from": "1am", "to": "02:00", "time_zone": "Mars/Base"}}),
                "recurrence.days[0]: \"someday\" is not a day",
            ),
            (
                json!({"matchers": ["a=b"], "comment": "x", "recurrence": {"from": "01:00", "to": "02:00", "time_zone": "UTC", "until": "2026-03-01T00:00:00Z"}}),
                "recurrence.until: must be in the future",
            ),
            (
                json!({"matchers": ["a=b"], "comment": "x", "duration": "1h", "color": "red"}),
                "unknown field `color`",
            ),
        ];
        for (body, want) in cases {
            let err = check_json(body.clone()).unwrap_err();
            assert!(err.contains(want), "{body}: {err:?} should say {want:?}");
        }
        let many: Vec<String> = (0..=MAX_MATCHERS).map(|i| format!("a{i}=b")).collect();
        let err =
            check_json(json!({"matchers": many, "duration": "1h", "comment": "x"})).unwrap_err();
        assert!(err.contains("matchers: at most 32"), "{err}");
        let long = format!("a=\"{}\"", "x".repeat(MAX_MATCHER_BYTES));
        let err =
            check_json(json!({"matchers": [long], "duration": "1h", "comment": "x"})).unwrap_err();
        assert!(err.contains("matchers[0]: at most 8192 bytes"), "{err}");
        let huge = "alertname=~\"(.{0,100}){0,100}x\"";
        let err =
            check_json(json!({"matchers": [huge], "duration": "1h", "comment": "x"})).unwrap_err();
        assert_eq!(err, format!("matchers[0]: invalid matcher {huge}: the regular expression is too large (compiled size over 524288 bytes); simplify it"));
    }
}
