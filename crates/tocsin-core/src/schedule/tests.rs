use super::*;
use crate::config::load_str;
use crate::time::parse_rfc3339;

/// The example of the schedules issue, which must load as written.
pub(crate) const EXAMPLE: &str = r#"
users:
  - {id: alice, name: Alice Wang, time_zone: Asia/Shanghai}
  - {id: bob, name: Bob Li, time_zone: Asia/Shanghai}
  - {id: carol, name: Carol Zhang, time_zone: Europe/London}
schedules:
  - id: dba-primary
    time_zone: Asia/Shanghai
    layers:                       # a later layer wins where it has someone
      - name: weekly
        rotation: {every: 1w, start: "2026-03-02T09:00"}    # first hand-off, schedule's zone
        users: [alice, bob, carol]
      - name: weeknights
        rotation: {every: 1d, start: "2026-03-02T20:00"}
        users: [bob, carol]
        restrictions:             # only these windows; may wrap midnight
          - {days: [mon, tue, wed, thu, fri], from: "20:00", to: "08:00"}
    overrides:
      - {user: carol, from: "2026-03-10T00:00:00+08:00", to: "2026-03-11T00:00:00+08:00"}
"#;

fn t(text: &str) -> Millis {
    parse_rfc3339(text).unwrap()
}

fn who(s: &Schedule, at: &str) -> Vec<String> {
    on_call_at(s, &[], t(at))
}

#[test]
fn the_example_resolves_as_described() {
    let c = load_str(EXAMPLE).unwrap();
    let s = c.schedule("dba-primary").unwrap();
    assert_eq!(
        who(s, "2026-03-02T08:59:00+08:00"),
        Vec::<String>::new(),
        "before the first hand-off"
    );
    assert_eq!(
        who(s, "2026-03-03T12:00:00+08:00"),
        ["alice"],
        "weekday noon: the weekly layer"
    );
    assert_eq!(
        who(s, "2026-03-03T02:00:00+08:00"),
        ["bob"],
        "Monday's night window, day 0"
    );
    assert_eq!(
        who(s, "2026-03-03T22:00:00+08:00"),
        ["carol"],
        "Tuesday night, day 1"
    );
    assert_eq!(
        who(s, "2026-03-07T02:00:00+08:00"),
        ["bob"],
        "Friday's window wraps into Saturday"
    );
    assert_eq!(
        who(s, "2026-03-07T22:00:00+08:00"),
        ["alice"],
        "no window on Saturday"
    );
    assert_eq!(who(s, "2026-03-09T10:00:00+08:00"), ["bob"], "week 1");
    assert_eq!(
        who(s, "2026-03-10T12:00:00+08:00"),
        ["carol"],
        "the override"
    );
    assert_eq!(who(s, "2026-03-16T10:00:00+08:00"), ["carol"], "week 2");
    assert_eq!(
        who(s, "2026-03-23T10:00:00+08:00"),
        ["alice"],
        "week 3 starts over"
    );
}

#[test]
fn shifts_cover_the_range_and_join() {
    let c = load_str(EXAMPLE).unwrap();
    let s = c.schedule("dba-primary").unwrap();
    let (from, to) = (
        t("2026-03-02T09:00:00+08:00"),
        t("2026-03-16T09:00:00+08:00"),
    );
    let list = shifts(s, &[], from, to);
    assert_eq!(list.first().unwrap().start, from);
    assert_eq!(list.last().unwrap().end, to);
    for w in list.windows(2) {
        assert_eq!(w[0].end, w[1].start, "no gaps in this schedule");
        assert_ne!(
            w[0].user, w[1].user,
            "touching shifts of one user are joined"
        );
    }
    assert!(gaps(&list, from, to).is_empty());
    // The override day is one shift of carol's, joined with her weeknight before it.
    let override_day = list
        .iter()
        .find(|x| {
            x.start <= t("2026-03-10T12:00:00+08:00") && t("2026-03-10T12:00:00+08:00") < x.end
        })
        .unwrap();
    assert_eq!(override_day.user, "carol");
    assert_eq!(override_day.end, t("2026-03-11T00:00:00+08:00"));
    // Who is on call at any instant agrees with the shift list.
    let mut at = from;
    while at < to {
        let by_list: Vec<&str> = list
            .iter()
            .filter(|x| x.start <= at && at < x.end)
            .map(|x| x.user.as_str())
            .collect();
        assert_eq!(on_call_at(s, &[], at), by_list, "at {at}");
        at += 37 * 60_000;
    }
}

