//! An existing Alertmanager's webhook receiver (version 4). (Being built: refuses every payload until its adapter lands.)

use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use tocsin_core::event::Event;

pub struct AlertmanagerWebhook;

impl Adapter for AlertmanagerWebhook {
    fn name(&self) -> &'static str {
        "alertmanager"
    }

    fn parse(
        &self,
        _req: &Inbound<'_>,
        _ctx: &IntakeContext<'_>,
    ) -> Result<Vec<Event>, IntakeError> {
        Err(IntakeError(
            "this integration kind is not available yet".into(),
        ))
    }
}
