use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, named_fields, problem};

const C: &str = "/services/config/api/configs";

crate::on_both_backends!(configs_inherit_from_owner_to_user);

async fn configs_inherit_from_owner_to_user(h: &Harness) {
    let owner: Value = h.json(Method::GET, C, None).await.json().await.unwrap();
    assert_eq!(owner["operationsMergeRange"], 5);
    assert_eq!(owner["apiOwnerUsername"], "a@example.com");
    assert_eq!(owner["leafUserId"], "");
    assert_eq!(
        owner["cleanupRules"]["harvestMoisture"][1]["operator"],
        "LT"
    );

    let user = h.user("grower").await;
    let r = h
        .json(
            Method::PATCH,
            &format!("{C}/{user}"),
            Some(json!({"operationsMergeRange": 2})),
        )
        .await;
    assert_eq!(r.status(), 200);
    // The user set operationsMergeRange; it no longer follows the owner. fieldsAutoSync it inherits.
    let r = h
        .json(
            Method::PATCH,
            C,
            Some(json!({"operationsMergeRange": 9, "fieldsAutoSync": false})),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["operationsMergeRange"], 9);
    let mine: Value = h
        .json(Method::GET, &format!("{C}/{user}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            mine["operationsMergeRange"].clone(),
            mine["fieldsAutoSync"].clone()
        ),
        (json!(2), json!(false))
    );
    assert_eq!(mine["leafUserId"], user.as_str());
    // DELETE restores inheritance.
    assert_eq!(
        h.json(Method::DELETE, &format!("{C}/{user}"), None)
            .await
            .status(),
        204
    );
    let mine: Value = h
        .json(Method::GET, &format!("{C}/{user}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["operationsMergeRange"], 9);

    problem(
        h.json(Method::PATCH, C, Some(json!({"colour": "red"})))
            .await,
        400,
        Some("unknownConfiguration"),
    )
    .await;
    let r = h
        .json(
            Method::PATCH,
            C,
            Some(json!({"fieldsAutoSync": "yes", "unitMeasurement": "SI"})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["fieldsAutoSync", "unitMeasurement"]
    );
    let r = h
        .json(
            Method::POST,
            &format!("{C}/{user}"),
            Some(json!({"cleanupRules": {"seedRate": [{"operator": "EQ", "value": 1}]}})),
        )
        .await;
    assert_eq!(
        named_fields(&problem(r, 400, Some("validation")).await),
        ["cleanupRules"]
    );
    // Owner B sees its own defaults and none of A's users.
    let b = h.token_b.clone();
    let theirs: Value = h
        .json_as(&b, Method::GET, C, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["operationsMergeRange"], 5);
    problem(
        h.json_as(&b, Method::GET, &format!("{C}/{user}"), None)
            .await,
        404,
        Some("notFound"),
    )
    .await;
    problem(
        h.json(
            Method::GET,
            &format!("{C}/00000000-0000-0000-0000-000000000000"),
            None,
        )
        .await,
        404,
        Some("notFound"),
    )
    .await;
}
