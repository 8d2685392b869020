//! Silences with Alertmanager's semantics: label matchers over a time range that mute the
//! alerts they match.
//!
//! Everything here is pure: matcher parsing and matching, a silence's state at an instant,
//! validation with Alertmanager's messages, and whether an update may change a silence in
//! place. The engine applies silences in log order; the API validates with the same functions.

use crate::time::Millis;
use crate::user_regex;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// More matchers than this in one silence or one query is a mistake (or an attack on the
/// matching loop), not a filter.
pub const MAX_MATCHERS: usize = 32;
/// Silences not yet over (one-off and recurring) at once: each new alert is matched against
/// every one, and each may hold up to 512 KiB of compiled regexes, so their number bounds
/// the engine's time per alert and its memory. Far above what a team keeps by hand.
pub const MAX_LIVE_SILENCES: usize = 1000;

/// One label matcher as Alertmanager's API writes it: `isEqual: false` negates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    pub is_equal: bool,
}

impl Matcher {
    pub fn operator(&self) -> &'static str {
        match (self.is_regex, self.is_equal) {
            (false, true) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (true, false) => "!~",
        }
    }
}

impl std::fmt::Display for Matcher {
    /// `name="value"`, the form the filters take, with the value quoted as Go does.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted = serde_json::to_string(&self.value).map_err(|_| std::fmt::Error)?;
        write!(f, "{}{}{}", self.name, self.operator(), quoted)
    }
}

/// Label names as Prometheus allows them.
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses one filter matcher as amtool sends it: `name=value`, `name="value"`, with `=`,
/// `!=`, `=~` or `!~`. A quoted value may escape `"`, `\` and newlines.
pub fn parse_matcher(text: &str) -> Result<Matcher, String> {
    let text = text.trim();
    let bad = || format!("bad matcher format: {text}");
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .ok_or_else(bad)?;
    let (name, rest) = text.split_at(name_end);
    let rest = rest.trim_start();
    let (is_regex, is_equal, raw) = if let Some(v) = rest.strip_prefix("=~") {
        (true, true, v)
    } else if let Some(v) = rest.strip_prefix("!~") {
        (true, false, v)
    } else if let Some(v) = rest.strip_prefix("!=") {
        (false, false, v)
    } else if let Some(v) = rest.strip_prefix('=') {
        (false, true, v)
    } else {
        return Err(bad());
    };
    if !valid_label_name(name) {
        return Err(bad());
    }
    let raw = raw.trim();
    let value = if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        unquote(&raw[1..raw.len() - 1]).ok_or_else(bad)?
    } else {
        raw.to_string()
    };
    let m = Matcher {
        name: name.to_string(),
        value,
        is_regex,
        is_equal,
    };
    CompiledMatcher::new(&m)?;
    Ok(m)
}

