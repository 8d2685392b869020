//! The HTTP client side of the CLI: server URL and token, requests, and readable errors.

use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    /// PEM file of CA certificates to trust for an https:// --url, besides the public ones
    /// (a server behind a reverse proxy with a company CA or a self-signed certificate).
    #[arg(long, env = "TOCSIN_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
}

pub struct Client {
    base: String,
    token: Option<String>,
    /// Where the token came from, or where it was looked for: a 401 says it.
    token_from: String,
    /// The agent, or why none could be made (an unreadable --ca-cert): every request then
    /// answers with that error, so that commands need not check it apart.
    agent: Result<ureq::Agent, String>,
    /// Whether --ca-cert was given: a certificate error then says the file did not help.
    ca_given: bool,
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
            agent: tls_config(args.ca_cert.as_deref()).map(|tls| {
                ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .tls_config(tls)
                    .build()
            }),
            ca_given: args.ca_cert.is_some(),
        }
    }

    fn request(&self, method: &str, path: &str) -> Result<ureq::Request, String> {
        let agent = self.agent.as_ref().map_err(Clone::clone)?;
        let req = agent.request(method, &format!("{}{path}", self.base));
        Ok(match &self.token {
            Some(t) => req.set("Authorization", &format!("Bearer {t}")),
            None => req,
        })
    }

    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, String> {
        let mut req = self.request("GET", path)?;
        for (k, v) in query {
            req = req.query(k, v);
        }
        self.answer(req.call())
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, String> {
        self.answer(self.request("POST", path)?.send_json(body))
    }

    pub fn delete(&self, path: &str, query: &[(&str, String)]) -> Result<Value, String> {
        let mut req = self.request("DELETE", path)?;
        for (k, v) in query {
            req = req.query(k, v);
        }
        self.answer(req.call())
    }

    /// [`answer`], and on a 401 where the token came from and what to set instead; on a
    /// certificate the CLI does not trust, how to make it trust one.
    fn answer(&self, result: Result<ureq::Response, ureq::Error>) -> Result<Value, String> {
        answer(result).map_err(|e| {
            if e.starts_with("HTTP 401") {
                format!(
                    "{e}\n  token: {}. Give one with --token or TOCSIN_TOKEN, or point --data at the server's data directory (it reads DIR/admin-token)",
                    self.token_from
                )
            } else if e.contains("invalid peer certificate") {
                let hint = if self.ca_given {
                    "the CA file given in --ca-cert or TOCSIN_CA_CERT does not vouch for it either"
                } else {
                    "if it is signed by your own CA or self-signed, give that certificate (PEM) with --ca-cert or TOCSIN_CA_CERT"
                };
                format!("{e}\n  the server's TLS certificate is not trusted: {hint}")
            } else {
                e
            }
        })
    }
}

/// TLS for an https:// server: the public roots (Mozilla's, compiled in, so that the CLI
/// behaves the same on every machine) and the CAs of `ca_file`, if given.
fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let unreadable = |e: &dyn std::fmt::Display| format!("--ca-cert {}: {e}", path.display());
        let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(path)
            .map_err(|e| unreadable(&e))?
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(&e))?;
        if certs.is_empty() {
            return Err(unreadable(&"no PEM certificate in it"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| unreadable(&e))?;
        }
    }
    // The provider is named rather than taken from the process default: the workspace links
    // rustls with ring only, and naming it keeps that so if another crate adds aws-lc-rs.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
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
