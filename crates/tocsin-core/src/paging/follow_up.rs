//! Follow-up messages: once an incident that paged people is acknowledged or resolved, those
//! who were paged for it are told, over the channels that reached them, each once. Which
//! kinds a contact gets is its own `follow_ups`, else its channel's, else the channel type's
//! default: chat, webhooks and mail get both, SMS and voice neither (a text or a call in the
//! night to say that someone else took it wakes people for nothing). The person who
//! acknowledged or resolved it is not told what they just did.

use crate::config::Config;

/// What happened to the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpKind {
    Acknowledged,
    Resolved,
}

impl FollowUpKind {
    pub const ALL: [FollowUpKind; 2] = [FollowUpKind::Acknowledged, FollowUpKind::Resolved];

    /// As config, the outbox and messages name it.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpKind::Acknowledged => "acknowledged",
            FollowUpKind::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<FollowUpKind> {
        FollowUpKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Which follow-ups a channel or a contact gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowUps {
    pub acknowledged: bool,
    pub resolved: bool,
}

impl FollowUps {
    /// The default of a channel type: everything but SMS and voice.
    pub fn default_for(contact_type: &str) -> FollowUps {
        let on = !matches!(contact_type, "sms" | "voice");
        FollowUps {
            acknowledged: on,
            resolved: on,
        }
    }

    pub fn from_kinds(kinds: &[FollowUpKind]) -> FollowUps {
        FollowUps {
            acknowledged: kinds.contains(&FollowUpKind::Acknowledged),
            resolved: kinds.contains(&FollowUpKind::Resolved),
        }
    }

    pub fn wants(self, kind: FollowUpKind) -> bool {
        match kind {
            FollowUpKind::Acknowledged => self.acknowledged,
            FollowUpKind::Resolved => self.resolved,
        }
    }
}

/// A contact an incident's pages reached: the person, their contact (position in their
/// list) and the channel and address it went over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged {
    pub user: String,
    pub contact: usize,
    pub channel: String,
    pub address: String,
}

/// The person an actor of a command names: the console and the API name a person by their
/// id (`alice`), a signed link by their id and how (`alice (link)`). Another actor (an API
/// token's name, a monitoring tool) comes back as it is, and matches no user.
pub fn acting_user(actor: &str) -> &str {
    actor
        .strip_suffix(crate::links::ACTOR_SUFFIX)
        .unwrap_or(actor)
}

/// Of the contacts an incident's pages reached, those that get a follow-up of this kind: each
/// (person, channel, address) once, while the person, the channel and the contact are still
/// in the config, and the contact (else its channel) wants this kind; not the person who
/// acknowledged or resolved it (`actor`), who knows.
pub fn follow_up_to<'a>(
    config: &Config,
    paged: &'a [Paged],
    kind: FollowUpKind,
    actor: Option<&str>,
) -> Vec<&'a Paged> {
    let actor = actor.map(acting_user);
    let mut out: Vec<&Paged> = Vec::new();
    for p in paged {
        if actor == Some(p.user.as_str())
            || out
                .iter()
                .any(|o| o.user == p.user && o.channel == p.channel && o.address == p.address)
        {
            continue;
        }
        let Some(channel) = config.channels.iter().find(|c| c.id == p.channel) else {
            continue;
        };
        let Some(contact) = config
            .user(&p.user)
            .and_then(|u| u.contacts.get(p.contact))
            .filter(|c| c.to == p.address)
        else {
            continue;
        };
        if contact.follow_ups.unwrap_or(channel.follow_ups).wants(kind) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
users:
  - id: alice
    contacts:
      - {type: sms, to: "+1"}
      - {type: dingtalk, to: "138"}
      - {type: email, to: alice@example.com, follow_ups: [resolved]}
  - id: bob
    contacts:
      - {type: webhook, to: bob}
      - {type: sms, to: "+2", follow_ups: [acknowledged, resolved]}
channels:
  - {id: sms, type: sms, url: "https://sms.example.com", body: "{{ text }}"}
  - {id: dingtalk, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send"}
  - {id: mail, type: email, host: smtp.example.com, from: t@example.com}
  - {id: hook, type: webhook, url: "https://hook.example.com", follow_ups: []}
"#;

    fn paged(user: &str, contact: usize, channel: &str, address: &str) -> Paged {
        Paged {
            user: user.into(),
            contact,
            channel: channel.into(),
            address: address.into(),
        }
    }

    fn who(config: &Config, paged: &[Paged], kind: FollowUpKind) -> Vec<String> {
        follow_up_to(config, paged, kind, None)
            .into_iter()
            .map(|p| format!("{} {}", p.user, p.channel))
            .collect()
    }

    #[test]
    fn chat_and_mail_by_default_sms_and_voice_not_and_each_contact_once() {
        let config = crate::config::load_str(CONFIG).expect("valid");
        let all = [
            paged("alice", 0, "sms", "+1"),
            paged("alice", 1, "dingtalk", "138"),
            paged("alice", 1, "dingtalk", "138"),
            paged("alice", 2, "mail", "alice@example.com"),
            paged("bob", 0, "hook", "bob"),
            paged("bob", 1, "sms", "+2"),
            // No longer in the config, or the contact changed since it was paged.
            paged("carol", 0, "sms", "+3"),
            paged("alice", 1, "dingtalk", "139"),
        ];
        assert_eq!(
            who(&config, &all, FollowUpKind::Acknowledged),
            ["alice dingtalk", "bob sms"]
        );
        assert_eq!(
            who(&config, &all, FollowUpKind::Resolved),
            ["alice dingtalk", "alice mail", "bob sms"]
        );
    }

    #[test]
    fn the_person_who_acted_is_not_told() {
        let config = crate::config::load_str(CONFIG).expect("valid");
        let all = [
            paged("alice", 1, "dingtalk", "138"),
            paged("bob", 0, "hook", "bob"),
            paged("bob", 1, "sms", "+2"),
        ];
        for actor in ["alice", "alice (link)"] {
            let to = follow_up_to(&config, &all, FollowUpKind::Acknowledged, Some(actor));
            assert_eq!(to.len(), 1, "{actor}: {to:?}");
            assert_eq!(to[0].user, "bob");
        }
        // A token or a tool is nobody paged: everyone is told.
        let to = follow_up_to(&config, &all, FollowUpKind::Acknowledged, Some("ops-bot"));
        assert_eq!(to.len(), 2, "{to:?}");
    }

    fn text(errors: Vec<crate::config::ConfigError>) -> String {
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn an_unknown_kind_is_refused_with_its_path() {
        let bad = CONFIG.replace("follow_ups: []", "follow_ups: [acked]");
        let errors = text(crate::config::load_str(&bad).expect_err("invalid"));
        assert!(
            errors.contains("channels[3].follow_ups[0]: unknown follow-up \"acked\"; use acknowledged or resolved"),
            "{errors}"
        );
        let bad = CONFIG.replace("follow_ups: [resolved]", "follow_ups: [resolve]");
        let errors = text(crate::config::load_str(&bad).expect_err("invalid"));
        assert!(
            errors.contains("users[0].contacts[2].follow_ups[0]: unknown follow-up \"resolve\""),
            "{errors}"
        );
    }
}
