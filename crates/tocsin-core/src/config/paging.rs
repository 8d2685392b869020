//! The paging parts of the config as written in YAML: escalation policies, channels, each
//! user's notification rules and quiet hours, and a service's support hours; and their checks,
//! every error with its path.

use super::load::ConfigError;
use super::people::{restriction, zone, RawRestriction};
use super::validate::check_id;
use super::Contact;
use crate::paging::{
    ChannelSettings, ChannelSpec, ChannelTemplate, EscalationLevel, EscalationPolicy, FollowUpKind,
    FollowUps, NotificationRule, QuietHours, RuleCondition, RuleStep, Secret, SmtpTls,
    SupportHours, Target, TimeOfDay,
};
use crate::priority::Level;
use crate::time::parse_duration;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub repeat: u32,
    pub unresolved_after: Option<String>,
    pub levels: Vec<RawLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    pub delay: Option<String>,
    pub targets: Vec<RawTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub user: Option<String>,
    pub schedule: Option<String>,
    pub team: Option<String>,
    #[serde(default)]
    pub round_robin: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub per_minute: Option<u32>,
    pub template: Option<RawChannelTemplate>,
    /// `[acknowledged, resolved]`, `[]` ...; by default all but for SMS and voice.
    pub follow_ups: Option<Vec<String>>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: Option<String>,
    pub url: Option<String>,
    pub secret: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub bot_token: Option<String>,
    pub api_url: Option<String>,
    pub method: Option<String>,
    pub body: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannelTemplate {
    pub title: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[serde(default)]
    pub when: RawWhen,
    pub steps: Vec<RawStep>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    #[serde(default)]
    pub urgency: Vec<Level>,
    pub time: Option<RawTime>,
}

/// `day`, `night`, `any`, or a window `{days, from, to}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawTime {
    Named(String),
    Window(RawRestriction),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// A contact type (`sms`) or its position in the user's list (0 is the first).
    pub contact: RawContactRef,
    pub after: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawContactRef {
    Index(usize),
    Type(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuiet {
    pub days: Option<Vec<String>>,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub except: Vec<Level>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSupportHours {
    pub time_zone: String,
    pub days: Option<Vec<String>>,
    pub from: String,
    pub to: String,
}

fn duration(errors: &mut Vec<ConfigError>, path: &str, text: Option<&str>) -> i64 {
    match text.map(parse_duration) {
        None => 0,
        Some(Ok(ms)) => ms,
        Some(Err(e)) => {
            errors.push(ConfigError::new(path, e));
            0
        }
    }
}

pub(super) fn policies(
    errors: &mut Vec<ConfigError>,
    raw: Vec<(usize, RawPolicy)>,
) -> Vec<EscalationPolicy> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, p) in raw {
        let path = format!("escalation_policies[{i}]");
        check_id(errors, &format!("{path}.id"), &p.id);
        if !seen.insert(p.id.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.id"),
                format!("duplicate escalation policy {:?}", p.id),
            ));
        }
        if p.levels.is_empty() {
            errors.push(ConfigError::new(
                format!("{path}.levels"),
                "a policy needs at least one level",
            ));
        }
        if p.repeat > 100 {
            errors.push(ConfigError::new(format!("{path}.repeat"), "at most 100"));
        }
        let mut levels = Vec::new();
        for (j, l) in p.levels.into_iter().enumerate() {
            let lp = format!("{path}.levels[{j}]");
            let delay = duration(errors, &format!("{lp}.delay"), l.delay.as_deref());
            // Minutes are what people need to answer; seconds are allowed for drills and
            // tests, a fraction of a second is a typo.
            if delay != 0 && delay < 1000 {
                errors.push(ConfigError::new(
                    format!("{lp}.delay"),
                    "at least 1s (people usually need minutes to answer)",
                ));
            }
            if l.targets.is_empty() {
                errors.push(ConfigError::new(
                    format!("{lp}.targets"),
                    "a level needs at least one target",
                ));
            }
            let targets = l
                .targets
                .into_iter()
                .enumerate()
                .filter_map(|(k, t)| target(errors, &format!("{lp}.targets[{k}]"), t))
                .collect();
            levels.push(EscalationLevel { delay, targets });
        }
        // The last level's delay is how long before a repeat; without repeats it is unused.
        if p.repeat > 0
            && levels
                .last()
                .is_some_and(|l: &EscalationLevel| l.delay == 0)
        {
            errors.push(ConfigError::new(
                format!("{path}.levels[{}].delay", levels.len() - 1),
                "with repeat, the last level needs a delay before the policy starts over",
            ));
        }
        let unresolved_after = p
            .unresolved_after
            .as_deref()
            .map(|t| duration(errors, &format!("{path}.unresolved_after"), Some(t)));
        out.push(EscalationPolicy {
            name: p.name.unwrap_or_else(|| p.id.clone()),
            id: p.id,
            levels,
            repeat: p.repeat,
            unresolved_after,
        });
    }
    out
}

