//! tocsin-integrations: one module per monitoring tool, each turning the tool's native
//! payload into normalised [`Event`]s with the tool's own semantics for identity, severity
//! and firing/resolved. Adapters are pure: a request and a context in, events or an error
//! out. [`adapter_for`] is the one table of them.

pub mod alertmanager_v2;
pub mod alertmanager_webhook;
mod bounded;
pub mod cloudevents;
mod common;
pub mod grafana;
pub mod heartbeat;
mod limits;
pub mod nagios;
pub mod native;
pub mod nightingale;
pub mod open_falcon;
pub mod pagerduty;
pub mod params;
pub mod plausible;
pub mod webhook;
pub mod zabbix;

use tocsin_core::config::Config;
use tocsin_core::event::Event;
use tocsin_core::integration::IntegrationKind;
use tocsin_core::time::Millis;

/// The adapter that reads an integration kind's payloads.
pub fn adapter_for(kind: IntegrationKind) -> &'static dyn Adapter {
    match kind {
        IntegrationKind::Tocsin => &native::Native,
        IntegrationKind::Alertmanager => &alertmanager_v2::AlertmanagerV2,
        IntegrationKind::AlertmanagerWebhook => &alertmanager_webhook::AlertmanagerWebhook,
        IntegrationKind::Zabbix => &zabbix::Zabbix,
        IntegrationKind::Nagios => &nagios::Nagios,
        IntegrationKind::OpenFalcon => &open_falcon::OpenFalcon,
        IntegrationKind::Grafana => &grafana::Grafana,
        IntegrationKind::Nightingale => &nightingale::Nightingale,
        IntegrationKind::Pagerduty => &pagerduty::PagerDuty,
        IntegrationKind::Cloudevents => &cloudevents::CloudEvents,
        IntegrationKind::Webhook => &webhook::Webhook,
        IntegrationKind::Heartbeat => &heartbeat::Heartbeat,
    }
}

/// One HTTP request as an adapter sees it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// `GET` requests carry their payload in the query string (Open-Falcon, heartbeats).
    pub method: Method,
    /// The raw query string without `?`; empty when there is none.
    pub query: &'a str,
    /// Header names in lower case, values as text (unreadable values are left out).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl<'a> Inbound<'a> {
    /// A `POST` with a JSON body and no headers: what most tools send, and what tests need.
    pub fn json(body: &'a [u8]) -> Inbound<'a> {
        Inbound {
            method: Method::Post,
            query: "",
            headers: &[],
            body,
        }
    }

    /// The first value of a header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }

    /// The media type of the body, lower case, without parameters (`application/json`).
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

/// What an adapter may need besides the request.
#[derive(Debug, Clone, Copy)]
pub struct IntakeContext<'a> {
    pub now: Millis,
    /// Alertmanager's resolve_timeout, for alerts that carry no end time.
    pub resolve_timeout: Millis,
    pub max_events: usize,
    /// The configured integration the request came through; empty for the built-in
    /// endpoints.
    pub integration: &'a str,
    pub config: &'a Config,
}

/// The answer to a sender whose events were accepted, in the shape its tool expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    /// `None` for an empty body.
    pub body: Option<serde_json::Value>,
}

/// Why a payload was refused; the message names the place (`[3].labels.host: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeError(pub String);

