//! Every endpoint in one table: its method, path, who may call it and what body it takes.
//! The router is checked against it (every row routes, every route has a row), so are
//! docs/api.md and the OpenAPI document, and the black-box role test (tests/role_table.rs)
//! calls every row with every kind of credential. The content-type guard reads it too.

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, metrics, the OpenAPI document, the sign-in page, static files).
    None,
    /// A responder token, or no token from a program on this machine when
    /// `intake.loopback_without_token` is on (see front_door::loopback).
    IntakeLoopback,
    Viewer,
    Responder,
    Admin,
    /// An integration's key (in the path, a header or the body); API tokens do not count.
    Key,
    /// The signed, expiring token of a notification's link, in the path.
    SignedLink,
    /// A person's calendar feed token, in the path.
    FeedToken,
    /// A console session (the cookie); without one a page redirects to the sign-in page.
    Session,
}

impl Access {
    /// The word docs/api.md's endpoint table uses for it.
    pub fn doc_word(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::IntakeLoopback => "responder¹",
            Access::Viewer => "viewer",
            Access::Responder => "responder",
            Access::Admin => "admin",
            Access::Key => "integration key",
            Access::SignedLink => "the signed token in the path",
            Access::FeedToken => "the feed token in the path",
            Access::Session => "console session",
        }
    }
}

/// What a request body must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// JSON: a request with a body must say `Content-Type: application/json`, so a browser
    /// page cannot send one without a CORS preflight (which tocsin never grants).
    Json,
    /// The handler decides: integrations take their tool's format (forms, text), console
    /// forms carry a CSRF token, reads take none.
    Own,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    /// As the router spells it, `{name}` for a path parameter.
    pub path: &'static str,
    pub access: Access,
    pub body: BodyKind,
    /// Listed in docs/api.md and the OpenAPI document (the console's pages are not).
    pub api: bool,
}

const fn api(method: &'static str, path: &'static str, access: Access, body: BodyKind) -> Endpoint {
    Endpoint {
        method,
        path,
        access,
        body,
        api: true,
    }
}

const fn console(method: &'static str, path: &'static str, access: Access) -> Endpoint {
    Endpoint {
        method,
        path,
        access,
        body: BodyKind::Own,
        api: false,
    }
}

use Access::*;
use BodyKind::*;

pub const ENDPOINTS: &[Endpoint] = &[
    api("POST", "/api/v1/events", IntakeLoopback, Json),
    api("POST", "/api/v2/alerts", IntakeLoopback, Json),
    api("GET", "/hooks/{key}", Key, Own),
    api("POST", "/hooks/{key}", Key, Own),
    api("GET", "/hooks", Key, Own),
    api("POST", "/hooks", Key, Own),
    api("POST", "/v2/enqueue", Key, Own),
    api("GET", "/api/v1/alerts", Viewer, Own),
    api("GET", "/api/v1/alerts/{id}", Viewer, Own),
    api("GET", "/api/v1/incidents", Viewer, Own),
    api("GET", "/api/v1/incidents/{id}", Viewer, Own),
    api("GET", "/api/v1/storms", Viewer, Own),
    api("GET", "/api/v1/reports", Viewer, Own),
    api("GET", "/api/v1/reports/{file}", Viewer, Own),
    api("POST", "/api/v1/incidents/{id}/merge", Responder, Json),
    api("POST", "/api/v1/incidents/{id}/split", Responder, Json),
    api("POST", "/api/v1/incidents/{id}/{action}", Responder, Json),
    api("GET", "/api/v1/tokens", Admin, Own),
    api("POST", "/api/v1/tokens", Admin, Json),
    api("DELETE", "/api/v1/tokens/{name}", Admin, Json),
    api("GET", "/api/v1/logins", Admin, Own),
    api("POST", "/api/v1/logins", Admin, Json),
    api("DELETE", "/api/v1/logins/{id}", Admin, Json),
    api("GET", "/api/v1/services", Viewer, Own),
    api("GET", "/api/v1/services/discovered.yaml", Viewer, Own),
    api("GET", "/api/v1/teams", Viewer, Own),
    api("GET", "/api/v1/channels", Viewer, Own),
    api("GET", "/api/v1/schedules", Viewer, Own),
    api("GET", "/api/v1/schedules/{id}", Viewer, Own),
    api("GET", "/api/v1/schedules/{id}/shifts", Viewer, Own),
    api("GET", "/api/v1/schedules/{id}/oncall", Viewer, Own),
    api("GET", "/api/v1/schedules/{id}/report", Viewer, Own),
    api("GET", "/api/v1/schedules/{id}/overrides", Viewer, Own),
    api("POST", "/api/v1/schedules/{id}/overrides", Responder, Json),
    api(
        "DELETE",
        "/api/v1/schedules/{id}/overrides/{override}",
        Responder,
        Json,
    ),
    api("GET", "/api/v1/silences", Viewer, Own),
    api("POST", "/api/v1/silences", Responder, Json),
    api("GET", "/api/v1/silences/{id}", Viewer, Own),
    api("DELETE", "/api/v1/silences/{id}", Responder, Json),
    api("GET", "/api/v1/users", Viewer, Own),
    api("POST", "/api/v1/users/{id}/calendar", Admin, Json),
    api("GET", "/calendar/{token}/user.ics", FeedToken, Own),
    api("GET", "/calendar/{token}/schedules/{file}", FeedToken, Own),
    // The page's button is a plain form: the signed token is the credential.
    api("GET", "/act/{token}", SignedLink, Own),
    api("POST", "/act/{token}", SignedLink, Own),
    api("GET", "/api/v1/openapi.json", None, Own),
    api("GET", "/api/v2/status", Viewer, Own),
    api("GET", "/api/v2/receivers", Viewer, Own),
    api("GET", "/api/v2/alerts", Viewer, Own),
    api("GET", "/api/v2/alerts/groups", Viewer, Own),
    api("GET", "/api/v2/silences", Viewer, Own),
    api("POST", "/api/v2/silences", Responder, Json),
    api("GET", "/api/v2/silence/{id}", Viewer, Own),
    api("DELETE", "/api/v2/silence/{id}", Responder, Json),
    api("GET", "/-/healthy", None, Own),
    api("GET", "/-/ready", None, Own),
    api("POST", "/-/reload", Admin, Json),
    api("GET", "/metrics", None, Own),
    console("GET", "/", None),
    console("GET", "/ui", None),
    console("GET", "/ui/", None),
    console("GET", "/ui/login", None),
    console("POST", "/ui/login", None),
    console("POST", "/ui/logout", None),
    console("POST", "/ui/prefs", Session),
    console("GET", "/ui/static/{file}", None),
    console("GET", "/ui/live", Session),
    console("GET", "/ui/incidents", Session),
    console("GET", "/ui/incidents/{id}", Session),
    console("GET", "/ui/alerts", Session),
    console("GET", "/ui/alerts/{id}", Session),
    console("GET", "/ui/silences", Session),
    console("GET", "/ui/silences/new", Session),
    console("GET", "/ui/oncall", Session),
    console("GET", "/ui/oncall/{schedule}", Session),
    console("GET", "/ui/policies", Session),
    console("GET", "/ui/services", Session),
    console("GET", "/ui/teams", Session),
    console("GET", "/ui/reports", Session),
];