fn target(errors: &mut Vec<ConfigError>, path: &str, t: RawTarget) -> Option<Target> {
    match (t.user, t.schedule, t.team) {
        (Some(u), None, None) => Some(Target::User(u)),
        (None, Some(s), None) => Some(Target::Schedule(s)),
        (None, None, Some(team)) => Some(Target::Team {
            id: team,
            round_robin: t.round_robin,
        }),
        _ => {
            errors.push(ConfigError::new(
                path,
                "name exactly one of user, schedule or team",
            ));
            None
        }
    }
}

/// The environment variables a config's text reads (`${NAME}` values), each once, in order
/// of first use: `tocsin check` names them, since the server reads them from its own
/// environment, which is not the checking shell's.
pub fn env_references(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        rest = &rest[end + 1..];
    }
    names
}

/// `${NAME}` is read from the environment, so secrets can stay out of the file.
fn secret(errors: &mut Vec<ConfigError>, path: &str, text: String) -> Secret {
    if let Some(name) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        match std::env::var(name) {
            Ok(v) => return Secret::new(v),
            Err(_) => errors.push(ConfigError::new(
                path,
                format!(
                    "the environment variable {name} is not set (a server reads it from its own environment, fixed when it started: set it where the server starts, such as the systemd unit's Environment=, and restart it)"
                ),
            )),
        }
    }
    Secret::new(text)
}

/// A channel's extra HTTP headers. Values are secrets like the other fields (an API key is
/// the usual one): `${NAME}` is read from the environment. A `${` that is not the whole
/// value would go out as written, and a name or value the HTTP client cannot send would
/// fail every page at 03:00: both are refused here, where `tocsin check` says so.
fn headers(
    errors: &mut Vec<ConfigError>,
    path: &str,
    raw: &BTreeMap<String, String>,
) -> BTreeMap<String, Secret> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    raw.iter()
        .map(|(name, value)| {
            let path = format!("{path}.headers.{name}");
            if name.is_empty() || !name.chars().all(token) {
                errors.push(ConfigError::new(&path, "not a valid HTTP header name"));
            }
            let whole = value.starts_with("${") && value.ends_with('}');
            if value.contains("${") && !whole {
                errors.push(ConfigError::new(
                    &path,
                    "only a whole value \"${NAME}\" is read from the environment; put the whole header value in the variable",
                ));
            }
            let value = secret(errors, &path, value.clone());
            // Checked after expansion; the value itself is never echoed (it is a secret).
            if value.expose().chars().any(|c| c.is_control() && c != '\t') {
                errors.push(ConfigError::new(
                    &path,
                    "a header value cannot hold line breaks or other control characters",
                ));
            }
            (name.clone(), value)
        })
        .collect()
}

