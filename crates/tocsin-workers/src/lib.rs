//! tocsin-workers: the work that runs beside the engine rather than in answer to a request.
//!
//! The engine decides who hears what and when and files it in the outbox; the workers carry
//! it out: the dispatcher sends the outbox's notifications and reports each outcome through
//! the event log, and the reminders tell people their shift is about to start. They see the
//! rest of tocsin only through a [`Context`], so the HTTP server is not their dependency:
//! whoever starts the engine starts them ([`Workers::spawn`]) and stops them first.

mod card;
mod context;
mod deliveries;
mod dispatch;
mod reminders;
mod storm_message;

pub use context::Context;
pub use deliveries::{Deliveries, DeliveryMetrics};

use std::sync::Arc;
use std::time::Duration;

/// The running workers.
pub struct Workers {
    /// Sends the outbox's notifications; stopped before the log writer.
    dispatcher: tokio::task::JoinHandle<()>,
    dispatch_stop: Arc<tokio::sync::Notify>,
    /// Sends schedule hand-off reminders; aborted at shutdown.
    reminders: tokio::task::JoinHandle<()>,
}

impl Workers {
    /// Starts every worker on the current Tokio runtime.
    pub fn spawn(context: Arc<Context>) -> Workers {
        let dispatch_stop = Arc::new(tokio::sync::Notify::new());
        Workers {
            dispatcher: dispatch::spawn(context.clone(), dispatch_stop.clone()),
            dispatch_stop,
            reminders: reminders::spawn(context),
        }
    }

    /// Stops them, giving sends under way up to `grace` to finish. Call before closing the
    /// log writer, so that the outcomes they report are still logged.
    pub async fn stop(self, grace: Duration) {
        // Sends under way finish or are cut; what was not reported stays pending in the
        // outbox and goes out after the next start.
        self.dispatch_stop.notify_one();
        // A reminder cut mid-send is harmless: nothing waits for it.
        self.reminders.abort();
        let _ = tokio::time::timeout(grace, self.dispatcher).await;
    }
}
