//! The RFC 5322 message Cloudflare's `send_email` binding takes (`EmailMessage(from, to, raw)`):
//! a plain-text UTF-8 body in base64 (RFC 2045), the subject RFC 2047-encoded when it is not
//! ASCII, `Date`, a `Message-ID` made from the message's idempotency key, and `MIME-Version`.
//! Header values never carry CR or LF (no header injection): addresses with them are refused,
//! and the subject is always encoded whole when it holds anything but printable ASCII.

use crate::error::{Error, Result};
use base64::Engine;

/// An address fit for a header: one `local@domain`, printable ASCII without spaces, `<>`, `,`,
/// `;`, quotes or backslashes, at most 254 characters.
pub fn address_ok(a: &str) -> bool {
    let ok_chars = a.bytes().all(|b| b.is_ascii_graphic() && !b"<>,;\"\\()[]".contains(&b));
    let parts: Vec<&str> = a.split('@').collect();
    ok_chars && a.len() <= 254 && parts.len() == 2 && parts.iter().all(|p| !p.is_empty())
}

/// `Date:` in RFC 5322 §3.3 form, UTC (`Thu, 03 Dec 2026 14:20:26 +0000`).
pub fn date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let iso = crate::util::rfc3339(unix);
    let num = |r: std::ops::Range<usize>| iso.get(r).and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
    let weekday = DAYS.get(unix.div_euclid(86_400).rem_euclid(7) as usize).copied().unwrap_or("Thu");
    let month = MONTHS.get(num(5..7).saturating_sub(1)).copied().unwrap_or("Jan");
    format!(
        "{weekday}, {:02} {month} {:04} {} +0000",
        num(8..10),
        num(0..4),
        iso.get(11..19).unwrap_or("00:00:00")
    )
}

/// The subject as a header value: as it is when printable ASCII, else one RFC 2047
/// `=?utf-8?b?…?=` word per up to 45 bytes of whole characters.
pub fn subject(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars().filter(|c| !c.is_control()) {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(w)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// The whole message, CRLF line ends, body base64 in lines of 76.
pub struct Message<'a> {
    pub id: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
}

pub fn build(m: &Message<'_>, now: i64) -> Result<String> {
    if !address_ok(m.from) || !address_ok(m.to) {
        return Err(Error::invalid_request("an email address cannot be used in a message"));
    }
    let domain = m.from.rsplit('@').next().unwrap_or("localhost");
    let id: String = m.id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(64).collect();
    let body = base64::engine::general_purpose::STANDARD.encode(m.text.as_bytes());
    let mut lines = String::new();
    for (i, c) in body.chars().enumerate() {
        if i > 0 && i % 76 == 0 {
            lines.push_str("\r\n");
        }
        lines.push(c);
    }
    Ok(format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{id}@{domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{lines}\r\n",
        m.from,
        m.to,
        subject(m.subject),
        date(now)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    fn mail<'a>(to: &'a str, subject: &'a str, text: &'a str) -> Message<'a> {
        Message { id: "abc-123", from: "no-reply@auth.example", to, subject, text }
    }

    #[test]
    fn dates_are_rfc5322() {
        assert_eq!(date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(date(1_796_307_626), "Thu, 03 Dec 2026 14:20:26 +0000");
        assert_eq!(date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn a_message_and_its_headers() {
        let raw = build(&mail("ann@example.com", "Verify your email", "Hello\nclick"), 0).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("From: no-reply@auth.example\r\nTo: ann@example.com\r\nSubject: Verify your email\r\n"));
        assert!(head.contains("Message-ID: <abc-123@auth.example>"));
        let decoded = base64::engine::general_purpose::STANDARD.decode(body.replace("\r\n", "")).unwrap();
        assert_eq!(decoded, b"Hello\nclick");
        // Long bodies wrap at 76.
        let raw = build(&mail("ann@example.com", "s", &"x".repeat(500)), 0).unwrap();
        let body = raw.split_once("\r\n\r\n").unwrap().1;
        assert!(body.lines().all(|l| l.trim_end().len() <= 76));
    }

    #[test]
    fn no_header_injection() {
        for to in ["ann@example.com\r\nBcc: x@evil", "a b@example.com", "<a@b>", "a@b,c@d", "noat", "@example.com", "a@", "a@b@c", ""] {
            assert!(build(&mail(to, "s", "t"), 0).is_err(), "{to:?}");
        }
        let raw = build(&mail("ann@example.com", "Hi\r\nBcc: x@evil", "t"), 0).unwrap();
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
        let s = subject("Vérifiez votre adresse");
        assert!(s.starts_with("=?utf-8?b?") && s.ends_with("?="), "{s}");
        let long = subject(&"é".repeat(100));
        assert!(long.split("\r\n ").all(|w| w.len() <= 75), "{long}");
    }
}