fn required(
    errors: &mut Vec<ConfigError>,
    path: &str,
    kind: &str,
    field: &str,
    value: Option<String>,
) -> String {
    value.filter(|s| !s.is_empty()).unwrap_or_else(|| {
        errors.push(ConfigError::new(
            format!("{path}.{field}"),
            format!("required for a {kind} channel"),
        ));
        String::new()
    })
}

/// The URL a channel posts to: required, http(s), and a secret (robot URLs carry a token).
fn http_url(
    errors: &mut Vec<ConfigError>,
    path: &str,
    kind: &str,
    value: Option<String>,
) -> Secret {
    let u = required(errors, path, kind, "url", value);
    let usable = u.is_empty()
        || u.starts_with("${")
        || u.starts_with("http://")
        || u.starts_with("https://");
    if !usable {
        errors.push(ConfigError::new(
            format!("{path}.url"),
            "must be an http:// or https:// URL",
        ));
    }
    secret(errors, &format!("{path}.url"), u)
}

/// A `follow_ups` list (`[acknowledged, resolved]`) of a channel or a contact at `path`.
pub(super) fn follow_ups(errors: &mut Vec<ConfigError>, path: &str, kinds: &[String]) -> FollowUps {
    let mut parsed = Vec::new();
    for (k, kind) in kinds.iter().enumerate() {
        match FollowUpKind::parse(kind) {
            Some(kind) => parsed.push(kind),
            None => errors.push(ConfigError::new(
                format!("{path}.follow_ups[{k}]"),
                format!("unknown follow-up {kind:?}; use acknowledged or resolved"),
            )),
        }
    }
    FollowUps::from_kinds(&parsed)
}

