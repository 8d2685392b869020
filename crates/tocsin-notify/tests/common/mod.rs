//! Helpers of the integration tests: configs loaded the way the server loads them, and
//! messages like the dispatcher builds.
#![allow(dead_code)] // each test file uses a part

use tocsin_core::config::{load_str, Language};
use tocsin_core::paging::ChannelSpec;
use tocsin_notify::{IncidentCard, Message, MessageKind, Recipient};

pub const TWILIO_AUTH: &str = "Basic QUN0ZXN0OnRva2Vu";
pub const ALIYUN_KEY_ID: &str = "LTAItestkey";
pub const ALIYUN_KEY_SECRET: &str = "testsecret";

/// One channel from its YAML flow mapping, through the real config loader.
pub fn load_channel(yaml: &str) -> ChannelSpec {
    let config =
        load_str(&format!("channels:\n  - {yaml}\n")).unwrap_or_else(|e| panic!("{yaml}: {e:?}"));
    config.channels.into_iter().next().unwrap()
}

/// The one channel of a file in `examples/channels/`, with its secrets in the environment.
pub fn example(file: &str) -> ChannelSpec {
    set_example_env();
    let path = format!(
        "{}/../../examples/channels/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let config = load_str(&text).unwrap_or_else(|e| panic!("{file}: {e:?}"));
    assert_eq!(config.channels.len(), 1, "{file}");
    config.channels.into_iter().next().unwrap()
}

fn set_example_env() {
    // The same values every time, so tests setting them concurrently cannot disagree.
    std::env::set_var("TWILIO_BASIC_AUTH", TWILIO_AUTH);
    std::env::set_var("ALIYUN_ACCESS_KEY_ID", ALIYUN_KEY_ID);
    std::env::set_var("ALIYUN_ACCESS_KEY_SECRET", ALIYUN_KEY_SECRET);
}

pub fn reader(language: Language, address: &str) -> Recipient {
    Recipient {
        user_id: "u1".into(),
        name: match language {
            Language::En => "Alice".into(),
            Language::Zh => "王伟".into(),
        },
        language,
        address: address.into(),
    }
}

/// `n` incidents of order-api.
pub fn message(kind: MessageKind, n: usize) -> Message {
    Message {
        kind,
        incidents: (1..=n)
            .map(|i| IncidentCard {
                id: format!("INC-{i}"),
                title: format!("订单接口超时 {i}"),
                priority: "P1".into(),
                state: "triggered".into(),
                service: "order-api".into(),
                team: "payments".into(),
                service_name: "order-api".into(),
                team_name: "payments".into(),
                hosts: vec![],
                host_count: 0,
                severity: "critical".into(),
                urgency: "high".into(),
                alert_count: 2,
                created_at: "2024-05-01 03:12 CST".into(),
                summary: "p99 > 2s".into(),
                links: vec![("Dashboard".into(), "https://grafana.example/d/1".into())],
                ack_url: Some(format!("https://t.example/ack/INC-{i}?sig=x")),
                resolve_url: Some(format!("https://t.example/resolve/INC-{i}?sig=y")),
                console_url: Some(format!("https://t.example/incidents/INC-{i}")),
                new_alerts: vec![],
                follow_up: None,
            })
            .collect(),
        handoff: None,
        storm: None,
    }
}
