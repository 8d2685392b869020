//! tocsin-notify: the outbound channels. Turns "tell this person about these incidents" into
//! a real message on a real channel (email, a generic signed webhook, Slack, Microsoft Teams,
//! DingTalk, WeCom, Feishu/Lark, Telegram, and SMS or voice through a provider's HTTP API),
//! written in the reader's language (English or Chinese) from built-in templates, and says
//! whether a failed send is worth retrying.
//!
//! # API
//!
//! ```text
//! let channel: Box<dyn Channel> = channel_for(&spec);          // spec: tocsin_core ChannelSpec
//! match channel.send(&recipient, &message).await {
//!     Ok(Delivered { detail }) => ...,                           // "HTTP 200", "250 2.0.0 Ok"
//!     Err(SendError { retry, retry_after, message }) => ...,     // retry: can a retry help?
//! }
//! ```
//!
//! - [`Message`]: a [`MessageKind`] (new, escalated, reminder, still open, acknowledged,
//!   resolved) and one or more [`IncidentCard`]s; several make one bundled message ("7 new
//!   incidents in order-api" / "order-api 有 7 个新事件").
//! - [`Recipient`]: who (id, name, language) and the contact's address on this channel (an
//!   email, a phone number, a Telegram chat id, a robot @-handle: DingTalk mobile or userid,
//!   WeCom userid, Feishu open id or email, Slack member id).
//! - [`channel_for`] builds a channel with the built-in templates; [`channel_with_templates`]
//!   with a channel's own headline and text ([`TemplateOverride`]).
//! - [`SendError`]: `retry` is true for connection errors, timeouts, HTTP 408/429/5xx, SMTP
//!   4xx, and robot error codes that mean "too fast" or "busy"; `retry_after` carries
//!   `Retry-After` or Telegram's `retry_after`. Messages never contain secrets or robot URLs
//!   (they carry tokens): at most the host.
//!
//! Each HTTP channel is a pure builder ([`HttpChannel::build`]) of an [`HttpRequest`] and a
//! checker of the answer ([`HttpChannel::check`]); [`ViaHttp`] sends. Email builds a
//! `lettre` message ([`Email::build`]) and sends it over SMTP.

mod channels;
mod error;
mod http;
mod message;
mod sign;
mod templates;
#[cfg(test)]
mod testing;

pub use channels::{
    channel_for, channel_with_templates, Channel, Dingtalk, Email, Feishu, HttpApi, HttpChannel,
    SendFuture, Slack, Teams, Telegram, ViaHttp, Webhook, Wecom,
};
pub use error::{Delivered, SendError};
pub use http::{HttpRequest, HttpResponse};
pub use message::{FollowUp, Handoff, IncidentCard, Message, MessageKind, Recipient, StormNote};
pub use templates::{Dialect, EmailParts, TemplateOverride, Templates};

/// At most `max` characters, ending in `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// At most `max` bytes of UTF-8, cut on a character boundary, ending in `…` when cut.
pub(crate) fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(super::truncate("告警告警", 3), "告警…");
        assert_eq!(super::truncate("ok", 3), "ok");
        assert_eq!(super::truncate_bytes("告警告警", 8), "告…");
        assert_eq!(super::truncate_bytes("告警", 6), "告警");
    }
}