pub(super) fn channels(
    errors: &mut Vec<ConfigError>,
    raw: Vec<(usize, RawChannel)>,
) -> Vec<ChannelSpec> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, c) in raw {
        let path = format!("channels[{i}]");
        check_id(errors, &format!("{path}.id"), &c.id);
        if !seen.insert(c.id.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.id"),
                format!("duplicate channel {:?}", c.id),
            ));
        }
        let settings = match c.kind.as_str() {
            "email" => {
                let tls = match c.tls.as_deref().unwrap_or("starttls") {
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Tls,
                    "none" => SmtpTls::None,
                    other => {
                        errors.push(ConfigError::new(
                            format!("{path}.tls"),
                            format!("{other:?}: use starttls, tls or none"),
                        ));
                        SmtpTls::StartTls
                    }
                };
                let port = c.port.unwrap_or(match tls {
                    SmtpTls::StartTls => 587,
                    SmtpTls::Tls => 465,
                    SmtpTls::None => 25,
                });
                ChannelSettings::Email {
                    host: required(errors, &path, &c.kind, "host", c.host.clone()),
                    port,
                    tls,
                    username: c.username.clone(),
                    password: c
                        .password
                        .clone()
                        .map(|p| secret(errors, &format!("{path}.password"), p)),
                    from: required(errors, &path, &c.kind, "from", c.from.clone()),
                }
            }
            "webhook" => ChannelSettings::Webhook {
                url: http_url(errors, &path, &c.kind, c.url.clone()),
                secret: c
                    .secret
                    .clone()
                    .map(|s| secret(errors, &format!("{path}.secret"), s)),
                headers: headers(errors, &path, &c.headers),
            },
            "slack" => ChannelSettings::Slack {
                url: http_url(errors, &path, &c.kind, c.url.clone()),
            },
            "teams" => ChannelSettings::Teams {
                url: http_url(errors, &path, &c.kind, c.url.clone()),
            },
            "dingtalk" => ChannelSettings::Dingtalk {
                url: http_url(errors, &path, &c.kind, c.url.clone()),
                secret: c
                    .secret
                    .clone()
                    .map(|s| secret(errors, &format!("{path}.secret"), s)),
            },
            "wecom" => ChannelSettings::Wecom {
                url: http_url(errors, &path, &c.kind, c.url.clone()),
            },
            "feishu" => ChannelSettings::Feishu {
                url: http_url(errors, &path, &c.kind, c.url.clone()),
                secret: c
                    .secret
                    .clone()
                    .map(|s| secret(errors, &format!("{path}.secret"), s)),
            },
            "telegram" => ChannelSettings::Telegram {
                bot_token: {
                    let t = required(errors, &path, &c.kind, "bot_token", c.bot_token.clone());
                    secret(errors, &format!("{path}.bot_token"), t)
                },
                api_url: c
                    .api_url
                    .clone()
                    .unwrap_or_else(|| "https://api.telegram.org".into()),
            },
            "sms" | "voice" => {
                let body = required(errors, &path, &c.kind, "body", c.body.clone());
                if let Err(e) = minijinja::Environment::new().template_from_str(&body) {
                    errors.push(ConfigError::new(
                        format!("{path}.body"),
                        format!("invalid template: {e}"),
                    ));
                }
                ChannelSettings::Http {
                    voice: c.kind == "voice",
                    method: c
                        .method
                        .clone()
                        .unwrap_or_else(|| "POST".into())
                        .to_ascii_uppercase(),
                    url: http_url(errors, &path, &c.kind, c.url.clone()),
                    headers: headers(errors, &path, &c.headers),
                    body,
                    content_type: c
                        .content_type
                        .clone()
                        .unwrap_or_else(|| "application/json".into()),
                }
            }
            other => {
                errors.push(ConfigError::new(
                    format!("{path}.type"),
                    format!(
                        "unknown channel type {other:?}; use one of {}",
                        super::people::CONTACT_TYPES.join(", ")
                    ),
                ));
                continue;
            }
        };
        let follow_ups = match &c.follow_ups {
            Some(kinds) => follow_ups(errors, &path, kinds),
            None => FollowUps::default_for(&c.kind),
        };
        out.push(ChannelSpec {
            id: c.id,
            settings,
            follow_ups,
            // DingTalk and WeCom robots refuse more than 20 messages a minute; keeping to it
            // by default means a storm is held back by tocsin, not dropped by the robot.
            per_minute: c.per_minute.or(match c.kind.as_str() {
                "dingtalk" | "wecom" => Some(20),
                _ => None,
            }),
            template: c.template.map(|t| {
                for (field, source) in [("title", &t.title), ("text", &t.text)] {
                    if let Some(source) = source {
                        if let Err(e) = minijinja::Environment::new().template_from_str(source) {
                            errors.push(ConfigError::new(
                                format!("{path}.template.{field}"),
                                format!("invalid template: {e}"),
                            ));
                        }
                    }
                }
                ChannelTemplate {
                    title: t.title,
                    text: t.text,
                }
            }),
        });
    }
    out
}

/// A user's notification rules, with steps naming contacts by type or position.
pub(super) fn rules(
    errors: &mut Vec<ConfigError>,
    path: &str,
    contacts: &[Contact],
    raw: Vec<RawRule>,
) -> Vec<NotificationRule> {
    let mut out = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let rp = format!("{path}.notification_rules[{i}]");
        let time = match r.when.time {
            None => TimeOfDay::Any,
            Some(RawTime::Named(n)) => match n.as_str() {
                "any" => TimeOfDay::Any,
                "day" => TimeOfDay::Day,
                "night" => TimeOfDay::Night,
                other => {
                    errors.push(ConfigError::new(
                        format!("{rp}.when.time"),
                        format!("{other:?}: use day, night, any or {{days, from, to}}"),
                    ));
                    TimeOfDay::Any
                }
            },
            Some(RawTime::Window(w)) => match restriction(errors, &format!("{rp}.when.time"), w) {
                Some(w) => TimeOfDay::Window(w),
                None => TimeOfDay::Any,
            },
        };
        if r.steps.is_empty() {
            errors.push(ConfigError::new(
                format!("{rp}.steps"),
                "a rule needs at least one step",
            ));
        }
        let mut steps = Vec::new();
        for (j, s) in r.steps.into_iter().enumerate() {
            let sp = format!("{rp}.steps[{j}]");
            let contact = match &s.contact {
                RawContactRef::Index(k) if *k < contacts.len() => Some(*k),
                RawContactRef::Index(k) => {
                    errors.push(ConfigError::new(
                        format!("{sp}.contact"),
                        format!("there is no contact {k} (the user has {})", contacts.len()),
                    ));
                    None
                }
                RawContactRef::Type(t) => {
                    let found = contacts.iter().position(|c| &c.kind == t);
                    if found.is_none() {
                        errors.push(ConfigError::new(
                            format!("{sp}.contact"),
                            format!("the user has no {t} contact"),
                        ));
                    }
                    found
                }
            };
            let after = duration(errors, &format!("{sp}.after"), s.after.as_deref());
            if let Some(contact) = contact {
                steps.push(RuleStep { contact, after });
            }
        }
        out.push(NotificationRule {
            when: RuleCondition {
                urgency: r.when.urgency,
                time,
            },
            steps,
        });
    }
    out
}

