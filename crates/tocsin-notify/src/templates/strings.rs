//! The words of the built-in templates in each language, and the headline, whose word order
//! differs between English and Chinese ("7 new incidents in order-api" / "order-api 有 7 个新
//! 事件"), so it is composed here rather than in every template.

use crate::message::{FollowUp, Message, MessageKind, StormNote};
use serde_json::{json, Value};
use tocsin_core::config::Language;

/// Labels the templates use as `t.ack`, `t.service` ...
pub fn labels(lang: Language) -> Value {
    match lang {
        Language::En => json!({
            "priority": "Priority", "state": "State", "service": "Service", "team": "Team", "where": "Where",
            "severity": "Severity", "urgency": "Urgency", "alerts": "Alerts",
            "opened": "Opened", "ack": "Acknowledge", "resolve": "Resolve",
            "console": "Open in tocsin", "links": "Links", "incident": "Incident",
            "more": "more", "footer": "Sent by tocsin", "new_alerts": "New alerts",
            "voice_intro": "This is tocsin.", "voice_outro": "Please check your incidents.",
            "gap": " ", "stop": ".", "comma": ", ", "colon": ": ",
            "storm_top": "Most frequent alerts",
            "storm_rate": "new alerts/min at the worst; normally",
            "storm_note": "Until the storm ends, this summary stands for the pages of its incidents.",
        }),
        Language::Zh => json!({
            "priority": "优先级", "state": "状态", "service": "服务", "team": "团队", "where": "位置",
            "severity": "严重程度", "urgency": "紧急度", "alerts": "告警数",
            "opened": "发生时间", "ack": "认领", "resolve": "解决",
            "console": "在 tocsin 中查看", "links": "相关链接", "incident": "事件",
            "more": "更多", "footer": "由 tocsin 发送", "new_alerts": "新告警",
            "voice_intro": "这里是 tocsin 告警通知。", "voice_outro": "请尽快处理。",
            "gap": "", "stop": "。", "comma": "，", "colon": "：",
            "storm_top": "最多的告警",
            "storm_rate": "条新告警/分钟（峰值）；平时",
            "storm_note": "风暴结束前，这些事件不再逐条通知，由本摘要代替。",
        }),
    }
}

/// "Alert storm in order-api: 312 alerts, 40 incidents, 3 services, 280 hosts", with the
/// update's number after the first summary.
fn storm_headline(lang: Language, s: &StormNote) -> String {
    match lang {
        Language::En => {
            let what = if s.summary > 1 {
                format!("Alert storm update {}", s.summary - 1)
            } else {
                "Alert storm".to_string()
            };
            format!(
                "{what} in {}: {}, {}, {}, {}",
                s.scope,
                counted(s.alerts, "alert"),
                counted(s.incidents, "incident"),
                counted(s.services, "service"),
                counted(s.hosts, "host")
            )
        }
        Language::Zh => {
            let scope = if s.scope == "all services" {
                "全部服务"
            } else {
                s.scope.as_str()
            };
            let what = if s.summary > 1 {
                format!("告警风暴（第 {} 次更新）", s.summary - 1)
            } else {
                "告警风暴".to_string()
            };
            format!(
                "{scope} {what}：{} 条告警，{} 个事件，{} 个服务，{} 台主机",
                s.alerts, s.incidents, s.services, s.hosts
            )
        }
    }
}

/// Where the fault is, a few hosts at most: "db1, db2, db3 and 4 more" / "db1、db2、db3 等 7 台";
/// empty when its alerts name no host.
pub fn place(lang: Language, hosts: &[String], total: u32) -> String {
    const SHOWN: usize = 3;
    let shown = &hosts[..hosts.len().min(SHOWN)];
    let more = (total as usize).saturating_sub(shown.len());
    match (lang, more) {
        (Language::En, 0) => shown.join(", "),
        (Language::En, n) => format!("{} and {n} more", shown.join(", ")),
        (Language::Zh, 0) => shown.join("、"),
        (Language::Zh, _) => format!("{} 等 {total} 台", shown.join("、")),
    }
}

/// A state, severity or urgency as the reader's language says it.
pub fn word(lang: Language, value: &str) -> String {
    let zh = match value {
        "triggered" => "未认领",
        "acknowledged" => "已认领",
        "resolved" => "已解决",
        "closed" => "已关闭",
        "critical" => "严重",
        "high" => "高",
        "medium" => "中",
        "low" => "低",
        "warning" => "警告",
        "info" => "提示",
        other => other,
    };
    match lang {
        Language::En => value.to_string(),
        Language::Zh => zh.to_string(),
    }
}

