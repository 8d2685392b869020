//! PagerDuty Events API v2. (Being built: refuses every payload until its adapter lands.)

use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use tocsin_core::event::Event;

pub struct PagerDuty;

impl Adapter for PagerDuty {
    fn name(&self) -> &'static str {
        "pagerduty"
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

/// The body's `routing_key`: PagerDuty's integration key, which tocsin looks up before it
/// reads anything else.
pub fn routing_key(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct KeyOnly {
        routing_key: Option<String>,
    }
    serde_json::from_slice::<KeyOnly>(body)
        .ok()?
        .routing_key
        .filter(|k| !k.is_empty())
}
