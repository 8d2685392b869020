//! The built-in templates in both languages, and the overrides.

use super::*;
use crate::message::MessageKind;
use crate::testing::{bundle, en_reader, one_incident, zh_reader};

#[test]
fn headlines_in_both_languages() {
    let t = Templates::builtin();
    assert_eq!(
        t.title(&en_reader(), &bundle(7)).unwrap(),
        "7 new incidents in order-api"
    );
    assert_eq!(
        t.title(&zh_reader(), &bundle(7)).unwrap(),
        "order-api 有 7 个新事件"
    );
    let mut resolved = one_incident();
    resolved.kind = MessageKind::Resolved;
    assert_eq!(
        t.title(&zh_reader(), &resolved).unwrap(),
        "【已解决】[P1] MySQL primary down <3"
    );
    let mut mixed = bundle(2);
    mixed.incidents[1].service = "billing".into();
    mixed.kind = MessageKind::Escalated;
    assert_eq!(
        t.title(&en_reader(), &mixed).unwrap(),
        "2 incidents escalated"
    );
}

#[test]
fn sms_carries_the_links_and_stays_short() {
    let t = Templates::builtin();
    let sms = t.short(&zh_reader(), &one_incident(), false).unwrap();
    assert_eq!(
        sms,
        "[tocsin] [P1] MySQL primary down <3\n\
         order-db · 未认领 · 告警数 3\n\
         认领: https://t.example/ack/INC-42?sig=a\n\
         解决: https://t.example/resolve/INC-42?sig=b"
    );
    let sms = t.short(&en_reader(), &bundle(5), false).unwrap();
    assert!(sms.starts_with("[tocsin] 5 new incidents in order-api\n1. [P2] Disk full on db-1 Acknowledge: https://t.example/ack/INC-1?sig=a"), "{sms}");
    assert!(sms.ends_with("\n+2 more"), "{sms}");
}

/// An incident on five hosts of a team with a Chinese name (issue 17 item 2: messages said
/// neither where the fault is nor the team's name, only its id).
fn on_five_hosts() -> Message {
    let mut m = one_incident();
    let c = &mut m.incidents[0];
    c.team_name = "运维组".into();
    c.service_name = "订单库".into();
    c.hosts = ["db1", "db2", "db3", "db4", "db5"]
        .map(String::from)
        .to_vec();
    c.host_count = 5;
    m
}

/// Issue 17 item 4: nobody was told when an incident they were paged about was acknowledged
/// or resolved. Every form, both kinds, both languages: who, when, the comment, the console
/// link (no acknowledge or resolve link: there is nothing left to do).
#[test]
fn every_form_of_a_follow_up_says_who_when_and_the_comment_without_action_links() {
    let t = Templates::builtin();
    let cases = [
        (
            MessageKind::Acknowledged,
            en_reader(),
            "Acknowledged by Bob Lim at 2024-05-01 03:20 CST, 8 minutes after it opened: restarting it",
            "Acknowledged: [P1]",
        ),
        (
            MessageKind::Acknowledged,
            zh_reader(),
            "Bob Lim 于 2024-05-01 03:20 CST 认领（发生后 8 分钟）：restarting it",
            "【已认领】[P1]",
        ),
        (
            MessageKind::Resolved,
            en_reader(),
            "Resolved by Bob Lim at 2024-05-01 03:20 CST, open for 8 minutes: restarting it",
            "Resolved: [P1]",
        ),
        (
            MessageKind::Resolved,
            zh_reader(),
            "Bob Lim 于 2024-05-01 03:20 CST 解决（持续 8 分钟）：restarting it",
            "【已解决】[P1]",
        ),
    ];
    for (kind, reader, line, headline) in cases {
        let mut m = one_incident();
        m.kind = kind;
        m.incidents[0].follow_up = Some(crate::message::FollowUp {
            by: Some("Bob Lim".into()),
            at: "2024-05-01 03:20 CST".into(),
            comment: "restarting it".into(),
            open_for_s: 480,
        });
        let email = t.email(&reader, &m).unwrap();
        assert!(email.subject.contains(headline), "{}", email.subject);
        let voice = t.short(&reader, &m, true).unwrap();
        assert!(voice.contains(line), "{voice}");
        assert!(!voice.contains("https://"), "voice reads no URL: {voice}");
        let forms = [
            (
                "dingtalk/wecom",
                t.markdown(&reader, &m, Dialect::Markdown, "").unwrap(),
            ),
            (
                "slack",
                t.markdown(&reader, &m, Dialect::Slack, "").unwrap(),
            ),
            (
                "telegram",
                t.markdown(&reader, &m, Dialect::TelegramHtml, "").unwrap(),
            ),
            ("sms", t.short(&reader, &m, false).unwrap()),
            (
                "feishu",
                t.feishu_card(&reader, &m, "").unwrap().to_string(),
            ),
            ("teams", t.teams_card(&reader, &m).unwrap().to_string()),
            ("email text", email.text),
            ("email html", email.html),
        ];
        for (form, text) in forms {
            // HTML writes the link's slashes as entities.
            let text = text.replace("&#x2f;", "/");
            assert!(text.contains(line), "{form}: {text}");
            assert!(text.contains(headline), "{form}: {text}");
            assert!(
                text.contains("https://t.example/incidents/INC-42"),
                "{form}: the console link: {text}"
            );
            assert!(!text.contains("sig="), "{form}: no action link: {text}");
        }
    }
    // Nothing of the kind in a page.
    let sms = t.short(&en_reader(), &one_incident(), false).unwrap();
    assert!(!sms.contains("Acknowledged by"), "{sms}");
}

