//! `tocsin silence add|list|expire`: silences and recurring silences on a running server,
//! through `/api/v1/silences` (durable and audited there).

use crate::client::{Client, ClientArgs};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SilenceCommand {
    /// Silence the alerts the matchers match, for a while or every week.
    Add(AddArgs),
    /// List silences and recurring silences that are not over.
    List(ListArgs),
    /// Expire a silence now, or delete a recurring silence.
    Expire(ExpireArgs),
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// `service="db"`, `host=~"web-.*"`, `alertname!=Watchdog`; repeat for more (all must match).
    #[arg(long, short, required = true)]
    matcher: Vec<String>,
    /// How long, from now (2h, 30m); or give --until.
    #[arg(long, conflicts_with_all = ["until", "every"])]
    duration: Option<String>,
    /// When a one-off silence ends (RFC 3339); with --every, when the recurrence stops.
    #[arg(long)]
    until: Option<String>,
    /// Why; required.
    #[arg(long, short)]
    comment: String,
    /// Who it is from; the token's name if left out.
    #[arg(long)]
    author: Option<String>,
    /// Recurring: the days it starts on (mon,tue,...); every day with --from/--to alone.
    #[arg(long, value_delimiter = ',')]
    every: Option<Vec<String>>,
    /// Recurring: start time of day, HH:MM.
    #[arg(long, requires = "to", requires = "time_zone")]
    from: Option<String>,
    /// Recurring: end time of day, HH:MM (not after --from ends the next day).
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// Recurring: the IANA zone of --from and --to (Asia/Shanghai).
    #[arg(long, requires = "from")]
    time_zone: Option<String>,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Include expired silences (ended in the last 120 hours) and deleted recurring ones.
    #[arg(long)]
    all: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ExpireArgs {
    #[command(flatten)]
    client: ClientArgs,
    id: String,
    /// Why; kept in the audit trail.
    #[arg(long, short)]
    comment: Option<String>,
}

pub fn run(cmd: SilenceCommand) -> ExitCode {
    let result = match cmd {
        SilenceCommand::Add(a) => add(a),
        SilenceCommand::List(a) => list(a),
        SilenceCommand::Expire(a) => expire(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tocsin silence: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The request body `add` sends; one-off or recurring by whether --from is given.
fn body(a: &AddArgs) -> Result<Value, String> {
    let mut body = json!({"matchers": a.matcher, "comment": a.comment});
    if let Some(author) = &a.author {
        body["author"] = json!(author);
    }
    match (&a.from, &a.to, &a.time_zone) {
        (Some(from), Some(to), Some(zone)) => {
            body["recurrence"] = json!({"from": from, "to": to, "time_zone": zone, "days": a.every, "until": a.until});
        }
        _ if a.every.is_some() => return Err("--every needs --from, --to and --time-zone".into()),
        _ => match (&a.duration, &a.until) {
            (Some(d), None) => body["duration"] = json!(d),
            (None, Some(u)) => body["ends_at"] = json!(u),
            _ => {
                return Err(
                    "give --duration or --until (or --from, --to and --time-zone to recur)".into(),
                )
            }
        },
    }
    Ok(body)
}

fn add(a: AddArgs) -> Result<(), String> {
    let made = Client::new(&a.client).post("/api/v1/silences", &body(&a)?)?;
    println!("{}", line(&made));
    Ok(())
}

fn list(a: ListArgs) -> Result<(), String> {
    let query = if a.all {
        vec![("all", "true".to_string())]
    } else {
        Vec::new()
    };
    let page = Client::new(&a.client).get("/api/v1/silences", &query)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&page).unwrap_or_default()
        );
        return Ok(());
    }
    for s in page["items"].as_array().into_iter().flatten() {
        println!("{}", line(s));
    }
    Ok(())
}

fn expire(a: ExpireArgs) -> Result<(), String> {
    let query: Vec<(&str, String)> = a.comment.into_iter().map(|c| ("comment", c)).collect();
    let done = Client::new(&a.client).delete(&format!("/api/v1/silences/{}", a.id), &query)?;
    println!("{}", line(&done));
    Ok(())
}

/// `ID  STATE  MATCHERS  START..END  [every DAYS FROM-TO ZONE]  by AUTHOR: COMMENT`
fn line(s: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    let matchers: Vec<String> = s["matchers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    let mut out = format!(
        "{}  {}  {}  {}..{}",
        text(&s["id"]),
        text(&s["state"]),
        matchers.join(","),
        text(&s["starts_at"]),
        text(&s["ends_at"]),
    );
    let r = &s["recurrence"];
    if r.is_object() {
        let days: Vec<String> = r["days"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        out.push_str(&format!(
            "  [every {} {}-{} {}]",
            days.join(","),
            text(&r["from"]),
            text(&r["to"]),
            text(&r["time_zone"])
        ));
    }
    out.push_str(&format!(
        "  by {}: {}",
        text(&s["author"]),
        text(&s["comment"])
    ));
    out
}