/// The row of a routed request (`path` as the router matched it).
pub fn find(method: &str, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.method == method && e.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// `(METHOD, path)` of every `.route(...)` in a router's source: the path literal and the
    /// method routers (`get(`, `post(`, `.delete(`) inside the call.
    fn routes_in(source: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for rest in source.split(".route(").skip(1) {
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(rest.len(), |(i, _)| i);
            let call = &rest[..end];
            let path = call.split('"').nth(1).expect("a path literal");
            for method in ["get", "post", "put", "patch", "delete"] {
                // A method router, not a handler's name (`silences::post`, `list_get(`).
                let called = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0 || matches!(call.as_bytes()[i - 1], b'(' | b'.' | b' ' | b'\n')
                });
                if called {
                    out.insert((method.to_uppercase(), path.to_string()));
                }
            }
        }
        out
    }

    fn table(rows: impl Iterator<Item = &'static Endpoint>) -> BTreeSet<(String, String)> {
        rows.map(|e| (e.method.to_string(), e.path.to_string()))
            .collect()
    }

    #[test]
    fn the_table_is_the_router() {
        let mut routed = routes_in(include_str!("mod.rs"));
        routed.extend(routes_in(include_str!("../console/mod.rs")));
        assert_eq!(routed, table(ENDPOINTS.iter()));
        assert_eq!(
            ENDPOINTS.len(),
            table(ENDPOINTS.iter()).len(),
            "a row twice"
        );
    }

    #[test]
    fn the_openapi_document_lists_the_api_rows() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json");
        let mut listed = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("a path item").keys() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    listed.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        assert_eq!(listed, table(ENDPOINTS.iter().filter(|e| e.api)));
    }

    /// docs/api.md's endpoint table: every API row, with the access the table gives it.
    #[test]
    fn the_api_docs_list_the_api_rows() {
        let docs = include_str!("../../../../docs/api.md");
        let mut listed = BTreeSet::new();
        let rows = docs
            .lines()
            .skip_while(|l| !l.starts_with("| method and path |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'));
        for line in rows {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (what, access) = (cells[1], cells[2]);
            // `GET`/`POST /a`, `DELETE /b`: each backquoted pair of methods and path.
            for item in what.split("`, `") {
                let item = item.replace('`', "");
                let (methods, path) = item.rsplit_once(' ').expect("METHOD /path");
                for method in methods.split('/') {
                    listed.insert((method.to_string(), normalise(path), access.to_string()));
                }
            }
        }
        let expected: BTreeSet<_> = ENDPOINTS
            .iter()
            .filter(|e| e.api)
            .map(|e| {
                let (m, p, a) = (e.method, normalise(e.path), e.access.doc_word());
                (m.to_string(), p, a.to_string())
            })
            .collect();
        assert_eq!(listed, expected);
    }

    /// A path with each parameter segment as `{}`: the docs say `{section}.csv` where the
    /// router says `{file}`.
    fn normalise(path: &str) -> String {
        path.split('/')
            .map(|s| if s.contains('{') { "{}" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn rows_are_found_by_method_and_matched_path() {
        let row = find("POST", "/api/v2/silences").expect("a row");
        assert_eq!((row.access, row.body), (Access::Responder, BodyKind::Json));
        assert!(find("PUT", "/api/v2/silences").is_none());
    }
}
