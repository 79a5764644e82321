//! Images of files and operations through the API (leaf-images.md): rendered by the worker when switched on,
//! on first request when switched on later, listed in Leaf's shapes, downloaded with their content types, and
//! refused where there is none.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, problem};
use crate::operations::get_json;
use crate::settings::{configure, upload};

const OPS: &str = "/services/operations/api";
const C: &str = "/services/config/api/configs";

crate::on_both_backends!(
    images_are_rendered_after_processing_when_switched_on,
    images_switched_on_later_are_rendered_on_first_request,
    image_settings_are_validated,
);

/// A field around the AFE planting log, so that it makes an operation.
async fn field(h: &Harness, user: &str) {
    let r = h
        .json(
            Method::POST,
            &format!("/services/fields/api/users/{user}/fields"),
            Some(json!({"name": "Hof Esch", "geometry": {"type": "MultiPolygon", "coordinates":
                [[[[8.0290, 52.3588], [8.0356, 52.3588], [8.0356, 52.3602], [8.0290, 52.3602], [8.0290, 52.3588]]]]}})),
        )
        .await;
    assert_eq!(r.status(), 201);
}

fn images_on(properties: &[&str], geotiff: bool) -> Value {
    let on: serde_json::Map<String, Value> = properties
        .iter()
        .map(|p| ((*p).to_owned(), json!(true)))
        .collect();
    json!({
        "cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}},
        "operationsImageCreation": true,
        "operationsImageAsGeoTiff": geotiff,
        "operationsImageAttributeCreation": {"planted": on}
    })
}

/// GETs a download, asserting its status and content type; returns the bytes.
async fn fetch(h: &Harness, url: &str, content_type: &str) -> Vec<u8> {
    let r = h.json(Method::GET, url, None).await;
    assert_eq!(r.status(), 200, "{url}");
    assert_eq!(r.headers()["content-type"], content_type, "{url}");
    r.bytes().await.unwrap().to_vec()
}

fn properties(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["property"].as_str().unwrap())
        .collect()
}

async fn processed(h: &Harness, user: &str) -> (String, String) {
    let batch = upload(h, user, "isoxml/isoxml-dotnet/AFE.zip").await;
    let file = batch["leafFiles"][0].as_str().unwrap().to_owned();
    let ops = get_json(h, &format!("{OPS}/operations?leafUserId={user}")).await;
    assert_eq!(ops.as_array().unwrap().len(), 1, "{ops}");
    (file, ops[0]["id"].as_str().unwrap().to_owned())
}