fn one_layer(zone: &str, every: &str, start: &str, extra: &str) -> Schedule {
    let text = format!(
        "users: [{{id: a}}, {{id: b}}]\nschedules:\n  - id: s\n    time_zone: {zone}\n    layers:\n      - rotation: {{every: {every}, start: \"{start}\"}}\n        users: [a, b]\n{extra}"
    );
    load_str(&text).unwrap().schedules.remove(0)
}

fn handoffs(s: &Schedule, n: i64) -> Vec<String> {
    let r = &s.layers[0].rotation;
    (0..n)
        .map(|k| {
            let ts = jiff::Timestamp::from_millisecond(r.handoff(&s.tz, k)).unwrap();
            ts.to_zoned(s.tz.clone())
                .strftime("%Y-%m-%dT%H:%M%:z")
                .to_string()
        })
        .collect()
}

#[test]
fn a_daily_hand_off_keeps_its_wall_clock_time_across_dst() {
    let s = one_layer("America/New_York", "1d", "2026-03-07T02:30", "");
    assert_eq!(
        handoffs(&s, 3),
        [
            "2026-03-07T02:30-05:00",
            // 02:30 does not exist on the 8th: it moves forward past the gap.
            "2026-03-08T03:30-04:00",
            "2026-03-09T02:30-04:00",
        ]
    );
    let s = one_layer("America/New_York", "1d", "2026-10-31T01:30", "");
    // 01:30 exists twice on November 1st: the first one.
    assert_eq!(handoffs(&s, 2)[1], "2026-11-01T01:30-04:00");
}

#[test]
fn hours_are_exact_and_months_are_calendar_steps() {
    let s = one_layer("America/New_York", "12h", "2026-03-07T08:00", "");
    assert_eq!(
        handoffs(&s, 4),
        [
            "2026-03-07T08:00-05:00",
            "2026-03-07T20:00-05:00",
            "2026-03-08T09:00-04:00",
            "2026-03-08T21:00-04:00",
        ]
    );
    let s = one_layer("Asia/Shanghai", "1mo", "2026-01-31T09:00", "");
    assert_eq!(
        handoffs(&s, 4),
        [
            "2026-01-31T09:00+08:00",
            "2026-02-28T09:00+08:00",
            "2026-03-31T09:00+08:00",
            "2026-04-30T09:00+08:00",
        ]
    );
    let s = one_layer("Australia/Lord_Howe", "1w", "2026-03-29T01:45", "");
    // Lord Howe moves its clocks by 30 minutes (April 5th, 02:00 -> 01:30).
    assert_eq!(
        handoffs(&s, 2),
        ["2026-03-29T01:45+11:00", "2026-04-05T01:45+11:00"]
    );
}

#[test]
fn restrictions_hide_a_layer_but_the_rotation_keeps_turning() {
    let s = one_layer(
        "Europe/London",
        "1d",
        "2026-03-02T09:00",
        "        restrictions: [{days: [mon], from: \"09:00\", to: \"17:00\"}]\n",
    );
    // Monday 2nd: a; the rotation turns on Tuesday to Sunday unseen; Monday 9th: b.
    assert_eq!(who(&s, "2026-03-02T10:00:00Z"), ["a"]);
    assert_eq!(who(&s, "2026-03-03T10:00:00Z"), Vec::<String>::new());
    assert_eq!(who(&s, "2026-03-09T10:00:00Z"), ["b"]);
    assert_eq!(
        who(&s, "2026-03-09T17:00:00Z"),
        Vec::<String>::new(),
        "the window ends at 17:00"
    );
    let list = shifts(
        &s,
        &[],
        t("2026-03-02T00:00:00Z"),
        t("2026-03-16T00:00:00Z"),
    );
    let g = gaps(&list, t("2026-03-02T00:00:00Z"), t("2026-03-16T00:00:00Z"));
    assert_eq!(list.len(), 2);
    assert_eq!(g.len(), 3);
}

