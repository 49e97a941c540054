//! The tenant's brand on a page: its name (title and header), its logo and its colour. The
//! colour goes in a second stylesheet, made here from the parsed colour (never the configured
//! text), whose hash the page's CSP lists beside the constant stylesheet's.

use crate::config::Brand;
use crate::rules::brand as rule;

/// What of a brand a page shows: only what passes [`crate::rules::brand`] again, so a value
/// that reached the configuration some other way is left out (an unusable name shows as the
/// default name).
pub struct Shown<'a> {
    pub name: &'a str,
    pub logo_url: Option<&'a str>,
    /// The stylesheet that applies the colour, if there is a usable one.
    pub style: Option<String>,
    pub terms_url: Option<&'a str>,
    pub privacy_url: Option<&'a str>,
    pub support_email: Option<&'a str>,
}

pub fn shown(b: &Brand) -> Shown<'_> {
    Shown {
        name: if rule::name(&b.name).is_ok() {
            &b.name
        } else {
            DEFAULT_NAME
        },
        logo_url: b.logo_url.as_deref().filter(|u| rule::logo_url(u).is_ok()),
        style: b.color.as_deref().and_then(rule::rgb).map(stylesheet),
        terms_url: b.terms_url.as_deref().filter(|u| rule::link_url("terms_url", u).is_ok()),
        privacy_url: b.privacy_url.as_deref().filter(|u| rule::link_url("privacy_url", u).is_ok()),
        support_email: b.support_email.as_deref().filter(|e| rule::support_email(e).is_ok()),
    }
}

pub const DEFAULT_NAME: &str = "Portcullis";

const WHITE: [u8; 3] = [255, 255, 255];
/// The pages' text colour (`#1a1a1a` in the constant stylesheet).
const INK: [u8; 3] = [0x1a, 0x1a, 0x1a];

/// Buttons filled with the colour, their text white or ink, whichever reads better on it;
/// links, the secondary button's text and the header's rule in the colour when it reads on
/// the white page (WCAG: 4.5:1 for text, 3:1 for a button's edge), else as they were.
fn stylesheet(rgb: [u8; 3]) -> String {
    let c = format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
    let on_white = contrast(rgb, WHITE);
    let text = if on_white >= contrast(rgb, INK) {
        "#fff"
    } else {
        "#1a1a1a"
    };
    let mut css = format!("button{{background:{c};color:{text}}}header.brand{{border-bottom-color:{c}}}");
    if on_white >= 3.0 {
        css.push_str(&format!("button{{border-color:{c}}}"));
    }
    css.push_str("button.secondary{background:#fff;color:#1a1a1a}");
    if on_white >= 4.5 {
        css.push_str(&format!("a{{color:{c}}}button.secondary{{color:{c}}}"));
    }
    css
}

/// WCAG 2 relative luminance of an sRGB colour.
fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |v: u8| {
        let c = f64::from(v) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

/// WCAG 2 contrast ratio (1 to 21).
fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_picks_readable_text() {
        assert!((contrast(WHITE, [0, 0, 0]) - 21.0).abs() < 1e-9);
        // A dark blue: white text, and links in the colour.
        let dark = stylesheet([0x00, 0x33, 0x99]);
        assert!(
            dark.starts_with("button{background:#003399;color:#fff}"),
            "{dark}"
        );
        assert!(dark.contains("a{color:#003399}"), "{dark}");
        // A yellow: ink text on it, and links left as they were (yellow on white is unreadable).
        let light = stylesheet([0xff, 0xeb, 0x3b]);
        assert!(
            light.starts_with("button{background:#ffeb3b;color:#1a1a1a}"),
            "{light}"
        );
        assert!(!light.contains("a{color"), "{light}");
        assert!(!light.contains("border-color"), "{light}");
    }

    #[test]
    fn only_what_passes_the_rules_is_shown() {
        let b = Brand {
            name: "Acme\u{202e}".into(),
            color: Some("red;}body{display:none".into()),
            logo_url: Some("javascript:alert(1)".into()),
            terms_url: Some("http://plain.example/terms".into()),
            privacy_url: Some("https://x.example/\"onclick=".into()),
            support_email: Some("not an email".into()),
        };
        let s = shown(&b);
        assert_eq!((s.name, s.logo_url, s.style), (DEFAULT_NAME, None, None));
        assert_eq!((s.terms_url, s.privacy_url, s.support_email), (None, None, None));
        let b = Brand {
            name: "Acme".into(),
            color: Some("#ABC".into()),
            logo_url: Some("https://cdn.example/l.png".into()),
            terms_url: Some("https://acme.example/terms".into()),
            privacy_url: None,
            support_email: Some("help@acme.example".into()),
        };
        let s = shown(&b);
        assert_eq!((s.name, s.logo_url), ("Acme", Some("https://cdn.example/l.png")));
        assert_eq!((s.terms_url, s.privacy_url, s.support_email), (Some("https://acme.example/terms"), None, Some("help@acme.example")));
        assert!(s
            .style
            .is_some_and(|css| css.starts_with("button{background:#aabbcc;")));
    }
}