/// What a follow-up says of one incident: who acknowledged or resolved it, when, after how
/// long, and their comment. "Acknowledged by Alice Chen at 2024-05-01 03:20 CST, 8 minutes
/// after it opened: on it" / "Alice Chen 于 2024-05-01 03:20 CST 认领（发生后 8 分钟）：在处理".
pub fn follow_up(lang: Language, kind: MessageKind, f: &FollowUp) -> String {
    let open = open_for(lang, f.open_for_s);
    let at = &f.at;
    let line = match (lang, kind, &f.by) {
        (Language::En, MessageKind::Acknowledged, Some(by)) => {
            format!("Acknowledged by {by} at {at}, {open} after it opened")
        }
        (Language::En, _, Some(by)) => format!("Resolved by {by} at {at}, open for {open}"),
        (Language::En, _, None) => {
            format!("Resolved at {at}: all its alerts resolved, open for {open}")
        }
        (Language::Zh, MessageKind::Acknowledged, Some(by)) => {
            format!("{by} 于 {at} 认领（发生后 {open}）")
        }
        (Language::Zh, _, Some(by)) => format!("{by} 于 {at} 解决（持续 {open}）"),
        (Language::Zh, _, None) => format!("{at} 告警已全部恢复，事件自动解决（持续 {open}）"),
    };
    match (lang, f.comment.trim()) {
        (_, "") => line,
        (Language::En, c) => format!("{line}: {c}"),
        (Language::Zh, c) => format!("{line}：{c}"),
    }
}