#[test]
fn every_form_says_where_and_names_the_team() {
    let t = Templates::builtin();
    let m = on_five_hosts();
    for (reader, place) in [
        (en_reader(), "db1, db2, db3 and 2 more"),
        (zh_reader(), "db1、db2、db3 等 5 台"),
    ] {
        let email = t.email(&reader, &m).unwrap();
        let forms = [
            t.markdown(&reader, &m, Dialect::Markdown, "").unwrap(),
            t.markdown(&reader, &m, Dialect::Slack, "").unwrap(),
            t.short(&reader, &m, false).unwrap(),
            t.short(&reader, &m, true).unwrap(),
            t.feishu_card(&reader, &m, "").unwrap().to_string(),
            t.teams_card(&reader, &m).unwrap().to_string(),
            email.text,
            email.html,
        ];
        for form in forms {
            assert!(form.contains(place) && form.contains("订单库"), "{form}");
        }
    }
    let md = t.markdown(&zh_reader(), &m, Dialect::Markdown, "").unwrap();
    assert!(md.contains("- 位置：db1、db2、db3 等 5 台\n"), "{md}");
    assert!(md.contains("团队: 运维组") && !md.contains("dba"), "{md}");
    let text = t.email(&en_reader(), &m).unwrap().text;
    assert!(
        text.contains("\nWhere: db1, db2, db3 and 2 more\n"),
        "{text}"
    );
    assert!(text.contains("Team: 运维组"), "{text}");
    // Three hosts or fewer are all named, with nothing more to count.
    let mut few = m.clone();
    few.incidents[0].hosts.truncate(2);
    few.incidents[0].host_count = 2;
    let md = t
        .markdown(&zh_reader(), &few, Dialect::Markdown, "")
        .unwrap();
    assert!(md.contains("- 位置：db1、db2\n"), "{md}");
    // An incident whose alerts name no host has no such line.
    let sms = t.short(&en_reader(), &one_incident(), false).unwrap();
    assert!(!sms.contains("Where"), "{sms}");
    let text = t.email(&en_reader(), &one_incident()).unwrap().text;
    assert!(!text.contains("Where"), "{text}");
}

