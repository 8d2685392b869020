//! Paging in the engine: each incident's escalation (which level was paged, when the next is
//! due), turning a level's targets into people and a person's rules into notifications in
//! the outbox, and the dispatcher's delivery reports into the timeline.
//!
//! Escalation steps fall due like alert expiries: commands and cues at their log time, due
//! steps when the engine's horizon passes them, so a restart (or a replay of the log) pages
//! exactly the levels the live run would, and a level that fell due while tocsin was down
//! fires as soon as it is back.

use crate::apply::ENGINE;
use crate::index::Index;
use crate::pending::{PagingCue, Pending, TimelineEntry};
use std::collections::{BTreeSet, HashMap};
use tocsin_core::command::{DeliveryOutcome, DeliveryReport, ReassignTo};
use tocsin_core::config::Config;
use tocsin_core::incident::IncidentState;
use tocsin_core::paging::{
    next_step, plan_for_user, EscalationPolicy, EscalationState, FollowUpKind, Step, Target,
};
use tocsin_core::priority::Level;
use tocsin_core::schedule::on_call_at;
use tocsin_core::time::{to_rfc3339, Millis};
use tocsin_store::engine::{EngineTx, EscalationRow, NewNotification, StoreResult};

/// Rows kept per incident (its escalation, its group timers) and when each falls due next,
/// earliest first.
pub struct DueRows<R> {
    rows: HashMap<i64, R>,
    due: BTreeSet<(Millis, i64)>,
}

/// A row of `DueRows`.
pub trait Due {
    /// Whether a row with nothing due is kept (to be looked up) or dropped.
    const KEEP_IDLE: bool;
    fn incident(&self) -> i64;
    fn next_at(&self) -> Option<Millis>;
}

impl<R> Default for DueRows<R> {
    fn default() -> Self {
        DueRows {
            rows: HashMap::new(),
            due: BTreeSet::new(),
        }
    }
}

impl<R: Due> DueRows<R> {
    pub(crate) fn from_rows(rows: Vec<R>) -> DueRows<R> {
        let mut d = DueRows::default();
        for row in rows {
            d.put(row);
        }
        d
    }

    pub fn next_due(&self) -> Option<Millis> {
        self.due.first().map(|&(at, _)| at)
    }

    pub(crate) fn get(&self, incident: i64) -> Option<&R> {
        self.rows.get(&incident)
    }

    /// Takes the earliest (time, incident) due by `now` off the queue; its row stays, and
    /// is due again when it is put back with a later time.
    pub(crate) fn pop_due(&mut self, now: Millis) -> Option<(Millis, i64)> {
        let &(at, incident) = self.due.first()?;
        (at <= now).then(|| {
            self.due.pop_first();
            (at, incident)
        })
    }

    /// Whether the row's next time is on the queue (it is not while a due step is held).
    pub(crate) fn is_queued(&self, incident: i64) -> bool {
        self.rows
            .get(&incident)
            .and_then(R::next_at)
            .is_some_and(|at| self.due.contains(&(at, incident)))
    }

    pub(crate) fn put(&mut self, row: R) {
        let incident = row.incident();
        if let Some(at) = self.rows.get(&incident).and_then(R::next_at) {
            self.due.remove(&(at, incident));
        }
        match row.next_at() {
            Some(at) => {
                self.due.insert((at, incident));
            }
            None if !R::KEEP_IDLE => {
                self.rows.remove(&incident);
                return;
            }
            None => {}
        }
        self.rows.insert(incident, row);
    }
}

/// The escalations still moving, and when each moves next; a stopped one is kept, to say
/// where it stood.
pub type Escalations = DueRows<EscalationRow>;

impl Due for EscalationRow {
    const KEEP_IDLE: bool = true;

    fn incident(&self) -> i64 {
        self.incident_id
    }

    fn next_at(&self) -> Option<Millis> {
        self.next_at
    }
}

