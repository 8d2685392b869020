//! The role x endpoint table, black box: every row of the server's endpoint table
//! (`tocsin_server::ENDPOINTS`, which the router, docs/api.md and the OpenAPI document are
//! checked against) is called with every kind of credential, and whether it was let in
//! (not 401/403, not sent to the sign-in page) must be what the row's access says. Every
//! method a row does not list is 405 on that path.

mod common;

use common::raw::raw;
use common::*;
use std::collections::BTreeMap;
use tocsin_server::{Access, ENDPOINTS};

const VIEWER: &str = "role-viewer-token";
const RESPONDER: &str = "role-responder-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    /// No token, straight from loopback.
    None,
    /// No token, through a local reverse proxy.
    NoneProxied,
    Viewer,
    Responder,
    Admin,
    Bad,
}

const CREDENTIALS: [Credential; 6] = [
    Credential::None,
    Credential::NoneProxied,
    Credential::Viewer,
    Credential::Responder,
    Credential::Admin,
    Credential::Bad,
];

impl Credential {
    fn headers(self) -> String {
        let bearer = |t: &str| format!("\r\nAuthorization: Bearer {t}");
        match self {
            Credential::None => String::new(),
            Credential::NoneProxied => "\r\nX-Forwarded-For: 203.0.113.5".into(),
            Credential::Viewer => bearer(VIEWER),
            Credential::Responder => bearer(RESPONDER),
            Credential::Admin => bearer(ADMIN),
            Credential::Bad => bearer("not-a-token"),
        }
    }

    /// Whether an endpoint with this access lets this credential in.
    fn enters(self, access: Access) -> bool {
        use Credential as C;
        match access {
            Access::None => true,
            Access::IntakeLoopback => matches!(self, C::None | C::Responder | C::Admin),
            Access::Viewer => matches!(self, C::Viewer | C::Responder | C::Admin),
            Access::Responder => matches!(self, C::Responder | C::Admin),
            Access::Admin => self == C::Admin,
            // Secrets of their own (wrong ones here) and sessions: no API token opens them.
            Access::Key | Access::SignedLink | Access::FeedToken | Access::Session => false,
        }
    }
}

/// A concrete path for a row's pattern: made-up ids and secrets, so nothing is found but
/// every check before the lookup runs.
fn concrete(path: &str) -> String {
    path.replace("{action}", "acknowledge")
        .replace("{file}", "nothing.csv")
        .split('/')
        .map(|s| if s.starts_with('{') { "999" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether an answer says "not you": 401, 403, or a page sending to the sign-in page; and
/// for secrets in the path, any refusal (a wrong key is 401, a wrong link or feed 404).
fn refused(access: Access, r: &Resp) -> bool {
    match access {
        Access::Key | Access::SignedLink | Access::FeedToken => (400..500).contains(&r.status),
        _ => matches!(r.status, 401 | 403) || (r.status == 303 && r.body.starts_with("/ui/login")),
    }
}

#[test]
fn every_endpoint_lets_in_exactly_the_credentials_its_row_says() {
    let config = format!(
        "intake: {{loopback_without_token: true}}\ntokens:\n  - {{name: v, role: viewer, sha256: \"{}\"}}\n  - {{name: r, role: responder, sha256: \"{}\"}}\n",
        sha256_hex(VIEWER),
        sha256_hex(RESPONDER)
    );
    let s = spawn_server(Some(&config));
    let to = s.base.trim_start_matches("http://").to_string();
    let call = |method: &str, path: &str, headers: &str| {
        let (body, typed) = match method {
            "POST" | "PUT" | "PATCH" => ("{}", "\r\nContent-Type: application/json"),
            _ => ("", ""),
        };
        raw(
            &to,
            &format!("{method} {path} HTTP/1.1\r\nHost: {to}{typed}{headers}"),
            body,
        )
    };
    let mut wrong = Vec::new();
    for e in ENDPOINTS {
        let path = concrete(e.path);
        for c in CREDENTIALS {
            let r = call(e.method, &path, &c.headers());
            let unrouted = r.status == 405 || r.body.contains("no such endpoint");
            if unrouted || c.enters(e.access) == refused(e.access, &r) {
                wrong.push(format!(
                    "{} {path} ({:?}) as {c:?}: {} {}",
                    e.method,
                    e.access,
                    r.status,
                    r.body.chars().take(120).collect::<String>()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // Methods no row lists are 405 on every path: the table has every route there is.
    let mut methods: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in ENDPOINTS {
        methods.entry(e.path).or_default().push(e.method);
    }
    for (path, listed) in methods {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if !listed.contains(&method) {
                let r = call(method, &concrete(path), &Credential::Admin.headers());
                assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
            }
        }
    }
}
