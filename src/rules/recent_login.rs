//! "Sudo mode": the actions that change how a person logs in — adding or removing a passkey,
//! turning a second factor on or off, making new recovery codes — need a *recent* log-in, not
//! only a live session (a session lasts `SESSION_TTL`, 12 hours by default: an unattended or
//! stolen cookie must not be enough to add an attacker's passkey or turn off the second
//! factor). A session whose log-in is older than [`MAX_AGE`] is sent to log in again, and back.

/// How old, in seconds, a session's log-in may be for those actions: 10 minutes, as GitHub's
/// sudo mode allows between prompts (it is 2 hours there once confirmed; here every log-in,
/// the confirming one included, counts from its own time).
pub const MAX_AGE: i64 = 600;

/// The window in force: [`MAX_AGE`], or a shorter one the deployment sets
/// (`RECENT_LOGIN_SECONDS`, which can only make it stricter; the tests use it to make a
/// session stale without waiting ten minutes).
pub fn window(configured: Option<u64>) -> i64 {
    match configured {
        Some(s) => i64::try_from(s).unwrap_or(MAX_AGE).clamp(1, MAX_AGE),
        None => MAX_AGE,
    }
}

/// Whether a log-in at `logged_in_at` is recent at `now` within `window` seconds. A session
/// that does not record its log-in time (made before it was kept) is never recent; a time in
/// the future (a clock gone back, a record not ours) is not either.
pub fn is_recent(logged_in_at: Option<i64>, now: i64, window: i64) -> bool {
    match logged_in_at {
        Some(at) if at <= now => now.saturating_sub(at) <= window,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_in_is_recent_for_ten_minutes_then_not() {
        let now = 1_000_000;
        let w = window(None);
        assert_eq!(w, 600);
        assert!(is_recent(Some(now), now, w));
        assert!(
            is_recent(Some(now - 600), now, w),
            "exactly ten minutes is still recent"
        );
        assert!(!is_recent(Some(now - 601), now, w));
        assert!(!is_recent(Some(0), now, w));
        assert!(!is_recent(Some(i64::MIN), now, w), "no overflow");
        // No recorded time (an old session) or one in the future: never recent.
        assert!(!is_recent(None, now, w));
        assert!(!is_recent(Some(now + 1), now, w));
        assert!(!is_recent(Some(i64::MAX), now, w));
    }

    #[test]
    fn the_window_can_only_be_made_stricter() {
        assert_eq!(window(Some(2)), 2);
        assert_eq!(window(Some(0)), 1);
        assert_eq!(window(Some(3600)), MAX_AGE);
        assert_eq!(window(Some(u64::MAX)), MAX_AGE);
        assert!(!is_recent(Some(100), 103, window(Some(2))));
        assert!(is_recent(Some(100), 102, window(Some(2))));
    }
}
