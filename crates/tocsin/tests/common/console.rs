//! Signing in to the web console from a test: an account made through the API, the sign-in
//! form, and requests that carry the session cookie (and the CSRF token on changes), with
//! redirects not followed so tests can see them.

use super::{Resp, TestServer, ADMIN};
use serde_json::{json, Value};

pub struct Session {
    pub cookie: String,
    pub csrf: String,
    agent: ureq::Agent,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

fn resp(r: Result<ureq::Response, ureq::Error>) -> (Resp, Option<String>, Option<String>) {
    let r = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let cookie = r.header("set-cookie").map(str::to_string);
    let location = r.header("location").map(str::to_string);
    let status = r.status();
    let body = r.into_string().unwrap_or_default();
    (Resp { status, body }, cookie, location)
}

/// Makes an account through the API (as admin) and signs in with it.
pub fn sign_in(s: &TestServer, id: &str, role: &str) -> Session {
    let password = make_login(s, id, role);
    sign_in_with(s, id, &password).expect("sign-in works")
}

/// Makes a console login through the API (as admin); answers its password, `{id}-password-1`.
pub fn make_login(s: &TestServer, id: &str, role: &str) -> String {
    let password = format!("{id}-password-1");
    s.post_as(
        "/api/v1/logins",
        Some(ADMIN),
        &json!({"id": id, "role": role, "password": password}),
    )
    .expect(201);
    password
}

/// The sign-in form: the session, or the page's answer when refused.
pub fn sign_in_with(s: &TestServer, id: &str, password: &str) -> Result<Session, Resp> {
    let form = format!(
        "username={}&password={}&next=%2Fui%2Fincidents",
        super::enc(id),
        super::enc(password)
    );
    let (r, cookie, location) = resp(
        agent()
            .post(&s.url("/ui/login"))
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&form),
    );
    if r.status != 303 {
        return Err(r);
    }
    assert_eq!(location.as_deref(), Some("/ui/incidents"));
    let cookie = cookie.expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_string();
    let mut session = Session {
        cookie,
        csrf: String::new(),
        agent: agent(),
    };
    let page = session.get(s, "/ui/incidents");
    page.expect(200);
    session.csrf = csrf_of(&page.body);
    Ok(session)
}

/// Makes an account through the API (as `sign_in` does) and signs in with the form in the
/// browser: opens `/ui/login`, fills it in, submits it and waits for the page's `main`.
pub fn sign_in_browser(b: &super::browser::Browser, s: &TestServer, id: &str, role: &str) {
    let password = make_login(s, id, role);
    b.goto(&s.url("/ui/login"));
    fill_sign_in(b, id, &password);
    b.wait_for("main", std::time::Duration::from_secs(10));
}

/// Fills in the sign-in form already open in the browser and submits it.
pub fn fill_sign_in(b: &super::browser::Browser, id: &str, password: &str) {
    b.wait_for("#username", std::time::Duration::from_secs(10));
    b.fill("#username", id);
    b.fill("#password", password);
    b.click("button[type=submit]");
}

/// The CSRF token a page carries in `<meta name="csrf">`.
pub fn csrf_of(html: &str) -> String {
    let start = html
        .find(r#"<meta name="csrf" content=""#)
        .expect("csrf meta")
        + 27;
    html[start..].split('"').next().unwrap().to_string()
}

impl Session {
    pub fn get(&self, s: &TestServer, path: &str) -> Resp {
        self.get_full(s, path).0
    }

    /// A GET's answer and its `Location` header.
    pub fn get_full(&self, s: &TestServer, path: &str) -> (Resp, Option<String>) {
        let (r, _, location) = resp(
            self.agent
                .get(&s.url(path))
                .set("Cookie", &self.cookie)
                .call(),
        );
        (r, location)
    }

    /// A change with the cookie and the CSRF token, as the console's script sends it.
    pub fn post(&self, s: &TestServer, path: &str, body: &Value) -> Resp {
        self.send(s, "POST", path, body, true)
    }

    /// A DELETE with the cookie and the CSRF token, and no body.
    pub fn delete(&self, s: &TestServer, path: &str) -> Resp {
        resp(
            self.agent
                .delete(&s.url(path))
                .set("Cookie", &self.cookie)
                .set("X-CSRF-Token", &self.csrf)
                .call(),
        )
        .0
    }

    /// Any method, with or without the CSRF token.
    pub fn send(&self, s: &TestServer, method: &str, path: &str, body: &Value, csrf: bool) -> Resp {
        let mut req = self
            .agent
            .request(method, &s.url(path))
            .set("Cookie", &self.cookie)
            .set("Content-Type", "application/json");
        if csrf {
            req = req.set("X-CSRF-Token", &self.csrf);
        }
        resp(req.send_string(&body.to_string())).0
    }
}
