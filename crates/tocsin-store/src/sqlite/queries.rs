//! API reads: filtered, cursor-paginated lists and single records.
//!
//! Lists are ordered newest first by id; the cursor is the last id of the page, so a page is
//! one index range scan however deep the client pages.

use super::rows::*;
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use tocsin_core::time::Millis;

#[derive(Debug, Default, Clone)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub service: Option<String>,
    /// The catalog host (or the name the alert gave, when the catalog has none).
    pub host: Option<String>,
    pub source: Option<String>,
    pub integration: Option<String>,
    pub severity: Option<String>,
    pub incident_id: Option<i64>,
    /// Seen at or after.
    pub since: Option<Millis>,
    /// First seen before.
    pub until: Option<Millis>,
    /// Substring of name, summary or description.
    pub text: Option<String>,
    /// Label equalities, all of which must hold.
    pub labels: Vec<(String, String)>,
    /// Muted by a silence now (`true`) or not (`false`).
    pub silenced: Option<bool>,
    /// Muted by an inhibition rule now (`true`) or not (`false`).
    pub inhibited: Option<bool>,
    /// Flapping now (`true`) or not (`false`).
    pub flapping: Option<bool>,
}

#[derive(Debug, Default, Clone)]
pub struct IncidentFilter {
    pub state: Vec<String>,
    pub service: Option<String>,
    pub team: Option<String>,
    pub priority: Option<u8>,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after_id: Option<i64>,
    pub limit: usize,
}

/// Builds `WHERE` clauses and their parameters side by side.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    params: Vec<Value>,
}

impl Where {
    fn add(&mut self, clause: &str, values: impl IntoIterator<Item = Value>) {
        self.clauses.push(clause.to_string());
        self.params.extend(values);
    }
    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

fn like_pattern(text: &str) -> Value {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Value::Text(format!("%{escaped}%"))
}

fn page<T>(mut items: Vec<T>, limit: usize, id_of: impl Fn(&T) -> i64) -> Page<T> {
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|t| id_of(t).to_string())
    } else {
        None
    };
    Page { items, next_cursor }
}

pub fn list_alerts(
    conn: &Connection,
    f: &AlertFilter,
    p: PageRequest,
) -> rusqlite::Result<Page<AlertRow>> {
    let mut w = Where::default();
    if let Some(v) = &f.status {
        w.add("status = ?", [Value::Text(v.clone())]);
    }
    for (column, value) in [
        ("service", &f.service),
        ("host", &f.host),
        ("source", &f.source),
        ("integration", &f.integration),
    ] {
        if let Some(v) = value {
            w.add(&format!("{column} = ?"), [Value::Text(v.clone())]);
        }
    }
    if let Some(v) = &f.severity {
        w.add("severity = ?", [Value::Text(v.clone())]);
    }
    if let Some(v) = f.incident_id {
        w.add("incident_id = ?", [Value::Integer(v)]);
    }
    if let Some(v) = f.since {
        w.add("last_seen >= ?", [Value::Integer(v)]);
    }
    if let Some(v) = f.until {
        w.add("first_seen < ?", [Value::Integer(v)]);
    }
    if let Some(t) = &f.text {
        let p = like_pattern(t);
        w.add(
            "(name LIKE ? ESCAPE '\\' OR summary LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')",
            [p.clone(), p.clone(), p],
        );
    }
    for (k, v) in &f.labels {
        w.add(
            "EXISTS (SELECT 1 FROM json_each(alerts.labels) j WHERE j.key = ? AND j.value = ?)",
            [Value::Text(k.clone()), Value::Text(v.clone())],
        );
    }
    match f.silenced {
        Some(true) => w.add("silenced_by IS NOT NULL", []),
        Some(false) => w.add("silenced_by IS NULL", []),
        None => {}
    }
    match f.inhibited {
        Some(true) => w.add("inhibited_by IS NOT NULL", []),
        Some(false) => w.add("inhibited_by IS NULL", []),
        None => {}
    }
    if let Some(flag) = f.flapping {
        w.add("flapping = ?", [Value::Integer(flag.into())]);
    }
    if let Some(id) = p.after_id {
        w.add("id < ?", [Value::Integer(id)]);
    }
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts {} ORDER BY id DESC LIMIT {}",
        w.sql(),
        p.limit + 1
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let items = stmt
        .query_map(
            rusqlite::params_from_iter(w.params.iter()),
            AlertRow::from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(page(items, p.limit, |a| a.id))
}

/// Every firing alert, oldest first: the Alertmanager API lists them all, unpaged.
pub fn firing_alerts(conn: &Connection) -> rusqlite::Result<Vec<AlertRow>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'firing' ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], AlertRow::from_row)?;
    rows.collect()
}

