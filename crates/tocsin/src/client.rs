//! The HTTP client side of the CLI: server URL and token, requests, and readable errors.

use clap::Args;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Clone)]
pub struct ClientArgs {
    /// Server URL.
    #[arg(
        long,
        env = "TOCSIN_URL",
        default_value = "http://127.0.0.1:7600",
        global = true
    )]
    pub url: String,
    /// API token; without it, the admin token in --data/admin-token is used if readable.
    #[arg(long, env = "TOCSIN_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Data directory of a local server, for its admin token.
    #[arg(long, env = "TOCSIN_DATA", default_value = crate::serve::DEFAULT_DATA, global = true)]
    pub data: PathBuf,
}

pub struct Client {
    base: String,
    token: Option<String>,
    /// Where the token came from, or where it was looked for: a 401 says it.
    token_from: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(args: &ClientArgs) -> Client {
        let file = args.data.join("admin-token");
        let from_file = || {
            std::fs::read_to_string(&file)
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        };
        let (token, token_from) = match (&args.token, from_file()) {
            (Some(t), _) => (
                Some(t.clone()),
                "the one given in --token or TOCSIN_TOKEN".into(),
            ),
            (None, Some(t)) => (
                Some(t),
                format!("the admin token read from {}", file.display()),
            ),
            (None, None) => (
                None,
                format!(
                    "none (not in --token or TOCSIN_TOKEN, and {} is not readable)",
                    file.display()
                ),
            ),
        };
        Client {
            base: args.url.trim_end_matches('/').to_string(),
            token,
            token_from,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let req = self.agent.request(method, &format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.set("Authorization", &format!("Bearer {t}")),
            None => req,
        }
    }

    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, String> {
        let mut req = self.request("GET", path);
        for (k, v) in query {
            req = req.query(k, v);
        }
        self.answer(req.call())
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        self.answer(self.request("POST", path).send_json(body))
    }

    pub fn delete(&self, path: &str, query: &[(&str, String)]) -> Result<Value, String> {
        let mut req = self.request("DELETE", path);
        for (k, v) in query {
            req = req.query(k, v);
        }
        self.answer(req.call())
    }

    /// [`answer`], and on a 401 where the token came from and what to set instead.
    fn answer(&self, result: Result<ureq::Response, ureq::Error>) -> Result<Value, String> {
        answer(result).map_err(|e| {
            if e.starts_with("HTTP 401") {
                format!(
                    "{e}\n  token: {}. Give one with --token or TOCSIN_TOKEN, or point --data at the server's data directory (it reads DIR/admin-token)",
                    self.token_from
                )
            } else {
                e
            }
        })
    }
}

/// Turns an answer into its JSON, or the server's error message.
fn answer(result: Result<ureq::Response, ureq::Error>) -> Result<Value, String> {
    match result {
        Ok(resp) => {
            let text = resp.into_string().map_err(|e| e.to_string())?;
            if text.trim().is_empty() {
                Ok(Value::Null)
            } else {
                serde_json::from_str(&text).map_err(|e| format!("unreadable answer: {e}"))
            }
        }
        Err(ureq::Error::Status(code, resp)) => {
            let text = resp.into_string().unwrap_or_default();
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or(text);
            Err(format!("HTTP {code}: {message}"))
        }
        Err(e) => Err(format!("cannot reach the server: {e}")),
    }
}