impl Escalations {
    pub fn load(conn: &dyn EngineTx) -> StoreResult<Escalations> {
        Ok(DueRows::from_rows(conn.load_escalations()?))
    }
}

/// Who a level pages, and through what (for the timeline and each notification's reason).
pub(crate) struct Person {
    pub(crate) user: String,
    via: String,
}

impl Index {
    /// Acts on the batch's cues, then on the escalation steps and group timers due by `now`,
    /// each at its own time. Tells whether notifications were added (the dispatcher is woken
    /// then).
    pub(crate) fn run_paging(
        &mut self,
        config: &Config,
        now: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let mut added = false;
        for cue in std::mem::take(&mut p.paging) {
            added |= self.on_cue(config, cue, conn, p)?;
        }
        while let Some((at, incident)) = self.escalations.pop_due(now) {
            added |= self.step_due(config, incident, at, conn, p)?;
        }
        while let Some((at, incident)) = self.group_timers.pop_due(now) {
            added |= self.group_timer(config, incident, at, conn, p)?;
        }
        Ok(added)
    }

    fn on_cue(
        &mut self,
        config: &Config,
        cue: PagingCue,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        match cue {
            // Through the route's timing: a new incident may wait for more alerts first.
            PagingCue::Triggered { incident, at } => {
                self.on_triggered(config, incident, at, true, conn, p)
            }
            PagingCue::Reopened { incident, at } => {
                self.on_triggered(config, incident, at, false, conn, p)
            }
            PagingCue::Refired { incident, at } => {
                // A step held while nothing fired is taken now: it was due already.
                match self.escalations.rows.get(&incident).cloned() {
                    Some(mut row) if !self.escalations.is_queued(incident) => {
                        if let Some(due) = row.next_at {
                            row.next_at = Some(due.max(at));
                            self.save(conn, row)?;
                        }
                    }
                    _ => {}
                }
                Ok(false)
            }
            PagingCue::Raised { incident, at } => {
                let waiting = self
                    .escalations
                    .rows
                    .get(&incident)
                    .is_some_and(|r| r.state == "waiting");
                let urgent = self.incidents.get(&incident).is_some_and(|i| {
                    i.state == IncidentState::Triggered
                        && config.priority.urgency_of(i.severity) == Level::High
                });
                if !(waiting && urgent) {
                    return Ok(false);
                }
                let Some(policy) = self
                    .escalations
                    .rows
                    .get(&incident)
                    .and_then(|r| config.escalation_policy(&r.policy))
                else {
                    return Ok(false);
                };
                self.page_level(config, incident, policy, 0, 0, at, "now urgent", conn, p)
            }
            PagingCue::Acknowledged { incident, at, by } => {
                let told = self.follow_up(
                    config,
                    incident,
                    FollowUpKind::Acknowledged,
                    &by,
                    at,
                    conn,
                    p,
                )?;
                let Some(mut row) = self.escalations.rows.get(&incident).cloned() else {
                    return Ok(told);
                };
                let policy = config.escalation_policy(&row.policy);
                row.state = "acknowledged".into();
                row.next_at = policy.and_then(|pl| pl.unresolved_after).map(|d| at + d);
                self.save(conn, row)?;
                let n = conn.cancel_notifications(incident, true)?;
                if n > 0 {
                    note(
                        p,
                        incident,
                        at,
                        format!("{n} later notification(s) cancelled: acknowledged"),
                    );
                }
                Ok(told)
            }
            PagingCue::Ended {
                incident,
                at,
                resolved,
            } => {
                self.group_ended(incident, at, conn, p)?;
                if let Some(mut row) = self.escalations.rows.get(&incident).cloned() {
                    row.state = "stopped".into();
                    row.next_at = None;
                    self.save(conn, row)?;
                }
                let n = conn.cancel_notifications(incident, false)?;
                if n > 0 {
                    note(
                        p,
                        incident,
                        at,
                        format!("{n} pending notification(s) cancelled: the incident ended"),
                    );
                }
                match resolved {
                    Some(by) => {
                        self.follow_up(config, incident, FollowUpKind::Resolved, &by, at, conn, p)
                    }
                    None => Ok(false),
                }
            }
            PagingCue::Escalate {
                incident,
                at,
                actor,
            } => {
                let Some(row) = self.escalations.rows.get(&incident).cloned() else {
                    // Started before its service had a policy: start now.
                    return self.start(config, incident, at, conn, p);
                };
                let Some(policy) = config.escalation_policy(&row.policy) else {
                    return Ok(false);
                };
                let state = progress(&row);
                let (level, round) = match next_step(policy, &state) {
                    // Held back for support hours: nobody has been paged yet.
                    _ if row.state == "waiting" => (0, 0),
                    Step::Page { level, round } => (level, round),
                    // Every level has been paged: page the last one again.
                    Step::Exhausted => (row.level, row.round),
                };
                self.page_level(
                    config,
                    incident,
                    policy,
                    level,
                    round,
                    at,
                    &format!("escalated by {actor}"),
                    conn,
                    p,
                )
            }
            PagingCue::Reassign {
                incident,
                at,
                actor,
                to,
            } => {
                let (target, via) = match &to {
                    ReassignTo::User(u) => (Target::User(u.clone()), format!("user {u}")),
                    ReassignTo::Schedule(s) => {
                        (Target::Schedule(s.clone()), format!("schedule {s}"))
                    }
                };
                let people = self.resolve_targets(config, &[target], at, conn)?;
                let added = self.notify_people(
                    config,
                    incident,
                    &people,
                    None,
                    at,
                    &format!("reassigned by {actor}"),
                    "page",
                    conn,
                    p,
                )?;
                // Escalation goes on from where it was, for the new assignee to answer.
                if let Some(mut row) = self.escalations.rows.get(&incident).cloned() {
                    if let Some(policy) = config.escalation_policy(&row.policy) {
                        row.state = "running".into();
                        row.next_at =
                            Some(at + policy.levels.get(row.level).map_or(0, |l| l.delay));
                        self.save(conn, row)?;
                    }
                }
                note(p, incident, at, format!("paged {via} (reassigned)"));
                Ok(added)
            }
        }
    }

