//! The engine's row types read from PostgreSQL rows: the columns each query selects (as
//! macros, so that the queries are `&'static str` and keep their prepared statements), and
//! the conversions. Every INTEGER of the SQLite store is BIGINT here, so narrower numbers
//! (episodes, levels, priorities) are read as `i64` and narrowed as the SQLite store's
//! driver does.

use crate::codec::{json_from, json_or_default, matchers_from, parse_or};
use crate::engine::*;
use crate::StoreError;
use postgres::Row;
use tocsin_core::event::Severity;
use tocsin_core::incident::IncidentState;
use tocsin_core::priority::{Level, Priority};
use tocsin_core::silence::{SilenceSpec, SilenceState};
use tocsin_core::time::{to_rfc3339, Millis};

type Result<T> = std::result::Result<T, StoreError>;

macro_rules! incident_columns {
    () => {
        "id, title, service, team, state, priority, priority_manual, impact, severity,
         group_key, assignee, alert_count, firing_count, created_at, updated_at,
         acknowledged_at, resolved_at, closed_at, last_alert_at"
    };
}
pub(super) use incident_columns;

pub(super) fn incident(r: &Row) -> Result<IncidentRecord> {
    let state: &str = r.try_get(4)?;
    let impact: &str = r.try_get(7)?;
    let severity: &str = r.try_get(8)?;
    let priority: i64 = r.try_get(5)?;
    Ok(IncidentRecord {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        service: r.try_get(2)?,
        team: r.try_get(3)?,
        state: parse_or(state, IncidentState::parse, "incident state")?,
        priority: parse_or(
            priority,
            |p| u8::try_from(p).ok().and_then(Priority::new),
            "priority",
        )?,
        priority_manual: r.try_get(6)?,
        impact: parse_or(impact, Level::parse, "impact")?,
        severity: parse_or(severity, Severity::parse, "severity")?,
        group_key: r.try_get(9)?,
        assignee: r.try_get(10)?,
        alert_count: r.try_get(11)?,
        firing_count: r.try_get(12)?,
        created_at: r.try_get(13)?,
        updated_at: r.try_get(14)?,
        acknowledged_at: r.try_get(15)?,
        resolved_at: r.try_get(16)?,
        closed_at: r.try_get(17)?,
        last_alert_at: r.try_get(18)?,
    })
}

macro_rules! silence_columns {
    () => {
        "id, matchers, starts_at, ends_at, updated_at, created_by, comment, actor, expired_by,
         replaced_by, engine_state"
    };
}
pub(super) use silence_columns;

pub(super) fn silence(r: &Row) -> Result<SilenceRecord> {
    let state: &str = r.try_get(10)?;
    Ok(SilenceRecord {
        id: r.try_get(0)?,
        spec: SilenceSpec {
            matchers: matchers_from(r.try_get(1)?)?,
            starts_at: r.try_get(2)?,
            ends_at: r.try_get(3)?,
            created_by: r.try_get(5)?,
            comment: r.try_get(6)?,
        },
        updated_at: r.try_get(4)?,
        actor: r.try_get(7)?,
        expired_by: r.try_get(8)?,
        replaced_by: r.try_get(9)?,
        engine_state: parse_or(state, SilenceState::parse, "silence state")?,
    })
}

macro_rules! firing_columns {
    () => {
        "id, source, integration, dedup_key, name, summary, description, service, host,
         severity, labels"
    };
}
pub(super) use firing_columns;

pub(super) fn firing_alert(r: &Row) -> Result<FiringAlert> {
    let severity: &str = r.try_get(9)?;
    Ok(FiringAlert {
        id: r.try_get(0)?,
        source: r.try_get(1)?,
        integration: r.try_get(2)?,
        dedup_key: r.try_get(3)?,
        name: r.try_get(4)?,
        summary: r.try_get(5)?,
        description: r.try_get(6)?,
        service: r.try_get(7)?,
        host: r.try_get(8)?,
        severity: parse_or(severity, Severity::parse, "severity")?,
        labels: json_or_default(r.try_get(10)?),
    })
}

