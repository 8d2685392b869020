//! Follow-ups in the engine: when an incident that paged people is acknowledged or resolved,
//! each contact its pages reached (and whose channel or own `follow_ups` wants it) gets one
//! message saying so, written to the outbox in the same transaction as the state change, so
//! it is delivered (and retried) like a page. Who gets one is decided in tocsin-core
//! (`follow_up_to`).

use crate::index::Index;
use crate::paging::note;
use crate::pending::{Change, Pending};
use tocsin_core::config::Config;
use tocsin_core::paging::{follow_up_to, FollowUpKind};
use tocsin_core::time::Millis;
use tocsin_store::engine::{EngineTx, NewNotification, StoreResult};

impl Index {
    /// Tells the people paged for the incident that it was acknowledged or resolved. Tells
    /// whether notifications were added.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn follow_up(
        &self,
        config: &Config,
        incident: i64,
        kind: FollowUpKind,
        change: &Change,
        at: Millis,
        conn: &dyn EngineTx,
        p: &mut Pending<'_>,
    ) -> StoreResult<bool> {
        let paged = conn.paged_contacts(incident)?;
        let to = follow_up_to(config, &paged, kind, change.actor.as_deref());
        if to.is_empty() {
            return Ok(false);
        }
        let comment = change.comment.trim();
        let mut who = Vec::new();
        for c in &to {
            let contact_type = config
                .user(&c.user)
                .and_then(|u| u.contacts.get(c.contact))
                .map_or("", |x| x.kind.as_str());
            conn.insert_notification(&NewNotification {
                incident_id: incident,
                user: &c.user,
                contact: c.contact,
                contact_type,
                address: &c.address,
                channel: &c.channel,
                level: None,
                round: None,
                reason: &format!("follow-up: {}; paged before", kind.as_str()),
                due_at: at,
                only_if_unacked: false,
                at,
                kind: kind.as_str(),
                since: None,
                actor: change.actor.as_deref(),
                comment: (!comment.is_empty()).then_some(comment),
            })?;
            who.push(format!("{} by {}", c.user, contact_type));
        }
        note(
            p,
            incident,
            at,
            format!("follow-up ({}) to {}", kind.as_str(), who.join(", ")),
        );
        Ok(true)
    }
}
