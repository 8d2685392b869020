//! A person's notification rules: over which of their contacts, and after what delay, they
//! hear of an incident of a given urgency at a given time on their own clock.

use super::{RuleStep, TimeOfDay};
use crate::config::User;
use crate::priority::Level;
use crate::schedule::restriction::contains;
use crate::schedule::Restriction;
use crate::time::Millis;
use jiff::civil::Time;

/// One contact to notify, and why (kept in the incident's timeline).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedContact {
    /// Index into the user's contacts.
    pub contact: usize,
    /// After the page; a step with a delay is sent only if still unacknowledged then.
    pub after: Millis,
}

/// Which rule chose the plan, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleWhy(pub String);

const DAY_STARTS: i8 = 8;
const NIGHT_STARTS: i8 = 22;

/// The contacts to notify of an incident of `urgency` paged at `at`. The first rule whose
/// condition holds decides; with no rules, or none that hold, every contact is notified at
/// once, so a page is never dropped by a gap in someone's rules. Quiet hours hold back
/// everything but the urgencies they except.
pub fn plan_for_user(user: &User, urgency: Level, at: Millis) -> (Vec<PlannedContact>, RuleWhy) {
    if let Some(q) = &user.quiet_hours {
        if contains(std::slice::from_ref(&q.window), &user.tz, at) && !q.except.contains(&urgency) {
            return (Vec::new(), RuleWhy("quiet hours".into()));
        }
    }
    for (i, rule) in user.notification_rules.iter().enumerate() {
        let urgency_ok = rule.when.urgency.is_empty() || rule.when.urgency.contains(&urgency);
        if urgency_ok && time_matches(&rule.when.time, user, at) {
            let steps = rule.steps.iter().map(|s: &RuleStep| PlannedContact {
                contact: s.contact,
                after: s.after,
            });
            return (
                steps.collect(),
                RuleWhy(format!("rule {} of {}", i + 1, user.id)),
            );
        }
    }
    let all = (0..user.contacts.len()).map(|contact| PlannedContact { contact, after: 0 });
    let why = if user.notification_rules.is_empty() {
        "no rules: every contact"
    } else {
        "no rule matched: every contact"
    };
    (all.collect(), RuleWhy(why.into()))
}

fn time_matches(time: &TimeOfDay, user: &User, at: Millis) -> bool {
    let every_day = |from: i8, to: i8| Restriction {
        days: [true; 7],
        from: Time::constant(from, 0, 0, 0),
        to: Time::constant(to, 0, 0, 0),
    };
    match time {
        TimeOfDay::Any => true,
        TimeOfDay::Day => contains(&[every_day(DAY_STARTS, NIGHT_STARTS)], &user.tz, at),
        TimeOfDay::Night => contains(&[every_day(NIGHT_STARTS, DAY_STARTS)], &user.tz, at),
        TimeOfDay::Window(w) => contains(std::slice::from_ref(w), &user.tz, at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;
    use crate::time::parse_rfc3339;

    const CONFIG: &str = r#"
users:
  - id: alice
    time_zone: Asia/Shanghai
    contacts:
      - {type: voice, to: "+8613800000000"}
      - {type: sms, to: "+8613800000000"}
      - {type: email, to: alice@example.com}
    notification_rules:
      - when: {urgency: [high], time: night}
        steps: [{contact: voice}, {contact: sms, after: 2m}]
      - when: {time: day}
        steps: [{contact: email}]
    quiet_hours: {from: "01:00", to: "06:00", except: [high]}
  - {id: bob, contacts: [{type: email, to: bob@example.com}, {type: sms, to: "+1555"}]}
channels:
  - {id: mail, type: email, host: localhost, port: 25, tls: none, from: tocsin@example.com}
  - {id: sms, type: sms, url: "http://sms/send", body: "{{ text }}"}
  - {id: voice, type: voice, url: "http://sms/call", body: "{{ text }}"}
"#;

    fn at(t: &str) -> Millis {
        parse_rfc3339(t).unwrap()
    }

    #[test]
    fn the_first_rule_that_holds_decides_on_the_persons_clock() {
        let c = load_str(CONFIG).unwrap();
        let alice = c.user("alice").unwrap();
        // 23:00 in Shanghai, high urgency: a call now, an SMS two minutes later.
        let (plan, why) = plan_for_user(alice, Level::High, at("2026-03-02T15:00:00Z"));
        assert_eq!(
            plan,
            [
                PlannedContact {
                    contact: 0,
                    after: 0
                },
                PlannedContact {
                    contact: 1,
                    after: 120_000
                }
            ]
        );
        assert_eq!(why.0, "rule 1 of alice");
        // 10:00 in Shanghai: mail.
        let (plan, _) = plan_for_user(alice, Level::High, at("2026-03-02T02:00:00Z"));
        assert_eq!(
            plan,
            [PlannedContact {
                contact: 2,
                after: 0
            }]
        );
        // 23:00, low urgency: no rule holds, so every contact rather than nothing.
        let (plan, why) = plan_for_user(alice, Level::Low, at("2026-03-02T15:00:00Z"));
        assert_eq!(plan.len(), 3);
        assert_eq!(why.0, "no rule matched: every contact");
    }

    #[test]
    fn quiet_hours_hold_back_all_but_their_exceptions() {
        let c = load_str(CONFIG).unwrap();
        let alice = c.user("alice").unwrap();
        // 03:00 in Shanghai.
        let (plan, why) = plan_for_user(alice, Level::Medium, at("2026-03-02T19:00:00Z"));
        assert!(plan.is_empty());
        assert_eq!(why.0, "quiet hours");
        let (plan, _) = plan_for_user(alice, Level::High, at("2026-03-02T19:00:00Z"));
        assert_eq!(plan[0].contact, 0);
        let bob = c.user("bob").unwrap();
        assert_eq!(plan_for_user(bob, Level::Low, 0).0.len(), 2);
    }
}
