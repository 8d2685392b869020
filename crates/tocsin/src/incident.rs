//! `tocsin incident list|show|ack|resolve|escalate|reassign|merge|split`.

use crate::client::{Client, ClientArgs};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum IncidentCommand {
    /// List incidents, newest first.
    List(ListArgs),
    /// Show one incident with its alerts and timeline.
    Show(OneArgs),
    /// Acknowledge an incident.
    Ack(ActArgs),
    /// Resolve an incident.
    Resolve(ActArgs),
    /// Page the next escalation level now.
    Escalate(ActArgs),
    /// Page someone else now (a user, or whoever is on call in a schedule).
    Reassign(ReassignArgs),
    /// Move every alert of an incident into another; the first one resolves.
    Merge(MergeArgs),
    /// Move some alerts of an incident out into one new incident, paged as new.
    Split(SplitArgs),
}

#[derive(Args)]
pub struct MergeArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The incident whose alerts move.
    id: i64,
    /// The open incident they move into.
    #[arg(long)]
    into: i64,
    /// Why; kept in both timelines.
    #[arg(long, short, default_value = "")]
    reason: String,
}

#[derive(Args)]
pub struct SplitArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The incident the alerts leave.
    id: i64,
    /// An alert id to move out; repeat for several.
    #[arg(long = "alert", required = true)]
    alerts: Vec<i64>,
    /// Why; kept in both timelines.
    #[arg(long, short, default_value = "")]
    reason: String,
}

#[derive(Args)]
pub struct ReassignArgs {
    #[command(flatten)]
    client: ClientArgs,
    id: i64,
    /// The user to page.
    #[arg(
        long,
        conflicts_with = "schedule",
        required_unless_present = "schedule"
    )]
    user: Option<String>,
    /// The schedule whose on-call person to page.
    #[arg(long)]
    schedule: Option<String>,
    #[arg(long, short, default_value = "")]
    reason: String,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// triggered, acknowledged, resolved, closed; comma-separated for several.
    #[arg(long)]
    state: Option<String>,
    #[arg(long)]
    service: Option<String>,
    /// P1 to P5.
    #[arg(long)]
    priority: Option<String>,
    /// Text in the title.
    #[arg(long, short)]
    query: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Print the raw JSON answer.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct OneArgs {
    #[command(flatten)]
    client: ClientArgs,
    id: i64,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ActArgs {
    #[command(flatten)]
    client: ClientArgs,
    id: i64,
    /// Why; kept in the timeline.
    #[arg(long, short, default_value = "")]
    reason: String,
}

pub fn run(cmd: IncidentCommand) -> ExitCode {
    let result = match cmd {
        IncidentCommand::List(a) => list(a),
        IncidentCommand::Show(a) => show(a),
        IncidentCommand::Ack(a) => act(a, "acknowledge"),
        IncidentCommand::Resolve(a) => act(a, "resolve"),
        IncidentCommand::Escalate(a) => act(a, "escalate"),
        IncidentCommand::Reassign(a) => reassign(a),
        IncidentCommand::Merge(a) => regroup(
            &a.client,
            a.id,
            "merge",
            json!({"into": a.into, "reason": a.reason}),
        ),
        IncidentCommand::Split(a) => regroup(
            &a.client,
            a.id,
            "split",
            json!({"alerts": a.alerts, "reason": a.reason}),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tocsin incident: {e}");
            ExitCode::FAILURE
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn list(a: ListArgs) -> Result<(), String> {
    let mut query = vec![("limit", a.limit.to_string())];
    for (k, v) in [
        ("state", a.state),
        ("service", a.service),
        ("priority", a.priority),
        ("q", a.query),
    ] {
        if let Some(v) = v {
            query.push((k, v));
        }
    }
    let page = Client::new(&a.client).get("/api/v1/incidents", &query)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&page).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{:<8} {:<4} {:<13} {:<16} {:>6}  {:<20}  TITLE",
        "ID", "PRI", "STATE", "SERVICE", "ALERTS", "CREATED"
    );
    for i in page["items"].as_array().into_iter().flatten() {
        println!(
            "{:<8} {:<4} {:<13} {:<16} {:>6}  {:<20}  {}",
            text(&i["id"]),
            text(&i["priority"]),
            text(&i["state"]),
            text(&i["service"]),
            text(&i["alert_count"]),
            text(&i["created_at"]).chars().take(19).collect::<String>(),
            text(&i["title"])
        );
    }
    if !page["next_cursor"].is_null() {
        println!(
            "(more: raise --limit or use the API with cursor={})",
            text(&page["next_cursor"])
        );
    }
    Ok(())
}

fn print_incident(i: &Value) {
    println!(
        "incident {}  {}  {}",
        text(&i["id"]),
        text(&i["priority"]),
        text(&i["state"])
    );
    println!("  title:    {}", text(&i["title"]));
    println!(
        "  service:  {} (team {})",
        text(&i["service"]),
        text(&i["team"])
    );
    println!("  assignee: {}", text(&i["assignee"]));
    println!(
        "  alerts:   {} ({} firing)",
        text(&i["alert_count"]),
        text(&i["firing_count"])
    );
    println!("  created:  {}", text(&i["created_at"]));
}

fn show(a: OneArgs) -> Result<(), String> {
    let i = Client::new(&a.client).get(&format!("/api/v1/incidents/{}", a.id), &[])?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&i).unwrap_or_default());
        return Ok(());
    }
    print_incident(&i);
    println!("alerts:");
    for al in i["alerts"].as_array().into_iter().flatten() {
        println!(
            "  #{:<8} {:<9} {:<8} x{:<5} {}",
            text(&al["id"]),
            text(&al["status"]),
            text(&al["severity"]),
            text(&al["occurrences"]),
            text(&al["summary"])
        );
    }
    println!("timeline:");
    for t in i["timeline"].as_array().into_iter().flatten() {
        println!(
            "  {}  {:<18} {:<10} {}",
            text(&t["at"]),
            text(&t["kind"]),
            text(&t["actor"]),
            text(&t["message"])
        );
    }
    Ok(())
}

fn reassign(a: ReassignArgs) -> Result<(), String> {
    let body = json!({"reason": a.reason, "user": a.user, "schedule": a.schedule});
    let i = Client::new(&a.client).post(&format!("/api/v1/incidents/{}/reassign", a.id), &body)?;
    print_incident(&i);
    Ok(())
}

fn act(a: ActArgs, verb: &str) -> Result<(), String> {
    let body = json!({"reason": a.reason});
    let i = Client::new(&a.client).post(&format!("/api/v1/incidents/{}/{verb}", a.id), &body)?;
    print_incident(&i);
    Ok(())
}

/// Merge or split: prints the incident the alerts are in afterwards.
fn regroup(client: &ClientArgs, id: i64, verb: &str, body: Value) -> Result<(), String> {
    let i = Client::new(client).post(&format!("/api/v1/incidents/{id}/{verb}"), &body)?;
    print_incident(&i);
    Ok(())
}