    /// A new (or reopened) incident: its service's policy pages level one now.
    pub(crate) fn start(
        &mut self,
        config: &Config,
        incident: i64,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let Some(i) = self.incidents.get(&incident) else {
            return Ok(false);
        };
        let (service_id, severity) = (i.service.clone(), i.severity);
        if self.held_by_storm(incident, at, p) {
            return Ok(false);
        }
        let service = config.service_or_discovered(&service_id);
        let Some(policy) = config.policy_for(&service) else {
            // Worth a line only where paging is set up at all: then it is a gap in the config.
            if !config.escalation_policies.is_empty() {
                note(
                    p,
                    incident,
                    at,
                    format!("service {service_id} has no escalation policy: nobody is paged"),
                );
            }
            return Ok(false);
        };
        // Outside its service's support hours an incident that is not urgent waits for them.
        let urgency = config.priority.urgency_of(severity);
        if let Some(hours) = &service.support_hours {
            if urgency != Level::High && !hours.contains(at) {
                let from = hours.next_start(at);
                self.save(
                    conn,
                    EscalationRow {
                        incident_id: incident,
                        policy: policy.id.clone(),
                        level: 0,
                        round: 0,
                        next_at: from,
                        state: "waiting".into(),
                        started_at: at,
                    },
                )?;
                let when = from.map(to_rfc3339).unwrap_or_else(|| "never".into());
                note(
                    p,
                    incident,
                    at,
                    format!(
                        "outside the support hours of {service_id}: {} urgency pages at {when}",
                        urgency.as_str()
                    ),
                );
                return Ok(false);
            }
        }
        self.page_level(config, incident, policy, 0, 0, at, "triggered", conn, p)
    }