pub(super) fn quiet_hours(
    errors: &mut Vec<ConfigError>,
    path: &str,
    raw: Option<RawQuiet>,
) -> Option<QuietHours> {
    let q = raw?;
    let window = restriction(
        errors,
        &format!("{path}.quiet_hours"),
        RawRestriction {
            days: q.days,
            from: q.from,
            to: q.to,
        },
    )?;
    Some(QuietHours {
        window,
        except: q.except,
    })
}

pub(super) fn support_hours(
    errors: &mut Vec<ConfigError>,
    path: &str,
    raw: Option<RawSupportHours>,
) -> Option<SupportHours> {
    let s = raw?;
    let tz = zone(errors, &format!("{path}.time_zone"), &s.time_zone);
    let window = restriction(
        errors,
        path,
        RawRestriction {
            days: s.days,
            from: s.from,
            to: s.to,
        },
    )?;
    Some(SupportHours {
        time_zone: s.time_zone,
        tz,
        window,
    })
}

/// The references between paging sections: policy targets, team members, services' and
/// teams' policies, and contacts' channels.
pub(super) fn check_references(errors: &mut Vec<ConfigError>, c: &super::Config) {
    let user = |id: &str| c.users.iter().any(|u| u.id == id);
    for (i, p) in c.escalation_policies.iter().enumerate() {
        for (j, l) in p.levels.iter().enumerate() {
            for (k, t) in l.targets.iter().enumerate() {
                let path = format!("escalation_policies[{i}].levels[{j}].targets[{k}]");
                let missing = match t {
                    Target::User(u) if !user(u) => Some(format!("unknown user {u:?}")),
                    Target::Schedule(s) if c.schedule(s).is_none() => {
                        Some(format!("unknown schedule {s:?}"))
                    }
                    Target::Team { id, .. } => match c.teams.iter().find(|x| &x.id == id) {
                        None => Some(format!("unknown team {id:?}")),
                        Some(team) if team.members.is_empty() => {
                            Some(format!("team {id:?} has no members"))
                        }
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(m) = missing {
                    errors.push(ConfigError::new(path, m));
                }
            }
        }
    }
    let policy = |id: &str| c.escalation_policies.iter().any(|p| p.id == id);
    for (i, t) in c.teams.iter().enumerate() {
        for (k, m) in t.members.iter().enumerate() {
            if !user(m) {
                errors.push(ConfigError::new(
                    format!("teams[{i}].members[{k}]"),
                    format!("unknown user {m:?}"),
                ));
            }
        }
        if let Some(p) = t.escalation_policy.as_deref().filter(|p| !policy(p)) {
            errors.push(ConfigError::new(
                format!("teams[{i}].escalation_policy"),
                format!("unknown escalation policy {p:?}"),
            ));
        }
    }
    for (i, s) in c.services.iter().enumerate() {
        if let Some(p) = s.escalation_policy.as_deref().filter(|p| !policy(p)) {
            errors.push(ConfigError::new(
                format!("services[{i}].escalation_policy"),
                format!("unknown escalation policy {p:?}"),
            ));
        }
    }
    for (i, u) in c.users.iter().enumerate() {
        for (j, contact) in u.contacts.iter().enumerate() {
            let path = format!("users[{i}].contacts[{j}]");
            match &contact.channel {
                Some(id) => match c.channels.iter().find(|ch| &ch.id == id) {
                    None => errors.push(ConfigError::new(
                        format!("{path}.channel"),
                        format!("unknown channel {id:?}"),
                    )),
                    Some(ch) if ch.settings.contact_type() != contact.kind => {
                        errors.push(ConfigError::new(
                            format!("{path}.channel"),
                            format!(
                                "channel {id:?} sends {}, not {}",
                                ch.settings.contact_type(),
                                contact.kind
                            ),
                        ))
                    }
                    _ => {}
                },
                None if !c
                    .channels
                    .iter()
                    .any(|ch| ch.settings.contact_type() == contact.kind) =>
                {
                    errors.push(ConfigError::new(
                        path,
                        format!(
                            "no channel of type {} is configured to reach this contact",
                            contact.kind
                        ),
                    ))
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use crate::paging::{ChannelSettings, Target};

    #[test]
    fn a_full_paging_config_loads() {
        std::env::set_var("TOCSIN_TEST_DINGTALK_SECRET", "SEC-from-env");
        let c = load_str(
            r#"
users:
  - {id: alice, contacts: [{type: dingtalk, to: "13800000000"}, {type: email, to: a@example.com}]}
  - {id: bob, contacts: [{type: email, to: b@example.com, channel: mail}]}
teams: [{id: dba, members: [alice, bob], escalation_policy: dba}]
services:
  - {id: mysql, team: dba, support_hours: {time_zone: Asia/Shanghai, days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}}
escalation_policies:
  - id: dba
    repeat: 2
    unresolved_after: 4h
    levels:
      - {delay: 5m, targets: [{user: alice}]}
      - {delay: 10m, targets: [{team: dba, round_robin: true}]}
channels:
  - {id: mail, type: email, host: smtp.example.com, from: "tocsin <t@example.com>"}
  - {id: robot, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=x", secret: "${TOCSIN_TEST_DINGTALK_SECRET}", per_minute: 20}
"#,
        )
        .unwrap();
        let p = c.policy_for(c.service("mysql").unwrap()).unwrap();
        assert_eq!(
            p.levels[1].targets[0],
            Target::Team {
                id: "dba".into(),
                round_robin: true
            }
        );
        assert_eq!(p.unresolved_after, Some(4 * 3_600_000));
        assert_eq!(c.channels[1].per_minute, Some(20), "as set");
        assert_eq!(
            c.channels[0].per_minute, None,
            "mail has no limit by default"
        );
        let robot = c.channel_for(&c.users[0].contacts[0]).unwrap();
        match &robot.settings {
            ChannelSettings::Dingtalk {
                secret: Some(s), ..
            } => assert_eq!(s.expose(), "SEC-from-env"),
            other => panic!("{other:?}"),
        }
        assert!(
            !format!("{c:?}").contains("SEC-from-env"),
            "secrets never show in Debug"
        );
        match &c.channel_for(&c.users[1].contacts[0]).unwrap().settings {
            ChannelSettings::Email { port, .. } => assert_eq!(*port, 587),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paging_errors_name_the_place() {
        let errors = load_str(
            r#"
users:
  - id: a
    contacts: [{type: sms, to: "+1"}, {type: email, to: a@x, channel: robot}]
    notification_rules:
      - {when: {time: noon}, steps: [{contact: voice}, {contact: 7}]}
teams: [{id: t, members: [ghost], escalation_policy: nope}]
services: [{id: s, team: t, escalation_policy: nada}]
escalation_policies:
  - {id: p, levels: [{delay: 500ms, targets: [{user: zed}, {schedule: none}, {user: a, team: t}]}]}
  - {id: q, levels: []}
channels:
  - {id: robot, type: dingtalk, url: "ftp://x"}
  - {id: x, type: pigeon}
  - {id: m, type: email, secret: "${TOCSIN_TEST_UNSET_VARIABLE}"}
"#,
        )
        .unwrap_err();
        let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let all = all.join("\n");
        for needle in [
            "users[0].notification_rules[0].when.time: \"noon\"",
            "users[0].notification_rules[0].steps[0].contact: the user has no voice contact",
            "users[0].notification_rules[0].steps[1].contact: there is no contact 7",
            "users[0].contacts[0]: no channel of type sms is configured",
            "users[0].contacts[1].channel: channel \"robot\" sends dingtalk, not email",
            "teams[0].members[0]: unknown user \"ghost\"",
            "teams[0].escalation_policy: unknown escalation policy \"nope\"",
            "services[0].escalation_policy: unknown escalation policy \"nada\"",
            "escalation_policies[0].levels[0].delay: at least 1s",
            "escalation_policies[0].levels[0].targets[0]: unknown user \"zed\"",
            "escalation_policies[0].levels[0].targets[1]: unknown schedule \"none\"",
            "escalation_policies[0].levels[0].targets[2]: name exactly one of user, schedule or team",
            "escalation_policies[1].levels: a policy needs at least one level",
            "channels[0].url: must be an http:// or https:// URL",
            "channels[1].type: unknown channel type \"pigeon\"",
            "channels[2].host: required for a email channel",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
    }

    #[test]
    fn header_values_are_read_from_the_environment_like_other_secrets() {
        std::env::set_var("TOCSIN_TEST_HEADER_KEY", "key-from-env");
        let c = load_str(
            r#"
channels:
  - {id: hook, type: webhook, url: "http://h/in", headers: {X-Api-Key: "${TOCSIN_TEST_HEADER_KEY}", X-Team: dba}}
"#,
        )
        .unwrap();
        match &c.channels[0].settings {
            ChannelSettings::Webhook { headers, .. } => {
                assert_eq!(headers["X-Api-Key"].expose(), "key-from-env");
                assert_eq!(headers["X-Team"].expose(), "dba");
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{c:?}").contains("key-from-env"));
        let errors = load_str(
            r#"
channels:
  - {id: hook, type: webhook, url: "http://h/in", headers: {X-Api-Key: "${TOCSIN_TEST_UNSET_HEADER}", Authorization: "Bearer ${TOCSIN_TEST_HEADER_KEY}", "Bad Name": x}}
  - {id: sms, type: sms, url: "http://h/sms", body: "{{ text }}", headers: {X-Key: "${TOCSIN_TEST_UNSET_HEADER}"}}
"#,
        )
        .unwrap_err();
        let all = errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        for needle in [
            "channels[0].headers.X-Api-Key: the environment variable TOCSIN_TEST_UNSET_HEADER is not set",
            "channels[0].headers.Authorization: only a whole value \"${NAME}\" is read from the environment",
            "channels[0].headers.Bad Name: not a valid HTTP header name",
            "channels[1].headers.X-Key: the environment variable TOCSIN_TEST_UNSET_HEADER is not set",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
        assert!(all.contains("fixed when it started"), "{all}");
    }

    #[test]
    fn env_references_lists_each_variable_once() {
        let text = "secret: \"${A_1}\"\nurl: \"${B}\"\nother: \"${A_1}\"\nbad: \"${not ok}\" \"${}\" \"${C\n";
        assert_eq!(super::env_references(text), ["A_1", "B"]);
        assert!(super::env_references("nothing here").is_empty());
    }
}
