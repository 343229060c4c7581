//! The server's background work: judging the rules of every live
//! deployment on a schedule (raising the alerts due), and delivering queued
//! alert messages to webhooks, signed, with retries and backoff.
//!
//! A webhook receives `POST` requests with a JSON body (see
//! `vigil_store::monitoring::alert_message`) and the headers
//! `X-Vigil-Event` (`alert.raised`, `alert.acknowledged`, `alert.resolved`),
//! `X-Vigil-Delivery` (the delivery's id, the same on every retry) and
//! `X-Vigil-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body
//! under the webhook's secret. Any 2xx answer is a delivery; anything else
//! (or no answer within [`DELIVERY_TIMEOUT`]) is retried after
//! [`retry_delay`], up to [`MAXIMUM_ATTEMPTS`] attempts in all. Deliveries
//! are stored, so a restart resumes them.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use vigil_domain::{LifecycleState, NonEmptyText, Role};
use vigil_store::{Actor, ChangeContext, DueDelivery, Store, StoreError};

/// The most attempts at one delivery.
pub const MAXIMUM_ATTEMPTS: u32 = 10;
/// How long one attempt may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between two attempts.
pub const MAXIMUM_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// The wait before the next attempt after `attempts` failed ones (1 after
/// the first failure): `base` doubled each time, at most an hour; `None`
/// once [`MAXIMUM_ATTEMPTS`] have failed.
pub fn retry_delay(attempts: u32, base: Duration) -> Option<Duration> {
    if attempts >= MAXIMUM_ATTEMPTS {
        return None;
    }
    let factor = 1_u32 << attempts.saturating_sub(1).min(20);
    Some(base.saturating_mul(factor).min(MAXIMUM_RETRY_DELAY))
}

/// The `X-Vigil-Signature` of a body under a secret.
pub fn signature(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 takes a key of any length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What one pass over the due deliveries did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryPass {
    pub delivered: usize,
    pub retried: usize,
    pub given_up: usize,
}

/// Makes the HTTP client deliveries use: no redirects (a webhook answers
/// where it was registered), a timeout per attempt.
pub fn delivery_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DELIVERY_TIMEOUT)
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

async fn attempt(client: &reqwest::Client, delivery: &DueDelivery) -> Result<(), String> {
    let answer = client
        .post(&delivery.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Vigil-Event", &delivery.event)
        .header("X-Vigil-Delivery", delivery.id.to_string())
        .header(
            "X-Vigil-Signature",
            signature(&delivery.secret, &delivery.body),
        )
        .body(delivery.body.clone())
        .send()
        .await
        // The error names the URL, which may carry a token: only its kind
        // is kept.
        .map_err(|error| {
            if error.is_timeout() {
                "no answer in time".to_owned()
            } else if error.is_connect() {
                "the connection failed".to_owned()
            } else {
                "the request failed".to_owned()
            }
        })?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", answer.status().as_u16()))
    }
}

/// Attempts every delivery due at `now` once, recording each outcome.
pub async fn deliver_due<S: Store>(
    store: &S,
    client: &reqwest::Client,
    now: jiff::Timestamp,
    retry_base: Duration,
) -> Result<DeliveryPass, StoreError> {
    let mut pass = DeliveryPass::default();
    for delivery in store.due_deliveries(now, 100).await? {
        let outcome = match attempt(client, &delivery).await {
            Ok(()) => {
                pass.delivered += 1;
                Ok(())
            }
            Err(error) => {
                let next = retry_delay(delivery.attempts + 1, retry_base).and_then(|delay| {
                    let delay = jiff::SignedDuration::try_from(delay).ok()?;
                    now.checked_add(delay).ok()
                });
                if next.is_some() {
                    pass.retried += 1;
                } else {
                    pass.given_up += 1;
                }
                tracing::warn!(delivery = delivery.id, webhook = delivery.webhook, attempts = delivery.attempts + 1, %error, "a webhook delivery failed");
                Err((error, next))
            }
        };
        store.record_delivery(delivery.id, now, outcome).await?;
    }
    Ok(pass)
}

/// Delivers due messages every `every`, for as long as the server runs.
pub async fn delivery_loop<S: Store>(store: S, every: Duration, retry_base: Duration) {
    let client = delivery_client();
    loop {
        if let Err(error) = deliver_due(&store, &client, jiff::Timestamp::now(), retry_base).await {
            tracing::error!(%error, "webhook deliveries could not be read or recorded");
        }
        tokio::time::sleep(every).await;
    }
}

/// Judges the rules of every live deployment on today (UTC) and raises the
/// alerts due. The actor recorded is `vigil-monitor`, acting in the role
/// that owns monitoring (AI lead) at the deployment's site. Returns the
/// number of alerts raised.
pub async fn assess_live_deployments<S: Store>(store: &S) -> Result<usize, StoreError> {
    let today = vigil_monitor::utc_day(jiff::Timestamp::now());
    let name = NonEmptyText::parse("vigil-monitor").map_err(StoreError::from)?;
    let mut raised = 0;
    for deployment in store.deployments().await? {
        if deployment.state != LifecycleState::Live {
            continue;
        }
        let context = ChangeContext::now(Actor {
            name: name.clone(),
            role: Role::AiLead,
            organisation: deployment.deployment.site.clone(),
        });
        let assessment =
            vigil_store::monitoring::assess_deployment(store, &context, deployment.id, today, true)
                .await?;
        for alert in &assessment.raised {
            tracing::warn!(deployment = deployment.id.0, alert = alert.id, rule = %alert.rule, "alert raised");
        }
        raised += assessment.raised.len();
    }
    Ok(raised)
}

/// Judges live deployments every `every`, for as long as the server runs.
pub async fn monitor_loop<S: Store>(store: S, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(error) = assess_live_deployments(&store).await {
            tracing::error!(%error, "the scheduled assessment failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour_and_stop_after_ten_attempts() {
        let base = Duration::from_secs(5);
        let delays: Vec<Option<u64>> = (1..=10)
            .map(|attempts| retry_delay(attempts, base).map(|delay| delay.as_secs()))
            .collect();
        assert_eq!(
            delays,
            [
                Some(5),
                Some(10),
                Some(20),
                Some(40),
                Some(80),
                Some(160),
                Some(320),
                Some(640),
                Some(1280),
                None
            ]
        );
        assert_eq!(
            retry_delay(9, Duration::from_secs(60)),
            Some(MAXIMUM_RETRY_DELAY)
        );
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