    /// An escalation step fell due: the next level if nobody acknowledged, a reminder up
    /// the levels if acknowledged but unresolved for too long.
    fn step_due(
        &mut self,
        config: &Config,
        incident: i64,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let Some(mut row) = self.escalations.rows.get(&incident).cloned() else {
            return Ok(false);
        };
        let state = self.incidents.get(&incident).map(|i| i.state);
        let Some(policy) = config.escalation_policy(&row.policy) else {
            row.next_at = None;
            row.state = "stopped".into();
            self.save(conn, row)?;
            return Ok(false);
        };
        if let Some(why) = self.escalation_held(config, incident) {
            // Open though nothing fires: nothing to wake anyone for. The step stays due but
            // off the queue until one of its alerts fires again (`PagingCue::Refired`); a
            // restart queues it again and it is held again.
            note(
                p,
                incident,
                at,
                format!("escalation held: none of its alerts fires ({why})"),
            );
            return Ok(false);
        }
        match (row.state.as_str(), state) {
            ("waiting", Some(IncidentState::Triggered)) => self.page_level(
                config,
                incident,
                policy,
                0,
                0,
                at,
                "support hours began",
                conn,
                p,
            ),
            ("running", Some(IncidentState::Triggered)) => {
                let s = progress(&row);
                match next_step(policy, &s) {
                    Step::Page { level, round } => self.page_level(
                        config,
                        incident,
                        policy,
                        level,
                        round,
                        at,
                        "not acknowledged in time",
                        conn,
                        p,
                    ),
                    Step::Exhausted => {
                        row.state = "done".into();
                        row.next_at = None;
                        self.save(conn, row)?;
                        note(
                            p,
                            incident,
                            at,
                            format!(
                                "escalation policy {} exhausted: nobody acknowledged",
                                policy.id
                            ),
                        );
                        Ok(false)
                    }
                }
            }
            ("acknowledged", Some(IncidentState::Acknowledged)) => {
                let s = progress(&row);
                let (level, round) = match next_step(policy, &s) {
                    Step::Page { level, round } => (level, round),
                    Step::Exhausted => (row.level, row.round),
                };
                let added = self.page_level(
                    config,
                    incident,
                    policy,
                    level,
                    round,
                    at,
                    "acknowledged but not resolved in time",
                    conn,
                    p,
                )?;
                Ok(added)
            }
            _ => {
                row.state = "stopped".into();
                row.next_at = None;
                self.save(conn, row)?;
                Ok(false)
            }
        }
    }

    /// Pages one level of a policy at `at` and schedules what comes after it.
    #[allow(clippy::too_many_arguments)]
    fn page_level(
        &mut self,
        config: &Config,
        incident: i64,
        policy: &EscalationPolicy,
        level: usize,
        round: u32,
        at: Millis,
        why: &str,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let Some(l) = policy.levels.get(level) else {
            return Ok(false);
        };
        let people = self.resolve_targets(config, &l.targets, at, conn)?;
        let prefix = format!(
            "level {} of policy {} (pass {}), {why}",
            level + 1,
            policy.id,
            round + 1
        );
        let added = self.notify_people(
            config,
            incident,
            &people,
            Some((level, round)),
            at,
            &prefix,
            "page",
            conn,
            p,
        )?;
        let names: Vec<String> = people
            .iter()
            .map(|x| format!("{} ({})", x.user, x.via))
            .collect();
        let who = if names.is_empty() {
            "nobody (no one on call)".to_string()
        } else {
            names.join(", ")
        };
        note(p, incident, at, format!("paged {prefix}: {who}"));
        let state = EscalationState {
            level,
            round,
            next_at: None,
        };
        let next_at = match next_step(policy, &state) {
            Step::Page { .. } => Some(at + l.delay),
            Step::Exhausted => None,
        };
        let old = self.escalations.rows.get(&incident);
        let started_at = old.map_or(at, |r| r.started_at);
        // Paging a level of an acknowledged incident (escalate now, or a reminder that it is
        // still not resolved) keeps it acknowledged: the next step is the next reminder.
        let acknowledged = self
            .incidents
            .get(&incident)
            .is_some_and(|i| i.state == IncidentState::Acknowledged);
        let (state, next_at) = if acknowledged {
            ("acknowledged", policy.unresolved_after.map(|d| at + d))
        } else if next_at.is_some() {
            ("running", next_at)
        } else {
            ("done", None)
        };
        self.save(
            conn,
            EscalationRow {
                incident_id: incident,
                policy: policy.id.clone(),
                level,
                round,
                next_at,
                state: state.into(),
                started_at,
            },
        )?;
        Ok(added)
    }

