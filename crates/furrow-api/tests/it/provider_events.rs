//! Provider event callbacks bring a credential's sync forward.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, problem};

const UM: &str = "/services/usermanagement/api";

crate::on_both_backends!(provider_events_bring_the_sync_forward);

async fn queued_syncs(h: &Harness, cred: &str) -> i64 {
    let url =
        h.db.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", h.db.data_dir.join("furrow.db").display()));
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM jobs WHERE dedupe_key = $1 AND state = 'queued'",
    )
    .bind(format!("files_sync:{cred}"))
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

async fn provider_events_bring_the_sync_forward(h: &Harness) {
    let user = h.user("grower").await;
    let r = h
        .json(
            Method::POST,
            &format!("{UM}/users/{user}/john-deere-credentials"),
            Some(json!({"clientKey": "k", "clientSecret": "s", "refreshToken": "r"})),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let cred: Value = h
        .json(
            Method::GET,
            &format!("{UM}/users/{user}/john-deere-credentials"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let cred = cred["id"].as_str().unwrap().to_owned();
    h.db.store
        .upsert_provider_organization(
            &h.owner_a,
            &user,
            "JohnDeere",
            "4201",
            "Prairie",
            true,
            None,
        )
        .await
        .unwrap();

    let cfg: Value = h
        .json(
            Method::GET,
            &format!("{UM}/providers/JohnDeere/events"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let path = cfg["path"].as_str().unwrap().to_owned();
    let auth = cfg["authorizationHeaderValue"].as_str().unwrap().to_owned();
    assert!(path.ends_with(&h.owner_a), "{path}");
    // Owner B's value differs.
    let other: Value = h
        .json_as(
            &h.token_b.clone(),
            Method::GET,
            &format!("{UM}/providers/john-deere/events"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        other["authorizationHeaderValue"],
        cfg["authorizationHeaderValue"]
    );

    let post = |header: Option<String>, body: Value| {
        let mut r = h.client.post(h.url(&path)).json(&body);
        if let Some(v) = header {
            r = r.header("authorization", v);
        }
        r.send()
    };
    let event = json!({"clientKey": "k", "eventTypeId": "fieldOperation",
        "targetResource": "https://sandboxapi.deere.com/platform/fieldOperations/abc",
        "metadata": [{"key": "orgId", "value": "4201"}]});
    problem(post(None, event.clone()).await.unwrap(), 401, None).await;
    problem(
        post(
            other["authorizationHeaderValue"]
                .as_str()
                .map(str::to_owned),
            event.clone(),
        )
        .await
        .unwrap(),
        401,
        None,
    )
    .await;
    assert_eq!(queued_syncs(h, &cred).await, 0);

    let r = post(Some(auth.clone()), event).await.unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["credentials"], 1);
    assert_eq!(
        queued_syncs(h, &cred).await,
        1,
        "the files sync is queued now"
    );
    // An organization nobody sees syncs nothing; a heartbeat is acknowledged.
    let r = post(
        Some(auth.clone()),
        json!({"eventTypeId": "fieldOperation", "metadata": [{"key": "orgId", "value": "9999"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["credentials"], 0);
    let r = post(Some(auth.clone()), json!({"eventTypeId": "heartbeat"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Azure Event Grid's validation handshake.
    let r = post(
        Some(auth.clone()),
        json!([{"eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}}]),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["validationResponse"],
        "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    );
    let r = h
        .client
        .post(h.url(&path))
        .header("authorization", auth)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(r, 400, None).await;
}