fn unquote(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// A matcher ready to test values: regexes are anchored, bounded and compiled once (see
/// `user_regex`), so matching one value costs at most the compiled size times its length.
#[derive(Debug, Clone)]
pub struct CompiledMatcher {
    name: String,
    value: String,
    regex: Option<Arc<Regex>>,
    is_equal: bool,
}

impl CompiledMatcher {
    /// Refuses a regex over the limits with `invalid matcher NAME=~"VALUE": REASON`.
    pub fn new(m: &Matcher) -> Result<CompiledMatcher, String> {
        let regex = if m.is_regex {
            Some(
                user_regex::anchored(&m.value)
                    .map_err(|e| format!("invalid matcher {}: {e}", shown(m)))?,
            )
        } else {
            None
        };
        Ok(CompiledMatcher {
            name: m.name.clone(),
            value: m.value.clone(),
            regex,
            is_equal: m.is_equal,
        })
    }

    /// Whether a label value matches; an absent label is the empty string.
    pub fn matches_value(&self, value: &str) -> bool {
        let hit = match &self.regex {
            Some(r) => r.is_match(value),
            None => self.value == value,
        };
        hit == self.is_equal
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_value(labels.get(&self.name).map(String::as_str).unwrap_or(""))
    }
}

/// A matcher as an error message shows it: whole, unless it is too long to read.
fn shown(m: &Matcher) -> String {
    const SHOWN_CHARS: usize = 120;
    let text = m.to_string();
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Compiles every matcher; they all have to match (`AND`).
pub fn compile(matchers: &[Matcher]) -> Result<Vec<CompiledMatcher>, String> {
    matchers.iter().map(CompiledMatcher::new).collect()
}

pub fn matches_all(matchers: &[CompiledMatcher], labels: &BTreeMap<String, String>) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// The labels silences and filters see for an alert: its own labels, plus `alertname`,
/// `service`, `severity` and `host` from tocsin's fields where the labels have none, so
/// that alerts from every tool can be silenced by the same names.
pub fn alert_labels(
    labels: &BTreeMap<String, String>,
    name: &str,
    service: &str,
    severity: &str,
    host: Option<&str>,
) -> BTreeMap<String, String> {
    let mut out = labels.clone();
    let mut fill = |k: &str, v: &str| {
        if !v.is_empty() {
            out.entry(k.to_string()).or_insert_with(|| v.to_string());
        }
    };
    fill("alertname", name);
    fill("service", service);
    fill("severity", severity);
    fill("host", host.unwrap_or(""));
    out
}

/// What a silence says, as a client posts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceSpec {
    pub matchers: Vec<Matcher>,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub created_by: String,
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    Pending,
    Active,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Pending => "pending",
            SilenceState::Active => "active",
            SilenceState::Expired => "expired",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Active, Self::Expired]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A silence is active from `starts_at` up to, not including, `ends_at`; so one expired
/// "now" mutes nothing from that instant on.
pub fn state_at(starts_at: Millis, ends_at: Millis, now: Millis) -> SilenceState {
    if now < starts_at {
        SilenceState::Pending
    } else if now >= ends_at {
        SilenceState::Expired
    } else {
        SilenceState::Active
    }
}

/// Where a silence goes in a list, as Alertmanager orders them: active ones first (ending
/// soonest first), then pending (starting soonest first), then expired (latest end first).
pub fn list_key(starts_at: Millis, ends_at: Millis, now: Millis) -> (u8, Millis) {
    match state_at(starts_at, ends_at, now) {
        SilenceState::Active => (0, ends_at),
        SilenceState::Pending => (1, starts_at),
        SilenceState::Expired => (2, -ends_at),
    }
}

/// Checks a posted silence as Alertmanager does, with its messages.
pub fn validate(s: &SilenceSpec, now: Millis) -> Result<(), String> {
    validate_matchers(&s.matchers)?;
    if s.ends_at <= s.starts_at {
        return Err("Failed to create silence: start time must be before end time".into());
    }
    if s.ends_at < now {
        return Err("Failed to create silence: end time can't be in the past".into());
    }
    Ok(())
}

/// Checks the matchers of a silence or a maintenance window, with Alertmanager's messages:
/// at least one, valid names and regexes, and not all of them matching the empty string
/// (such a set would mute every alert).
pub fn validate_matchers(matchers: &[Matcher]) -> Result<(), String> {
    if matchers.is_empty() {
        return Err("silence invalid: at least one matcher required".into());
    }
    if matchers.len() > MAX_MATCHERS {
        return Err(format!(
            "silence invalid: {} matchers, at most {MAX_MATCHERS} are allowed",
            matchers.len()
        ));
    }
    let mut all_match_empty = true;
    let mut patterns = Vec::new();
    for (i, m) in matchers.iter().enumerate() {
        if !valid_label_name(&m.name) {
            return Err(format!(
                "silence invalid: invalid label matcher {i}: invalid label name {:?}",
                m.name
            ));
        }
        let c = CompiledMatcher::new(m)
            .map_err(|e| format!("silence invalid: invalid label matcher {i}: {e}"))?;
        all_match_empty &= c.matches_value("");
        if m.is_regex {
            patterns.push(m.value.as_str());
        }
    }
    // The engine matches every new alert against every active silence: what one silence
    // costs per alert is bounded by its regexes' total size.
    if user_regex::check_together(&patterns) == Err(user_regex::RegexError::TooLarge) {
        return Err(format!(
            "silence invalid: the regular expressions of the matchers are too large together (compiled size over {} bytes); simplify them",
            user_regex::MAX_COMPILED_BYTES
        ));
    }
    if all_match_empty {
        return Err("silence invalid: at least one matcher must not match the empty string".into());
    }
    Ok(())
}

/// Whether `new` may replace `old` in place at `now` without rewriting what the silence
/// already did (Alertmanager's rule): same matchers; an active one keeps its start (to the
/// second) and does not end in the past; a pending one does not start in the past. Anything
/// else expires the old silence and creates a new one.
pub fn can_update_in_place(old: &SilenceSpec, new: &SilenceSpec, now: Millis) -> bool {
    if old.matchers != new.matchers {
        return false;
    }
    match state_at(old.starts_at, old.ends_at, now) {
        SilenceState::Active => {
            old.starts_at.div_euclid(1000) == new.starts_at.div_euclid(1000) && new.ends_at > now
        }
        SilenceState::Pending => new.starts_at >= now,
        SilenceState::Expired => false,
    }
}

/// Alertmanager's silence filter: each filter matcher must equal (name, operator, value) one
/// of the silence's matchers. It compares definitions; it does not match labels.
pub fn filter_selects(filter: &[Matcher], silence: &[Matcher]) -> bool {
    filter.iter().all(|f| silence.contains(f))
}

/// A random (version 4) UUID in its text form, from 16 random bytes.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Whether text is a UUID in the canonical 8-4-4-4-12 hex form.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(name: &str, op: &str, value: &str) -> Matcher {
        parse_matcher(&format!("{name}{op}\"{value}\"")).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn spec(matchers: Vec<Matcher>, starts_at: Millis, ends_at: Millis) -> SilenceSpec {
        SilenceSpec {
            matchers,
            starts_at,
            ends_at,
            created_by: "alice".into(),
            comment: "deploy".into(),
        }
    }

    #[test]
    fn parses_the_four_operators_quoted_or_not() {
        let eq = parse_matcher("alertname=Down").unwrap();
        assert_eq!(
            (eq.is_regex, eq.is_equal, eq.value.as_str()),
            (false, true, "Down")
        );
        let ne = parse_matcher(" env != \"prod\" ").unwrap();
        assert_eq!(
            (ne.is_regex, ne.is_equal, ne.value.as_str()),
            (false, false, "prod")
        );
        let re = parse_matcher("instance=~\"web-.*\"").unwrap();
        assert_eq!((re.is_regex, re.is_equal), (true, true));
        let nre = parse_matcher("job!~db").unwrap();
        assert_eq!((nre.is_regex, nre.is_equal), (true, false));
        assert_eq!(parse_matcher(r#"a="x\"y\\z""#).unwrap().value, "x\"y\\z");
        assert_eq!(parse_matcher("a=").unwrap().value, "");
        for bad in [
            "",
            "alertname",
            "=x",
            "1a=b",
            "a~b",
            "a=~\"(\"",
            "a=\"x\"y\"",
        ] {
            assert!(parse_matcher(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn displays_as_it_parses() {
        for text in [r#"a="b""#, r#"a!="b""#, r#"a=~"b.*""#, r#"a!~"b\"c""#] {
            assert_eq!(parse_matcher(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn matching_is_anchored_and_absent_is_empty() {
        let l = labels(&[("instance", "web-1:9100"), ("job", "node")]);
        let check = |text: &str| {
            let c = CompiledMatcher::new(&parse_matcher(text).unwrap()).unwrap();
            c.matches(&l)
        };
        assert!(check("instance=~\"web-.*\""));
        assert!(!check("instance=~\"web\""));
        assert!(check("job!=db"));
        assert!(!check("job!~\"no.*\""));
        assert!(check("missing=\"\""));
        assert!(check("missing!=x"));
        assert!(!check("missing=~\".+\""));
    }

    #[test]
    fn alert_labels_fill_only_what_is_missing() {
        let l = alert_labels(
            &labels(&[("severity", "page")]),
            "Down",
            "web",
            "critical",
            Some("h1"),
        );
        assert_eq!(
            l,
            labels(&[
                ("alertname", "Down"),
                ("host", "h1"),
                ("service", "web"),
                ("severity", "page")
            ])
        );
        assert!(!alert_labels(&BTreeMap::new(), "", "s", "info", None).contains_key("host"));
    }

    #[test]
    fn states_follow_the_half_open_range() {
        assert_eq!(state_at(10, 20, 9), SilenceState::Pending);
        assert_eq!(state_at(10, 20, 10), SilenceState::Active);
        assert_eq!(state_at(10, 20, 19), SilenceState::Active);
        assert_eq!(state_at(10, 20, 20), SilenceState::Expired);
    }

    #[test]
    fn lists_active_then_pending_then_expired() {
        let now = 100;
        let mut all = [
            (150, 300),
            (0, 50),
            (10, 200),
            (0, 90),
            (120, 130),
            (5, 150),
        ];
        all.sort_by_key(|&(s, e)| list_key(s, e, now));
        assert_eq!(
            all,
            [
                (5, 150),
                (10, 200),
                (120, 130),
                (150, 300),
                (0, 90),
                (0, 50)
            ]
        );
    }

    #[test]
    fn a_refused_regex_names_its_matcher_shortened() {
        let err = parse_matcher("alertname=~\"(.{0,100}){0,100}y\"").unwrap_err();
        assert!(err.starts_with("invalid matcher alertname=~\"(.{0,100}){0,100}y\": the regular expression is too large"), "{err}");
        let long = format!("host=~\"{}\"", "a".repeat(5000));
        let err = parse_matcher(&long).unwrap_err();
        assert!(
            err.starts_with(&format!(
                "invalid matcher host=~\"{}...: the regular expression is 5000 bytes, at most 4096",
                "a".repeat(113)
            )),
            "{err}"
        );
    }

    #[test]
    fn validation_speaks_alertmanager() {
        let now = 1_000_000;
        let ok = spec(vec![m("alertname", "=", "Down")], now, now + 60_000);
        assert_eq!(validate(&ok, now), Ok(()));
        let cases = [
            (spec(vec![], now, now + 1), "at least one matcher required"),
            (
                spec(vec![m("a", "=~", ".*")], now, now + 1),
                "must not match the empty string",
            ),
            (
                spec(vec![m("a", "=", "")], now, now + 1),
                "must not match the empty string",
            ),
            (
                spec(vec![m("a", "=", "b")], now, now - 1),
                "start time must be before end time",
            ),
            (
                spec(vec![m("a", "=", "b")], now - 10, now - 5),
                "end time can't be in the past",
            ),
        ];
        for (s, want) in cases {
            let err = validate(&s, now).unwrap_err();
            assert!(err.contains(want), "{err} should say {want}");
        }
        let mut bad_regex = spec(vec![m("a", "=", "b")], now, now + 1);
        bad_regex.matchers[0].is_regex = true;
        bad_regex.matchers[0].value = "(".into();
        assert!(validate(&bad_regex, now)
            .unwrap_err()
            .contains("invalid regular expression"));
        let mut huge = spec(vec![m("a", "=", "b")], now, now + 1);
        huge.matchers[0].is_regex = true;
        huge.matchers[0].value = "(.{0,100}){0,100}x".into();
        assert_eq!(
            validate(&huge, now).unwrap_err(),
            "silence invalid: invalid label matcher 0: invalid matcher a=~\"(.{0,100}){0,100}x\": the regular expression is too large (compiled size over 524288 bytes); simplify it"
        );
        let big = |name: &str, end: &str| Matcher {
            name: name.into(),
            value: format!("(.*[aé]){{300}}{end}"),
            is_regex: true,
            is_equal: true,
        };
        assert_eq!(
            validate(&spec(vec![big("a", "x"), big("b", "y")], now, now + 1), now).unwrap_err(),
            "silence invalid: the regular expressions of the matchers are too large together (compiled size over 524288 bytes); simplify them"
        );
        let many = (0..=MAX_MATCHERS)
            .map(|i| m(&format!("a{i}"), "=", "b"))
            .collect();
        assert_eq!(
            validate(&spec(many, now, now + 1), now).unwrap_err(),
            "silence invalid: 33 matchers, at most 32 are allowed"
        );
        let mut bad_name = spec(vec![m("a", "=", "b")], now, now + 1);
        bad_name.matchers[0].name = "1x".into();
        assert!(validate(&bad_name, now)
            .unwrap_err()
            .contains("invalid label name"));
        // A negative matcher of a value matches the empty string, but not with an equality.
        assert!(validate(
            &spec(vec![m("a", "!=", "b"), m("c", "=", "d")], now, now + 1),
            now
        )
        .is_ok());
    }

    #[test]
    fn update_in_place_only_when_history_stays_true() {
        let now = 100_000;
        let active = spec(vec![m("a", "=", "b")], now - 50_000, now + 50_000);
        let mut longer = active.clone();
        longer.ends_at += 60_000;
        longer.comment = "longer".into();
        assert!(can_update_in_place(&active, &longer, now));
        let mut moved_start = longer.clone();
        moved_start.starts_at += 5_000;
        assert!(!can_update_in_place(&active, &moved_start, now));
        let mut other_matchers = longer.clone();
        other_matchers.matchers = vec![m("a", "=", "c")];
        assert!(!can_update_in_place(&active, &other_matchers, now));
        let mut ended = active.clone();
        ended.ends_at = now - 1;
        assert!(!can_update_in_place(&active, &ended, now));

        let pending = spec(vec![m("a", "=", "b")], now + 10_000, now + 50_000);
        let mut later = pending.clone();
        later.starts_at += 1_000;
        assert!(can_update_in_place(&pending, &later, now));
        let mut earlier = pending.clone();
        earlier.starts_at = now - 1;
        assert!(!can_update_in_place(&pending, &earlier, now));

        let expired = spec(vec![m("a", "=", "b")], now - 20, now - 10);
        assert!(!can_update_in_place(&expired, &expired, now));
    }

    #[test]
    fn filters_compare_definitions() {
        let silence = vec![m("alertname", "=", "Down"), m("env", "=~", "prod.*")];
        assert!(filter_selects(&[], &silence));
        assert!(filter_selects(&[m("alertname", "=", "Down")], &silence));
        assert!(!filter_selects(&[m("alertname", "=~", "Down")], &silence));
        assert!(!filter_selects(&[m("alertname", "=", "Up")], &silence));
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4([0xab; 16]);
        assert!(is_uuid(&id), "{id}");
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert!(!is_uuid("not-a-uuid"));
        assert!(!is_uuid(&id.replace('-', "x")));
    }

    proptest! {
        #[test]
        fn display_round_trips(name in "[a-z_][a-z0-9_]{0,8}", value in "\\PC{0,16}", regex in any::<bool>(), equal in any::<bool>()) {
            let value = if regex { regex::escape(&value) } else { value };
            let m = Matcher { name, value, is_regex: regex, is_equal: equal };
            prop_assert_eq!(parse_matcher(&m.to_string()).unwrap(), m);
        }

        #[test]
        fn equality_matchers_match_their_value_only(value in "\\PC{0,16}", other in "\\PC{0,16}") {
            let eq = CompiledMatcher::new(&Matcher { name: "a".into(), value: value.clone(), is_regex: false, is_equal: true }).unwrap();
            let re = CompiledMatcher::new(&Matcher { name: "a".into(), value: regex::escape(&value), is_regex: true, is_equal: true }).unwrap();
            prop_assert!(eq.matches_value(&value));
            prop_assert!(re.matches_value(&value));
            prop_assert_eq!(eq.matches_value(&other), value == other);
            prop_assert_eq!(re.matches_value(&other), value == other);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = parse_matcher(&text);
        }
    }
}
