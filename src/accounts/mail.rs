//! Sending email: the one function every message goes through ([`send`]), and the messages
//! themselves (plain text, the tenant's brand name, a link). Where it goes
//! (`config::MailTransport`): the HTTP email API or the `send_email` binding over the
//! [`Mailer`](crate::platform::Mailer) port; in development without a transport, the
//! tenant's outbox object (`/dev/outbox`); in production without one, nowhere, which is an
//! error the page reports. Every message is counted against its recipient first
//! (`MAIL_LIMIT_RECIPIENT` a minute), so no one can flood an address through these pages. A
//! failed send is an audit line and an error, never dropped in silence; the message's `id` is
//! its idempotency key (one per ticket or request), so a retry never delivers it twice.

use crate::error::{Error, ErrorCode, Result};
use crate::objects::{counter, outbox};
use crate::platform::{Mail, Platform};

/// What the message is for (the audit line and the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Verify,
    AlreadyHaveAccount,
    Reset,
    NoAccount,
    ChangeEmail,
    EmailTaken,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Verify => "verify",
            Kind::AlreadyHaveAccount => "already_have_account",
            Kind::Reset => "reset",
            Kind::NoAccount => "no_account",
            Kind::ChangeEmail => "change_email",
            Kind::EmailTaken => "email_taken",
        }
    }
}

/// The error a page shows when a message could not go out.
pub fn not_sent() -> Error {
    Error::new(
        ErrorCode::TemporarilyUnavailable,
        "the email could not be sent; try again in a few minutes",
    )
}

/// A message from this tenant (`MAIL_FROM`, else `no-reply@<issuer host>`), signed with its
/// brand name.
pub fn compose(p: &impl Platform, issuer: &str, id: &str, to: &str, subject: &str, body: &str) -> Mail {
    let brand = crate::pages::brand::shown(&p.config().brand).name.to_owned();
    Mail {
        id: id.to_owned(),
        from: p.config().mail.from_address(issuer),
        to: to.to_owned(),
        subject: format!("{subject} · {brand}"),
        text: format!("{body}\n\n— {brand}\n"),
    }
}

/// Sends one message: counted against its recipient (429 once over the limit), then handed to
/// the transport or the development outbox. `Ok` once it went; a failure is logged (kind and
/// error code; never the message, which holds a link) and answered as [`not_sent`].
pub async fn send(p: &impl Platform, kind: Kind, m: &Mail) -> Result<()> {
    let limit = p.config().mail.limit_recipient;
    p.call(&counter::mail_recipient(&m.to), counter::Reserve { limit }).await?;
    let sent = match &p.config().mail.transport {
        None if p.config().dev() => p.call(&outbox::object(), outbox::Put { mail: m.clone() }).await.map(|_| ()),
        None => Err(Error::unavailable("no mail transport is configured (MAIL_API_URL or MAIL_BINDING)")),
        Some(_) => p.send_mail(m).await,
    };
    if let Err(e) = sent {
        p.audit(&serde_json::json!({
            "event": "mail_not_sent",
            "kind": kind.as_str(),
            "id": m.id,
            "error": e.code.as_str(),
            "detail": e.description,
        }));
        return Err(not_sent());
    }
    Ok(())
}
