//! Live updates: a server-sent event stream that says "something changed" whenever the
//! engine has applied more of the log, at most once a second. Pages then fetch their own
//! part again with their filters, so the stream needs no knowledge of what a page shows.

use super::accounts::Viewer;
use crate::state::SharedState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often the stream looks at the engine's progress.
const POLL: Duration = Duration::from_millis(250);
/// The fewest milliseconds between two change events: a storm must not make every open
/// console refetch its page hundreds of times a second.
const MIN_GAP: Duration = Duration::from_secs(1);

pub async fn stream(
    State(s): State<SharedState>,
    _viewer: Viewer,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let start = s.stats.applied_lsn.load(Ordering::Acquire);
    let events = stream::unfold((s, start, None), |(s, seen, last)| async move {
        loop {
            // A stream left open would hold up a graceful shutdown; end it instead (the
            // page's EventSource reconnects to the next server).
            if s.shutting_down.load(Ordering::Relaxed) {
                return None;
            }
            if s.stats.applied_lsn.load(Ordering::Acquire) != seen {
                if let Some(sent) = last {
                    let since = Instant::elapsed(&sent);
                    if since < MIN_GAP {
                        tokio::time::sleep(MIN_GAP - since).await;
                    }
                }
                let now = s.stats.applied_lsn.load(Ordering::Acquire);
                let event = Event::default().event("change").data(now.to_string());
                return Some((Ok(event), (s, now, Some(Instant::now()))));
            }
            tokio::time::sleep(POLL).await;
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
