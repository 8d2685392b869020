//! The integrations section's checks: unique names and keys, known kinds and services, and
//! the settings each kind needs.

use super::load::ConfigError;
use super::raw::RawIntegration;
use super::Integration;
use crate::integration::{IntegrationKind, RateLimit};
use std::collections::{HashMap, HashSet};

/// Shorter keys could be guessed; tocsin's generated keys are far longer.
pub const MIN_KEY_LEN: usize = 16;

pub(super) fn validate(
    errors: &mut Vec<ConfigError>,
    raw: Vec<(usize, RawIntegration)>,
    known_service: impl Fn(&str) -> bool,
) -> (Vec<Integration>, HashMap<String, usize>) {
    let mut out = Vec::new();
    let mut by_key = HashMap::new();
    let mut names = HashSet::new();
    for (i, r) in raw {
        let path = format!("integrations[{i}]");
        super::validate::check_id(errors, &format!("{path}.name"), &r.name);
        if !names.insert(r.name.clone()) {
            errors.push(ConfigError::new(
                format!("{path}.name"),
                format!("duplicate integration {:?}", r.name),
            ));
        }
        let kind = IntegrationKind::parse(&r.kind).unwrap_or_else(|| {
            let all: Vec<_> = IntegrationKind::ALL.iter().map(|k| k.as_str()).collect();
            errors.push(ConfigError::new(
                format!("{path}.kind"),
                format!("unknown kind {:?}; use one of {}", r.kind, all.join(", ")),
            ));
            IntegrationKind::Tocsin
        });
        let key_sha256 = match (r.key, r.key_sha256) {
            (Some(key), None) => {
                if key.chars().count() < MIN_KEY_LEN {
                    errors.push(ConfigError::new(
                        format!("{path}.key"),
                        format!("must be at least {MIN_KEY_LEN} characters"),
                    ));
                }
                // URL-unreserved characters only: the key goes in a URL path as it is, and
                // `?`, `#`, `%` or `/` would change what the URL means.
                let unreserved =
                    |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
                if !key.bytes().all(unreserved) {
                    errors.push(ConfigError::new(
                        format!("{path}.key"),
                        "use only letters, digits, '-', '_', '.' and '~': it goes in a URL path",
                    ));
                }
                crate::auth::sha256_hex(&key)
            }
            (None, Some(sha)) => {
                let sha = sha.to_ascii_lowercase();
                if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                    errors.push(ConfigError::new(
                        format!("{path}.key_sha256"),
                        "must be 64 hex digits (sha256sum of the key)",
                    ));
                }
                sha
            }
            (Some(_), Some(_)) => {
                errors.push(ConfigError::new(
                    &path,
                    "give `key` or `key_sha256`, not both",
                ));
                String::new()
            }
            (None, None) => {
                errors.push(ConfigError::new(
                    &path,
                    "needs `key` (or `key_sha256`): every integration has its own secret key",
                ));
                String::new()
            }
        };
        if !key_sha256.is_empty() && by_key.insert(key_sha256.clone(), out.len()).is_some() {
            errors.push(ConfigError::new(
                &path,
                "this key is already used by another integration",
            ));
        }
        if let Some(s) = &r.service {
            if !known_service(s) {
                errors.push(ConfigError::new(
                    format!("{path}.service"),
                    format!("unknown service {s:?}"),
                ));
            }
        }
        let rate_limit = match r.rate_limit {
            None => RateLimit::default(),
            Some(l) => {
                let burst = l.burst.unwrap_or(l.per_second.max(1.0));
                if !(l.per_second.is_finite() && l.per_second > 0.0) {
                    errors.push(ConfigError::new(
                        format!("{path}.rate_limit.per_second"),
                        "must be a number above zero",
                    ));
                }
                if !(burst.is_finite() && burst >= 1.0) {
                    errors.push(ConfigError::new(
                        format!("{path}.rate_limit.burst"),
                        "must be at least 1",
                    ));
                }
                RateLimit {
                    per_second: l.per_second,
                    burst,
                }
            }
        };
        let interval = match (kind, r.interval) {
            (IntegrationKind::Heartbeat, None) => {
                errors.push(ConfigError::new(
                    format!("{path}.interval"),
                    "a heartbeat needs the longest gap between pings (e.g. 5m)",
                ));
                None
            }
            (IntegrationKind::Heartbeat, Some(text)) => match crate::time::parse_duration(&text) {
                Ok(ms) if ms >= 1000 => Some(ms),
                Ok(_) => {
                    errors.push(ConfigError::new(
                        format!("{path}.interval"),
                        "must be at least 1s",
                    ));
                    None
                }
                Err(e) => {
                    errors.push(ConfigError::new(format!("{path}.interval"), e));
                    None
                }
            },
            (_, Some(_)) => {
                errors.push(ConfigError::new(
                    format!("{path}.interval"),
                    "only heartbeat integrations have an interval",
                ));
                None
            }
            (_, None) => None,
        };
        let mapping = match (kind, r.mapping) {
            (IntegrationKind::Webhook, Some(raw)) => Some(super::WebhookMapping::compile(
                errors,
                &format!("{path}.mapping"),
                raw,
            )),
            (IntegrationKind::Webhook, None) => {
                errors.push(ConfigError::new(
                    format!("{path}.mapping"),
                    "a webhook integration needs a mapping (at least `summary`)",
                ));
                None
            }
            (_, Some(_)) => {
                errors.push(ConfigError::new(
                    format!("{path}.mapping"),
                    "only webhook integrations have a mapping",
                ));
                None
            }
            (_, None) => None,
        };
        out.push(Integration {
            name: r.name,
            kind,
            key_sha256,
            service: r.service,
            rate_limit,
            interval,
            mapping,
        });
    }
    (out, by_key)
}