#[test]
fn resolved_messages_do_not_ask_for_action() {
    let mut m = one_incident();
    m.kind = MessageKind::Resolved;
    let t = Templates::builtin();
    let sms = t.short(&en_reader(), &m, false).unwrap();
    assert!(!sms.contains("/ack/"), "{sms}");
    let md = t.markdown(&en_reader(), &m, Dialect::Markdown, "").unwrap();
    assert!(
        !md.contains("/ack/") && md.contains("/incidents/INC-42"),
        "{md}"
    );
}

#[test]
fn voice_reads_words_only() {
    let voice = Templates::builtin()
        .short(&en_reader(), &bundle(2), true)
        .unwrap();
    assert_eq!(
        voice,
        "This is tocsin. 2 new incidents in order-api. Incident 1: Disk full on db-1, \
         Service order-api, Priority P2. Incident 2: Disk full on db-2, Service order-api, \
         Priority P2. Please check your incidents."
    );
}

#[test]
fn cards_are_json_in_both_languages_for_bundles() {
    let t = Templates::builtin();
    for reader in [en_reader(), zh_reader()] {
        for msg in [one_incident(), bundle(4)] {
            t.feishu_card(&reader, &msg, "").unwrap();
            t.teams_card(&reader, &msg).unwrap();
            t.email(&reader, &msg).unwrap();
        }
    }
}

#[test]
fn overrides_replace_the_headline_and_the_text() {
    let over = TemplateOverride {
        title: Some("[{{ incidents[0].service }}] {{ title }}".into()),
        text: Some("{{ title }} -> {{ incidents[0].ack_url }}".into()),
    };
    let t = Templates::new(&over).unwrap();
    let m = one_incident();
    assert_eq!(
        t.short(&en_reader(), &m, false).unwrap(),
        "[order-db] [P1] MySQL primary down <3 -> https://t.example/ack/INC-42?sig=a"
    );
    let parts = t.email(&en_reader(), &m).unwrap();
    assert_eq!(
        parts.subject,
        "[tocsin] [order-db] [P1] MySQL primary down <3"
    );
    let card = t.teams_card(&en_reader(), &m).unwrap();
    assert_eq!(
        card["attachments"][0]["content"]["body"][0]["text"],
        "[order-db] [P1] MySQL primary down <3"
    );
}

#[test]
fn a_bad_override_names_its_field() {
    let over = TemplateOverride {
        title: None,
        text: Some("{% if %}".into()),
    };
    let e = Templates::new(&over).err().unwrap();
    assert!(e.starts_with("text: invalid template"), "{e}");
}

#[test]
fn a_handoff_reminder_renders_in_every_form() {
    let t = Templates::builtin();
    let msg = Message {
        kind: MessageKind::Handoff,
        incidents: vec![],
        handoff: Some(crate::message::Handoff {
            schedule: "DBA 一线".into(),
            start: "03-02 09:00".into(),
            end: "03-09 09:00".into(),
        }),
        storm: None,
    };
    assert_eq!(
        t.title(&en_reader(), &msg).unwrap(),
        "You are on call in DBA 一线 from 03-02 09:00 to 03-09 09:00"
    );
    let zh = t.title(&zh_reader(), &msg).unwrap();
    assert_eq!(zh, "您将在 DBA 一线 值班：03-02 09:00 至 03-09 09:00");
    assert!(t.short(&zh_reader(), &msg, false).unwrap().contains(&zh));
    assert!(t
        .short(&en_reader(), &msg, true)
        .unwrap()
        .contains("on call"));
    for dialect in [Dialect::Markdown, Dialect::Slack, Dialect::TelegramHtml] {
        assert!(t
            .markdown(&zh_reader(), &msg, dialect, "")
            .unwrap()
            .contains("值班"));
    }
    let card = t.feishu_card(&en_reader(), &msg, "").unwrap();
    assert_eq!(card["elements"].as_array().unwrap().len(), 1, "{card}");
    assert!(t
        .teams_card(&en_reader(), &msg)
        .unwrap()
        .to_string()
        .contains("on call"));
    let mail = t.email(&zh_reader(), &msg).unwrap();
    assert!(mail.subject.contains("值班") && mail.html.contains("值班"));
}