impl std::fmt::Display for IntakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An inbound integration: how one tool's payload becomes events.
pub trait Adapter: Send + Sync {
    /// The metrics label of its events (`tocsin_events_received_total{source=...}`); usually
    /// also the `source` they carry.
    fn name(&self) -> &'static str;
    /// The events as the payload gives them; callers use [`Adapter::parse`].
    fn read(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError>;
    /// The events of a request: as read, then with implausible times replaced
    /// ([`plausible::adjust_times`]), whichever tool sent them.
    fn parse(&self, req: &Inbound<'_>, ctx: &IntakeContext<'_>) -> Result<Vec<Event>, IntakeError> {
        let mut events = self.read(req, ctx)?;
        for e in &mut events {
            plausible::adjust_times(e, ctx.now);
        }
        Ok(events)
    }
    /// The answer once the events are durable: 202 with the count, unless the tool expects
    /// something else.
    fn reply(&self, events: &[Event]) -> Reply {
        Reply {
            status: 202,
            body: Some(serde_json::json!({"accepted": events.len()})),
        }
    }
}

/// Parses a JSON body that holds one `T` or an array of them, with the path of the first
/// error in the message and the number of items bounded while parsing (see [`bounded`]).
/// Also tells whether the body was a single object, whose error paths then need no `[i]`
/// prefix.
pub(crate) fn one_or_many<T: serde::de::DeserializeOwned>(
    body: &[u8],
    max: usize,
) -> Result<(Vec<T>, bool), IntakeError> {
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let over = std::cell::Cell::new(false);
    let result = match first {
        Some(b'[') => parse(body, bounded::Capped::<T>::new(max, &over), &over),
        Some(b'{') => parse(body, std::marker::PhantomData::<T>, &over).map(|one| vec![one]),
        Some(_) => Err(IntakeError(
            "the body must be a JSON object or an array of objects".into(),
        )),
        None => Err(IntakeError("the body is empty".into())),
    };
    if over.get() {
        return Err(bounded::too_many("the array", max));
    }
    let result = result?;
    let single = first == Some(b'{');
    if result.is_empty() {
        return Err(IntakeError("the array is empty".into()));
    }
    Ok((result, single))
}

/// Converts each parsed item, naming it `[i]` in errors when the body was an array.
pub(crate) fn convert_all<T>(
    items: Vec<T>,
    single: bool,
    convert: impl Fn(&str, T) -> Result<Event, IntakeError>,
) -> Result<Vec<Event>, IntakeError> {
    // Sized up front: collecting from a fallible iterator would grow the vector by doubling.
    let mut events = Vec::with_capacity(items.len());
    let mut buf = [0; INDEX_PATH_LEN];
    for (i, item) in items.into_iter().enumerate() {
        let event = if single {
            convert("", item).map_err(|e| IntakeError(e.0.trim_start_matches('.').to_string()))
        } else {
            convert(index_path(i, &mut buf), item)
        }?;
        events.push(event);
    }
    Ok(events)
}

/// `[` + the 20 digits of the largest usize + `]`.
const INDEX_PATH_LEN: usize = 22;

/// `[i]`, written into `buf`. The path is only read when an item is refused, but it is made
/// for every item of every request, so it costs no allocation and no formatting machinery.
fn index_path(i: usize, buf: &mut [u8; INDEX_PATH_LEN]) -> &str {
    let mut start = INDEX_PATH_LEN - 1;
    buf[start] = b']';
    let mut n = i;
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    start -= 1;
    buf[start] = b'[';
    std::str::from_utf8(&buf[start..]).expect("ASCII digits and brackets")
}

/// Deserializes with `seed`; a parse that `over` says was cut short by a bound is not
/// parsed again to name the place, the caller names the bound.
pub(crate) fn parse<'de, S>(
    body: &'de [u8],
    seed: S,
    over: &std::cell::Cell<bool>,
) -> Result<S::Value, IntakeError>
where
    S: serde::de::DeserializeSeed<'de> + Copy,
{
    // Fast path first: tracking the path of every field costs time on every request, and
    // only a refused request needs it, so the body is parsed again to name the place.
    // The body is checked as UTF-8 once, in bulk: from bytes, serde_json checks every string
    // on its own, which cost more than the check of the whole body. A body that is not
    // UTF-8 takes the slow path, which reads bytes as before.
    if let Ok(text) = std::str::from_utf8(body) {
        let mut de = serde_json::Deserializer::from_str(text);
        if let Ok(value) = seed.deserialize(&mut de) {
            if de.end().is_ok() {
                return Ok(value);
            }
        }
        if over.get() {
            return Err(IntakeError("cut short by a bound".into()));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut track = serde_path_to_error::Track::new();
    let value = seed
        .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .map_err(|inner| {
            let path = track.path().to_string();
            // Syntax errors have no meaningful path ("." or one ending in "?").
            if path == "." || path.ends_with('?') {
                IntakeError(format!("invalid JSON: {inner}"))
            } else {
                IntakeError(format!("{path}: {inner}"))
            }
        })?;
    de.end()
        .map_err(|e| IntakeError(format!("invalid JSON: {e}")))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_are_not_utf8_take_the_slow_path() {
        // Not UTF-8 only inside a value that is skipped: serde_json does not check skipped
        // strings, so this was accepted before the bulk check and still is.
        let body = b"[{\"a\": 1, \"skipped\": \"\xff\"}]";
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct A {
            a: u32,
        }
        assert_eq!(one_or_many::<A>(body, 10).unwrap().0, vec![A { a: 1 }]);
        let err = one_or_many::<A>(b"[{\"a\": 1}, {\"a\": \"\xff\"}]", 10).unwrap_err();
        assert!(err.0.starts_with("[1].a: "), "{err}");
        let err = one_or_many::<A>(br#"[{"a": 1}] 3"#, 10).unwrap_err();
        assert!(
            err.0.starts_with("invalid JSON: trailing characters"),
            "{err}"
        );
    }

    #[test]
    fn index_path_is_what_format_gives() {
        let mut buf = [0; INDEX_PATH_LEN];
        for i in [0, 1, 9, 10, 99, 100, 12_345, usize::MAX] {
            assert_eq!(index_path(i, &mut buf), format!("[{i}]"));
        }
    }
}

/// Contexts for adapter tests: the built-in config, a fixed clock.
#[doc(hidden)]
pub mod testing {
    use super::IntakeContext;
    use std::sync::LazyLock;
    use tocsin_core::config::Config;
    use tocsin_core::time::Millis;

    pub static BUILTIN: LazyLock<Config> = LazyLock::new(Config::builtin);

    /// 2026-01-01T00:00:00Z
    pub const NOW: Millis = 1_767_225_600_000;

    pub fn context(max_events: usize) -> IntakeContext<'static> {
        IntakeContext {
            now: NOW,
            resolve_timeout: 300_000,
            max_events,
            integration: "",
            config: &BUILTIN,
        }
    }
}
