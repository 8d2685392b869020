//! What `tocsin preview` shows: one structure, printed as text or serialized as the JSON
//! object documented in docs/cli.md, so both say the same.

use super::diff::{Group, Placed};
use super::Side;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// Changed groups shown, most impactful first; the rest are counted.
const GROUPS_SHOWN: usize = 20;
/// Alert names and incident titles shown per group; the rest are counted.
const NAMES_SHOWN: usize = 5;

#[derive(Serialize)]
pub struct Report {
    /// What was replayed.
    history: String,
    events: u64,
    firing: usize,
    current: Totals,
    new: Totals,
    /// Every service with an incident under either config, those that changed most first.
    services: Vec<ServiceCount>,
    /// How many groups changed, and of each kind.
    changed_groups: usize,
    changes: BTreeMap<&'static str, usize>,
    /// The most impactful changed groups.
    groups: Vec<GroupReport>,
}

#[derive(Serialize)]
struct Totals {
    incidents: usize,
    alerts: i64,
    notifications: i64,
    /// Firing events in no incident (kept out by a silence or inhibition).
    unplaced: usize,
}

#[derive(Serialize)]
struct ServiceCount {
    service: String,
    current: usize,
    new: usize,
}

#[derive(Serialize)]
struct GroupReport {
    kind: &'static str,
    /// Distinct alerts in the group.
    alerts: usize,
    /// Their names and services, most alerts first, and how many more there are.
    names: Vec<AlertName>,
    more_names: usize,
    current: Incidents,
    new: Incidents,
}

#[derive(Serialize)]
struct AlertName {
    name: String,
    service: String,
    alerts: usize,
}

/// One side of a group.
#[derive(Serialize)]
struct Incidents {
    count: usize,
    /// Distinct alerts of the group in these incidents.
    alerts: usize,
    shown: Vec<IncidentRef>,
}

#[derive(Serialize)]
struct IncidentRef {
    /// The incident's id in that replay (not the server's).
    id: i64,
    title: String,
    service: String,
}

impl Report {
    pub fn new(
        history: String,
        before: &Side,
        after: &Side,
        placed: &[Placed],
        groups: &[Group],
    ) -> Report {
        let mut changes = BTreeMap::new();
        for g in groups {
            *changes.entry(g.kind().name()).or_default() += 1;
        }
        Report {
            history,
            events: before.events,
            firing: placed.len(),
            current: Totals::of(before),
            new: Totals::of(after),
            services: services(before, after),
            changed_groups: groups.len(),
            changes,
            groups: groups
                .iter()
                .take(GROUPS_SHOWN)
                .map(|g| GroupReport::of(g, before, after, placed))
                .collect(),
        }
    }
}

impl Totals {
    fn of(side: &Side) -> Totals {
        let incidents: HashSet<i64> = side.firing.iter().filter_map(|f| f.incident).collect();
        Totals {
            incidents: incidents.len(),
            alerts: side.alerts,
            notifications: side.notifications,
            unplaced: side.firing.iter().filter(|f| f.incident.is_none()).count(),
        }
    }
}

/// A replay's incidents by service.
fn per_service(side: &Side) -> HashMap<&str, HashSet<i64>> {
    let mut m: HashMap<&str, HashSet<i64>> = HashMap::new();
    for id in side.firing.iter().filter_map(|f| f.incident) {
        let service = side.incidents.get(&id).map_or("", |(_, s)| s.as_str());
        m.entry(service).or_default().insert(id);
    }
    m
}

/// Incidents per service under each config.
fn services(before: &Side, after: &Side) -> Vec<ServiceCount> {
    let (b, a) = (per_service(before), per_service(after));
    let names: HashSet<&str> = b.keys().chain(a.keys()).copied().collect();
    let count = |m: &HashMap<&str, HashSet<i64>>, s| m.get(s).map_or(0, HashSet::len);
    let mut out: Vec<ServiceCount> = names
        .into_iter()
        .map(|s| ServiceCount {
            service: s.to_string(),
            current: count(&b, s),
            new: count(&a, s),
        })
        .collect();
    out.sort_by(|x, y| {
        (y.current.abs_diff(y.new), &x.service).cmp(&(x.current.abs_diff(x.new), &y.service))
    });
    out
}

