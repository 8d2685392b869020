//! The OpenAPI document served at `/api/v1/openapi.json` stays in step with the router: every
//! route of `src/routes/mod.rs` is documented with each of its methods, nothing is documented
//! that is not routed, every path parameter is declared, and every `$ref` points at something
//! the document defines.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const DOC: &str = include_str!("../src/openapi.json");
const ROUTES: &str = include_str!("../src/routes/mod.rs");

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn doc() -> Value {
    serde_json::from_str(DOC).expect("src/openapi.json is valid JSON")
}

/// `path -> methods` of every `.route("PATH", get(..).post(..))` in the router source.
fn routes() -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    // rustfmt may break a long `.route(` call after its parenthesis.
    let calls: Vec<&str> = ROUTES.split(".route(").skip(1).collect();
    for call in calls {
        let call = call
            .trim_start()
            .strip_prefix('"')
            .expect("a route path is a literal");
        let (path, rest) = call
            .split_once('"')
            .expect("a route path ends with a quote");
        // The method routers of this route: up to the next builder call.
        let end = [".route(", ".layer(", ".merge(", ".fallback("]
            .iter()
            .filter_map(|m| rest.find(m))
            .min()
            .unwrap_or(rest.len());
        let methods = methods_in(&rest[..end]);
        assert!(!methods.is_empty(), "no method found for route {path}");
        out.entry(path.to_string())
            .or_insert_with(BTreeSet::new)
            .extend(methods);
    }
    out
}

/// Words like `get(` or `.post(` that are not part of a longer name or a `module::path`.
fn methods_in(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for m in METHODS {
        let needle = format!("{m}(");
        let mut from = 0;
        while let Some(i) = text[from..].find(&needle) {
            let at = from + i;
            let before = text[..at].chars().next_back();
            let standalone =
                !matches!(before, Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == ':');
            if standalone {
                found.insert(m.to_string());
            }
            from = at + needle.len();
        }
    }
    found
}

#[test]
fn it_is_openapi_3_0_3() {
    let d = doc();
    assert_eq!(d["openapi"], "3.0.3");
    assert!(d["info"]["title"].is_string());
    assert!(d["info"]["version"].is_string());
    assert_eq!(
        d["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
}

#[test]
fn the_route_parser_reads_the_router() {
    let r = routes();
    assert!(r.len() >= 10, "too few routes parsed: {r:?}");
    assert_eq!(
        r["/api/v1/tokens"],
        BTreeSet::from(["get".to_string(), "post".to_string()])
    );
    assert_eq!(r["/api/v1/events"], BTreeSet::from(["post".to_string()]));
}

#[test]
fn every_route_is_documented_with_its_methods() {
    let d = doc();
    let paths = d["paths"].as_object().expect("paths is an object");
    let mut missing = Vec::new();
    for (path, methods) in routes() {
        // axum 0.8 and OpenAPI both write parameters as {name}.
        match paths.get(&path) {
            None => missing.push(format!("{path} (the whole path)")),
            Some(item) => {
                for m in methods {
                    if item.get(&m).is_none() {
                        missing.push(format!("{} {path}", m.to_uppercase()));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routed but not in openapi.json: {missing:?}"
    );
}

#[test]
fn nothing_is_documented_that_is_not_routed() {
    let d = doc();
    let routes = routes();
    let mut extra = Vec::new();
    for (path, item) in d["paths"].as_object().unwrap() {
        let routed = routes.get(path);
        for m in METHODS {
            if item.get(m).is_some() && !routed.is_some_and(|r| r.contains(m)) {
                extra.push(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    assert!(
        extra.is_empty(),
        "in openapi.json but not routed: {extra:?}"
    );
}

#[test]
fn every_operation_declares_its_path_parameters_and_responses() {
    let d = doc();
    for (path, item) in d["paths"].as_object().unwrap() {
        let wanted: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let declared: BTreeSet<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(item["parameters"].as_array().into_iter().flatten())
                .map(|p| resolve(&d, p))
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(
                        p["required"], true,
                        "{m} {path}: path parameters are required"
                    );
                    p["name"].as_str().unwrap().to_string()
                })
                .collect();
            let declared: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
            assert_eq!(declared, wanted, "{m} {path}: path parameters");
            let responses = op["responses"].as_object();
            assert!(
                responses.is_some_and(|r| !r.is_empty()),
                "{m} {path}: no responses"
            );
            assert!(op["operationId"].is_string(), "{m} {path}: no operationId");
        }
    }
}

#[test]
fn every_ref_resolves() {
    let d = doc();
    let mut refs = Vec::new();
    collect_refs(&d, &mut refs);
    assert!(refs.len() > 20, "suspiciously few $refs: {}", refs.len());
    let broken: Vec<&String> = refs
        .iter()
        .filter(|r| !r.starts_with("#/") || d.pointer(r.trim_start_matches('#')).is_none())
        .collect();
    assert!(broken.is_empty(), "unresolved $ref: {broken:?}");
    // The schemas the API documentation promises.
    for name in [
        "Alert",
        "AlertDetail",
        "Incident",
        "IncidentDetail",
        "TimelineEntry",
        "Page",
        "Error",
        "Event",
        "PostableAlert",
        "Token",
    ] {
        assert!(
            d["components"]["schemas"].get(name).is_some(),
            "schema {name} is missing"
        );
    }
}

#[test]
fn authenticated_operations_can_answer_401() {
    let d = doc();
    for (path, item) in d["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let open = op["security"].as_array().is_some_and(|s| s.is_empty());
            if !open {
                assert!(
                    op["responses"].get("401").is_some(),
                    "{m} {path} needs a token but documents no 401"
                );
            }
        }
    }
}

/// Follows a `$ref` (one level) to what it names.
fn resolve<'a>(d: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => d
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved $ref {r}")),
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