    /// The people behind targets at `at`: users as they are, whoever is on call in a
    /// schedule (runtime overrides included), all members of a team or the next in turn.
    pub(crate) fn resolve_targets(
        &self,
        config: &Config,
        targets: &[Target],
        at: Millis,
        conn: &dyn EngineTx,
    ) -> StoreResult<Vec<Person>> {
        let mut out: Vec<Person> = Vec::new();
        let mut add = |user: String, via: String| {
            if !out.iter().any(|x| x.user == user) {
                out.push(Person { user, via });
            }
        };
        for t in targets {
            match t {
                Target::User(u) => add(u.clone(), "user".into()),
                Target::Schedule(s) => {
                    if let Some(schedule) = config.schedule(s) {
                        let extra = conn.live_overrides(s, at)?;
                        for u in on_call_at(schedule, &extra, at) {
                            add(u, format!("on call in {s}"));
                        }
                    }
                }
                Target::Team { id, round_robin } => {
                    let Some(team) = config.teams.iter().find(|x| &x.id == id) else {
                        continue;
                    };
                    if team.members.is_empty() {
                        continue;
                    }
                    if *round_robin {
                        let turn = conn.take_team_turn(id)?;
                        let u = &team.members[turn.rem_euclid(team.members.len() as i64) as usize];
                        add(u.clone(), format!("team {id}, in turn"));
                    } else {
                        for u in &team.members {
                            add(u.clone(), format!("team {id}"));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Each person's rules turned into notifications (`page` or `repeat`) in the outbox.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn notify_people(
        &self,
        config: &Config,
        incident: i64,
        people: &[Person],
        level: Option<(usize, u32)>,
        at: Millis,
        why: &str,
        kind: &str,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let Some(i) = self.incidents.get(&incident) else {
            return Ok(false);
        };
        let urgency = config.priority.urgency_of(i.severity);
        let mut added = false;
        for person in people {
            let Some(user) = config.user(&person.user) else {
                note(
                    p,
                    incident,
                    at,
                    format!("cannot notify {}: no such user in the config", person.user),
                );
                continue;
            };
            let (plan, rule) = plan_for_user(user, urgency, at);
            if plan.is_empty() {
                note(
                    p,
                    incident,
                    at,
                    format!("{} is not notified: {}", user.id, rule.0),
                );
                continue;
            }
            for step in plan {
                let contact = &user.contacts[step.contact];
                let Some(channel) = config.channel_for(contact) else {
                    note(
                        p,
                        incident,
                        at,
                        format!(
                            "cannot notify {} by {}: no channel configured",
                            user.id, contact.kind
                        ),
                    );
                    continue;
                };
                let reason = format!("{why}; {}; {}", person.via, rule.0);
                conn.insert_notification(&NewNotification {
                    incident_id: incident,
                    user: &user.id,
                    contact: step.contact,
                    contact_type: &contact.kind,
                    address: &contact.to,
                    channel: &channel.id,
                    level: level.map(|(l, _)| l),
                    round: level.map(|(_, r)| r),
                    reason: &reason,
                    due_at: at + step.after,
                    only_if_unacked: step.after > 0,
                    at,
                    kind,
                    since: None,
                    actor: None,
                    comment: None,
                })?;
                added = true;
            }
        }
        Ok(added)
    }

    /// What the dispatcher did with a notification: recorded, in the timeline, and on a
    /// failure for good the person's next contact is tried.
    pub(crate) fn apply_delivery(
        &mut self,
        config: &Config,
        d: &DeliveryReport,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let Some(n) = conn.notification(d.notification_id)? else {
            return Ok(false);
        };
        if n.state != "pending" {
            return Ok(false);
        }
        let how = format!("{} by {} ({})", n.user, n.contact_type, n.address);
        let mut added = false;
        match &d.outcome {
            DeliveryOutcome::Sent => {
                conn.record_attempt(n.id, "sent", None, None, d.at)?;
                note(p, n.incident_id, d.at, format!("notified {how}"));
            }
            DeliveryOutcome::Retry { retry_at, error } => {
                conn.record_attempt(n.id, "pending", Some(*retry_at), Some(error), d.at)?;
                note(
                    p,
                    n.incident_id,
                    d.at,
                    format!(
                        "notifying {how} failed ({error}); trying again at {}",
                        to_rfc3339(*retry_at)
                    ),
                );
            }
            DeliveryOutcome::Failed { error } => {
                conn.record_attempt(n.id, "failed", None, Some(error), d.at)?;
                note(
                    p,
                    n.incident_id,
                    d.at,
                    format!("could not notify {how}: {error}"),
                );
                // The next way to reach the same person, at once; a follow-up only says what
                // happened, and is not worth another channel.
                let follow_up = FollowUpKind::parse(&n.kind).is_some();
                if let Some(user) = config.user(&n.user).filter(|_| !follow_up) {
                    // The next contact with a channel, now. One already waiting for a later
                    // step is brought forward; one already notified is passed over (with no
                    // rules, every contact was paged at once).
                    let planned = conn.user_notifications(n.incident_id, &n.user)?;
                    let mut next = None;
                    for k in n.contact + 1..user.contacts.len() {
                        if config.channel_for(&user.contacts[k]).is_none() {
                            continue;
                        }
                        match planned.iter().find(|(c, ..)| *c == k) {
                            Some((_, id, state, due)) if state == "pending" && *due > d.at => {
                                conn.bring_forward(*id, d.at)?;
                                added = true;
                                break;
                            }
                            Some(_) => continue,
                            None => {
                                next = Some(k);
                                break;
                            }
                        }
                    }
                    if let Some(k) = next {
                        let contact = &user.contacts[k];
                        let channel = config.channel_for(contact).expect("checked above");
                        let reason =
                            format!("{} failed: falling back; {}", n.contact_type, n.reason);
                        conn.insert_notification(&NewNotification {
                            incident_id: n.incident_id,
                            user: &user.id,
                            contact: k,
                            contact_type: &contact.kind,
                            address: &contact.to,
                            channel: &channel.id,
                            level: n.level.map(|l| l as usize),
                            round: n.round.map(|r| r as u32),
                            reason: &reason,
                            due_at: d.at,
                            only_if_unacked: false,
                            at: d.at,
                            kind: &n.kind,
                            since: n.since,
                            actor: n.actor.as_deref(),
                            comment: n.comment.as_deref(),
                        })?;
                        added = true;
                    }
                }
            }
        }
        Ok(added)
    }

    fn save(&mut self, conn: &dyn EngineTx, row: EscalationRow) -> StoreResult<()> {
        conn.save_escalation(&row)?;
        self.escalations.put(row);
        Ok(())
    }
}

/// Where a stored escalation stands, for the pure step decision.
fn progress(row: &EscalationRow) -> EscalationState {
    EscalationState {
        level: row.level,
        round: row.round,
        next_at: row.next_at,
    }
}

pub(crate) fn note(p: &mut Pending<'_>, incident: i64, at: Millis, message: String) {
    p.timeline(TimelineEntry {
        incident_id: incident,
        at,
        actor: ENGINE.into(),
        kind: "paging",
        message,
    });
}
