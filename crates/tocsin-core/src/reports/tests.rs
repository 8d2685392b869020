use super::*;
use crate::config::load_str;
use crate::time::parse_rfc3339;
use proptest::prelude::*;

const CONFIG: &str = r#"
teams: [{id: dba, name: DBA}, {id: net, name: Network}]
services:
  - {id: mysql, name: MySQL, team: dba}
  - {id: switch, team: net}
users:
  - {id: alice, name: Alice Wang, time_zone: Asia/Shanghai}
  - {id: bob, name: Bob, time_zone: America/New_York}
"#;

fn config() -> Config {
    load_str(CONFIG).unwrap()
}

fn t(text: &str) -> Millis {
    parse_rfc3339(text).unwrap()
}

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

fn scope(from: &str, to: &str, bucket: Bucket, zone_name: &str) -> Scope {
    Scope {
        from: t(from),
        to: t(to),
        bucket,
        zone: zone(zone_name),
        by: GroupBy::Team,
        team: None,
        service: None,
    }
}

fn incident(id: i64, team: &str, service: &str, created: &str) -> IncidentFact {
    IncidentFact {
        id,
        team: team.into(),
        service: service.into(),
        created_at: t(created),
        acknowledged_at: None,
        resolved_at: None,
    }
}

fn firing(alert_id: i64, name: &str, service: &str, incident_id: i64, at: &str) -> FiringFact {
    FiringFact {
        alert_id,
        name: name.into(),
        service: service.into(),
        incident_id,
        at: t(at),
        occurrences: 1,
    }
}

fn page(user: &str, incident_id: i64, sent: &str) -> PageFact {
    PageFact {
        user: user.into(),
        incident_id,
        team: "dba".into(),
        service: "mysql".into(),
        sent_at: t(sent),
    }
}

const HOUR: Millis = 3_600_000;

#[test]
fn a_new_york_day_is_23_hours_when_the_clocks_go_forward() {
    let s = scope(
        "2026-03-07T00:00:00-05:00",
        "2026-03-10T00:00:00-04:00",
        Bucket::Day,
        "America/New_York",
    );
    let b = Buckets::new(s.bucket, &s.zone, s.from, s.to);
    assert_eq!(b.len(), 3);
    let lengths: Vec<Millis> = (0..3)
        .map(|i| b.span(i).1 - b.span(i).0)
        .map(|ms| ms / HOUR)
        .collect();
    assert_eq!(lengths, [24, 23, 24]);
    assert_eq!(b.format(b.span(1).0), "2026-03-08T00:00:00-05:00");
    assert_eq!(b.format(b.span(2).0), "2026-03-09T00:00:00-04:00");
    // 23:30 on the 8th is still the 8th on the wall clock, though a fixed -05:00 day would
    // already have ended.
    assert_eq!(b.index(t("2026-03-08T23:30:00-04:00")), Some(1));
    assert_eq!(b.index(t("2026-03-09T00:30:00-04:00")), Some(2));

    let facts = Facts {
        incidents: vec![
            incident(1, "dba", "mysql", "2026-03-08T23:30:00-04:00"),
            incident(2, "dba", "mysql", "2026-03-09T00:30:00-04:00"),
        ],
        ..Facts::default()
    };
    let r = report(&s, &facts, &config());
    let days: Vec<(&str, u64)> = r
        .response
        .iter()
        .map(|row| (row.bucket.as_str(), row.response.incidents))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-03-08T00:00:00-05:00", 1),
            ("2026-03-09T00:00:00-04:00", 1)
        ]
    );
    assert_eq!(r.buckets.len(), 3);
    assert_eq!(r.buckets[1].end, "2026-03-09T00:00:00-04:00");
}

#[test]
fn a_day_is_25_hours_when_the_clocks_go_back() {
    let z = zone("America/New_York");
    let b = Buckets::new(
        Bucket::Day,
        &z,
        t("2026-11-01T00:00:00-04:00"),
        t("2026-11-02T00:00:00-05:00"),
    );
    assert_eq!(b.len(), 1);
    assert_eq!(b.span(0).1 - b.span(0).0, 25 * HOUR);
}