pub fn get_alert(conn: &Connection, id: i64) -> rusqlite::Result<Option<AlertDetail>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1");
    let Some(alert) = conn.query_row(&sql, [id], AlertRow::from_row).optional()? else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT at, kind, episode, incident_id FROM alert_history WHERE alert_id = ?1 ORDER BY seq",
    )?;
    let history = stmt
        .query_map([id], |r| {
            Ok(AlertHistoryRow {
                at: tocsin_core::time::to_rfc3339(r.get(0)?),
                kind: r.get(1)?,
                episode: r.get(2)?,
                incident_id: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(AlertDetail { alert, history }))
}

/// The `WHERE` of an incident filter.
fn incident_where(f: &IncidentFilter) -> Where {
    let mut w = Where::default();
    if !f.state.is_empty() {
        let marks = vec!["?"; f.state.len()].join(", ");
        w.add(
            &format!("state IN ({marks})"),
            f.state.iter().cloned().map(Value::Text),
        );
    }
    if let Some(v) = &f.service {
        w.add("service = ?", [Value::Text(v.clone())]);
    }
    if let Some(v) = f.priority {
        w.add("priority = ?", [Value::Integer(v.into())]);
    }
    if let Some(v) = f.since {
        w.add("created_at >= ?", [Value::Integer(v)]);
    }
    if let Some(v) = f.until {
        w.add("created_at < ?", [Value::Integer(v)]);
    }
    if let Some(t) = &f.text {
        w.add("title LIKE ? ESCAPE '\\'", [like_pattern(t)]);
    }
    if let Some(v) = &f.team {
        w.add("team = ?", [Value::Text(v.clone())]);
    }
    w
}

/// The incidents board: those matching `f`, most urgent first (priority, then the oldest),
/// at most `limit` of them, and how many match in all.
pub fn board_incidents(
    conn: &Connection,
    f: &IncidentFilter,
    limit: usize,
    urgency_of: &dyn Fn(&str) -> String,
) -> rusqlite::Result<(Vec<IncidentRow>, i64)> {
    let w = incident_where(f);
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents {} ORDER BY priority, created_at, id LIMIT {limit}",
        w.sql()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let items = stmt
        .query_map(rusqlite::params_from_iter(w.params.iter()), |r| {
            IncidentRow::from_row(r, urgency_of)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total = conn.query_row(
        &format!("SELECT count(*) FROM incidents {}", w.sql()),
        rusqlite::params_from_iter(w.params.iter()),
        |r| r.get(0),
    )?;
    Ok((items, total))
}

pub fn list_incidents(
    conn: &Connection,
    f: &IncidentFilter,
    p: PageRequest,
    urgency_of: &dyn Fn(&str) -> String,
) -> rusqlite::Result<Page<IncidentRow>> {
    let mut w = incident_where(f);
    if let Some(id) = p.after_id {
        w.add("id < ?", [Value::Integer(id)]);
    }
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents {} ORDER BY id DESC LIMIT {}",
        w.sql(),
        p.limit + 1
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let items = stmt
        .query_map(rusqlite::params_from_iter(w.params.iter()), |r| {
            IncidentRow::from_row(r, urgency_of)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(page(items, p.limit, |i| i.id))
}

/// Alerts shown with an incident: the most recent ones, at most this many (the list
/// endpoint with `incident_id` pages through all of them).
const DETAIL_ALERTS: usize = 200;

pub fn get_incident(
    conn: &Connection,
    id: i64,
    urgency_of: &dyn Fn(&str) -> String,
) -> rusqlite::Result<Option<IncidentDetail>> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1");
    let Some(incident) = conn
        .query_row(&sql, [id], |r| IncidentRow::from_row(r, urgency_of))
        .optional()?
    else {
        return Ok(None);
    };
    let alerts = list_alerts(
        conn,
        &AlertFilter {
            incident_id: Some(id),
            ..Default::default()
        },
        PageRequest {
            after_id: None,
            limit: DETAIL_ALERTS,
        },
    )?
    .items;
    // The timeline merges what happened to the incident with what its alerts did.
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor, kind, message, NULL AS alert_id, id, 0 AS src
           FROM incident_timeline WHERE incident_id = ?1
         UNION ALL
         SELECT h.at, 'tocsin', 'alert_' || h.kind,
                a.name || ' (' || a.dedup_key || ')' || CASE WHEN h.episode > 1
                    THEN ', episode ' || h.episode ELSE '' END,
                h.alert_id, h.seq, 1
           FROM alert_history h JOIN alerts a ON a.id = h.alert_id
          WHERE h.incident_id = ?1
         ORDER BY 1, 7, 6
         LIMIT 5000",
    )?;
    let timeline = stmt
        .query_map(params![id], |r| {
            Ok(TimelineRow {
                at: tocsin_core::time::to_rfc3339(r.get(0)?),
                actor: r.get(1)?,
                kind: r.get(2)?,
                message: r.get(3)?,
                alert_id: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let notifications = super::paging::incident_notifications(conn, id)?;
    Ok(Some(IncidentDetail {
        incident,
        alerts,
        timeline,
        notifications,
    }))
}
