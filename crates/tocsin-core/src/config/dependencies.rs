//! The services a service depends on through others: its dependencies' dependencies, and
//! theirs. Worked out once when a config is built, so correlation looks them up per alert
//! instead of walking the catalog.

use super::Service;
use std::collections::{HashMap, HashSet};

/// How many hops an indirect dependency may be away: a fault rarely spreads further within
/// the few minutes correlation looks at.
const MAX_HOPS: usize = 3;

/// For each service (in order), [`indirect_dependencies`] in this catalog.
pub(super) fn indirect(services: &[Service], index: &HashMap<String, usize>) -> Vec<Vec<String>> {
    let depends_on = |id: &str| index.get(id).map(|&i| services[i].depends_on.as_slice());
    services
        .iter()
        .map(|s| indirect_dependencies(&s.id, &s.depends_on, depends_on))
        .collect()
}

/// The services `id` (depending on `direct`) depends on two or three hops away, nearest
/// first, without itself or its direct dependencies; `depends_on` looks up another
/// service's direct dependencies (`None`: no such service, left out). Circles end a path.
pub fn indirect_dependencies<'a>(
    id: &str,
    direct: &'a [String],
    depends_on: impl Fn(&str) -> Option<&'a [String]>,
) -> Vec<String> {
    // A set, not a list: a large catalog reaches many services within three hops.
    let mut seen: HashSet<&str> = HashSet::from([id]);
    seen.extend(direct.iter().map(String::as_str));
    let mut frontier: Vec<&str> = direct.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for _ in 2..=MAX_HOPS {
        let mut next = Vec::new();
        for d in frontier.iter().filter_map(|&id| depends_on(id)).flatten() {
            if depends_on(d).is_some() && seen.insert(d.as_str()) {
                next.push(d.as_str());
                out.push(d.clone());
            }
        }
        frontier = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(edges: &[(&str, &[&str])]) -> (Vec<Service>, HashMap<String, usize>) {
        let services: Vec<Service> = edges
            .iter()
            .map(|(id, deps)| Service {
                id: id.to_string(),
                name: id.to_string(),
                team: "t".into(),
                impact: crate::priority::Level::Medium,
                labels: Default::default(),
                escalation_policy: None,
                support_hours: None,
                depends_on: deps.iter().map(|d| d.to_string()).collect(),
                indirect_depends_on: Vec::new(),
                correlation_threshold: None,
            })
            .collect();
        let index = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        (services, index)
    }

    #[test]
    fn two_and_three_hops_away_nearest_first() {
        let (s, i) = catalog(&[
            ("web", &["api"]),
            ("api", &["cache", "db"]),
            ("cache", &["db"]),
            ("db", &["disk"]),
            ("disk", &["power"]),
            ("power", &[]),
        ]);
        let all = indirect(&s, &i);
        assert_eq!(all[0], ["cache", "db", "disk"]);
        // api reaches db directly, so it is not indirect; power is four hops from web.
        assert_eq!(all[1], ["disk", "power"]);
        assert!(all[5].is_empty());
    }

    #[test]
    fn circles_and_unknown_names_end_a_path() {
        let (s, i) = catalog(&[("a", &["b"]), ("b", &["c", "ghost"]), ("c", &["a"])]);
        let all = indirect(&s, &i);
        assert_eq!(all[0], ["c"]);
        assert_eq!(all[1], ["a"]);
        assert_eq!(all[2], ["b"]);
    }
}
