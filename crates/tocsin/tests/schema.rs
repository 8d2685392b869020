//! schemathesis (from PyPI) against the OpenAPI document of a live server: generated
//! requests for every operation, with the admin token, must never get a 5xx and every
//! answer must match the document. scripts/test.sh installs schemathesis; without it the
//! test is skipped, unless TOCSIN_E2E_REQUIRED is set.
//!
//! The run is bounded in examples per operation and in time (about 90 s on a loaded
//! 2-core machine). A failure prints schemathesis' report, with a curl command and
//! `st replay ID` for each case. TOCSIN_SCHEMATHESIS_SEED picks another seed.

mod common;

use common::*;
use std::process::Command;

/// Test cases per operation, and the time budget of the whole run in seconds.
const MAX_EXAMPLES: &str = "10";
const MAX_SECONDS: &str = "75";

#[test]
fn generated_requests_get_no_5xx_and_answers_match_the_openapi_document() {
    if !have_tool("schemathesis") {
        return;
    }
    let s = spawn_server(None);
    // Something to read, so the reads answer with items and not only empty lists.
    s.send_events(&serde_json::json!([
        {"summary": "Disk almost full on db1", "severity": "critical", "labels": {"host": "db1"}},
        {"summary": "API latency high", "labels": {"host": "web1"}},
    ]));
    s.settle();
    let seed = std::env::var("TOCSIN_SCHEMATHESIS_SEED").unwrap_or_else(|_| "16".into());
    let report = s.root().join("schemathesis");
    let out = Command::new("schemathesis")
        .args([
            "run",
            &s.url("/api/v1/openapi.json"),
            "--header",
            &format!("Authorization: Bearer {ADMIN}"),
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            MAX_EXAMPLES,
            "--max-time",
            MAX_SECONDS,
            // Generous: on a loaded machine a slow answer is not what this test is about.
            "--request-timeout",
            "30",
            // One worker: with two, schemathesis' own generation (hypothesis describing its
            // filters from their source) raced and failed the run with a Runtime Error now and
            // then, though tocsin answered every request well.
            "--workers",
            "1",
            "--seed",
            &seed,
            "--no-color",
            "--generation-database",
            "none",
            "--report-dir",
        ])
        .arg(&report)
        // It keeps state in .schemathesis/ of its working directory: the temporary one.
        .current_dir(s.root())
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures (seed {seed}):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It ran: a run that tested nothing is not a pass.
    assert!(stdout.contains("Tested:"), "{stdout}");
    s.get_as("/-/healthy", None).expect(200);
}
