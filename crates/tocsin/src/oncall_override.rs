//! `tocsin oncall override add|list|delete`: runtime overrides on a running server (they are
//! durable and audited there; the config's own overrides are edited in the config).

use crate::client::{Client, ClientArgs};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum OverrideCommand {
    /// Put someone on call instead of whoever the layers say.
    Add(AddArgs),
    /// List the runtime overrides not over yet.
    List(ListArgs),
    /// Delete a runtime override.
    Delete(DeleteArgs),
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[arg(long, short)]
    schedule: String,
    #[arg(long, short)]
    user: String,
    /// RFC 3339, or a wall-clock time on the schedule's clock (2026-03-10T20:00).
    #[arg(long)]
    from: String,
    #[arg(long)]
    to: String,
    /// Why; kept with the override.
    #[arg(long, short, default_value = "")]
    reason: String,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[arg(long, short)]
    schedule: String,
    /// Include deleted overrides (with who deleted them).
    #[arg(long)]
    deleted: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[arg(long, short)]
    schedule: String,
    id: i64,
}

pub fn run(cmd: OverrideCommand) -> ExitCode {
    let result = match cmd {
        OverrideCommand::Add(a) => add(a),
        OverrideCommand::List(a) => list(a),
        OverrideCommand::Delete(a) => delete(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tocsin oncall override: {e}");
            ExitCode::FAILURE
        }
    }
}

fn path(schedule: &str) -> String {
    format!("/api/v1/schedules/{schedule}/overrides")
}

fn add(a: AddArgs) -> Result<(), String> {
    let body = json!({"user": a.user, "from": a.from, "to": a.to, "reason": a.reason});
    let made = Client::new(&a.client).post(&path(&a.schedule), &body)?;
    println!("{}", line(&made));
    Ok(())
}

fn list(a: ListArgs) -> Result<(), String> {
    let query = if a.deleted {
        vec![("deleted", "true".to_string())]
    } else {
        Vec::new()
    };
    let page = Client::new(&a.client).get(&path(&a.schedule), &query)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&page).unwrap_or_default()
        );
        return Ok(());
    }
    for o in page["items"].as_array().into_iter().flatten() {
        println!("{}", line(o));
    }
    Ok(())
}

fn delete(a: DeleteArgs) -> Result<(), String> {
    Client::new(&a.client).delete(&format!("{}/{}", path(&a.schedule), a.id), &[])?;
    println!("override {} deleted", a.id);
    Ok(())
}

/// `ID  USER  START  END  by WHO: REASON [deleted by WHO]`
fn line(o: &Value) -> String {
    let s = |k: &str| o[k].as_str().unwrap_or("").to_string();
    let mut out = format!(
        "{}  {}  {}  {}  by {}",
        o["id"],
        s("user"),
        s("start"),
        s("end"),
        s("created_by")
    );
    if !s("reason").is_empty() {
        out.push_str(&format!(": {}", s("reason")));
    }
    if !o["deleted_by"].is_null() {
        out.push_str(&format!("  [deleted by {}]", s("deleted_by")));
    }
    out
}
