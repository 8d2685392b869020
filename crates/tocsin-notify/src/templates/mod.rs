//! The built-in message templates (minijinja), one per output form, in English and Chinese,
//! and the per-channel overrides of the headline and the text.
//!
//! Forms: short text (SMS, and voice which has no URLs), chat markdown in three dialects, the
//! Feishu interactive card, the Teams adaptive card, and an email (subject, HTML, text).
//! Every template sees the same context: `title` (the headline), `kind`, `lang`, `bundled`,
//! `act` (whether the ack/resolve links are wanted), `recipient`, `greeting`, `incidents` (each
//! with `state_label`, `severity_label`, `urgency_label` and `where`, the hosts, in the reader's
//! language, and for a follow-up `follow_up_text`, who acknowledged or resolved it, when and
//! after how long), `t` (the labels) and `mention`.

mod strings;

use crate::error::SendError;
use crate::message::{Message, Recipient};
use minijinja::{AutoEscape, Environment, State};
use serde_json::{json, Value};

/// How chat markdown is written on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// CommonMark-ish, as DingTalk and WeCom robots render it.
    Markdown,
    /// Slack's mrkdwn: `*bold*`, `<href|text>`.
    Slack,
    /// Telegram's HTML parse mode, which needs far less escaping than its MarkdownV2.
    TelegramHtml,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Markdown => "markdown",
            Dialect::Slack => "slack",
            Dialect::TelegramHtml => "telegram",
        }
    }
}

/// A channel's own headline and text, replacing the built-in ones (`template: {title, text}`
/// in the channel's config). Both are minijinja templates over the same context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateOverride {
    pub title: Option<String>,
    pub text: Option<String>,
}

/// An email as rendered: subject, HTML body and its plain-text alternative.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailParts {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The templates one channel renders with.
pub struct Templates {
    env: Environment<'static>,
    title_override: bool,
    text_override: bool,
}

const BUILT_IN: [(&str, &str); 7] = [
    ("short.txt", include_str!("short.txt")),
    ("markdown.md", include_str!("markdown.md")),
    ("feishu.json", include_str!("feishu.json")),
    ("teams.json", include_str!("teams.json")),
    ("email_subject.txt", include_str!("email_subject.txt")),
    ("email.txt", include_str!("email.txt")),
    ("email.html", include_str!("email.html")),
];

impl Templates {
    /// The built-in templates only.
    pub fn builtin() -> Templates {
        Templates::new(&TemplateOverride::default()).expect("the built-in templates compile")
    }