#[test]
fn weeks_start_on_monday_and_cover_the_range() {
    // 2026-03-04 is a Wednesday.
    let z = zone("Asia/Shanghai");
    let b = Buckets::new(
        Bucket::Week,
        &z,
        t("2026-03-04T12:00:00+08:00"),
        t("2026-03-16T00:00:00+08:00"),
    );
    assert_eq!(b.len(), 2);
    assert_eq!(b.format(b.span(0).0), "2026-03-02T00:00:00+08:00");
    assert_eq!(b.format(b.span(1).1), "2026-03-16T00:00:00+08:00");
    // Before `from`, it is in no bucket, though the first one started earlier.
    assert_eq!(b.index(t("2026-03-03T00:00:00+08:00")), None);
    assert_eq!(
        b.index(t("2026-03-16T00:00:00+08:00")),
        None,
        "to is exclusive"
    );
}

#[test]
fn mtta_and_mttr_are_mean_and_median_of_the_incidents_that_got_there() {
    let s = scope(
        "2026-03-02T00:00:00Z",
        "2026-03-03T00:00:00Z",
        Bucket::Day,
        "UTC",
    );
    let mut incidents = Vec::new();
    // Acknowledged after 60 s, 120 s and 600 s; one never; resolved after 1 h and 3 h.
    for (id, ack, res) in [
        (1, Some(60), Some(3_600)),
        (2, Some(120), None),
        (3, Some(600), Some(10_800)),
        (4, None, None),
    ] {
        let mut i = incident(id, "dba", "mysql", "2026-03-02T10:00:00Z");
        i.acknowledged_at = ack.map(|s| i.created_at + s * 1000);
        i.resolved_at = res.map(|s| i.created_at + s * 1000);
        incidents.push(i);
    }
    let facts = Facts {
        incidents,
        ..Facts::default()
    };
    let r = report(&s, &facts, &config());
    let expected = Response {
        incidents: 4,
        acknowledged: 3,
        mtta_mean_seconds: Some(260.0),
        mtta_median_seconds: Some(120.0),
        resolved: 2,
        mttr_mean_seconds: Some(7_200.0),
        mttr_median_seconds: Some(7_200.0),
    };
    assert_eq!(r.summary.all.response, expected);
    assert_eq!(r.response.len(), 1);
    assert_eq!(r.response[0].response, expected);
    assert_eq!(r.response[0].group, "dba");

    let none = report(
        &s,
        &Facts {
            incidents: vec![incident(9, "dba", "mysql", "2026-03-02T10:00:00Z")],
            ..Facts::default()
        },
        &config(),
    );
    assert_eq!(none.summary.all.response.mtta_mean_seconds, None);
    assert_eq!(none.summary.all.response.mttr_median_seconds, None);
}

#[test]
fn alerts_per_incident_and_noise_reduction_per_group_and_bucket() {
    let mut s = scope(
        "2026-03-02T00:00:00Z",
        "2026-03-04T00:00:00Z",
        Bucket::Day,
        "UTC",
    );
    let facts = Facts {
        incidents: vec![
            incident(1, "dba", "mysql", "2026-03-02T10:00:00Z"),
            incident(2, "net", "switch", "2026-03-03T10:00:00Z"),
        ],
        firings: vec![
            firing(1, "SlowQuery", "mysql", 1, "2026-03-02T10:00:00Z"),
            firing(2, "SlowQuery", "mysql", 1, "2026-03-02T10:01:00Z"),
            firing(3, "Replication", "mysql", 1, "2026-03-02T10:02:00Z"),
            // Muted: no incident, still an alert.
            firing(4, "Replication", "mysql", 0, "2026-03-02T11:00:00Z"),
            firing(5, "PortDown", "switch", 2, "2026-03-03T10:00:00Z"),
        ],
        ..Facts::default()
    };
    let r = report(&s, &facts, &config());
    assert_eq!(r.summary.all.noise.alerts, 5);
    assert_eq!(r.summary.all.noise.alerts_per_incident, Some(2.5));
    assert_eq!(r.summary.all.noise.noise_reduction, Some(0.6));
    let volume: Vec<(&str, u64, u64, Option<f64>)> = r
        .volume
        .iter()
        .map(|v| {
            (
                v.group.as_str(),
                v.incidents,
                v.noise.alerts,
                v.noise.noise_reduction,
            )
        })
        .collect();
    assert_eq!(
        volume,
        [("dba", 1, 4, Some(0.75)), ("net", 1, 1, Some(0.0))],
        "alerts take their service's team from the config"
    );
    let names: Vec<(&str, &str)> = r
        .summary
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.name.as_str()))
        .collect();
    assert_eq!(names, [("dba", "DBA"), ("net", "Network")]);

    s.by = GroupBy::Service;
    s.team = Some("net".into());
    let r = report(&s, &facts, &config());
    assert_eq!(r.summary.all.response.incidents, 1);
    assert_eq!(r.summary.all.noise.alerts, 1);
    assert_eq!(r.volume[0].group, "switch");
    assert_eq!(
        r.summary.groups[0].name, "switch",
        "a service without a name"
    );
}

