//! Work a response leaves to be done after it is sent. The core never sends a notification on
//! a request's path: an endpoint describes what is to be sent as [`Deferred`] jobs on its
//! [`Response`](crate::http::Response) (`after`), and the adapter runs them once the response
//! has gone, with [`run`] over its [`Outbound`] port: the worker inside `ctx.waitUntil`, native
//! tests by calling [`run`] on the memory platform and reading what it recorded.

use super::{Audit, Objects, Outbound};
use crate::model::Tenant;
use crate::objects::audit;

/// Attempts per notification, and the pause before each retry (ms).
pub const ATTEMPTS: usize = 3;
pub const BACKOFF_MS: [u64; ATTEMPTS - 1] = [250, 1000];

/// One job: plain data (no platform, no tenant), so it outlives the request that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferred {
    /// OpenID Connect Back-Channel Logout §2.5: `logout_token=<JWT>` POSTed form-encoded to an
    /// app's `backchannel_logout_uri`.
    BackchannelLogout {
        client_id: String,
        url: String,
        logout_token: String,
        /// The organisation whose logout this is (`None`: the default tenant), for the log.
        tenant: Option<String>,
    },
}

impl Deferred {
    /// Names the organisation the job is for (set by the router, which knows the tenant).
    pub fn set_tenant(&mut self, label: &str) {
        match self {
            Deferred::BackchannelLogout { tenant, .. } => *tenant = Some(label.to_owned()),
        }
    }
}

/// Whether an answer is final: 2xx is delivered (§2.8: 200, some frameworks 204); another 4xx
/// is the app refusing the token, which a retry will not change. 408, 429, 5xx and no answer at
/// all are retried.
pub fn settled(status: u16) -> bool {
    (200..500).contains(&status) && status != 408 && status != 429
}

/// Runs every job, each retried up to [`ATTEMPTS`] times with [`BACKOFF_MS`] between; one that
/// never settles, or is refused, is logged (the client id and status, never the token).
pub async fn run(out: &(impl Outbound + Audit), jobs: Vec<Deferred>) {
    for job in jobs {
        match job {
            Deferred::BackchannelLogout {
                client_id,
                url,
                logout_token,
                tenant,
            } => {
                let body = crate::http::params::encode_form(&[("logout_token", &logout_token)]);
                let (mut last, mut tries) = (None, 0);
                for attempt in 0..ATTEMPTS {
                    tries += 1;
                    if attempt > 0 {
                        out.pause(BACKOFF_MS.get(attempt - 1).copied().unwrap_or(1000)).await;
                    }
                    let answer = out.post_form(&url, &body).await.ok();
                    last = answer;
                    if answer.is_some_and(settled) {
                        break;
                    }
                }
                if !last.is_some_and(|s| (200..300).contains(&s)) {
                    let mut line = serde_json::json!({
                        "event": "backchannel_logout_failed",
                        "client_id": client_id,
                        "status": last,
                        "attempts": tries,
                    });
                    if let Some(t) = tenant {
                        crate::util::set(&mut line, "tenant", t);
                    }
                    out.audit(&line);
                }
            }
        }
    }
}

/// One audit event to store after the response (`objects::audit`): the tenant it belongs to,
/// how long it is kept, and the first day still inside the retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditJob {
    pub tenant: Tenant,
    pub event: audit::Event,
    pub keep_until: i64,
    pub oldest_day: i64,
}

/// Stores each event in its day's object (one object call); the first event of a day also
/// notes the day in the tenant's days index, which hands back the days now past the retention,
/// whose objects are erased. A failure is logged (the event's log line was written already).
pub async fn store_audit(out: &(impl Objects + Audit), jobs: Vec<AuditJob>) {
    for job in jobs {
        let day = audit::day_of(job.event.at);
        let id = job.event.id.clone();
        let name = audit::day_object(day).in_tenant(&job.tenant);
        let cmd = audit::Append { event: job.event, keep_until: job.keep_until };
        let stored = match out.call(&name, cmd).await {
            Ok(a) if a.first => {
                let days = audit::days_object().in_tenant(&job.tenant);
                let cmd = audit::NoteDay { day, oldest: job.oldest_day };
                match out.call(&days, cmd).await {
                    Ok(gone) => {
                        // Acknowledged: the day's later appends stop asking (a failure here
                        // only means the next append notes it again, which is idempotent).
                        let _ = out.call(&name, audit::MarkNoted {}).await;
                        for d in gone {
                            let old = audit::day_object(d).in_tenant(&job.tenant);
                            let _ = out.call(&crate::objects::erase::any(&old), crate::objects::erase::Erase {}).await;
                        }
                        Ok(true)
                    }
                    Err(e) => Err(e),
                }
            }
            Ok(a) => Ok(a.stored),
            Err(e) => Err(e),
        };
        if !matches!(stored, Ok(true)) {
            let mut line = serde_json::json!({
                "event": "audit_not_stored",
                "id": id,
                "error": stored.err().map(|e| e.code.as_str()),
            });
            if let Tenant::Org(t) = &job.tenant {
                crate::util::set(&mut line, "tenant", t.clone());
            }
            out.audit(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_settles_a_notification() {
        for s in [200, 204, 400, 401, 404] {
            assert!(settled(s), "{s}");
        }
        for s in [408, 429, 500, 502, 503, 100] {
            assert!(!settled(s), "{s}");
        }
    }
}
