//! Schedule overrides made at run time: the engine records them in log order, checking them
//! against the config in force when it applies them (a schedule or user removed since the
//! request was accepted is refused then).

use crate::commands::CommandError;
use tocsin_core::command::{OverrideAction, OverrideCommand};
use tocsin_core::config::Config;
use tocsin_store::engine::{EngineTx, NewOverride, StoreResult};

pub fn apply_override(
    config: &Config,
    c: &OverrideCommand,
    tx: &dyn EngineTx,
) -> StoreResult<Result<(), CommandError>> {
    let conflict = |m: String| Ok(Err(CommandError::Conflict(m)));
    match &c.action {
        OverrideAction::Create {
            id,
            schedule,
            user,
            start,
            end,
            reason,
        } => {
            if config.schedule(schedule).is_none() {
                return conflict(format!("no schedule {schedule:?}"));
            }
            if config.user(user).is_none() {
                return conflict(format!("no user {user:?}"));
            }
            let new = NewOverride {
                id: *id,
                schedule,
                user,
                start: *start,
                end: *end,
                reason,
                at: c.at,
                by: &c.actor,
            };
            if !tx.insert_override(&new)? {
                return conflict(format!("an override {id} exists already"));
            }
            tracing::info!(%schedule, %user, by = %c.actor, "schedule override created");
            Ok(Ok(()))
        }
        OverrideAction::Delete { schedule, id } => {
            if !tx.delete_override(schedule, *id, c.at, &c.actor)? {
                return Ok(Err(CommandError::NotFound(*id)));
            }
            tracing::info!(%schedule, id, by = %c.actor, "schedule override deleted");
            Ok(Ok(()))
        }
    }
}
