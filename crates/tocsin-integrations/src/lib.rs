//! tocsin-integrations: one module per monitoring tool, each turning the tool's native
//! payload into normalised [`Event`]s with the tool's own semantics for identity, severity
//! and firing/resolved. Adapters are pure: bytes and a context in, events or an error out.

pub mod alertmanager_v2;
mod limits;
pub mod native;

use tocsin_core::event::Event;
use tocsin_core::time::Millis;

/// What an adapter may need besides the body.
#[derive(Debug, Clone, Copy)]
pub struct IntakeContext {
    pub now: Millis,
    /// Alertmanager's resolve_timeout, for alerts that carry no end time.
    pub resolve_timeout: Millis,
    pub max_events: usize,
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
    /// The `source` its events carry by default.
    fn name(&self) -> &'static str;
    fn parse(&self, body: &[u8], ctx: &IntakeContext) -> Result<Vec<Event>, IntakeError>;
}

/// Parses a JSON body that holds one `T` or an array of them, with the path of the first
/// error in the message and the number of items bounded. Also tells whether the body was a
/// single object, whose error paths then need no `[i]` prefix.
pub(crate) fn one_or_many<T: serde::de::DeserializeOwned>(
    body: &[u8],
    max: usize,
) -> Result<(Vec<T>, bool), IntakeError> {
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let result = match first {
        Some(b'[') => parse::<Vec<T>>(body),
        Some(b'{') => parse::<T>(body).map(|one| vec![one]),
        Some(_) => Err(IntakeError(
            "the body must be a JSON object or an array of objects".into(),
        )),
        None => Err(IntakeError("the body is empty".into())),
    }?;
    let single = first == Some(b'{');
    if result.is_empty() {
        return Err(IntakeError("the array is empty".into()));
    }
    if result.len() > max {
        return Err(IntakeError(format!(
            "{} items in one request; at most {max} are allowed",
            result.len()
        )));
    }
    Ok((result, single))
}

/// Converts each parsed item, naming it `[i]` in errors when the body was an array.
pub(crate) fn convert_all<T>(
    items: Vec<T>,
    single: bool,
    convert: impl Fn(&str, T) -> Result<Event, IntakeError>,
) -> Result<Vec<Event>, IntakeError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            if single {
                convert("", item).map_err(|e| IntakeError(e.0.trim_start_matches('.').to_string()))
            } else {
                convert(&format!("[{i}]"), item)
            }
        })
        .collect()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, IntakeError> {
    // Fast path first: tracking the path of every field costs time on every request, and
    // only a refused request needs it, so the body is parsed again to name the place.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
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