#[test]
fn noisy_alerts_rank_by_firings_and_count_alerts_and_incidents_once() {
    let s = scope(
        "2026-03-02T00:00:00Z",
        "2026-03-03T00:00:00Z",
        Bucket::Day,
        "UTC",
    );
    let mut firings = vec![
        // Alert 1 fired three times (episodes), into incidents 1, 1 and 2.
        firing(1, "SlowQuery", "mysql", 1, "2026-03-02T01:00:00Z"),
        firing(1, "SlowQuery", "mysql", 1, "2026-03-02T02:00:00Z"),
        firing(1, "SlowQuery", "mysql", 2, "2026-03-02T03:00:00Z"),
        firing(2, "SlowQuery", "mysql", 0, "2026-03-02T04:00:00Z"),
        // The same name on another service is another kind.
        firing(3, "SlowQuery", "switch", 3, "2026-03-02T04:00:00Z"),
    ];
    for f in &mut firings {
        f.occurrences = f.alert_id * 10;
    }
    // Many quiet kinds, to see the list cut at TOP_NOISY.
    for n in 0..30 {
        firings.push(firing(
            100 + n,
            &format!("K{n:02}"),
            "mysql",
            9,
            "2026-03-02T05:00:00Z",
        ));
    }
    let r = report(
        &s,
        &Facts {
            firings,
            ..Facts::default()
        },
        &config(),
    );
    assert_eq!(r.noisy.len(), TOP_NOISY);
    assert_eq!(
        r.noisy[0],
        NoisyRow {
            name: "SlowQuery".into(),
            service: "mysql".into(),
            firings: 4,
            alerts: 2,
            incidents: 2,
            occurrences: 30,
        }
    );
    assert_eq!(
        (r.noisy[1].service.as_str(), r.noisy[1].firings),
        ("switch", 1)
    );
    // Ties on firings go by occurrences (switch's 30 above), then by name.
    assert_eq!(
        (r.noisy[2].name.as_str(), r.noisy[3].name.as_str()),
        ("K00", "K01")
    );
}

#[test]
fn night_interruptions_are_counted_on_each_persons_clock() {
    let s = scope(
        "2026-03-02T00:00:00Z",
        "2026-03-04T00:00:00Z",
        Bucket::Day,
        "UTC",
    );
    let facts = Facts {
        pages: vec![
            // Alice is in Shanghai (+08:00): 23:00, 06:59 and 22:00 are night, 07:00 is not.
            page("alice", 1, "2026-03-02T15:00:00Z"),
            page("alice", 1, "2026-03-02T22:59:00Z"),
            page("alice", 2, "2026-03-02T23:00:00Z"),
            page("alice", 2, "2026-03-03T14:00:00Z"),
            // Bob is in New York (-05:00): 03:00 UTC is 22:00 there.
            page("bob", 1, "2026-03-02T03:00:00Z"),
            // Someone no longer in the config: UTC, named by id.
            page("zed", 3, "2026-03-02T12:00:00Z"),
            // Out of the range.
            page("bob", 1, "2026-03-04T03:00:00Z"),
        ],
        ..Facts::default()
    };
    let r = report(&s, &facts, &config());
    let load: Vec<(&str, &str, u64, u64, u64)> = r
        .load
        .iter()
        .map(|l| {
            (
                l.user.as_str(),
                l.name.as_str(),
                l.notifications,
                l.incidents,
                l.night_notifications,
            )
        })
        .collect();
    assert_eq!(
        load,
        [
            ("alice", "Alice Wang", 4, 2, 3),
            ("bob", "Bob", 1, 1, 1),
            ("zed", "zed", 1, 1, 0)
        ]
    );
    assert_eq!(r.load[0].time_zone, "Asia/Shanghai");
    assert_eq!(r.summary.all.notifications, 6);
    assert_eq!(r.summary.all.night_notifications, 4);
}

