//! Storm summaries in the dispatcher: an outbox row the engine filed as a storm's summary is
//! sent as one message about the whole storm, its figures read now, so an update that waited
//! for a rate limit still tells the latest (see docs/storms.md).

use crate::context::Context;
use tocsin_notify::{Message, MessageKind, StormNote};
use tocsin_store::sqlite::paging::NotificationRow;
use tocsin_store::sqlite::storms;

/// The message with its storm summary, when one of the group's notifications is one.
pub async fn with_summary(
    ctx: &Context,
    group: &[NotificationRow],
    mut message: Message,
) -> Message {
    let ids: Vec<i64> = group.iter().map(|n| n.id).collect();
    let found = ctx
        .read(move |c| {
            let Some((storm, number)) = storms::summary_among(c, &ids)? else {
                return Ok(None);
            };
            storms::summary(c, storm, number)
        })
        .await;
    let Ok(Some(s)) = found else {
        return message;
    };
    message.kind = MessageKind::Storm;
    message.storm = Some(StormNote {
        id: s.id,
        scope: s.service.unwrap_or_else(|| "all services".into()),
        summary: s.summary,
        alerts: s.alerts,
        incidents: s.incidents,
        services: s.services,
        hosts: s.hosts,
        peak_rate: s.peak_rate,
        normal_rate: s.baseline_rate,
        top_alerts: s.top_alerts,
    });
    message
}
