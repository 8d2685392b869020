//! Nagios 4 and Icinga 2 through the shipped forwarder. (Being built: refuses every payload until its adapter lands.)

use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use tocsin_core::event::Event;

pub struct Nagios;

impl Adapter for Nagios {
    fn name(&self) -> &'static str {
        "nagios"
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
