//! Alert messages reach a real webhook over a socket: signed with the
//! webhook's secret, retried with the same delivery id after a failure, and
//! not sent again once delivered.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use vigil_domain::{Code, Role};
use vigil_server::background::{DeliveryPass, deliver_due, delivery_client, signature};
use vigil_store::{AlertState, Store};

use support::{Harness, context};

/// What the receiver saw: each request's headers and body.
type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A webhook receiver on loopback that fails its first request with 503
/// and accepts the rest.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let application = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let recorded = recorded.clone();
            async move {
                let mut requests = recorded.lock().expect("lock");
                requests.push((headers, body));
                if requests.len() == 1 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, application).await.expect("serve");
    });
    (format!("http://{address}/hook?token=receiver-token"), seen)
}

#[tokio::test]
async fn alert_messages_are_signed_retried_and_delivered_once() {
    let harness = Harness::new().await;
    let (url, seen) = receiver().await;
    let secret = "a shared secret of the Trust";
    harness
        .store
        .add_webhook(
            &context("a-cso", Role::ClinicalSafetyOfficer, "trust-a"),
            &Code::parse("trust-a").expect("code"),
            &url,
            secret,
        )
        .await
        .expect("webhook");
    // Trust B's alert is not Trust A's business.
    harness
        .store
        .advance_alert(
            &context("b-ai_lead", Role::AiLead, "trust-b"),
            harness.alert_b,
            AlertState::Acknowledged,
            "seen at B",
        )
        .await
        .expect("acknowledge B");
    harness
        .store
        .advance_alert(
            &context("a-ai_lead", Role::AiLead, "trust-a"),
            harness.alert_a,
            AlertState::Acknowledged,
            "looking into it",
        )
        .await
        .expect("acknowledge A");
    let client = delivery_client();
    let now = jiff::Timestamp::now();
    let base = Duration::from_secs(30);
    let first = deliver_due(&harness.store, &client, now, base)
        .await
        .expect("first pass");
    assert_eq!(
        first,
        DeliveryPass {
            delivered: 0,
            retried: 1,
            given_up: 0
        }
    );
    // Not due again before the backoff has passed.
    let soon = deliver_due(&harness.store, &client, now, base)
        .await
        .expect("early pass");
    assert_eq!(soon, DeliveryPass::default());
    let later = now
        .checked_add(jiff::SignedDuration::from_secs(31))
        .expect("time");
    let second = deliver_due(&harness.store, &client, later, base)
        .await
        .expect("second pass");
    assert_eq!(second.delivered, 1);
    let after = deliver_due(&harness.store, &client, later, base)
        .await
        .expect("third pass");
    assert_eq!(after, DeliveryPass::default(), "delivered once");
    let requests = seen.lock().expect("lock").clone();
    assert_eq!(requests.len(), 2);
    for (headers, body) in &requests {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("x-vigil-signature"), signature(secret, body));
        assert_eq!(header("x-vigil-event"), "alert.acknowledged");
        assert_eq!(header("content-type"), "application/json");
        let message: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(message["alert"]["id"], harness.alert_a);
        assert_eq!(message["alert"]["state"], "acknowledged");
        assert_eq!(message["alert"]["acknowledgement"], "looking into it");
        assert!(!body.contains("CANARY"), "no word of Trust B");
    }
    assert_eq!(
        requests[0].0.get("x-vigil-delivery"),
        requests[1].0.get("x-vigil-delivery"),
        "a retry is the same delivery"
    );
}