#[test]
fn runtime_overrides_win_and_the_later_one_wins() {
    let c = load_str(EXAMPLE).unwrap();
    let s = c.schedule("dba-primary").unwrap();
    let o = |user: &str, from: &str, to: &str| Override {
        user: user.into(),
        start: t(from),
        end: t(to),
    };
    let extra = [
        o(
            "bob",
            "2026-03-03T10:00:00+08:00",
            "2026-03-03T14:00:00+08:00",
        ),
        o(
            "carol",
            "2026-03-03T12:00:00+08:00",
            "2026-03-03T13:00:00+08:00",
        ),
    ];
    assert_eq!(
        on_call_at(s, &extra, t("2026-03-03T11:00:00+08:00")),
        ["bob"]
    );
    assert_eq!(
        on_call_at(s, &extra, t("2026-03-03T12:30:00+08:00")),
        ["carol"]
    );
    assert_eq!(
        on_call_at(s, &extra, t("2026-03-03T13:30:00+08:00")),
        ["bob"]
    );
    assert_eq!(
        on_call_at(s, &extra, t("2026-03-03T14:00:00+08:00")),
        ["alice"]
    );
}

#[test]
fn fairness_counts_night_hours_in_each_persons_zone() {
    let c = load_str(EXAMPLE).unwrap();
    let s = c.schedule("dba-primary").unwrap();
    let list = shifts(
        s,
        &[],
        t("2026-03-02T09:00:00+08:00"),
        t("2026-03-23T09:00:00+08:00"),
    );
    let load = fairness(&list, |u| &c.user(u).unwrap().tz);
    let total: f64 = load.values().map(|l| l.hours).sum();
    assert!((total - 21.0 * 24.0).abs() < 1e-9, "{total}");
    assert!(load["bob"].night_hours > 0.0);
    // One day in Shanghai is 16:00 to 16:00 UTC: for someone in UTC, 22:00 to 07:00 of it
    // is night.
    let s = one_layer("Asia/Shanghai", "1d", "2026-03-02T00:00", "");
    let c = load_str("users: [{id: a}]").unwrap();
    let list = shifts(
        &s,
        &[],
        t("2026-03-02T00:00:00+08:00"),
        t("2026-03-03T00:00:00+08:00"),
    );
    let load = fairness(&list, |_| &c.users[0].tz);
    assert_eq!(load["a"].hours, 24.0);
    assert_eq!(load["a"].night_hours, 9.0);
}

#[test]
fn config_errors_name_the_place() {
    let errors = load_str(
        r#"
users:
  - {id: a, time_zone: Mars/Olympus, language: fr}
  - {id: b, contacts: [{type: pager, to: ""}]}
schedules:
  - id: s
    time_zone: Asia/Shanghai
    layers:
      - rotation: {every: 3x, start: "yesterday"}
        users: [a, zed]
        restrictions: [{days: [funday], from: "25:00", to: "08:00"}]
    overrides:
      - {user: b, from: "2026-03-02T10:00", to: "2026-03-02T09:00"}
  - {id: empty, time_zone: UTC}
"#,
    )
    .unwrap_err();
    let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let all = all.join("\n");
    for needle in [
        "users[0].time_zone: unknown time zone \"Mars/Olympus\"",
        "users[0].language: \"fr\"",
        "users[1].contacts[0].type: unknown contact type \"pager\"",
        "users[1].contacts[0].to: must not be empty",
        "schedules[0].layers[0].rotation.every: \"3x\"",
        "schedules[0].layers[0].rotation.start: \"yesterday\"",
        "schedules[0].layers[0].users[1]: unknown user \"zed\"",
        "schedules[0].layers[0].restrictions[0].days[0]: \"funday\"",
        "schedules[0].layers[0].restrictions[0].from: \"25:00\"",
        "schedules[0].overrides[0].to: must be after `from`",
        "schedules[1].layers: a schedule needs at least one layer",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in\n{all}");
    }
}

#[test]
fn a_start_written_with_its_offset_is_exact_even_in_a_fold() {
    // 01:30 happens twice on November 1st in New York; -05:00 names the second.
    let s = one_layer("America/New_York", "12h", "2026-11-01T01:30:00-05:00", "");
    assert_eq!(
        handoffs(&s, 2),
        ["2026-11-01T01:30-05:00", "2026-11-01T13:30-05:00"]
    );
    let s = one_layer("America/New_York", "1d", "2026-11-01T01:30:00-05:00", "");
    assert_eq!(
        handoffs(&s, 2),
        ["2026-11-01T01:30-05:00", "2026-11-02T01:30-05:00"]
    );
    assert_eq!(
        who(&s, "2026-11-01T06:29:00Z"),
        Vec::<String>::new(),
        "not before it"
    );
    assert_eq!(who(&s, "2026-11-01T06:30:00Z"), ["a"]);
}

