//! One module per channel behind one trait. Each HTTP channel is a pure request builder and
//! an answer checker; [`ViaHttp`] does the sending for all of them, so the wire format of
//! every channel is tested without a network.

mod dingtalk;
mod email;
mod feishu;
mod http;
mod slack;
mod teams;
mod telegram;
mod webhook;
mod wecom;

pub use dingtalk::Dingtalk;
pub use email::Email;
pub use feishu::Feishu;
pub use http::HttpApi;
pub use slack::Slack;
pub use teams::Teams;
pub use telegram::Telegram;
pub use webhook::Webhook;
pub use wecom::Wecom;

use crate::error::{Delivered, SendError};
use crate::http::{HttpRequest, HttpResponse};
use crate::message::{Message, Recipient};
use crate::templates::{TemplateOverride, Templates};
use std::future::Future;
use std::pin::Pin;
use tocsin_core::paging::{ChannelSettings, ChannelSpec};

/// What [`Channel::send`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Delivered, SendError>> + Send + 'a>>;

/// A configured way of telling people: an SMTP server, a robot, an SMS provider.
pub trait Channel: Send + Sync {
    /// The channel's id in the config.
    fn id(&self) -> &str;
    /// Formats the message for the recipient's language and this channel, and delivers it.
    fn send<'a>(&'a self, to: &'a Recipient, msg: &'a Message) -> SendFuture<'a>;
}

/// A channel that speaks HTTP: how to make the request, and how to read the answer.
pub trait HttpChannel: Send + Sync {
    /// The request for this recipient and message; `now_ms` goes into signatures.
    fn build(&self, to: &Recipient, msg: &Message, now_ms: i64) -> Result<HttpRequest, SendError>;
    /// Whether the answer means delivered. The default is the status alone.
    fn check(&self, host: &str, response: &HttpResponse) -> Result<Delivered, SendError> {
        response.check_status(host)
    }
}

/// Sends what an [`HttpChannel`] builds.
pub struct ViaHttp<C> {
    id: String,
    inner: C,
}

impl<C: HttpChannel> ViaHttp<C> {
    pub fn new(id: &str, inner: C) -> ViaHttp<C> {
        ViaHttp {
            id: id.to_string(),
            inner,
        }
    }
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

impl<C: HttpChannel> Channel for ViaHttp<C> {
    fn id(&self) -> &str {
        &self.id
    }
    fn send<'a>(&'a self, to: &'a Recipient, msg: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let req = self.inner.build(to, msg, now_ms())?;
            let host = crate::http::host_of(&req.url).to_string();
            let response = crate::http::send(req).await?;
            self.inner.check(&host, &response)
        })
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The channel for a configured spec, with the built-in templates.
pub fn channel_for(spec: &ChannelSpec) -> Box<dyn Channel> {
    make(spec, Templates::builtin())
}

/// The channel for a spec with its own headline and text templates; an override that does
/// not compile is an error naming the field (`title: invalid template: ...`).
pub fn channel_with_templates(
    spec: &ChannelSpec,
    over: &TemplateOverride,
) -> Result<Box<dyn Channel>, String> {
    Ok(make(spec, Templates::new(over)?))
}

fn make(spec: &ChannelSpec, templates: Templates) -> Box<dyn Channel> {
    let id = spec.id.as_str();
    match &spec.settings {
        ChannelSettings::Email {
            host,
            port,
            tls,
            username,
            password,
            from,
        } => Box::new(Email::new(
            id,
            email::Smtp {
                host: host.clone(),
                port: *port,
                tls: *tls,
                username: username.clone(),
                password: password.clone(),
                from: from.clone(),
            },
            templates,
        )),
        ChannelSettings::Webhook {
            url,
            secret,
            headers,
        } => Box::new(ViaHttp::new(
            id,
            Webhook::new(url.clone(), secret.clone(), headers.clone(), templates),
        )),
        ChannelSettings::Slack { url } => {
            Box::new(ViaHttp::new(id, Slack::new(url.clone(), templates)))
        }
        ChannelSettings::Teams { url } => {
            Box::new(ViaHttp::new(id, Teams::new(url.clone(), templates)))
        }
        ChannelSettings::Dingtalk { url, secret } => Box::new(ViaHttp::new(
            id,
            Dingtalk::new(url.clone(), secret.clone(), templates),
        )),
        ChannelSettings::Wecom { url } => {
            Box::new(ViaHttp::new(id, Wecom::new(url.clone(), templates)))
        }
        ChannelSettings::Feishu { url, secret } => Box::new(ViaHttp::new(
            id,
            Feishu::new(url.clone(), secret.clone(), templates),
        )),
        ChannelSettings::Telegram { bot_token, api_url } => Box::new(ViaHttp::new(
            id,
            Telegram::new(bot_token.clone(), api_url.clone(), templates),
        )),
        ChannelSettings::Http {
            voice,
            method,
            url,
            headers,
            body,
            content_type,
        } => Box::new(ViaHttp::new(
            id,
            HttpApi::new(
                http::HttpApiSettings {
                    voice: *voice,
                    method: method.clone(),
                    url: url.clone(),
                    headers: headers.clone(),
                    body: body.clone(),
                    content_type: content_type.clone(),
                },
                templates,
            ),
        )),
    }
}

/// Robots answer HTTP 200 with their own error code: 0 is delivered, a code in `retry_codes`
/// (their rate limits and "busy") may pass later, any other will not.
pub(crate) fn robot_answer(
    host: &str,
    response: &HttpResponse,
    code_field: &str,
    message_field: &str,
    retry_codes: &[i64],
) -> Result<Delivered, SendError> {
    let delivered = response.check_status(host)?;
    let Some(body) = response.json() else {
        return Err(SendError::retry(format!(
            "{host} answered HTTP {} with a body that is not JSON",
            response.status
        )));
    };
    let code = body[code_field].as_i64().unwrap_or(0);
    if code == 0 {
        return Ok(delivered);
    }
    let text = body[message_field].as_str().unwrap_or_default();
    let message = format!("{host} refused the message: {code_field} {code}: {text}");
    if retry_codes.contains(&code) {
        Err(SendError::retry(message))
    } else {
        Err(SendError::permanent(message))
    }
}