    /// The built-in templates with a channel's overrides; an override that does not compile
    /// is an error naming the field (`title` or `text`).
    pub fn new(over: &TemplateOverride) -> Result<Templates, String> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.add_function("b", bold);
        env.add_function("link", link);
        env.add_filter("esc", escape);
        for (name, source) in BUILT_IN {
            env.add_template(name, source)
                .map_err(|e| format!("built-in template {name}: {e}"))?;
        }
        if let Some(t) = &over.title {
            env.add_template_owned("override_title", t.clone())
                .map_err(|e| format!("title: invalid template: {e}"))?;
        }
        if let Some(t) = &over.text {
            env.add_template_owned("override_text", t.clone())
                .map_err(|e| format!("text: invalid template: {e}"))?;
        }
        Ok(Templates {
            env,
            title_override: over.title.is_some(),
            text_override: over.text.is_some(),
        })
    }

    /// The context every template sees.
    fn context(&self, to: &Recipient, msg: &Message, extra: Value) -> Result<Value, SendError> {
        let incidents: Vec<Value> = msg
            .incidents
            .iter()
            .map(|i| {
                let mut v = serde_json::to_value(i).expect("a card serialises");
                v["state_label"] = strings::word(to.language, &i.state).into();
                v["severity_label"] = strings::word(to.language, &i.severity).into();
                v["urgency_label"] = strings::word(to.language, &i.urgency).into();
                v["where"] = strings::place(to.language, &i.hosts, i.host_count).into();
                v["follow_up_text"] = i
                    .follow_up
                    .as_ref()
                    .map_or(String::new(), |f| {
                        strings::follow_up(to.language, msg.kind, f)
                    })
                    .into();
                v
            })
            .collect();
        let mut ctx = json!({
            "lang": to.language.as_str(),
            "kind": msg.kind.as_str(),
            "title": strings::headline(to.language, msg),
            "bundled": msg.incidents.len() > 1,
            "act": msg.kind.wants_action(),
            "recipient": to,
            "greeting": strings::greeting(to.language, &to.name),
            "incidents": incidents,
            "storm": msg.storm,
            "t": strings::labels(to.language),
            "mention": "",
            "dialect": "markdown",
        });
        for (k, v) in extra.as_object().into_iter().flatten() {
            ctx[k] = v.clone();
        }
        if self.title_override {
            let title = self.render("override_title", &ctx)?;
            ctx["title"] = title.trim().into();
        }
        Ok(ctx)
    }

    fn render(&self, name: &str, ctx: &Value) -> Result<String, SendError> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| SendError::permanent(format!("template {name}: {e}")))?;
        t.render(ctx)
            .map_err(|e| SendError::permanent(format!("template {name}: {e}")))
    }

    fn text_or(&self, name: &str, ctx: &Value) -> Result<String, SendError> {
        let name = if self.text_override {
            "override_text"
        } else {
            name
        };
        Ok(self.render(name, ctx)?.trim().to_string())
    }

    /// The headline (subject line, card title) as the recipient reads it.
    pub fn title(&self, to: &Recipient, msg: &Message) -> Result<String, SendError> {
        let ctx = self.context(to, msg, json!({}))?;
        Ok(ctx["title"].as_str().unwrap_or_default().to_string())
    }

    /// SMS text, or the words a voice call reads (no URLs).
    pub fn short(&self, to: &Recipient, msg: &Message, voice: bool) -> Result<String, SendError> {
        let ctx = self.context(to, msg, json!({ "voice": voice }))?;
        self.text_or("short.txt", &ctx)
    }

    /// Chat markdown in the channel's dialect; `mention` is appended as written (`@138...`).
    pub fn markdown(
        &self,
        to: &Recipient,
        msg: &Message,
        dialect: Dialect,
        mention: &str,
    ) -> Result<String, SendError> {
        let extra = json!({ "dialect": dialect.name(), "mention": mention });
        let ctx = self.context(to, msg, extra)?;
        self.text_or("markdown.md", &ctx)
    }

    /// A Feishu interactive card (the `card` object).
    pub fn feishu_card(
        &self,
        to: &Recipient,
        msg: &Message,
        mention: &str,
    ) -> Result<Value, SendError> {
        let color = match msg.kind {
            crate::message::MessageKind::Resolved => "green",
            crate::message::MessageKind::Acknowledged => "blue",
            _ if msg
                .incidents
                .iter()
                .any(|i| matches!(i.priority.as_str(), "P1" | "P2")) =>
            {
                "red"
            }
            _ => "orange",
        };
        let ctx = self.context(to, msg, json!({ "color": color, "mention": mention }))?;
        json_of("feishu.json", &self.render("feishu.json", &ctx)?)
    }

    /// A Teams Workflows message: an adaptive card in the `attachments` envelope.
    pub fn teams_card(&self, to: &Recipient, msg: &Message) -> Result<Value, SendError> {
        let ctx = self.context(to, msg, json!({}))?;
        json_of("teams.json", &self.render("teams.json", &ctx)?)
    }

    /// Subject, HTML and text of an email. A text override replaces the text part only.
    pub fn email(&self, to: &Recipient, msg: &Message) -> Result<EmailParts, SendError> {
        let ctx = self.context(to, msg, json!({}))?;
        Ok(EmailParts {
            subject: self.render("email_subject.txt", &ctx)?.trim().to_string(),
            html: self.render("email.html", &ctx)?,
            text: self.text_or("email.txt", &ctx)? + "\n",
        })
    }
}

fn json_of(name: &str, text: &str) -> Result<Value, SendError> {
    serde_json::from_str(text)
        .map_err(|e| SendError::permanent(format!("template {name} did not make JSON: {e}")))
}

fn dialect(state: &State) -> String {
    state
        .lookup("dialect")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Makes text safe to put into the dialect: markup characters lose their meaning.
fn escape(state: &State, text: String) -> String {
    match dialect(state).as_str() {
        "slack" => text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
        "telegram" => text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;"),
        // DingTalk and WeCom render a small markdown subset and show backslash escapes
        // literally; text there is safe as it is.
        _ => text,
    }
}

/// Bold already-escaped text.
fn bold(state: &State, text: String) -> String {
    match dialect(state).as_str() {
        "slack" => format!("*{text}*"),
        "telegram" => format!("<b>{text}</b>"),
        _ => format!("**{text}**"),
    }
}

/// A link; its text is escaped here.
fn link(state: &State, text: String, href: String) -> String {
    let shown = escape(state, text);
    match dialect(state).as_str() {
        "slack" => format!("<{}|{shown}>", href.replace('|', "%7C")),
        "telegram" => format!("<a href=\"{}\">{shown}</a>", href.replace('"', "%22")),
        _ => format!("[{shown}]({})", href.replace(')', "%29")),
    }
}

#[cfg(test)]
mod tests;
