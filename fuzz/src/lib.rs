//! What the fuzz targets share: one request built from the fuzzer's bytes, read by an
//! intake adapter under a config that has an integration of its kind. A target passes when
//! nothing panics and every refusal says something; scripts/fuzz.sh runs them all.

use std::sync::LazyLock;
use tocsin_core::config::{load_str, Config};
use tocsin_core::integration::IntegrationKind;
use tocsin_integrations::{adapter_for, Inbound, IntakeContext, Method};

/// A webhook with a mapping that reads every field, and a heartbeat: the two adapters that
/// look their integration up.
static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    load_str(
        r#"
integrations:
  - name: webhook
    kind: webhook
    key: fuzz-webhook-0123456789
    mapping:
      items: data.alerts
      summary: "{{ title }}"
      dedup_key: "{{ id }}"
      name: "{{ check }}"
      severity: "{{ level }}"
      severity_map: {sev1: critical}
      status: "{{ state }}"
      host: "{{ target.host }}"
      occurred_at: "{{ ts }}"
      labels: {env: "{{ env }}"}
      link: "https://uptime.example/checks/{{ id }}"
  - {name: heartbeat, kind: heartbeat, key: fuzz-heartbeat-0123456789, interval: 5m}
"#,
    )
    .expect("the fuzz config is valid")
});

/// 2026-01-01T00:00:00Z
const NOW: i64 = 1_767_225_600_000;

/// The ways a request can carry its payload; the fuzzer's first byte picks one.
const SHAPES: [(&str, Method); 5] = [
    ("application/json", Method::Post),
    ("application/x-www-form-urlencoded", Method::Post),
    ("", Method::Get),
    ("application/cloudevents-batch+json", Method::Post),
    ("application/cloudevents+json", Method::Post),
];

/// Reads `data` with the adapter of `kind`: the first byte chooses the request's shape
/// (JSON body, form body, query string, CloudEvents batch or binary mode), the rest is the
/// payload.
pub fn adapter(kind: IntegrationKind, data: &[u8]) {
    let Some((&shape, payload)) = data.split_first() else {
        return;
    };
    let (content_type, method) = SHAPES[usize::from(shape) % SHAPES.len()];
    let query = String::from_utf8_lossy(payload);
    // Binary-mode CloudEvents carry their attributes in headers.
    let binary = shape >= 128;
    let mut headers = vec![("content-type", content_type)];
    if binary {
        headers.extend([
            ("ce-specversion", "1.0"),
            ("ce-id", "1"),
            ("ce-source", "fuzz"),
            ("ce-type", "alert.fired"),
        ]);
    }
    let req = Inbound {
        method,
        query: if method == Method::Get { &query } else { "" },
        headers: &headers,
        body: if method == Method::Get { b"" } else { payload },
    };
    let integration = match kind {
        IntegrationKind::Webhook => "webhook",
        IntegrationKind::Heartbeat => "heartbeat",
        _ => "",
    };
    let ctx = IntakeContext {
        now: NOW,
        resolve_timeout: 300_000,
        max_events: 100,
        integration,
        config: &CONFIG,
    };
    match adapter_for(kind).parse(&req, &ctx) {
        Ok(events) => assert!(events.len() <= ctx.max_events, "over the item limit"),
        Err(e) => assert!(!e.0.trim().is_empty(), "a refusal without a message"),
    }
}
