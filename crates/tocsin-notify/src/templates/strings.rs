//! The words of the built-in templates in each language, and the headline, whose word order
//! differs between English and Chinese ("7 new incidents in order-api" / "order-api 有 7 个新
//! 事件"), so it is composed here rather than in every template.

use crate::message::{Message, MessageKind};
use serde_json::{json, Value};
use tocsin_core::config::Language;

/// Labels the templates use as `t.ack`, `t.service` ...
pub fn labels(lang: Language) -> Value {
    match lang {
        Language::En => json!({
            "priority": "Priority", "state": "State", "service": "Service", "team": "Team",
            "severity": "Severity", "urgency": "Urgency", "alerts": "Alerts",
            "opened": "Opened", "ack": "Acknowledge", "resolve": "Resolve",
            "console": "Open in tocsin", "links": "Links", "incident": "Incident",
            "more": "more", "footer": "Sent by tocsin",
            "voice_intro": "This is tocsin.", "voice_outro": "Please check your incidents.",
            "gap": " ", "stop": ".", "comma": ", ", "colon": ": ",
        }),
        Language::Zh => json!({
            "priority": "优先级", "state": "状态", "service": "服务", "team": "团队",
            "severity": "严重程度", "urgency": "紧急度", "alerts": "告警数",
            "opened": "发生时间", "ack": "认领", "resolve": "解决",
            "console": "在 tocsin 中查看", "links": "相关链接", "incident": "事件",
            "more": "更多", "footer": "由 tocsin 发送",
            "voice_intro": "这里是 tocsin 告警通知。", "voice_outro": "请尽快处理。",
            "gap": "", "stop": "。", "comma": "，", "colon": "：",
        }),
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

/// The salutation of an email.
pub fn greeting(lang: Language, name: &str) -> String {
    match lang {
        Language::En => format!("Hello {name},"),
        Language::Zh => format!("{name}，您好："),
    }
}

/// One line naming what the message is about.
pub fn headline(lang: Language, msg: &Message) -> String {
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
    if n == 1 {
        let i = &msg.incidents[0];
        let prefix = match (lang, msg.kind) {
            (_, MessageKind::New | MessageKind::Handoff) => "",
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
                MessageKind::Acknowledged => format!("{n} incidents acknowledged"),
                MessageKind::Resolved => format!("{n} incidents resolved"),
                MessageKind::Handoff => format!("{n} incidents"),
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
                MessageKind::Acknowledged => format!("{n} 个事件已认领"),
                MessageKind::Resolved => format!("{n} 个事件已解决"),
                MessageKind::Handoff => format!("{n} 个事件"),
            };
            match service {
                Some(s) => format!("{s} 有 {what}"),
                None => format!("有 {what}"),
            }
        }
    }
}