#[test]
fn the_report_says_what_it_covers_on_its_zone() {
    let mut s = scope(
        "2026-03-02T00:00:00Z",
        "2026-03-03T00:00:00Z",
        Bucket::Day,
        "Asia/Shanghai",
    );
    s.service = Some("mysql".into());
    let r = report(&s, &Facts::default(), &config());
    assert_eq!(r.from, "2026-03-02T08:00:00+08:00");
    assert_eq!(r.to, "2026-03-03T08:00:00+08:00");
    assert_eq!(r.zone, "Asia/Shanghai");
    assert_eq!(
        r.buckets.len(),
        2,
        "two local days, each partly in the range"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["bucket"], "day");
    assert_eq!(json["by"], "team");
    assert_eq!(json["service"], "mysql");
    assert!(json["summary"]["all"]["mtta_mean_seconds"].is_null());
    assert_eq!(json["summary"]["all"]["incidents"], 0);
}

const ZONES: [&str; 5] = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Shanghai",
    "Australia/Lord_Howe",
];

proptest! {
    /// Whatever the zone and bucket: buckets are contiguous and each starts a local day,
    /// every incident and alert in the range is counted once in the bucket that holds it,
    /// and the buckets add up to the totals.
    #[test]
    fn buckets_add_up_to_the_totals(
        zone_index in 0..ZONES.len(),
        week in any::<bool>(),
        // 2025-06-01 to 2027-06-01, a range of up to 120 days.
        from in 1_748_736_000_000i64..1_811_808_000_000,
        days in 1i64..120,
        offsets in proptest::collection::vec((-5i64..125, 0usize..2), 0..60),
    ) {
        let day = 24 * HOUR;
        let to = from + days * day;
        let s = Scope {
            from,
            to,
            bucket: if week { Bucket::Week } else { Bucket::Day },
            zone: zone(ZONES[zone_index]),
            by: GroupBy::Team,
            team: None,
            service: None,
        };
        let mut facts = Facts::default();
        for (n, (offset, team)) in offsets.iter().enumerate() {
            let at = from + offset * day + (n as i64 * 7_919_000) % day;
            let (team, service) = [("dba", "mysql"), ("net", "switch")][*team];
            facts.incidents.push(IncidentFact {
                id: n as i64,
                team: team.into(),
                service: service.into(),
                created_at: at,
                acknowledged_at: Some(at + 1000),
                resolved_at: None,
            });
            facts.firings.push(FiringFact {
                alert_id: n as i64,
                name: "A".into(),
                service: service.into(),
                incident_id: n as i64,
                at,
                occurrences: 1,
            });
        }
        let inside = facts.incidents.iter().filter(|i| i.created_at >= from && i.created_at < to).count() as u64;
        let r = report(&s, &facts, &config());

        let b = Buckets::new(s.bucket, &s.zone, from, to);
        prop_assert!(b.span(0).0 <= from && b.span(b.len() - 1).1 >= to);
        for i in 0..b.len() {
            let (start, end) = b.span(i);
            prop_assert!(start < end);
            if i + 1 < b.len() {
                prop_assert_eq!(end, b.span(i + 1).0);
            }
            let local = jiff::Timestamp::from_millisecond(start).unwrap().to_zoned(s.zone.clone());
            prop_assert_eq!(local.start_of_day().unwrap().timestamp().as_millisecond(), start);
        }
        for i in &facts.incidents {
            if let Some(k) = b.index(i.created_at) {
                let (start, end) = b.span(k);
                prop_assert!(start <= i.created_at && i.created_at < end);
            }
        }

        prop_assert_eq!(r.summary.all.response.incidents, inside);
        prop_assert_eq!(r.summary.all.noise.alerts, inside);
        prop_assert_eq!(r.response.iter().map(|x| x.response.incidents).sum::<u64>(), inside);
        prop_assert_eq!(r.response.iter().map(|x| x.response.acknowledged).sum::<u64>(), inside);
        prop_assert_eq!(r.volume.iter().map(|x| x.noise.alerts).sum::<u64>(), inside);
        prop_assert_eq!(r.summary.groups.iter().map(|g| g.totals.response.incidents).sum::<u64>(), inside);
    }
}