impl GroupReport {
    fn of(g: &Group, before: &Side, after: &Side, placed: &[Placed]) -> GroupReport {
        let events = || g.events.iter().map(|&i| placed[i]);
        // Names by the current replay's alerts: each alert counted once.
        let mut names: HashMap<&(String, String), HashSet<i64>> = HashMap::new();
        for p in events() {
            if let Some(n) = before.alert_names.get(&p.alert) {
                names.entry(n).or_default().insert(p.alert);
            }
        }
        let mut names: Vec<AlertName> = names
            .into_iter()
            .map(|((name, service), alerts)| AlertName {
                name: name.clone(),
                service: service.clone(),
                alerts: alerts.len(),
            })
            .collect();
        names.sort_by(|x, y| (y.alerts, &x.name, &x.service).cmp(&(x.alerts, &y.name, &y.service)));
        let more_names = names.len().saturating_sub(NAMES_SHOWN);
        names.truncate(NAMES_SHOWN);
        let side = |ids: &[i64], side: &Side, placed_in: fn(&Placed) -> Option<i64>| {
            let alerts: HashSet<i64> = events()
                .filter(|p| placed_in(p).is_some())
                .map(|p| p.alert)
                .collect();
            Incidents {
                count: ids.len(),
                alerts: alerts.len(),
                shown: ids
                    .iter()
                    .take(NAMES_SHOWN)
                    .map(|&id| {
                        let (title, service) = side.incidents.get(&id).cloned().unwrap_or_default();
                        IncidentRef { id, title, service }
                    })
                    .collect(),
            }
        };
        GroupReport {
            kind: g.kind().name(),
            alerts: g.alerts,
            names,
            more_names,
            current: side(&g.current, before, |p| p.current),
            new: side(&g.new, after, |p| p.new),
        }
    }

    /// "merged: alerts that were in 3 incidents are now in 1", and the like.
    fn headline(&self) -> String {
        let (n, k) = (self.current.count, self.new.count);
        let what = match self.kind {
            "merged" | "regrouped" => format!("alerts that were in {n} incidents are now in {k}"),
            "split" => format!(
                "an incident of {} is now {k} incidents",
                alerts(self.current.alerts)
            ),
            "added" => format!("alerts that were in no incident are now in {k}"),
            "dropped" => format!("alerts that were in {n} incident(s) are now in none"),
            _ => format!(
                "an incident of {} is now one of {}",
                alerts(self.current.alerts),
                self.new.alerts
            ),
        };
        format!("{}: {what}", self.kind)
    }
}

fn alerts(n: usize) -> String {
    if n == 1 {
        "1 alert".into()
    } else {
        format!("{n} alerts")
    }
}

/// ", and 3 more" after a list that was cut.
fn more(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" and {n} more")
    }
}

impl fmt::Display for Incidents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .shown
            .iter()
            .map(|i| format!("{:?} ({})", i.title, i.service))
            .collect();
        write!(
            f,
            "{}{}",
            shown.join(", "),
            more(self.count - self.shown.len())
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (c, n) = (&self.current, &self.new);
        writeln!(f, "preview of {}", self.history)?;
        writeln!(f, "incidents: {} -> {}", c.incidents, n.incidents)?;
        writeln!(f, "alerts: {} -> {}", c.alerts, n.alerts)?;
        writeln!(
            f,
            "notifications that would have been sent: {} -> {}",
            c.notifications, n.notifications
        )?;
        if c.unplaced + n.unplaced > 0 {
            writeln!(
                f,
                "firing events in no incident: {} -> {}",
                c.unplaced, n.unplaced
            )?;
        }
        let changed: Vec<&ServiceCount> = self
            .services
            .iter()
            .filter(|s| s.current != s.new)
            .collect();
        writeln!(f, "\nincidents per service (current -> new):")?;
        for s in &changed {
            writeln!(f, "  {}: {} -> {}", s.service, s.current, s.new)?;
        }
        let same = self.services.len() - changed.len();
        if same > 0 {
            writeln!(f, "  {same} service(s) unchanged")?;
        }
        if self.changed_groups == 0 {
            return writeln!(f, "\nno incident changed");
        }
        let kinds: Vec<String> = self
            .changes
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        writeln!(
            f,
            "\n{} group(s) of incidents changed: {}",
            self.changed_groups,
            kinds.join(", ")
        )?;
        for g in &self.groups {
            let names: Vec<String> = g
                .names
                .iter()
                .map(|a| format!("{} {} ({})", a.alerts, a.name, a.service))
                .collect();
            writeln!(f, "{}", g.headline())?;
            writeln!(f, "  alerts: {}{}", names.join(", "), more(g.more_names))?;
            if g.current.count > 0 {
                writeln!(f, "  current: {}", g.current)?;
            }
            if g.new.count > 0 {
                writeln!(f, "  new: {}", g.new)?;
            }
        }
        let rest = self.changed_groups - self.groups.len();
        if rest > 0 {
            writeln!(f, "and {rest} more")?;
        }
        Ok(())
    }
}
