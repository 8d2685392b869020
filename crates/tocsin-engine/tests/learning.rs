//! Correlation learning from people on a manual clock: two kinds of alert on services the
//! catalog does not link open two incidents until people merged them a few times; then a
//! new pair lands in one incident by itself, and its timeline says it co-fires. A split of
//! such a pair teaches the opposite: the next pair stays apart again.

mod common;

use common::{event, Harness, HOUR, SEC, T0};
use tocsin_core::clock::Clock;
use tocsin_core::command::{RegroupAction, RegroupCommand};
use tocsin_core::event::{Event, Status};
use tocsin_store::log::LogEntry;

/// No topology links the two services: only what is learned (and the similar words of the
/// two alerts) can bring them together. The threshold sits between what a pair scores
/// after people merged it (words 0.17 + time 0.10 + co-fire 0.20 = 0.46) and what it
/// scores before, or after a split halved the rate (0.27 to 0.31), clear of both.
const CONFIG: &str = r#"
correlation: {enabled: true, threshold: 0.39}
services: [{id: checkout}, {id: payments}]
"#;

/// Rounds are an hour apart: past every correlation window and the recurrence of the last
/// round's alerts, so each round's pair is placed afresh.
const ROUND: i64 = HOUR;

/// Round `n`'s alert of `service` (a new alert, a new dedup key each round).
fn alert(n: i64, service: &str, status: Status, at: i64) -> Event {
    Event {
        dedup_key: format!("{service}-{n}"),
        name: format!("{service} errors"),
        summary: "upstream connection errors rising".into(),
        service: Some(service.into()),
        ..event("", status, at)
    }
}

impl Harness {
    /// Round `n`: `checkout errors` fires, `payments errors` two seconds later; returns
    /// their incidents.
    fn pair(&mut self, n: i64) -> (i64, i64) {
        let t = T0 + n * ROUND;
        for (service, at) in [("checkout", t), ("payments", t + 2 * SEC)] {
            self.clock.set(at);
            self.events(vec![alert(n, service, Status::Firing, at)]);
        }
        (
            self.incident_of(n, "checkout"),
            self.incident_of(n, "payments"),
        )
    }

    /// Round `n`'s pair resolves, a minute after it fired.
    fn resolve(&mut self, n: i64) {
        let at = T0 + n * ROUND + 60 * SEC;
        self.clock.set(at);
        let resolved = ["checkout", "payments"].map(|s| alert(n, s, Status::Resolved, at));
        self.events(resolved.into());
    }

    fn incident_of(&self, n: i64, service: &str) -> i64 {
        self.alert(&format!("{service}-{n}")).incident_id.unwrap()
    }

    /// Bob regroups now.
    fn regroup(&mut self, incident_id: i64, action: RegroupAction) {
        let at = self.clock.now();
        self.input(LogEntry::Regroup(RegroupCommand {
            incident_id,
            action,
            actor: "bob".into(),
            reason: String::new(),
            at,
        }));
    }

    /// Rounds in which the pair opens two incidents and Bob merges payments' into
    /// checkout's, until a pair lands in one incident by itself: returns that round, whose
    /// incident is still open. People should not have to say it more than three times.
    fn merge_until_learned(&mut self) -> i64 {
        for n in 0..=3 {
            let (checkout, payments) = self.pair(n);
            if checkout == payments {
                assert!(n > 0, "apart until people merge them");
                return n;
            }
            self.regroup(payments, RegroupAction::Merge { into: checkout });
            assert_eq!(self.incident_of(n, "payments"), checkout);
            self.resolve(n);
        }
        panic!("three merges taught nothing");
    }

    fn says(&self, incident: i64, kind: &str, text: &str) -> bool {
        self.timeline(incident)
            .iter()
            .any(|(k, m)| k == kind && m.contains(text))
    }
}

#[test]
fn merges_teach_that_two_kinds_fire_together() {
    let mut h = Harness::new(CONFIG);
    let n = h.merge_until_learned();
    let incident = h.incident_of(n, "checkout");
    assert!(
        h.says(
            incident,
            "correlated",
            "alert payments errors from test joined: score"
        ) && h.says(
            incident,
            "correlated",
            "co-fires with checkout errors 100% of the time"
        ),
        "{:?}",
        h.timeline(incident)
    );
}

#[test]
fn a_split_teaches_that_they_do_not() {
    let mut h = Harness::new(CONFIG);
    let n = h.merge_until_learned();
    let incident = h.incident_of(n, "checkout");
    let alert = h.alert(&format!("payments-{n}")).id;
    h.regroup(
        incident,
        RegroupAction::Split {
            alerts: vec![alert],
        },
    );
    assert_ne!(h.incident_of(n, "payments"), incident);
    h.resolve(n);
    let (checkout, payments) = h.pair(n + 1);
    assert_ne!(payments, checkout, "the split taught them apart again");
}