/// The shift of a long list holding `at`, and the one after it: what [`shift_at`] must give.
fn around_in(list: &[Shift], at: Millis) -> Around {
    Around {
        current: list.iter().find(|x| x.start <= at && at < x.end).cloned(),
        next: list.iter().find(|x| x.start > at).cloned(),
    }
}

#[test]
fn shift_at_gives_whole_shifts_not_cut_at_the_instant() {
    let c = load_str(EXAMPLE).unwrap();
    let s = c.schedule("dba-primary").unwrap();
    let a = shift_at(s, &[], t("2026-03-03T12:34:56+08:00"));
    let current = a.current.unwrap();
    assert_eq!(current.user, "alice");
    assert_eq!(
        current.start,
        t("2026-03-03T08:00:00+08:00"),
        "when it began"
    );
    assert_eq!(current.end, t("2026-03-03T20:00:00+08:00"));
    let next = a.next.unwrap();
    assert_eq!(
        (next.start, next.end, next.user.as_str()),
        (
            t("2026-03-03T20:00:00+08:00"),
            t("2026-03-04T08:00:00+08:00"),
            "carol"
        )
    );
    // Before the first hand-off: nobody now, the first shift next.
    let a = shift_at(s, &[], t("2026-02-20T00:00:00+08:00"));
    assert_eq!(a.current, None);
    assert_eq!(a.next.unwrap().start, t("2026-03-02T09:00:00+08:00"));
    // A runtime override that ended before the instant still belongs to the shift it joined.
    let extra = [Override {
        user: "alice".into(),
        start: t("2026-03-03T06:00:00+08:00"),
        end: t("2026-03-03T08:00:00+08:00"),
    }];
    let a = shift_at(s, &extra, t("2026-03-03T12:00:00+08:00"));
    assert_eq!(a.current.unwrap().start, t("2026-03-03T06:00:00+08:00"));
}

#[test]
fn shift_at_agrees_with_a_wide_shift_list() {
    let c = load_str(EXAMPLE).unwrap();
    let s = c.schedule("dba-primary").unwrap();
    let restricted = one_layer(
        "Europe/London",
        "1d",
        "2026-03-02T09:00",
        "        restrictions: [{days: [mon], from: \"09:00\", to: \"17:00\"}]\n",
    );
    let monthly = one_layer("America/New_York", "1mo", "2026-01-31T09:00", "");
    let (from, to) = (
        t("2025-12-01T00:00:00Z").min(s.layers[0].rotation.first),
        t("2027-06-01T00:00:00Z"),
    );
    for sc in [s, &restricted, &monthly] {
        let list = shifts(sc, &[], from, to);
        let mut at = t("2026-02-01T00:00:00Z");
        while at < t("2026-12-01T00:00:00Z") {
            assert_eq!(
                shift_at(sc, &[], at),
                around_in(&list, at),
                "{} at {at}",
                sc.id
            );
            at += 7 * 3_600_000 + 13 * 60_000;
        }
    }
}

#[test]
fn shift_at_cuts_an_endless_shift_at_its_limit() {
    let text = "users: [{id: a}]\nschedules:\n  - id: s\n    time_zone: UTC\n    layers:\n      - rotation: {every: 1d, start: \"2026-03-02T00:00\"}\n        users: [a]\n";
    let s = load_str(text).unwrap().schedules.remove(0);
    let at = t("2028-01-01T12:00:00Z");
    let a = shift_at(&s, &[], at);
    let current = a.current.unwrap();
    assert_eq!(
        (current.start, current.end),
        (at - SHIFT_LOOK_LIMIT, at + SHIFT_LOOK_LIMIT)
    );
    assert_eq!(a.next, None);
    // Shorter than the limit: whole.
    let a = shift_at(&s, &[], t("2026-06-01T00:00:00Z"));
    assert_eq!(a.current.unwrap().start, t("2026-03-02T00:00:00Z"));
}
