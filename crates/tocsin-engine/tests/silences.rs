//! Silences in the engine with a manual clock: a pending silence starts muting at its start
//! time, a muted alert opens an incident exactly when the silence ends, an update in place
//! keeps the id, and the times are the silence's own, not when the engine got round to them.

mod common;

use common::{event, Harness, GRACE, T0};
use tocsin_core::clock::Clock;
use tocsin_core::command::{SilenceAction, SilenceCommand};
use tocsin_core::config::Config;
use tocsin_core::event::{Event, Severity, Status};
use tocsin_core::silence::{parse_matcher, SilenceSpec};
use tocsin_store::log::LogEntry;
use tocsin_store::sqlite::silences;

impl Harness {
    fn fire(&mut self, name: &str) {
        let now = self.clock.now();
        self.events(vec![Event {
            severity: Severity::High,
            labels: [("env".to_string(), "prod".to_string())].into(),
            ..event(name, Status::Firing, now)
        }]);
    }

    fn silence(&mut self, id: Option<&str>, new_id: &str, matcher: &str, starts: i64, ends: i64) {
        let at = self.clock.now();
        self.input(LogEntry::Silence(SilenceCommand {
            action: SilenceAction::Set {
                id: id.map(str::to_string),
                new_id: new_id.into(),
                silence: SilenceSpec {
                    matchers: vec![parse_matcher(matcher).unwrap()],
                    starts_at: starts,
                    ends_at: ends,
                    created_by: "alice".into(),
                    comment: "window".into(),
                },
            },
            actor: "ops".into(),
            at,
        }));
    }
}

const ID1: &str = "6f1c2a4e-0b7d-4c3e-9a5f-1d2e3f405162";
const ID2: &str = "7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d";

#[test]
fn a_pending_silence_mutes_from_its_start_and_lets_go_at_its_end() {
    let mut h = Harness::with_config(Config::builtin());
    let (starts, ends) = (T0 + 60_000, T0 + 120_000);
    h.silence(None, ID1, "env=prod", starts, ends);
    assert_eq!(h.incidents().len(), 0);

    // Pending: an alert fires and pages.
    h.clock.set(T0 + 10_000);
    h.fire("Before");
    assert!(h.alert("Before").incident_id.is_some());
    assert_eq!(h.incidents().len(), 1);

    // Active from its start (decided at the engine's horizon, like expiries): the paging
    // alert is marked, a new one is muted.
    h.at(starts + GRACE);
    assert_eq!(h.alert("Before").silenced_by, vec![ID1.to_string()]);
    assert!(
        h.alert("Before").incident_id.is_some(),
        "it keeps its incident"
    );
    h.fire("During");
    let during = h.alert("During");
    assert_eq!(during.silenced_by, vec![ID1.to_string()]);
    assert_eq!(during.incident_id, None);
    assert_eq!(h.incidents().len(), 1);

    // Its end: the muted alert opens an incident dated the silence's end.
    h.at(ends + GRACE - 1);
    assert_eq!(h.alert("During").incident_id, None);
    h.at(ends + GRACE);
    let during = h.alert("During");
    assert!(during.silenced_by.is_empty());
    let incident = during.incident_id.expect("attached when the silence ended");
    let opened = h
        .incidents()
        .into_iter()
        .find(|i| i.id == incident)
        .unwrap();
    assert_eq!(opened.created_at, tocsin_core::time::to_rfc3339(ends));
    assert!(h.alert("Before").silenced_by.is_empty());
    let stored = silences::get(&h.conn(), ID1).unwrap().unwrap();
    assert_eq!(stored.engine_state.as_str(), "expired");
    assert_eq!(stored.expired_by, None, "it ended by itself");
}

#[test]
fn an_update_in_place_keeps_muting_and_a_replacement_hands_over() {
    let mut h = Harness::with_config(Config::builtin());
    h.silence(None, ID1, "env=prod", T0, T0 + 60_000);
    h.fire("Muted");
    assert_eq!(h.alert("Muted").silenced_by, vec![ID1.to_string()]);
    // Longer, same matchers: in place; no new silence, still muted past the old end.
    h.clock.set(T0 + 30_000);
    h.silence(Some(ID1), ID2, "env=prod", T0, T0 + 600_000);
    assert!(silences::get(&h.conn(), ID2).unwrap().is_none());
    h.at(T0 + 120_000);
    assert_eq!(h.alert("Muted").silenced_by, vec![ID1.to_string()]);
    assert_eq!(h.incidents().len(), 0);
    // Other matchers that still match: the old one expires, the new one mutes at once, so
    // the alert never pages in between.
    h.silence(Some(ID1), ID2, "env=~\"prod|dev\"", T0, T0 + 600_000);
    let old = silences::get(&h.conn(), ID1).unwrap().unwrap();
    assert_eq!(old.replaced_by.as_deref(), Some(ID2));
    assert_eq!(old.expired_by.as_deref(), Some("ops"));
    assert_eq!(h.alert("Muted").silenced_by, vec![ID2.to_string()]);
    assert_eq!(h.incidents().len(), 0);
}
