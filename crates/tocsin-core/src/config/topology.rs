//! A CMDB import: the `topology.json` of the scenario formats (services with their tier,
//! datacenter, hosts and dependencies; hosts with their service, IP, switch and datacenter;
//! network switches) joined into a config's service catalog, so alerts map to services and
//! hosts even when tools name machines differently.

use serde::Deserialize;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Topology {
    #[serde(default)]
    services: BTreeMap<String, TopoService>,
    #[serde(default)]
    hosts: BTreeMap<String, TopoHost>,
    #[serde(default)]
    switches: BTreeMap<String, TopoSwitch>,
}

#[derive(Deserialize)]
struct TopoService {
    tier: Option<String>,
    dc: Option<String>,
    #[serde(default)]
    depends_on: Vec<String>,
}

/// A host and the switch it hangs off (its uplink in the catalog).
#[derive(Deserialize)]
struct TopoHost {
    service: Option<String>,
    ip: Option<String>,
    switch: Option<String>,
}

/// A switch and the switch above it.
#[derive(Deserialize)]
struct TopoSwitch {
    ip: Option<String>,
    parent: Option<String>,
}

/// The service that network switches belong to.
pub const NETWORK_SERVICE: &str = "network";

/// A catalog host: `{name, ips: [ip], uplink}`.
fn host_entry(name: &str, ip: Option<&str>, uplink: Option<&str>) -> Value {
    let mut host = Mapping::new();
    host.insert("name".into(), name.into());
    if let Some(ip) = ip {
        host.insert("ips".into(), Value::Sequence(vec![ip.into()]));
    }
    if let Some(up) = uplink {
        host.insert("uplink".into(), up.into());
    }
    Value::Mapping(host)
}

/// Adds the topology's services and hosts to a config (YAML text): services the config does
/// not define are added with their labels and dependencies; every host joins its service
/// (switches join `network`). Services the config defines keep its settings and gain the
/// topology's hosts.
pub fn merge_topology(config_yaml: &str, topology_json: &str) -> Result<String, String> {
    let topo: Topology = serde_json::from_str(topology_json)
        .map_err(|e| format!("topology: not the expected JSON: {e}"))?;
    let mut root = match serde_yaml_ng::from_str::<Value>(config_yaml)
        .map_err(|e| format!("not valid YAML: {e}"))?
    {
        Value::Mapping(m) => m,
        Value::Null => Mapping::new(),
        _ => return Err("the config must be a mapping".into()),
    };
    let services = root
        .entry("services".into())
        .or_insert_with(|| Value::Sequence(Vec::new()));
    let Value::Sequence(list) = services else {
        return Err("services: must be a list".into());
    };
    let index_of = |list: &Vec<Value>, id: &str| {
        list.iter()
            .position(|s| s.get("id").and_then(Value::as_str) == Some(id))
    };
    let mut hosts_of: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, h) in &topo.hosts {
        let service = h.service.clone().unwrap_or_else(|| NETWORK_SERVICE.into());
        let entry = host_entry(name, h.ip.as_deref(), h.switch.as_deref());
        hosts_of.entry(service).or_default().push(entry);
    }
    for (name, sw) in &topo.switches {
        let entry = host_entry(name, sw.ip.as_deref(), sw.parent.as_deref());
        hosts_of
            .entry(NETWORK_SERVICE.into())
            .or_default()
            .push(entry);
    }
    // Hosts of services the topology does not list (switches' `network`, say).
    let rest: Vec<String> = hosts_of
        .keys()
        .filter(|k| !topo.services.contains_key(*k))
        .cloned()
        .collect();
    let mut add = |id: &str, labels: Mapping, depends_on: &[String]| {
        let i = index_of(list, id).unwrap_or_else(|| {
            let mut s = Mapping::new();
            s.insert("id".into(), id.into());
            list.push(Value::Mapping(s));
            list.len() - 1
        });
        if let Value::Mapping(s) = &mut list[i] {
            // What the config says itself wins; the CMDB fills in what it leaves out.
            if !labels.is_empty() && !s.contains_key("labels") {
                s.insert("labels".into(), Value::Mapping(labels));
            }
            if !depends_on.is_empty() && !s.contains_key("depends_on") {
                let deps = depends_on.iter().map(|d| Value::from(d.clone())).collect();
                s.insert("depends_on".into(), Value::Sequence(deps));
            }
        }
        if let Some(hosts) = hosts_of.remove(id) {
            if let Value::Mapping(s) = &mut list[i] {
                let entry = s
                    .entry("hosts".into())
                    .or_insert_with(|| Value::Sequence(Vec::new()));
                if let Value::Sequence(existing) = entry {
                    existing.extend(hosts);
                }
            }
        }
    };
    for (id, s) in &topo.services {
        let mut labels = Mapping::new();
        if let Some(t) = &s.tier {
            labels.insert("tier".into(), t.clone().into());
        }
        if let Some(dc) = &s.dc {
            labels.insert("dc".into(), dc.clone().into());
        }
        add(id, labels, &s.depends_on);
    }
    for id in rest {
        add(&id, Mapping::new(), &[]);
    }
    serde_yaml_ng::to_string(&Value::Mapping(root)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    const TOPO: &str = r#"{
      "services": {"web": {"tier": "app", "dc": "bj", "hosts": ["web-01"], "depends_on": ["db"]},
                   "db": {"tier": "storage", "dc": "bj", "hosts": ["db-01"], "depends_on": []}},
      "hosts": {"web-01": {"service": "web", "ip": "10.0.0.5", "switch": "sw-1", "dc": "bj"},
                "db-01": {"service": "db", "ip": "10.0.0.6", "switch": "sw-1", "dc": "bj"}},
      "switches": {"sw-1": {"dc": "bj", "parent": "core", "ip": "10.0.0.1"},
                   "core": {"dc": "bj", "parent": null}}
    }"#;

    #[test]
    fn the_cmdb_joins_the_catalog() {
        let merged = merge_topology("services: [{id: web, impact: high}]\n", TOPO).unwrap();
        let c = load_str(&merged).unwrap();
        let web = c.service("web").unwrap();
        assert_eq!(
            web.depends_on,
            ["db"].map(String::from).to_vec(),
            "filled in from the CMDB"
        );
        assert_eq!(
            web.impact,
            crate::priority::Level::High,
            "the config's own settings stay"
        );
        assert_eq!(c.host("10.0.0.6").unwrap().service, "db");
        assert_eq!(c.host("sw-1").unwrap().service, NETWORK_SERVICE);
        assert_eq!(c.service("db").unwrap().labels["tier"], "storage");
        assert_eq!(
            c.uplinks("web-01"),
            ["sw-1", "core"],
            "switch, then its parent"
        );
        assert_eq!(c.uplinks("10.0.0.1"), ["core"]);
        assert!(c.uplinks("core").is_empty());
    }
}
