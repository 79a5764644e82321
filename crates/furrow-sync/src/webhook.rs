//! Webhook delivery: the exact body signed with `X-Leaf-Signature`, POSTed, retried on a schedule, failures
//! recorded for `GET /webhooks/failed-calls`.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};

use sha2::Sha256;

use furrow_store::queue::Delivery;

use crate::{Error, Result};

/// `base64(HMAC-SHA256(secret, body))`, the `X-Leaf-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks a signature in constant time (for receivers and tests).
pub fn verify_signature(secret: &str, body: &[u8], signature_b64: &str) -> bool {
    let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// What one attempt came to.
pub(crate) enum Outcome {
    Delivered,
    Failed {
        status: Option<u16>,
        response: String,
        connection_error: Option<String>,
    },
    Gone,
}

/// One delivery attempt.
pub(crate) async fn attempt(
    store: &furrow_store::Store,
    http: &reqwest::Client,
    owner_id: &str,
    delivery: &Delivery,
    attempt: i64,
    timeout: Duration,
) -> Result<Outcome> {
    let hook = match store.get_webhook(owner_id, &delivery.webhook_id).await {
        Ok(h) => h,
        Err(furrow_store::Error::NotFound(_)) => return Ok(Outcome::Gone),
        Err(e) => return Err(Error::Store(e)),
    };
    let sig = signature(&hook.secret, delivery.body.as_bytes());
    let res = http
        .post(&hook.url)
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("x-leaf-signature", sig)
        .header("x-furrow-delivery", &delivery.delivery_id)
        .header("x-furrow-attempt", attempt.to_string())
        .body(delivery.body.clone())
        .send()
        .await;
    let outcome = match res {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            Outcome::Failed {
                status: Some(status),
                response: truncate(&text, 4096),
                connection_error: None,
            }
        }
        Err(e) => Outcome::Failed {
            status: None,
            response: String::new(),
            connection_error: Some(error_chain(&e)),
        },
    };
    if let Outcome::Failed {
        status,
        response,
        connection_error,
    } = &outcome
    {
        store
            .add_failed_call(
                owner_id,
                &furrow_store::FailedCall {
                    id: String::new(),
                    webhook_id: hook.id.clone(),
                    created_at: furrow_model::now_micros(),
                    url: hook.url.clone(),
                    status: status.map(i64::from),
                    response: response.clone(),
                    request_body: delivery.body.clone(),
                    connection_error: connection_error.clone(),
                    attempt,
                },
            )
            .await?;
    }
    Ok(outcome)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector_and_verifies() {
        // python: base64.b64encode(hmac.new(b"s3cr3t", b'{"a": 1}', hashlib.sha256).digest())
        let sig = signature("s3cr3t", br#"{"a": 1}"#);
        assert_eq!(sig, "AdgXmT6IbvXmRPsBTEaR6cO5GnQ+9fXFUJ+7iiuOJ2o=");
        assert!(verify_signature("s3cr3t", br#"{"a": 1}"#, &sig));
        assert!(!verify_signature("s3cr3t", br#"{"a":1}"#, &sig));
        assert!(!verify_signature("other", br#"{"a": 1}"#, &sig));
        assert!(!verify_signature("s3cr3t", br#"{"a": 1}"#, "not base64!"));
    }
}