async fn images_are_rendered_after_processing_when_switched_on(h: &Harness) {
    let user = h.user("grower").await;
    field(h, &user).await;
    // `seedDepth` has no value in this log: selected, but no image (not a failure).
    configure(
        h,
        &user,
        images_on(&["seedRate", "speed", "seedDepth"], true),
    )
    .await;
    let (file, op) = processed(h, &user).await;
    // The worker drew them: they are in the blob store before anyone asks.
    let blobs = crate::harness::blobs();
    let owner = &h.owner_a;
    let stored = blobs
        .list(&format!("{owner}/{user}/operations/{op}/imagesV2/"))
        .await
        .unwrap();
    assert_eq!(stored.len(), 4, "two PNGs and two side files: {stored:?}");
    let stored = blobs
        .list(&format!("{owner}/{user}/files/{file}/images/"))
        .await
        .unwrap();
    assert_eq!(stored.len(), 4, "{stored:?}");
    let status = get_json(h, &format!("{OPS}/files/{file}/status")).await;
    assert_eq!(status["propertiesPNGs"]["status"], "processed", "{status}");
    assert_eq!(status["zippedPNGs"]["status"], "skipped", "{status}");

    // File images, V1.
    let list = get_json(h, &format!("{OPS}/files/{file}/images")).await;
    assert_eq!(properties(&list), ["seedRate", "speed"], "{list}");
    for image in list.as_array().unwrap() {
        let url = image["url"].as_str().unwrap();
        assert_eq!(image["downloadUrl"], url);
        assert_eq!(
            url,
            format!(
                "{OPS}/files/{file}/download/images/{}.png",
                image["property"].as_str().unwrap()
            )
        );
        assert_eq!(image["ramp"]["0%"], json!([200, 0, 0]));
        assert_eq!(image["ramp"]["nv"], json!([0, 0, 0, 0]));
        let png = fetch(h, url, "image/png").await;
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let aux = fetch(h, &format!("{url}.aux.xml"), "application/xml").await;
        assert!(String::from_utf8(aux).unwrap().contains("GeoTransform"));
    }

    // Operation images: V1 empty, V2 with 7-class legends inside the field, GeoTIFFs.
    assert_eq!(
        get_json(h, &format!("{OPS}/operations/{op}/images")).await,
        json!([])
    );
    let v2 = get_json(h, &format!("{OPS}/operations/{op}/imagesV2")).await;
    assert_eq!(properties(&v2), ["seedRate", "speed"], "{v2}");
    for image in v2.as_array().unwrap() {
        let ranges = image["legend"]["ranges"].as_array().unwrap();
        assert!((1..=7).contains(&ranges.len()), "{image}");
        assert_eq!(ranges[0]["colorCode"], "#C80000");
        for pair in ranges.windows(2) {
            assert_eq!(pair[0]["max"], pair[1]["min"], "{image}");
        }
        let e = &image["extent"];
        let (xmin, xmax) = (e["xmin"].as_f64().unwrap(), e["xmax"].as_f64().unwrap());
        let (ymin, ymax) = (e["ymin"].as_f64().unwrap(), e["ymax"].as_f64().unwrap());
        assert!(8.028 < xmin && xmin < xmax && xmax < 8.037, "{e}");
        assert!(52.358 < ymin && ymin < ymax && ymax < 52.361, "{e}");
        let png = fetch(h, image["url"].as_str().unwrap(), "image/png").await;
        assert!(png.starts_with(b"\x89PNG"));
    }
    // The legend's classes span the summary's range of the filtered points: within the standard min/max.
    let summary = get_json(h, &format!("{OPS}/operations/{op}/summary")).await;
    let seed = &v2[0]["legend"]["ranges"];
    let (lo, hi) = (
        seed[0]["min"].as_f64().unwrap(),
        seed.as_array().unwrap().last().unwrap()["max"]
            .as_f64()
            .unwrap(),
    );
    let s = &summary["properties"]["seedRate"];
    assert!(
        lo >= s["min"].as_f64().unwrap() - 1e-9 && hi <= s["max"].as_f64().unwrap() + 1e-9,
        "{s} vs {seed}"
    );
    let tiffs = get_json(h, &format!("{OPS}/operations/{op}/geotiffImages")).await;
    assert_eq!(properties(&tiffs), ["seedRate", "speed"], "{tiffs}");
    let tif = fetch(h, tiffs[0]["url"].as_str().unwrap(), "image/tiff").await;
    assert!(tif.starts_with(b"II*\0"));

    // What is not an image of this record is a 404 problem.
    for path in [
        format!("{OPS}/operations/{op}/download/imagesV2/seedDepth.png"),
        format!("{OPS}/operations/{op}/download/imagesV2/seedRate.tif"),
        format!("{OPS}/operations/{op}/download/elsewhere/seedRate.png"),
        format!("{OPS}/files/{file}/download/images/wetMass.png"),
    ] {
        let r = h.json(Method::GET, &path, None).await;
        problem(r, 404, Some("notFound")).await;
    }
    // Another API owner sees none of it.
    for path in [
        format!("{OPS}/files/{file}/images"),
        format!("{OPS}/operations/{op}/imagesV2"),
        format!("{OPS}/operations/{op}/download/imagesV2/seedRate.png"),
    ] {
        let r = h
            .json_as(&h.token_b.clone(), Method::GET, &path, None)
            .await;
        problem(r, 404, None).await;
    }
}

