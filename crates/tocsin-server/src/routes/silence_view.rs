//! Silences and recurring silences as `/api/v1/silences` answers them: matchers as strings,
//! times in RFC 3339 UTC, the state at the time of the request, and who did what.

use super::schedules::restriction;
use serde_json::{json, Value};
use tocsin_core::config::maintenance::{window_of, MaintenanceWindow};
use tocsin_core::silence::{state_at, Matcher, SilenceState};
use tocsin_core::time::{to_rfc3339, Millis};
use tocsin_store::sqlite::maintenance::WindowRow;
use tocsin_store::sqlite::silences::SilenceRecord;

fn strings(matchers: &[Matcher]) -> Vec<String> {
    matchers.iter().map(Matcher::to_string).collect()
}

/// A one-off silence, including one occurrence of a recurring window (`window` names it).
pub fn one_off(r: &SilenceRecord, now: Millis) -> Value {
    json!({
        "id": r.id,
        "matchers": strings(&r.spec.matchers),
        "starts_at": to_rfc3339(r.spec.starts_at),
        "ends_at": to_rfc3339(r.spec.ends_at),
        "state": state_at(r.spec.starts_at, r.spec.ends_at, now).as_str(),
        "author": r.spec.created_by,
        "comment": r.spec.comment,
        "updated_at": to_rfc3339(r.updated_at),
        "updated_by": r.actor,
        "expired_by": r.expired_by,
        "replaced_by": r.replaced_by,
        "window": window_of(&r.id),
        "recurrence": null,
    })
}

/// Where a recurring window comes from, and its audit fields when made at run time.
pub enum Origin<'a> {
    Config,
    Api(&'a WindowRow),
}

/// A recurring silence: its rule, and its occurrence open now or next (`starts_at`,
/// `ends_at`; null once it has none left). Deleted ones and those past `until` are expired.
pub fn recurring(w: &MaintenanceWindow, origin: Origin<'_>, now: Millis) -> Value {
    let next = w.occurrence(now);
    let deleted = matches!(origin, Origin::Api(row) if row.deleted_at.is_some());
    let state = match next {
        _ if deleted => SilenceState::Expired,
        None => SilenceState::Expired,
        Some((start, end)) => state_at(start, end, now),
    };
    let mut recurrence = restriction(&w.window);
    recurrence["time_zone"] = json!(w.time_zone);
    recurrence["until"] = json!(w.until.map(to_rfc3339));
    let mut v = json!({
        "id": w.name,
        "matchers": strings(&w.matchers),
        "starts_at": next.filter(|_| !deleted).map(|(s, _)| to_rfc3339(s)),
        "ends_at": next.filter(|_| !deleted).map(|(_, e)| to_rfc3339(e)),
        "state": state.as_str(),
        "comment": w.comment,
        "recurrence": recurrence,
    });
    match origin {
        Origin::Config => {
            v["source"] = json!("config");
            v["author"] = json!("config");
        }
        Origin::Api(row) => {
            v["source"] = json!("api");
            v["author"] = json!(row.author);
            v["created_at"] = json!(to_rfc3339(row.created_at));
            v["created_by"] = json!(row.created_by);
            v["deleted_at"] = json!(row.deleted_at.map(to_rfc3339));
            v["deleted_by"] = json!(row.deleted_by);
        }
    }
    v
}