macro_rules! escalation_columns {
    () => {
        "incident_id, policy, level, round, next_at, state, started_at"
    };
}
pub(super) use escalation_columns;

pub(super) fn escalation(r: &Row) -> Result<EscalationRow> {
    Ok(EscalationRow {
        incident_id: r.try_get(0)?,
        policy: r.try_get(1)?,
        level: r.try_get::<_, i64>(2)? as usize,
        round: r.try_get::<_, i64>(3)? as u32,
        next_at: r.try_get(4)?,
        state: r.try_get(5)?,
        started_at: r.try_get(6)?,
    })
}

macro_rules! notification_columns {
    () => {
        "id, incident_id, user_id, contact, contact_type, address, channel, level, round,
         reason, due_at, state, attempts, last_error, sent_at, kind, since, actor, comment,
         created_at"
    };
}
pub(super) use notification_columns;

pub(super) fn notification(r: &Row) -> Result<NotificationRow> {
    let due_ms: Millis = r.try_get(10)?;
    Ok(NotificationRow {
        id: r.try_get(0)?,
        incident_id: r.try_get(1)?,
        user: r.try_get(2)?,
        contact: r.try_get::<_, i64>(3)? as usize,
        contact_type: r.try_get(4)?,
        address: r.try_get(5)?,
        channel: r.try_get(6)?,
        level: r.try_get(7)?,
        round: r.try_get(8)?,
        reason: r.try_get(9)?,
        due_ms,
        due_at: to_rfc3339(due_ms),
        state: r.try_get(11)?,
        attempts: r.try_get(12)?,
        last_error: r.try_get(13)?,
        sent_at: r.try_get::<_, Option<Millis>>(14)?.map(to_rfc3339),
        kind: r.try_get(15)?,
        since: r.try_get(16)?,
        actor: r.try_get(17)?,
        comment: r.try_get(18)?,
        created_ms: r.try_get(19)?,
    })
}

macro_rules! storm_columns {
    () => {
        "id, scope, service, started_at, ended_at, start_rate, baseline_rate, peak_rate,
         alerts, incidents, lead_incident, summaries, next_summary_at, alerts_at_summary"
    };
}
pub(super) use storm_columns;

pub(super) fn storm(r: &Row) -> Result<StormRow> {
    Ok(StormRow {
        id: r.try_get(0)?,
        scope: r.try_get(1)?,
        service: r.try_get(2)?,
        started_at: r.try_get(3)?,
        ended_at: r.try_get(4)?,
        start_rate: r.try_get(5)?,
        baseline_rate: r.try_get(6)?,
        peak_rate: r.try_get(7)?,
        alerts: r.try_get(8)?,
        incidents: r.try_get(9)?,
        lead_incident: r.try_get(10)?,
        summaries: r.try_get(11)?,
        next_summary_at: r.try_get(12)?,
        alerts_at_summary: r.try_get(13)?,
    })
}

pub(super) fn group_timer(r: &Row) -> Result<GroupTimerRow> {
    Ok(GroupTimerRow {
        incident_id: r.try_get(0)?,
        wait_until: r.try_get(1)?,
        next_update_at: r.try_get(2)?,
        announced: r.try_get(3)?,
        announced_at: r.try_get(4)?,
        next_repeat_at: r.try_get(5)?,
    })
}

pub(super) fn window(r: &Row) -> Result<WindowRow> {
    Ok(WindowRow {
        spec: json_from(r.try_get(0)?, "maintenance window")?,
        author: r.try_get(1)?,
        created_at: r.try_get(2)?,
        created_by: r.try_get(3)?,
        deleted_at: r.try_get(4)?,
        deleted_by: r.try_get(5)?,
    })
}
