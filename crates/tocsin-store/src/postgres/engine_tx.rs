//! The engine's queries on PostgreSQL ([`EngineTx`] for a batch): each method the PostgreSQL
//! form of the SQLite store's query of the same name (see `sqlite/engine_store.rs` for which
//! one; their comments say what each is for).
//!
//! What differs from the SQLite text, and why:
//! - SQLite's two-argument `max`/`min` are `GREATEST`/`LEAST`, which skip a NULL where
//!   SQLite's return NULL: where an argument can be NULL, a `CASE` keeps SQLite's answer.
//! - `INSERT OR REPLACE` is `ON CONFLICT (key) DO UPDATE` of every column it writes, and
//!   `INSERT OR IGNORE` is `ON CONFLICT DO NOTHING`.
//! - A store-numbered row (a notification) says its id with `RETURNING id`.
//! - A scan SQLite returns in key order (its tables are stored by key) says `ORDER BY` that
//!   key, so that the engine meets rows in the same order on both.

use super::engine_store::PostgresBatch;
use super::rows::{self, *};
use crate::codec::{json_or_default, matchers_json, parse_or, to_json};
use crate::engine::*;
use tocsin_core::correlation::cofire::{KindStats, PairStats, FORGET_BELOW};
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::paging::Paged;
use tocsin_core::schedule::Override;
use tocsin_core::time::Millis;

