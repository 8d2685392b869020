//! How fast the engine folds events into the store: `cargo bench -p tocsin-engine`.
//! Applies N distinct firing alerts (then N repeats) in batches, as the live server does,
//! and prints events per second for each phase.

use arc_swap::ArcSwap;
use std::sync::Arc;
use std::time::Instant;
use tocsin_core::clock::ManualClock;
use tocsin_core::config::Config;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_engine::{Engine, EngineStats, Input};
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::SqliteEngineStore;

fn alert(i: usize) -> Event {
    let labels = [
        ("alertname".to_string(), format!("HighLatency{}", i % 20)),
        ("service".to_string(), format!("svc-{}", i % 50)),
        ("instance".to_string(), format!("host-{i}:9100")),
        ("severity".to_string(), "critical".to_string()),
    ];
    Event {
        source: "prometheus".into(),
        integration: String::new(),
        dedup_key: format!("{i:032x}"),
        status: Status::Firing,
        severity: Severity::Critical,
        name: format!("HighLatency{}", i % 20),
        summary: format!("p99 latency above 500ms on host-{i}"),
        description: String::new(),
        service: Some(format!("svc-{}", i % 50)),
        labels: labels.into(),
        links: vec![],
        occurred_at: 1_767_225_600_000,
        received_at: 1_767_225_600_000,
        ends_at: Some(1_767_225_600_000 + 300_000),
    }
}

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let per_request = 100;
    let batch_entries = 200;
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::open(
        Box::new(SqliteEngineStore::open(&dir.path().join("tocsin.db")).unwrap()),
        &dir.path().join("log"),
        0,
        Arc::new(ArcSwap::from_pointee(Config::builtin())),
        Arc::new(ManualClock::new(1_767_225_600_000)),
        Arc::new(EngineStats::default()),
    )
    .unwrap();
    let mut lsn = 0;
    for phase in ["new alerts", "repeats"] {
        let entries: Vec<Vec<Event>> = (0..n)
            .collect::<Vec<_>>()
            .chunks(per_request)
            .map(|c| c.iter().map(|&i| alert(i)).collect())
            .collect();
        let started = Instant::now();
        let mut batch = Vec::new();
        for events in entries {
            lsn += 1;
            batch.push(Input {
                lsn,
                entry: LogEntry::Events(events),
                reply: None,
            });
            if batch.len() == batch_entries {
                engine.process(std::mem::take(&mut batch)).unwrap();
            }
        }
        engine.process(batch).unwrap();
        let took = started.elapsed();
        println!(
            "{phase:>10}: {n} events in {:.2?} = {:.0} events/s",
            took,
            n as f64 / took.as_secs_f64()
        );
    }
}
