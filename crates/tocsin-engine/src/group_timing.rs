//! Alertmanager's notification timing for incidents, per grouping route:
//!
//! - `group_wait`: a new incident's first page waits, collecting further alerts; one that
//!   ends meanwhile pages nobody.
//! - `group_interval`: alerts that join after the first page are told to the people already
//!   paged in one update, at most once per interval (the ticks run from the first page, as
//!   Alertmanager's group ticker does).
//! - `repeat_interval`: while the incident stays triggered and firing, whoever its
//!   escalation has reached is notified again.
//!
//! The timers fall due like escalation steps: at the engine's horizon, each at its own
//! time, so a replay of the log decides the same, and a timer that fell due while tocsin was
//! down fires as soon as it is back (its row is in the store).

use crate::index::Index;
use crate::paging::{note, Due, DueRows};
use crate::pending::Pending;
use tocsin_core::config::{Config, Service};
use tocsin_core::event::Event;
use tocsin_core::incident::IncidentState;
use tocsin_core::routing::GroupTiming;
use tocsin_core::silence::alert_labels;
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineTx, GroupTimerRow, NewNotification, StoreResult};

/// A repeat this close after a page (of an escalation level, say) would page the same
/// people twice in one minute: it is skipped, and the next one comes an interval later.
const MIN_PAGE_GAP: Millis = 60_000;

/// The key of the open incident an event joins, by the route it takes.
pub(crate) fn group_key_of(config: &Config, service: &Service, e: &Event) -> String {
    let policy = &config.incidents;
    // Placing the event again only when the host matters: most configs group without it.
    let host = policy.needs_host().then(|| config.place(e).host).flatten();
    let labels = alert_labels(
        &e.labels,
        &e.name,
        &service.id,
        e.severity.as_str(),
        host.as_deref(),
    );
    policy
        .grouping(&labels)
        .key(e, &service.id, host.as_deref())
}

/// The timers of open incidents, and when each incident's next one falls due.
pub type GroupTimers = DueRows<GroupTimerRow>;

impl Due for GroupTimerRow {
    const KEEP_IDLE: bool = false;

    fn incident(&self) -> i64 {
        self.incident_id
    }

    fn next_at(&self) -> Option<Millis> {
        [self.wait_until, self.next_update_at, self.next_repeat_at]
            .into_iter()
            .flatten()
            .min()
    }
}

impl GroupTimers {
    pub fn load(conn: &dyn EngineTx) -> StoreResult<GroupTimers> {
        Ok(DueRows::from_rows(conn.load_group_timers()?))
    }
}

impl Index {
    /// When paging has something to do next: an escalation step or a group timer.
    pub(crate) fn paging_due(&self) -> Option<Millis> {
        [self.escalations.next_due(), self.group_timers.next_due()]
            .into_iter()
            .flatten()
            .min()
    }

    fn timing(&self, config: &Config, incident: i64) -> Option<GroupTiming> {
        let i = self.incidents.get(&incident)?;
        Some(config.incidents.timing_of(&i.group_key))
    }

    /// A new incident (`wait`) or a reopened one: paged now, or after its route's
    /// `group_wait`; then its update and repeat timers start.
    pub(crate) fn on_triggered(
        &mut self,
        config: &Config,
        incident: i64,
        at: Millis,
        wait: bool,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let Some(timing) = self.timing(config, incident) else {
            return Ok(false);
        };
        if wait && timing.group_wait > 0 {
            let until = at + timing.group_wait;
            self.save_timers(
                conn,
                GroupTimerRow {
                    incident_id: incident,
                    wait_until: Some(until),
                    next_update_at: None,
                    announced: 0,
                    announced_at: at,
                    next_repeat_at: None,
                },
            )?;
            note(
                p,
                incident,
                at,
                format!(
                    "waiting {}s (group_wait) for more alerts before paging",
                    timing.group_wait / 1000
                ),
            );
            return Ok(false);
        }
        self.first_page(config, incident, timing, at, true, conn, p)
    }

    /// Pages level one (if `page`) and starts the update and repeat timers from now.
    #[allow(clippy::too_many_arguments)]
    fn first_page(
        &mut self,
        config: &Config,
        incident: i64,
        timing: GroupTiming,
        at: Millis,
        page: bool,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let added = page && self.start(config, incident, at, conn, p)?;
        let announced = self.incidents.get(&incident).map_or(0, |i| i.alert_count);
        self.save_timers(
            conn,
            GroupTimerRow {
                incident_id: incident,
                wait_until: None,
                next_update_at: Some(at + timing.group_interval),
                announced,
                announced_at: at,
                next_repeat_at: timing.repeat_interval.map(|r| at + r),
            },
        )?;
        Ok(added)
    }