impl EngineTx for PostgresBatch<'_> {
    fn applied_lsn(&self) -> StoreResult<u64> {
        Ok(self.meta("applied_lsn")? as u64)
    }
    fn next_history_seq(&self) -> StoreResult<i64> {
        Ok(self.meta("history_seq")?.max(1))
    }
    fn max_ids(&self) -> StoreResult<(i64, i64)> {
        let r = self.row(
            "SELECT (SELECT coalesce(max(id), 0) FROM alerts),
                    (SELECT coalesce(max(id), 0) FROM incidents)",
            &[],
        )?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }
    fn load_heartbeats(&self) -> StoreResult<Vec<(String, Millis)>> {
        self.map(
            "SELECT name, last_ping FROM heartbeats ORDER BY name",
            &[],
            |r| Ok((r.try_get(0)?, r.try_get(1)?)),
        )
    }
    fn load_alerts(&self, f: &mut AlertVisitor<'_>) -> StoreResult<()> {
        self.each(
            "SELECT id, source, dedup_key, status, severity, episode, occurrences, ends_at,
                    incident_id, silenced_by, inhibited_by
             FROM alerts ORDER BY id",
            &[],
            |r| {
                let state = AlertState {
                    id: r.try_get(0)?,
                    status: parse_or(r.try_get(3)?, Status::parse, "status")?,
                    severity: parse_or(r.try_get(4)?, Severity::parse, "severity")?,
                    episode: r.try_get::<_, i64>(5)? as u32,
                    occurrences: r.try_get::<_, i64>(6)? as u32,
                    ends_at: r.try_get::<_, Option<i64>>(7)?.unwrap_or(0),
                    incident_id: r.try_get(8)?,
                };
                f(
                    r.try_get(1)?,
                    r.try_get(2)?,
                    state,
                    json_or_default(r.try_get(9)?),
                    json_or_default(r.try_get(10)?),
                );
                Ok(())
            },
        )
    }
    fn load_flaps(&self, f: &mut dyn FnMut(FlapRow)) -> StoreResult<()> {
        self.each(
            "SELECT a.source, a.dedup_key, a.name, f.changes, a.flapping
             FROM alert_flaps f JOIN alerts a ON a.id = f.alert_id ORDER BY f.alert_id",
            &[],
            |r| {
                f(FlapRow {
                    source: r.try_get(0)?,
                    dedup_key: r.try_get(1)?,
                    name: r.try_get(2)?,
                    changes: json_or_default(Some(r.try_get(3)?)),
                    flapping: r.try_get(4)?,
                });
                Ok(())
            },
        )
    }
    fn load_incidents(&self, f: &mut dyn FnMut(IncidentRecord)) -> StoreResult<()> {
        self.each(
            concat!(
                "SELECT ",
                incident_columns!(),
                " FROM incidents ORDER BY id"
            ),
            &[],
            |r| {
                f(rows::incident(r)?);
                Ok(())
            },
        )
    }
    fn load_firings_since(&self, since: Millis, f: &mut dyn FnMut(FiringRow)) -> StoreResult<()> {
        self.each(
            "SELECT h.incident_id, h.at, a.source, a.name, a.service, a.host
             FROM alert_history h JOIN alerts a ON a.id = h.alert_id
             WHERE h.kind IN ('fired', 'merged', 'split') AND h.incident_id > 0 AND h.at >= $1
             ORDER BY h.at, h.alert_id, h.seq",
            &[&since],
            |r| {
                f(FiringRow {
                    incident_id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    source: r.try_get(2)?,
                    name: r.try_get(3)?,
                    service: r.try_get(4)?,
                    host: r.try_get(5)?,
                });
                Ok(())
            },
        )
    }
    fn last_history_at(&self) -> StoreResult<Millis> {
        Ok(self
            .row("SELECT coalesce(max(at), 0) FROM alert_history", &[])?
            .try_get(0)?)
    }
    fn load_moved(&self, f: &mut dyn FnMut(&str, &str, i64)) -> StoreResult<()> {
        self.each(
            "SELECT a.source, a.dedup_key, a.incident_id
             FROM incidents i JOIN alerts a ON a.incident_id = i.id
             WHERE i.state IN ('triggered', 'acknowledged')
               AND EXISTS (SELECT 1 FROM alert_history h
                           WHERE h.alert_id = a.id AND h.incident_id = a.incident_id
                             AND h.kind IN ('merged', 'split'))
             ORDER BY a.id",
            &[],
            |r| {
                f(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                Ok(())
            },
        )
    }
    fn load_learned(&self) -> StoreResult<Learned> {
        // Ids are u64 hashes, stored by their bit pattern as in SQLite.
        let kinds = self.map(
            "SELECT id, name, fired, linked FROM cofire_kinds ORDER BY id",
            &[],
            |r| {
                let kind = KindStats {
                    name: r.try_get(1)?,
                    fired: r.try_get::<_, f64>(2)? as f32,
                    linked: r.try_get::<_, f64>(3)? as f32,
                };
                Ok((r.try_get::<_, i64>(0)? as u64, kind))
            },
        )?;
        let pairs = self.map(
            "SELECT a, b, together, apart FROM cofire_pairs ORDER BY a, b",
            &[],
            |r| {
                let pair = PairStats {
                    together: r.try_get::<_, f64>(2)? as f32,
                    apart: r.try_get::<_, f64>(3)? as f32,
                };
                let (a, b): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
                Ok(((a as u64, b as u64), pair))
            },
        )?;
        Ok((kinds, pairs))
    }
    fn live_silences(&self) -> StoreResult<Vec<SilenceRecord>> {
        self.map(
            concat!(
                "SELECT ",
                silence_columns!(),
                " FROM silences WHERE engine_state <> 'expired' ORDER BY id"
            ),
            &[],
            rows::silence,
        )
    }
    fn load_escalations(&self) -> StoreResult<Vec<EscalationRow>> {
        self.map(
            concat!(
                "SELECT ",
                escalation_columns!(),
                " FROM escalations WHERE state IN ('running', 'acknowledged')
                  ORDER BY incident_id"
            ),
            &[],
            rows::escalation,
        )
    }
    fn load_group_timers(&self) -> StoreResult<Vec<GroupTimerRow>> {
        self.map(
            "SELECT incident_id, wait_until, next_update_at, announced, announced_at,
                    next_repeat_at
             FROM group_timers ORDER BY incident_id",
            &[],
            rows::group_timer,
        )
    }
    fn active_storms(&self) -> StoreResult<Vec<StormRow>> {
        self.map(
            concat!(
                "SELECT ",
                storm_columns!(),
                " FROM storms WHERE ended_at IS NULL ORDER BY id"
            ),
            &[],
            rows::storm,
        )
    }
    fn max_storm_id(&self) -> StoreResult<i64> {
        Ok(self
            .row("SELECT coalesce(max(id), 0) FROM storms", &[])?
            .try_get(0)?)
    }
    fn load_storm_rates(&self) -> StoreResult<Vec<(String, String)>> {
        self.map(
            "SELECT scope, state FROM storm_rates ORDER BY scope",
            &[],
            |r| Ok((r.try_get(0)?, r.try_get(1)?)),
        )
    }
    fn storm_incidents(&self, storm_id: i64) -> StoreResult<Vec<(i64, bool)>> {
        self.map(
            "SELECT incident_id, held FROM storm_incidents WHERE storm_id = $1
             ORDER BY incident_id",
            &[&storm_id],
            |r| Ok((r.try_get(0)?, r.try_get(1)?)),
        )
    }
    fn maintenance_windows(&self, deleted: bool) -> StoreResult<Vec<WindowRow>> {
        self.map(
            "SELECT spec, author, created_at, created_by, deleted_at, deleted_by
             FROM maintenance_windows WHERE $1 OR deleted_at IS NULL ORDER BY created_at, id",
            &[&deleted],
            rows::window,
        )
    }
    fn discovered_services(&self) -> StoreResult<Vec<DiscoveredRow>> {
        self.map(
            "SELECT id, first_seen, last_seen FROM discovered_services ORDER BY id",
            &[],
            |r| {
                Ok(DiscoveredRow {
                    id: r.try_get(0)?,
                    first_seen: r.try_get(1)?,
                    last_seen: r.try_get(2)?,
                })
            },
        )
    }

    fn upsert_alert(
        &self,
        a: &AlertState,
        service: &str,
        host: Option<&str>,
        e: &Event,
        muting: Muting<'_>,
    ) -> StoreResult<()> {
        let labels = serde_json::to_string(&e.labels).unwrap_or_else(|_| "{}".into());
        let links = serde_json::to_string(&e.links).unwrap_or_else(|_| "[]".into());
        let resolved_at = (a.status == Status::Resolved).then_some(e.occurred_at);
        self.exec(
            "INSERT INTO alerts (id, source, dedup_key, name, service, status, severity, summary,
                 description, labels, links, episode, occurrences, first_seen, last_seen,
                 started_at, resolved_at, ends_at, incident_id, integration, host, silenced_by,
                 inhibited_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16,
                 $17, $18, $19, $20, $21, $22)
             ON CONFLICT (id) DO UPDATE SET
                 integration = excluded.integration, host = excluded.host,
                 name = excluded.name, service = excluded.service, status = excluded.status,
                 severity = excluded.severity, summary = excluded.summary,
                 description = excluded.description, labels = excluded.labels,
                 links = excluded.links, occurrences = excluded.occurrences,
                 last_seen = excluded.last_seen,
                 started_at = CASE WHEN excluded.episode <> alerts.episode
                                   THEN excluded.started_at ELSE alerts.started_at END,
                 episode = excluded.episode,
                 resolved_at = excluded.resolved_at, ends_at = excluded.ends_at,
                 incident_id = excluded.incident_id, silenced_by = excluded.silenced_by,
                 inhibited_by = excluded.inhibited_by",
            &[
                &a.id,
                &e.source,
                &e.dedup_key,
                &e.name,
                &service,
                &a.status.as_str(),
                &a.severity.as_str(),
                &e.summary,
                &e.description,
                &labels,
                &links,
                &i64::from(a.episode),
                &i64::from(a.occurrences),
                &e.received_at,
                &e.occurred_at,
                &resolved_at,
                &(a.ends_at != 0).then_some(a.ends_at),
                &a.incident_id,
                &e.integration,
                &host,
                &muting.silenced_by,
                &muting.inhibited_by,
            ],
        )?;
        Ok(())
    }
    fn update_alert_state(
        &self,
        a: &AlertState,
        resolved_at: Option<Millis>,
        seen: Option<Millis>,
        muting: Muting<'_>,
    ) -> StoreResult<()> {
        // SQLite's `max(?3, started_at)` is NULL when ?3 is; GREATEST would give started_at.
        self.exec(
            "UPDATE alerts SET status = $2,
                 resolved_at = CASE WHEN $3::BIGINT IS NULL THEN NULL
                                    ELSE GREATEST($3::BIGINT, started_at) END,
                 ends_at = $4, incident_id = $5, occurrences = $6,
                 last_seen = GREATEST(last_seen, coalesce($7, last_seen)),
                 silenced_by = $8, inhibited_by = $9
             WHERE id = $1",
            &[
                &a.id,
                &a.status.as_str(),
                &resolved_at,
                &(a.ends_at != 0).then_some(a.ends_at),
                &a.incident_id,
                &i64::from(a.occurrences),
                &seen,
                &muting.silenced_by,
                &muting.inhibited_by,
            ],
        )?;
        Ok(())
    }
    fn alert_flaps(
        &self,
        alert_id: i64,
        changes: Option<&[Millis]>,
        flapping: bool,
    ) -> StoreResult<()> {
        match changes {
            Some(changes) => {
                let text = serde_json::to_string(changes).unwrap_or_else(|_| "[]".into());
                self.exec(
                    "INSERT INTO alert_flaps (alert_id, changes) VALUES ($1, $2)
                     ON CONFLICT (alert_id) DO UPDATE SET changes = excluded.changes",
                    &[&alert_id, &text],
                )?;
            }
            None => {
                self.exec("DELETE FROM alert_flaps WHERE alert_id = $1", &[&alert_id])?;
            }
        }
        self.exec(
            "UPDATE alerts SET flapping = $2 WHERE id = $1 AND flapping <> $2",
            &[&alert_id, &flapping],
        )?;
        Ok(())
    }
    fn heartbeat(&self, name: &str, last_ping: Millis) -> StoreResult<()> {
        self.exec(
            "INSERT INTO heartbeats (name, last_ping) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE
                 SET last_ping = GREATEST(heartbeats.last_ping, excluded.last_ping)",
            &[&name, &last_ping],
        )?;
        Ok(())
    }
    fn alert_history(
        &self,
        alert_id: i64,
        seq: i64,
        episode: u32,
        incident_id: i64,
        kind: &str,
        at: Millis,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO alert_history (alert_id, seq, episode, incident_id, kind, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &alert_id,
                &seq,
                &i64::from(episode),
                &incident_id,
                &kind,
                &at,
            ],
        )?;
        Ok(())
    }
    fn move_alert(&self, alert_id: i64, incident_id: i64) -> StoreResult<()> {
        self.exec(
            "UPDATE alerts SET incident_id = $2 WHERE id = $1",
            &[&alert_id, &incident_id],
        )?;
        Ok(())
    }
    fn upsert_incident(&self, i: &IncidentRecord) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO incidents (",
                incident_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                     $16, $17, $18, $19)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                     service = excluded.service, team = excluded.team, state = excluded.state,
                     priority = excluded.priority, priority_manual = excluded.priority_manual,
                     impact = excluded.impact, severity = excluded.severity,
                     group_key = excluded.group_key, assignee = excluded.assignee,
                     alert_count = excluded.alert_count, firing_count = excluded.firing_count,
                     created_at = excluded.created_at, updated_at = excluded.updated_at,
                     acknowledged_at = excluded.acknowledged_at,
                     resolved_at = excluded.resolved_at, closed_at = excluded.closed_at,
                     last_alert_at = excluded.last_alert_at"
            ),
            &[
                &i.id,
                &i.title,
                &i.service,
                &i.team,
                &i.state.as_str(),
                &i64::from(i.priority.number()),
                &i.priority_manual,
                &i.impact.as_str(),
                &i.severity.as_str(),
                &i.group_key,
                &i.assignee,
                &i.alert_count,
                &i.firing_count,
                &i.created_at,
                &i.updated_at,
                &i.acknowledged_at,
                &i.resolved_at,
                &i.closed_at,
                &i.last_alert_at,
            ],
        )?;
        Ok(())
    }
    fn timeline(
        &self,
        incident_id: i64,
        at: Millis,
        actor: &str,
        kind: &str,
        message: &str,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO incident_timeline (incident_id, at, actor, kind, message)
             VALUES ($1, $2, $3, $4, $5)",
            &[&incident_id, &at, &actor, &kind, &message],
        )?;
        Ok(())
    }
    fn discovered_seen(&self, id: &str, first: Millis, last: Millis) -> StoreResult<()> {
        self.exec(
            "INSERT INTO discovered_services (id, first_seen, last_seen) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE
                 SET last_seen = GREATEST(discovered_services.last_seen, excluded.last_seen)",
            &[&id, &first, &last],
        )?;
        Ok(())
    }
    fn learned(
        &self,
        kinds: &[(u64, KindStats)],
        pairs: &[((u64, u64), PairStats)],
    ) -> StoreResult<()> {
        for (id, k) in kinds {
            let id = *id as i64;
            if k.fired < FORGET_BELOW {
                self.exec("DELETE FROM cofire_kinds WHERE id = $1", &[&id])?;
            } else {
                self.exec(
                    "INSERT INTO cofire_kinds (id, name, fired, linked) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (id) DO UPDATE
                         SET fired = excluded.fired, linked = excluded.linked",
                    &[&id, &k.name, &f64::from(k.fired), &f64::from(k.linked)],
                )?;
            }
        }
        for ((a, b), p) in pairs {
            let (a, b) = (*a as i64, *b as i64);
            if p.together + p.apart < FORGET_BELOW {
                self.exec(
                    "DELETE FROM cofire_pairs WHERE a = $1 AND b = $2",
                    &[&a, &b],
                )?;
            } else {
                self.exec(
                    "INSERT INTO cofire_pairs (a, b, together, apart) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (a, b) DO UPDATE
                         SET together = excluded.together, apart = excluded.apart",
                    &[&a, &b, &f64::from(p.together), &f64::from(p.apart)],
                )?;
            }
        }
        Ok(())
    }
    fn set_progress(&self, lsn: u64, history_seq: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES ('applied_lsn', $1), ('history_seq', $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&(lsn as i64), &history_seq],
        )?;
        Ok(())
    }

    fn alert_place(&self, id: i64) -> StoreResult<Option<AlertPlace>> {
        let row = self.opt_row(
            "SELECT source, dedup_key, name, summary, service, host FROM alerts WHERE id = $1",
            &[&id],
        )?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(AlertPlace {
            source: r.try_get(0)?,
            dedup_key: r.try_get(1)?,
            name: r.try_get(2)?,
            summary: r.try_get(3)?,
            service: r.try_get(4)?,
            host: r.try_get(5)?,
        }))
    }
    fn firing_alerts(&self) -> StoreResult<Vec<FiringAlert>> {
        self.map(
            concat!(
                "SELECT ",
                firing_columns!(),
                " FROM alerts WHERE status = 'firing' ORDER BY id"
            ),
            &[],
            rows::firing_alert,
        )
    }
    fn firing_alert(&self, id: i64) -> StoreResult<Option<FiringAlert>> {
        self.opt_row(
            concat!("SELECT ", firing_columns!(), " FROM alerts WHERE id = $1"),
            &[&id],
        )?
        .as_ref()
        .map(rows::firing_alert)
        .transpose()
    }

    fn silence(&self, id: &str) -> StoreResult<Option<SilenceRecord>> {
        self.opt_row(
            concat!(
                "SELECT ",
                silence_columns!(),
                " FROM silences WHERE id = $1"
            ),
            &[&id],
        )?
        .as_ref()
        .map(rows::silence)
        .transpose()
    }
    fn upsert_silence(&self, s: &SilenceRecord) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO silences (",
                silence_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers,
                     starts_at = excluded.starts_at, ends_at = excluded.ends_at,
                     updated_at = excluded.updated_at, created_by = excluded.created_by,
                     comment = excluded.comment, actor = excluded.actor,
                     expired_by = excluded.expired_by, replaced_by = excluded.replaced_by,
                     engine_state = excluded.engine_state"
            ),
            &[
                &s.id,
                &matchers_json(&s.spec.matchers),
                &s.spec.starts_at,
                &s.spec.ends_at,
                &s.updated_at,
                &s.spec.created_by,
                &s.spec.comment,
                &s.actor,
                &s.expired_by,
                &s.replaced_by,
                &s.engine_state.as_str(),
            ],
        )?;
        Ok(())
    }
    fn silence_audit(&self, line: &AuditLine) -> StoreResult<()> {
        self.exec(
            "INSERT INTO silence_audit (target, at, actor, action, comment)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &line.target,
                &line.at,
                &line.actor,
                &line.action,
                &line.comment,
            ],
        )?;
        Ok(())
    }
    fn insert_window(&self, w: &WindowRow) -> StoreResult<bool> {
        let spec = to_json(&w.spec, "a maintenance window")?;
        let n = self.exec(
            "INSERT INTO maintenance_windows (id, spec, author, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[&w.spec.name, &spec, &w.author, &w.created_at, &w.created_by],
        )?;
        Ok(n == 1)
    }
    fn delete_window(&self, id: &str, at: Millis, by: &str) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE maintenance_windows SET deleted_at = $2, deleted_by = $3
             WHERE id = $1 AND deleted_at IS NULL",
            &[&id, &at, &by],
        )?;
        Ok(n == 1)
    }

    fn live_overrides(&self, schedule: &str, from: Millis) -> StoreResult<Vec<Override>> {
        self.map(
            "SELECT user_id, starts_at, ends_at FROM schedule_overrides
             WHERE schedule = $1 AND ends_at > $2 AND deleted_at IS NULL
             ORDER BY created_at, id",
            &[&schedule, &from],
            |r| {
                Ok(Override {
                    user: r.try_get(0)?,
                    start: r.try_get(1)?,
                    end: r.try_get(2)?,
                })
            },
        )
    }
    fn insert_override(&self, o: &NewOverride<'_>) -> StoreResult<bool> {
        let n = self.exec(
            "INSERT INTO schedule_overrides (id, schedule, user_id, starts_at, ends_at, reason,
                 created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO NOTHING",
            &[
                &o.id,
                &o.schedule,
                &o.user,
                &o.start,
                &o.end,
                &o.reason,
                &o.at,
                &o.by,
            ],
        )?;
        Ok(n == 1)
    }
    fn delete_override(&self, schedule: &str, id: i64, at: Millis, by: &str) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE schedule_overrides SET deleted_at = $3, deleted_by = $4
             WHERE id = $1 AND schedule = $2 AND deleted_at IS NULL",
            &[&id, &schedule, &at, &by],
        )?;
        Ok(n == 1)
    }

    fn escalation(&self, incident_id: i64) -> StoreResult<Option<EscalationRow>> {
        self.opt_row(
            concat!(
                "SELECT ",
                escalation_columns!(),
                " FROM escalations WHERE incident_id = $1"
            ),
            &[&incident_id],
        )?
        .as_ref()
        .map(rows::escalation)
        .transpose()
    }
    fn save_escalation(&self, e: &EscalationRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO escalations (",
                escalation_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (incident_id) DO UPDATE SET policy = excluded.policy,
                     level = excluded.level, round = excluded.round,
                     next_at = excluded.next_at, state = excluded.state,
                     started_at = excluded.started_at"
            ),
            &[
                &e.incident_id,
                &e.policy,
                &(e.level as i64),
                &i64::from(e.round),
                &e.next_at,
                &e.state,
                &e.started_at,
            ],
        )?;
        Ok(())
    }
    fn take_team_turn(&self, team: &str) -> StoreResult<i64> {
        // SQLite's read-then-write in one statement: the turn taken is the one before the
        // increment (0 for a team's first).
        Ok(self
            .row(
                "INSERT INTO team_rotation (team, next) VALUES ($1, 1)
                 ON CONFLICT (team) DO UPDATE SET next = team_rotation.next + 1
                 RETURNING next - 1",
                &[&team],
            )?
            .try_get(0)?)
    }
    fn insert_notification(&self, n: &NewNotification<'_>) -> StoreResult<i64> {
        Ok(self
            .row(
                "INSERT INTO notifications (incident_id, user_id, contact, contact_type, address,
                     channel, level, round, reason, due_at, only_if_unacked, state, created_at,
                     kind, since, actor, comment)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $14,
                     $15, $16)
                 RETURNING id",
                &[
                    &n.incident_id,
                    &n.user,
                    &(n.contact as i64),
                    &n.contact_type,
                    &n.address,
                    &n.channel,
                    &n.level.map(|l| l as i64),
                    &n.round.map(i64::from),
                    &n.reason,
                    &n.due_at,
                    &n.only_if_unacked,
                    &n.at,
                    &n.kind,
                    &n.since,
                    &n.actor,
                    &n.comment,
                ],
            )?
            .try_get(0)?)
    }
    fn cancel_notifications(
        &self,
        incident_id: i64,
        only_unacked_ones: bool,
    ) -> StoreResult<usize> {
        let sql = if only_unacked_ones {
            "UPDATE notifications SET state = 'cancelled'
             WHERE incident_id = $1 AND state = 'pending' AND only_if_unacked"
        } else {
            "UPDATE notifications SET state = 'cancelled'
             WHERE incident_id = $1 AND state = 'pending'
                 AND kind NOT IN ('acknowledged', 'resolved')"
        };
        Ok(self.exec(sql, &[&incident_id])? as usize)
    }
    fn notification(&self, id: i64) -> StoreResult<Option<NotificationRow>> {
        self.opt_row(
            concat!(
                "SELECT ",
                notification_columns!(),
                " FROM notifications WHERE id = $1"
            ),
            &[&id],
        )?
        .as_ref()
        .map(rows::notification)
        .transpose()
    }
    fn user_notifications(
        &self,
        incident_id: i64,
        user: &str,
    ) -> StoreResult<Vec<(usize, i64, String, Millis)>> {
        self.map(
            "SELECT contact, id, state, due_at FROM notifications
             WHERE incident_id = $1 AND user_id = $2 ORDER BY id",
            &[&incident_id, &user],
            |r| {
                Ok((
                    r.try_get::<_, i64>(0)? as usize,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                ))
            },
        )
    }
    fn bring_forward(&self, id: i64, at: Millis) -> StoreResult<()> {
        self.exec(
            "UPDATE notifications SET due_at = LEAST(due_at, $2)
             WHERE id = $1 AND state = 'pending'",
            &[&id, &at],
        )?;
        Ok(())
    }
    fn record_attempt(
        &self,
        id: i64,
        state: &str,
        retry_at: Option<Millis>,
        error: Option<&str>,
        at: Millis,
    ) -> StoreResult<()> {
        self.exec(
            "UPDATE notifications SET state = $2, attempts = attempts + 1, last_error = $4,
                 due_at = coalesce($3, due_at),
                 sent_at = CASE WHEN $2::TEXT = 'sent' THEN $5::BIGINT ELSE sent_at END
             WHERE id = $1",
            &[&id, &state, &retry_at, &error, &at],
        )?;
        Ok(())
    }
    fn paged_contacts(&self, incident_id: i64) -> StoreResult<Vec<Paged>> {
        self.map(
            "SELECT user_id, contact, channel, address FROM notifications
             WHERE incident_id = $1 AND state = 'sent' AND kind IN ('page', 'update', 'repeat')
             ORDER BY sent_at, id",
            &[&incident_id],
            |r| {
                Ok(Paged {
                    user: r.try_get(0)?,
                    contact: r.try_get::<_, i64>(1)? as usize,
                    channel: r.try_get(2)?,
                    address: r.try_get(3)?,
                })
            },
        )
    }
    fn save_group_timers(&self, t: &GroupTimerRow) -> StoreResult<()> {
        if !t.is_running() {
            self.exec(
                "DELETE FROM group_timers WHERE incident_id = $1",
                &[&t.incident_id],
            )?;
            return Ok(());
        }
        self.exec(
            "INSERT INTO group_timers (incident_id, wait_until, next_update_at, announced,
                 announced_at, next_repeat_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (incident_id) DO UPDATE SET wait_until = excluded.wait_until,
                 next_update_at = excluded.next_update_at, announced = excluded.announced,
                 announced_at = excluded.announced_at, next_repeat_at = excluded.next_repeat_at",
            &[
                &t.incident_id,
                &t.wait_until,
                &t.next_update_at,
                &t.announced,
                &t.announced_at,
                &t.next_repeat_at,
            ],
        )?;
        Ok(())
    }
    fn paged_people(&self, incident_id: i64, at: Millis) -> StoreResult<Vec<(String, usize)>> {
        self.map(
            "SELECT user_id, min(contact) FROM notifications
             WHERE incident_id = $1 AND kind = 'page' AND contact_type <> 'voice'
               AND state IN ('pending', 'sent') AND due_at <= $2
             GROUP BY user_id ORDER BY min(id)",
            &[&incident_id, &at],
            |r| Ok((r.try_get(0)?, r.try_get::<_, i64>(1)? as usize)),
        )
    }
    fn last_page_at(&self, incident_id: i64) -> StoreResult<Option<Millis>> {
        Ok(self
            .row(
                "SELECT max(created_at) FROM notifications
                 WHERE incident_id = $1 AND kind <> 'update' AND state <> 'cancelled'",
                &[&incident_id],
            )?
            .try_get(0)?)
    }
    fn escalation_level(&self, incident_id: i64) -> StoreResult<Option<(String, usize, String)>> {
        let row = self.opt_row(
            "SELECT policy, level, state FROM escalations WHERE incident_id = $1",
            &[&incident_id],
        )?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some((
            r.try_get(0)?,
            r.try_get::<_, i64>(1)? as usize,
            r.try_get(2)?,
        )))
    }

    fn save_storm(&self, s: &StormRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO storms (",
                storm_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (id) DO UPDATE SET scope = excluded.scope,
                     service = excluded.service, started_at = excluded.started_at,
                     ended_at = excluded.ended_at, start_rate = excluded.start_rate,
                     baseline_rate = excluded.baseline_rate, peak_rate = excluded.peak_rate,
                     alerts = excluded.alerts, incidents = excluded.incidents,
                     lead_incident = excluded.lead_incident, summaries = excluded.summaries,
                     next_summary_at = excluded.next_summary_at,
                     alerts_at_summary = excluded.alerts_at_summary"
            ),
            &[
                &s.id,
                &s.scope,
                &s.service,
                &s.started_at,
                &s.ended_at,
                &s.start_rate,
                &s.baseline_rate,
                &s.peak_rate,
                &s.alerts,
                &s.incidents,
                &s.lead_incident,
                &s.summaries,
                &s.next_summary_at,
                &s.alerts_at_summary,
            ],
        )?;
        Ok(())
    }
    fn link_storm_incident(&self, storm_id: i64, incident_id: i64, held: bool) -> StoreResult<()> {
        self.exec(
            "INSERT INTO storm_incidents (storm_id, incident_id, held) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&storm_id, &incident_id, &held],
        )?;
        Ok(())
    }
    fn save_storm_rate(&self, scope: &str, state: Option<&str>) -> StoreResult<()> {
        match state {
            Some(state) => self.exec(
                "INSERT INTO storm_rates (scope, state) VALUES ($1, $2)
                 ON CONFLICT (scope) DO UPDATE SET state = excluded.state",
                &[&scope, &state],
            )?,
            None => self.exec("DELETE FROM storm_rates WHERE scope = $1", &[&scope])?,
        };
        Ok(())
    }
    fn last_notification_id(&self) -> StoreResult<i64> {
        Ok(self
            .row("SELECT coalesce(max(id), 0) FROM notifications", &[])?
            .try_get(0)?)
    }
    fn mark_storm_summaries(
        &self,
        incident_id: i64,
        after: i64,
        storm_id: i64,
        summary: i64,
    ) -> StoreResult<usize> {
        Ok(self.exec(
            "INSERT INTO storm_notifications (notification_id, storm_id, summary)
             SELECT id, $3::BIGINT, $4::BIGINT FROM notifications
             WHERE incident_id = $1 AND id > $2",
            &[&incident_id, &after, &storm_id, &summary],
        )? as usize)
    }
}