async fn images_switched_on_later_are_rendered_on_first_request(h: &Harness) {
    let user = h.user("grower").await;
    field(h, &user).await;
    configure(
        h,
        &user,
        json!({"cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}}}),
    )
    .await;
    let (file, op) = processed(h, &user).await;
    let status = get_json(h, &format!("{OPS}/files/{file}/status")).await;
    assert_eq!(
        status["propertiesPNGs"],
        json!({"status": "skipped", "message": "images disabled"})
    );
    for path in ["images", "imagesV2", "geotiffImages"] {
        assert_eq!(
            get_json(h, &format!("{OPS}/operations/{op}/{path}")).await,
            json!([])
        );
    }
    assert_eq!(
        get_json(h, &format!("{OPS}/files/{file}/images")).await,
        json!([])
    );
    let r = h
        .json(
            Method::GET,
            &format!("{OPS}/operations/{op}/download/imagesV2/seedRate.png"),
            None,
        )
        .await;
    problem(r, 404, Some("notFound")).await;
    let blobs = crate::harness::blobs();
    let prefix = format!("{}/{user}/operations/{op}/imagesV2/", h.owner_a);
    assert!(blobs.list(&prefix).await.unwrap().is_empty());

    // Switched on: the first request draws and stores them.
    configure(h, &user, images_on(&["seedRate", "speed"], false)).await;
    let v2 = get_json(h, &format!("{OPS}/operations/{op}/imagesV2")).await;
    assert_eq!(properties(&v2), ["seedRate", "speed"], "{v2}");
    assert_eq!(blobs.list(&prefix).await.unwrap().len(), 4);
    assert_eq!(
        get_json(h, &format!("{OPS}/operations/{op}/geotiffImages")).await,
        json!([])
    );
    let files = get_json(h, &format!("{OPS}/files/{file}/images")).await;
    assert_eq!(properties(&files), ["seedRate", "speed"]);
    // The same answer the second time, from the stored manifest.
    assert_eq!(
        get_json(h, &format!("{OPS}/operations/{op}/imagesV2")).await,
        v2
    );

    // A smaller selection: the other image goes, its URL answers 404.
    configure(h, &user, images_on(&["seedRate"], false)).await;
    let v2 = get_json(h, &format!("{OPS}/operations/{op}/imagesV2")).await;
    assert_eq!(properties(&v2), ["seedRate"]);
    assert_eq!(blobs.list(&prefix).await.unwrap().len(), 2);
    let r = h
        .json(
            Method::GET,
            &format!("{OPS}/operations/{op}/download/imagesV2/speed.png"),
            None,
        )
        .await;
    problem(r, 404, Some("notFound")).await;
}

async fn image_settings_are_validated(h: &Harness) {
    let user = h.user("grower").await;
    for (body, needle) in [
        (
            json!({"operationsImageAttributeCreation": {"sprayed": {}}}),
            "sprayed",
        ),
        (
            json!({"operationsImageAttributeCreation": {"harvested": {"colour": true}}}),
            "harvested.colour",
        ),
        (
            json!({"operationsImageAttributeCreation": {"planted": {"seedRate": "yes"}}}),
            "planted.seedRate",
        ),
        (json!({"operationsImageAttributeCreation": []}), "object"),
        (json!({"operationsImageCreation": "on"}), "true or false"),
    ] {
        let r = h
            .json(Method::PATCH, &format!("{C}/{user}"), Some(body.clone()))
            .await;
        let p = problem(r, 400, None).await;
        assert!(p.to_string().contains(needle), "{body}: {p}");
        let key = body.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(crate::harness::named_fields(&p), [key], "{p}");
    }
    // The default shows every imageable property, off.
    let cfg = get_json(h, &format!("{C}/{user}")).await;
    assert_eq!(
        cfg["operationsImageAttributeCreation"]["harvested"]["wetMass"],
        false
    );
    assert_eq!(cfg["operationsImageCreation"], false);
}
