//! `tocsin send`: post one event, like `amtool alert add`.

use crate::client::{Client, ClientArgs};
use clap::Args;
use serde_json::{json, Map, Value};
use std::process::ExitCode;

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// One line saying what is wrong.
    #[arg(long, short)]
    summary: String,
    /// critical, high, warning or info.
    #[arg(long, default_value = "warning")]
    severity: String,
    /// Send as resolved instead of firing.
    #[arg(long)]
    resolve: bool,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    service: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// The alert identity; default: a fingerprint of source and labels.
    #[arg(long)]
    dedup_key: Option<String>,
    /// A label, NAME=VALUE; repeat for more.
    #[arg(long = "label", short = 'l', value_parser = parse_label)]
    labels: Vec<(String, String)>,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))
}

pub fn run(args: SendArgs) -> ExitCode {
    let mut event = Map::new();
    event.insert("summary".into(), json!(args.summary));
    event.insert("severity".into(), json!(args.severity));
    event.insert(
        "status".into(),
        json!(if args.resolve { "resolved" } else { "firing" }),
    );
    let optional = [
        ("source", args.source),
        ("service", args.service),
        ("description", args.description),
        ("dedup_key", args.dedup_key),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            event.insert(k.into(), json!(v));
        }
    }
    let labels: Map<String, Value> = args
        .labels
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    event.insert("labels".into(), Value::Object(labels));
    match Client::new(&args.client).post("/api/v1/events", &Value::Object(event)) {
        Ok(v) => {
            println!("accepted: {}", v["accepted"]);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tocsin send: {e}");
            ExitCode::FAILURE
        }
    }
}
