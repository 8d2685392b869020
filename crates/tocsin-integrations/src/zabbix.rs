//! Zabbix webhook media type. (Being built: refuses every payload until its adapter lands.)

use crate::{Adapter, Inbound, IntakeContext, IntakeError};
use tocsin_core::event::Event;

pub struct Zabbix;

impl Adapter for Zabbix {
    fn name(&self) -> &'static str {
        "zabbix"
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