/// "1 host", "3 hosts": an English count with its noun in the singular for one.
fn counted(n: i64, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// How long an incident was open, to the minute: "under a minute", "1 minute", "2 hours 5
/// minutes", "3 days 4 hours" / "不到 1 分钟", "2 小时 5 分钟", "3 天 4 小时".
fn open_for(lang: Language, seconds: u64) -> String {
    let minutes = seconds / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let en = |n: u64, unit: &str| counted(n as i64, unit);
    match lang {
        Language::En if minutes == 0 => "under a minute".into(),
        Language::En if d > 0 => format!("{} {}", en(d, "day"), en(h, "hour")),
        Language::En if h > 0 => format!("{} {}", en(h, "hour"), en(m, "minute")),
        Language::En => en(m, "minute"),
        Language::Zh if minutes == 0 => "不到 1 分钟".into(),
        Language::Zh if d > 0 => format!("{d} 天 {h} 小时"),
        Language::Zh if h > 0 => format!("{h} 小时 {m} 分钟"),
        Language::Zh => format!("{m} 分钟"),
    }
}

/// The salutation of an email.
pub fn greeting(lang: Language, name: &str) -> String {
    match lang {
        Language::En => format!("Hello {name},"),
        Language::Zh => format!("{name}，您好："),
    }
}

/// One line naming what the message is about.
pub fn headline(lang: Language, msg: &Message) -> String {
    if let Some(s) = &msg.storm {
        return storm_headline(lang, s);
    }
    if let Some(h) = &msg.handoff {
        return match lang {
            Language::En => format!(
                "You are on call in {} from {} to {}",
                h.schedule, h.start, h.end
            ),
            Language::Zh => format!("您将在 {} 值班：{} 至 {}", h.schedule, h.start, h.end),
        };
    }
    let n = msg.incidents.len();
    if n == 1 && msg.kind == MessageKind::Update {
        return update_headline(lang, &msg.incidents[0]);
    }
    if n == 1 {
        let i = &msg.incidents[0];
        let prefix = match (lang, msg.kind) {
            (
                _,
                MessageKind::New | MessageKind::Storm | MessageKind::Handoff | MessageKind::Update,
            ) => "",
            (Language::En, MessageKind::Escalated) => "Escalated: ",
            (Language::En, MessageKind::Reminder) => "Reminder: ",
            (Language::En, MessageKind::StillOpen) => "Still open: ",
            (Language::En, MessageKind::Acknowledged) => "Acknowledged: ",
            (Language::En, MessageKind::Resolved) => "Resolved: ",
            (Language::Zh, MessageKind::Escalated) => "【升级】",
            (Language::Zh, MessageKind::Reminder) => "【提醒】",
            (Language::Zh, MessageKind::StillOpen) => "【仍未解决】",
            (Language::Zh, MessageKind::Acknowledged) => "【已认领】",
            (Language::Zh, MessageKind::Resolved) => "【已解决】",
        };
        return format!("{prefix}[{}] {}", i.priority, i.title);
    }
    let service = msg.common_service();
    match lang {
        Language::En => {
            let what = match msg.kind {
                MessageKind::New => format!("{n} new incidents"),
                MessageKind::Escalated => format!("{n} incidents escalated"),
                MessageKind::Reminder => format!("{n} incidents still unacknowledged"),
                MessageKind::StillOpen => format!("{n} incidents still open"),
                MessageKind::Update => format!("new alerts in {n} incidents"),
                MessageKind::Acknowledged => format!("{n} incidents acknowledged"),
                MessageKind::Resolved => format!("{n} incidents resolved"),
                MessageKind::Handoff | MessageKind::Storm => format!("{n} incidents"),
            };
            match service {
                Some(s) => format!("{what} in {s}"),
                None => what,
            }
        }
        Language::Zh => {
            let what = match msg.kind {
                MessageKind::New => format!("{n} 个新事件"),
                MessageKind::Escalated => format!("{n} 个事件已升级"),
                MessageKind::Reminder => format!("{n} 个事件仍未认领"),
                MessageKind::StillOpen => format!("{n} 个事件仍未解决"),
                MessageKind::Update => format!("{n} 个事件有新告警"),
                MessageKind::Acknowledged => format!("{n} 个事件已认领"),
                MessageKind::Resolved => format!("{n} 个事件已解决"),
                MessageKind::Handoff | MessageKind::Storm => format!("{n} 个事件"),
            };
            match service {
                Some(s) => format!("{s} 有 {what}"),
                None => format!("有 {what}"),
            }
        }
    }
}

/// "3 new alerts in INC-12: DiskFull, CpuHigh, +1 more" / "INC-12 新增 3 条告警：...".
fn update_headline(lang: Language, card: &crate::message::IncidentCard) -> String {
    let id = if card.id.bytes().all(|b| b.is_ascii_digit()) {
        format!("INC-{}", card.id)
    } else {
        card.id.clone()
    };
    let n = card.new_alerts.len();
    let shown = card.new_alerts.iter().take(3).cloned().collect::<Vec<_>>();
    let rest = n.saturating_sub(shown.len());
    match lang {
        Language::En => {
            let mut names = shown.join(", ");
            if rest > 0 {
                names.push_str(&format!(", +{rest} more"));
            }
            let alerts = if n == 1 { "alert" } else { "alerts" };
            format!("{n} new {alerts} in {id}: {names}")
        }
        Language::Zh => {
            let mut names = shown.join("、");
            if rest > 0 {
                names.push_str(&format!(" 等 {n} 条"));
            }
            format!("{id} 新增 {n} 条告警：{names}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::card;

    fn update(names: &[&str], n: usize) -> Message {
        let mut c = card("12", "db down", "P1", "order-db");
        c.new_alerts = names.iter().map(|s| s.to_string()).collect();
        Message {
            kind: MessageKind::Update,
            incidents: vec![c; n],
            ..crate::testing::one_incident()
        }
    }

    #[test]
    fn a_follow_up_says_who_when_how_long_and_their_comment() {
        let f = FollowUp {
            by: Some("Alice Chen".into()),
            at: "2024-05-01 03:20 CST".into(),
            comment: "restarting the primary".into(),
            open_for_s: 8 * 60 + 30,
        };
        assert_eq!(
            follow_up(Language::En, MessageKind::Acknowledged, &f),
            "Acknowledged by Alice Chen at 2024-05-01 03:20 CST, 8 minutes after it opened: restarting the primary"
        );
        assert_eq!(
            follow_up(Language::Zh, MessageKind::Acknowledged, &f),
            "Alice Chen 于 2024-05-01 03:20 CST 认领（发生后 8 分钟）：restarting the primary"
        );
        let by_alerts = FollowUp {
            by: None,
            comment: String::new(),
            open_for_s: 26 * 3600 + 60,
            ..f.clone()
        };
        assert_eq!(
            follow_up(Language::En, MessageKind::Resolved, &by_alerts),
            "Resolved at 2024-05-01 03:20 CST: all its alerts resolved, open for 1 day 2 hours"
        );
        assert_eq!(
            follow_up(Language::Zh, MessageKind::Resolved, &by_alerts),
            "2024-05-01 03:20 CST 告警已全部恢复，事件自动解决（持续 1 天 2 小时）"
        );
        assert_eq!(open_for(Language::En, 59), "under a minute");
        assert_eq!(open_for(Language::En, 3600 + 60), "1 hour 1 minute");
        assert_eq!(open_for(Language::Zh, 2 * 3600 + 300), "2 小时 5 分钟");
    }

    #[test]
    fn an_update_names_the_alerts_that_joined() {
        let m = update(&["DiskFull", "CpuHigh", "Swap", "Oom"], 1);
        assert_eq!(
            headline(Language::En, &m),
            "4 new alerts in INC-12: DiskFull, CpuHigh, Swap, +1 more"
        );
        assert_eq!(
            headline(Language::Zh, &m),
            "INC-12 新增 4 条告警：DiskFull、CpuHigh、Swap 等 4 条"
        );
        assert_eq!(
            headline(Language::En, &update(&["DiskFull"], 1)),
            "1 new alert in INC-12: DiskFull"
        );
        assert_eq!(
            headline(Language::En, &update(&["A"], 2)),
            "new alerts in 2 incidents in order-db"
        );
        assert_eq!(
            headline(Language::Zh, &update(&["A"], 2)),
            "order-db 有 2 个事件有新告警"
        );
    }
}
