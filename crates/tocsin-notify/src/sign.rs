//! The signatures the channels put on requests: DingTalk's and Feishu's robot signatures, and
//! tocsin's own webhook signature. Each is the provider's published recipe, nothing more.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// DingTalk: base64(HMAC-SHA256(key = secret, msg = "{timestamp_ms}\n{secret}")); the caller
/// URL-encodes it into the query.
pub fn dingtalk(secret: &str, timestamp_ms: i64) -> String {
    let msg = format!("{timestamp_ms}\n{secret}");
    b64(&hmac_sha256(secret.as_bytes(), msg.as_bytes()))
}

/// Feishu/Lark: base64(HMAC-SHA256(key = "{timestamp_s}\n{secret}", msg = empty)).
pub fn feishu(secret: &str, timestamp_s: i64) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    b64(&hmac_sha256(key.as_bytes(), b""))
}

/// tocsin's webhook: `sha256=` and hex(HMAC-SHA256(secret, "{timestamp_s}.{body}")).
pub fn webhook(secret: &str, timestamp_s: i64, body: &[u8]) -> String {
    let mut msg = format!("{timestamp_s}.").into_bytes();
    msg.extend_from_slice(body);
    let mac = hmac_sha256(secret.as_bytes(), &msg);
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// base64(HMAC-SHA1(key, msg)): the signature of Aliyun's RPC APIs, offered to SMS and voice
/// body templates.
pub fn hmac_sha1_base64(key: &str, msg: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(msg.as_bytes());
    b64(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 pins the HMAC-SHA256 underneath.
    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// RFC 2202 test case 2 pins HMAC-SHA1.
    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        assert_eq!(
            hmac_sha1_base64("Jefe", "what do ya want for nothing?"),
            b64(&[
                0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
                0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79
            ])
        );
    }

    #[test]
    fn webhook_signature_covers_timestamp_and_body() {
        let a = webhook("k", 1, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, webhook("k", 2, b"{}"));
        assert_ne!(a, webhook("k", 1, b"{ }"));
    }
}
