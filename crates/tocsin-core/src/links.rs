//! Signed action links: "acknowledge" and "resolve" links in notifications that work without
//! logging in. A link names the incident, the action, the person it was sent to and when it
//! expires, signed with the server's secret (HMAC-SHA256), so it cannot be forged or
//! stretched, and it dies by itself.

use crate::time::Millis;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    Acknowledge,
    Resolve,
}

impl LinkAction {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::Acknowledge => "ack",
            LinkAction::Resolve => "resolve",
        }
    }
    fn parse(text: &str) -> Option<LinkAction> {
        match text {
            "ack" => Some(LinkAction::Acknowledge),
            "resolve" => Some(LinkAction::Resolve),
            _ => None,
        }
    }
}

/// How the timeline names the person who acted through a link: `alice (link)`.
pub fn actor(user: &str) -> String {
    format!("{user}{ACTOR_SUFFIX}")
}

/// What [`actor`] adds to the person's id.
pub const ACTOR_SUFFIX: &str = " (link)";

/// A link's contents, once its signature checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionLink {
    pub incident: i64,
    pub action: LinkAction,
    pub user: String,
    pub expires: Millis,
}

/// Why a link is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    Malformed,
    BadSignature,
    Expired,
}

fn mac(secret: &[u8], payload: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(payload.as_bytes());
    m
}

impl ActionLink {
    /// The token that goes in the URL: `payload.signature`, both URL-safe base64.
    pub fn sign(&self, secret: &[u8]) -> String {
        let payload = format!(
            "{}|{}|{}|{}",
            self.incident,
            self.action.as_str(),
            self.expires,
            self.user
        );
        let sig = mac(secret, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    /// Checks a token's signature (in constant time) and its expiry at `now`.
    pub fn verify(token: &str, secret: &[u8], now: Millis) -> Result<ActionLink, LinkError> {
        let (payload, sig) = token.split_once('.').ok_or(LinkError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(LinkError::Malformed)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| LinkError::Malformed)?;
        mac(secret, &payload)
            .verify_slice(&sig)
            .map_err(|_| LinkError::BadSignature)?;
        let mut parts = payload.splitn(4, '|');
        let mut next = || parts.next().ok_or(LinkError::Malformed);
        let incident = next()?.parse().map_err(|_| LinkError::Malformed)?;
        let action = LinkAction::parse(next()?).ok_or(LinkError::Malformed)?;
        let expires: Millis = next()?.parse().map_err(|_| LinkError::Malformed)?;
        let user = next()?.to_string();
        if now >= expires {
            return Err(LinkError::Expired);
        }
        Ok(ActionLink {
            incident,
            action,
            user,
            expires,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn link() -> ActionLink {
        ActionLink {
            incident: 42,
            action: LinkAction::Acknowledge,
            user: "alice|x".into(),
            expires: 1_000,
        }
    }

    #[test]
    fn a_signed_link_round_trips_until_it_expires() {
        let token = link().sign(SECRET);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert_eq!(ActionLink::verify(&token, SECRET, 999), Ok(link()));
        assert_eq!(
            ActionLink::verify(&token, SECRET, 1_000),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn forged_or_altered_links_are_refused() {
        let token = link().sign(SECRET);
        assert_eq!(
            ActionLink::verify(&token, b"another secret", 0),
            Err(LinkError::BadSignature)
        );
        // A longer expiry or another incident in the payload breaks the signature.
        let (_, sig) = token.split_once('.').unwrap();
        let forged = format!("{}.{sig}", URL_SAFE_NO_PAD.encode("42|ack|99999|alice|x"));
        assert_eq!(
            ActionLink::verify(&forged, SECRET, 0),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            ActionLink::verify("nonsense", SECRET, 0),
            Err(LinkError::Malformed)
        );
    }
}