    /// The incident ended: its timers stop; ended within its wait, nobody was paged.
    pub(crate) fn group_ended(
        &mut self,
        incident: i64,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<()> {
        let Some(row) = self.group_timers.get(incident).cloned() else {
            return Ok(());
        };
        if row.wait_until.is_some() {
            note(
                p,
                incident,
                at,
                "ended within group_wait: nobody was paged".into(),
            );
        }
        self.save_timers(
            conn,
            GroupTimerRow {
                wait_until: None,
                next_update_at: None,
                next_repeat_at: None,
                ..row
            },
        )
    }

    /// A group timer of `incident` fell due at `at`.
    pub(crate) fn group_timer(
        &mut self,
        config: &Config,
        incident: i64,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let mut row = self
            .group_timers
            .get(incident)
            .cloned()
            .expect("a row for each timer due");
        let (state, alert_count, firing) = match self.incidents.get(&incident) {
            Some(i) if i.state.is_open() => (i.state, i.alert_count, i.firing_count > 0),
            // Ended (a missed cue, or an incident gone): nothing more to time.
            _ => {
                row.wait_until = None;
                row.next_update_at = None;
                row.next_repeat_at = None;
                self.save_timers(conn, row)?;
                return Ok(false);
            }
        };
        let timing = config
            .incidents
            .timing_of(&self.incidents[&incident].group_key);
        let mut added = false;
        if row.wait_until.is_some_and(|w| w <= at) {
            if state == IncidentState::Triggered {
                // Escalated by hand while it waited: level one was paged then.
                let page = self.escalations.get(incident).is_none();
                return self.first_page(config, incident, timing, at, page, conn, p);
            }
            // Acknowledged while it waited: someone is on it already.
            row.wait_until = None;
            note(
                p,
                incident,
                at,
                "acknowledged within group_wait: nobody was paged".into(),
            );
        }
        if row.next_update_at.is_some_and(|u| u <= at) {
            if alert_count > row.announced {
                added |= self.send_update(config, incident, &row, at, conn, p)?;
                row.announced = alert_count;
                row.announced_at = at;
            }
            row.next_update_at = Some(at + timing.group_interval);
        }
        if row.next_repeat_at.is_some_and(|r| r <= at) {
            if state == IncidentState::Triggered && firing {
                added |= self.repeat(config, incident, at, conn, p)?;
            }
            row.next_repeat_at = timing.repeat_interval.map(|r| at + r);
        }
        self.save_timers(conn, row)?;
        Ok(added)
    }

    /// One update to each person already paged: the alerts that joined since they were
    /// last told. Never over voice (see `paged_people`).
    fn send_update(
        &mut self,
        config: &Config,
        incident: i64,
        row: &GroupTimerRow,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        // During a storm its summary tells the news of the storm's incidents.
        if self.in_storm(incident) {
            return Ok(false);
        }
        let people = conn.paged_people(incident, at)?;
        let new = self.incidents[&incident].alert_count - row.announced;
        let mut told = Vec::new();
        for (user_id, contact) in people {
            let Some(user) = config.user(&user_id) else {
                continue;
            };
            let Some(c) = user.contacts.get(contact) else {
                continue;
            };
            let Some(channel) = config.channel_for(c) else {
                continue;
            };
            conn.insert_notification(&NewNotification {
                incident_id: incident,
                user: &user.id,
                contact,
                contact_type: &c.kind,
                address: &c.to,
                channel: &channel.id,
                level: None,
                round: None,
                reason: &format!("{new} new alert(s) since the last message (group_interval)"),
                due_at: at,
                only_if_unacked: false,
                at,
                kind: "update",
                since: Some(row.announced_at),
                actor: None,
                comment: None,
            })?;
            told.push(user.id.clone());
        }
        if !told.is_empty() {
            note(
                p,
                incident,
                at,
                format!("{new} new alert(s) told to {}", told.join(", ")),
            );
        }
        Ok(!told.is_empty())
    }

    /// Notifies whoever the escalation has reached again, unless someone was paged within
    /// the last minute (an escalation level, say).
    fn repeat(
        &mut self,
        config: &Config,
        incident: i64,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let Some((policy, level, state)) = conn.escalation_level(incident)? else {
            return Ok(false);
        };
        // Held for support hours, or stopped: nobody to repeat to yet.
        if !matches!(state.as_str(), "running" | "done") {
            return Ok(false);
        }
        if conn
            .last_page_at(incident)?
            .is_some_and(|last| at - last < MIN_PAGE_GAP)
        {
            note(
                p,
                incident,
                at,
                "repeat skipped: paged less than a minute ago".into(),
            );
            return Ok(false);
        }
        let Some(targets) = config
            .escalation_policy(&policy)
            .and_then(|pl| pl.levels.get(level))
            .map(|l| l.targets.clone())
        else {
            return Ok(false);
        };
        let people = self.resolve_targets(config, &targets, at, conn)?;
        let why = format!(
            "level {} of policy {policy} again (repeat_interval): still triggered and firing",
            level + 1
        );
        let added =
            self.notify_people(config, incident, &people, None, at, &why, "repeat", conn, p)?;
        let names: Vec<&str> = people.iter().map(|x| x.user.as_str()).collect();
        note(
            p,
            incident,
            at,
            format!("repeated {why}: {}", names.join(", ")),
        );
        Ok(added)
    }

    fn save_timers(&mut self, conn: &dyn EngineTx, row: GroupTimerRow) -> StoreResult<()> {
        conn.save_group_timers(&row)?;
        self.group_timers.put(row);
        Ok(())
    }
}
