//! Signed action links: "acknowledge" and "resolve" links in notifications that work without
//! logging in. A link names the incident, the action, the person it was sent to and when it
//! expires, signed with the server's secret (HMAC-SHA256), so it cannot be forged or
//! stretched, and it dies by itself.

use crate::time::Millis;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a link in a notification works.
pub const LINK_LIFETIME_MS: Millis = 24 * 3_600_000;

/// This server's links: where people reach it and the secret that signs them. The
/// dispatcher puts links in messages with it; the pages behind `/act/` check them with it.
pub struct LinkSigner {
    public_url: String,
    secret: Vec<u8>,
}

impl LinkSigner {
    /// `public_url` without a trailing `/` (`https://tocsin.example.com`).
    pub fn new(public_url: String, secret: Vec<u8>) -> LinkSigner {
        LinkSigner { public_url, secret }
    }

    /// The URL of a link that does `action` on `incident` as `user`, working for
    /// [`LINK_LIFETIME_MS`] from `now`.
    pub fn url(&self, incident: i64, action: LinkAction, user: &str, now: Millis) -> String {
        let link = ActionLink {
            incident,
            action,
            user: user.to_string(),
            expires: now + LINK_LIFETIME_MS,
        };
        format!("{}/act/{}", self.public_url, link.sign(&self.secret))
    }

    /// The contents of a link's token, if this server signed it and it has not expired.
    pub fn verify(&self, token: &str, now: Millis) -> Result<ActionLink, LinkError> {
        ActionLink::verify(token, &self.secret, now)
    }
}

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
    fn a_link_url_carries_a_token_its_signer_accepts_for_a_day() {
        let signer = LinkSigner::new("https://tocsin.example.com".into(), SECRET.to_vec());
        let url = signer.url(42, LinkAction::Resolve, "alice", 5_000);
        let token = url
            .strip_prefix("https://tocsin.example.com/act/")
            .expect("under /act/");
        let expected = ActionLink {
            incident: 42,
            action: LinkAction::Resolve,
            user: "alice".into(),
            expires: 5_000 + LINK_LIFETIME_MS,
        };
        assert_eq!(signer.verify(token, 5_000), Ok(expected));
        assert_eq!(
            signer.verify(token, 5_000 + LINK_LIFETIME_MS),
            Err(LinkError::Expired)
        );
        let other = LinkSigner::new(String::new(), b"another secret".to_vec());
        assert_eq!(other.verify(token, 5_000), Err(LinkError::BadSignature));
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