/// A storm's summary (or its update `summary - 1`) filed under its first incident.
fn storm_summary(scope: &str, summary: i64) -> Message {
    let mut msg = one_incident();
    msg.kind = MessageKind::Storm;
    msg.storm = Some(crate::message::StormNote {
        id: 3,
        scope: scope.into(),
        summary,
        alerts: 312,
        incidents: 40,
        services: 12,
        hosts: 280,
        peak_rate: 319.6,
        normal_rate: 4.2,
        top_alerts: vec![
            ("HostDown".into(), 200),
            ("PingLoss".into(), 80),
            ("HttpDown".into(), 30),
            ("DiskFull".into(), 2),
        ],
    });
    msg
}

#[test]
fn a_storm_summary_tells_the_storm_in_both_languages() {
    let t = Templates::builtin();
    let first = storm_summary("all services", 1);
    assert_eq!(
        t.title(&en_reader(), &first).unwrap(),
        "Alert storm in all services: 312 alerts, 40 incidents, 12 services, 280 hosts"
    );
    assert_eq!(
        t.title(&zh_reader(), &first).unwrap(),
        "全部服务 告警风暴：312 条告警，40 个事件，12 个服务，280 台主机"
    );
    let update = storm_summary("order-api", 3);
    assert_eq!(
        t.title(&en_reader(), &update).unwrap(),
        "Alert storm update 2 in order-api: 312 alerts, 40 incidents, 12 services, 280 hosts"
    );
    assert_eq!(
        t.title(&zh_reader(), &update).unwrap(),
        "order-api 告警风暴（第 2 次更新）：312 条告警，40 个事件，12 个服务，280 台主机"
    );

    // One of each is said in the singular.
    let mut single = storm_summary("db", 1);
    if let Some(storm) = single.storm.as_mut() {
        (storm.incidents, storm.services, storm.hosts) = (1, 1, 1);
    }
    assert_eq!(
        t.title(&en_reader(), &single).unwrap(),
        "Alert storm in db: 312 alerts, 1 incident, 1 service, 1 host"
    );

    // SMS: the headline and the three most frequent alerts.
    let sms = t.short(&en_reader(), &first, false).unwrap();
    assert!(
        sms.starts_with(
            "[tocsin] Alert storm in all services: 312 alerts, 40 incidents, 12 services, \
             280 hosts\nMost frequent alerts: HostDown ×200, PingLoss ×80, HttpDown ×30"
        ),
        "{sms}"
    );
    assert!(!sms.contains("DiskFull"), "{sms}");
    let sms = t.short(&zh_reader(), &first, false).unwrap();
    assert!(
        sms.contains("\n最多的告警：HostDown ×200，PingLoss ×80，HttpDown ×30"),
        "{sms}"
    );

    // Chat: the rate against the normal one, all top alerts, and what the summary stands for.
    let md = t
        .markdown(&en_reader(), &first, Dialect::Markdown, "")
        .unwrap();
    for line in [
        "- 320 new alerts/min at the worst; normally 4",
        "- Most frequent alerts: HostDown ×200, PingLoss ×80, HttpDown ×30, DiskFull ×2",
        "- Until the storm ends, this summary stands for the pages of its incidents.",
    ] {
        assert!(md.contains(line), "{line:?} in {md}");
    }
    let md = t
        .markdown(&zh_reader(), &first, Dialect::Markdown, "")
        .unwrap();
    for line in [
        "- 320 条新告警/分钟（峰值）；平时 4",
        "- 最多的告警：HostDown ×200，PingLoss ×80，HttpDown ×30，DiskFull ×2",
        "- 风暴结束前，这些事件不再逐条通知，由本摘要代替。",
    ] {
        assert!(md.contains(line), "{line:?} in {md}");
    }

    // Mail and cards carry the headline too.
    let mail = t.email(&zh_reader(), &first).unwrap();
    assert!(mail.subject.contains("告警风暴"), "{}", mail.subject);
    assert!(t
        .teams_card(&en_reader(), &update)
        .unwrap()
        .to_string()
        .contains("Alert storm update 2"));
}
