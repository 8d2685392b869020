//! Nightingale event callback. (Being built: refuses every payload until its adapter lands.)

use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use tocsin_core::event::Event;

pub struct Nightingale;

impl Adapter for Nightingale {
    fn name(&self) -> &'static str {
        "nightingale"
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
