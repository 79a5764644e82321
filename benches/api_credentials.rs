//! Load benchmark of the credentials API: requests per second and latency percentiles of
//! `GET` and `POST /users/{id}/claas-credentials` over a real socket, on SQLite and (when
//! `FURROW_TEST_DATABASE_URL` is set) PostgreSQL.
//!
//! `cargo bench -p furrow-benches --bench api_credentials` (FURROW_BENCH_SECONDS, FURROW_BENCH_CONCURRENCY tune it).

#![allow(clippy::print_stdout)] // the report is the output

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use furrow_api::{ApiConfig, AppState};
use furrow_store::Backend;
use furrow_store::testing::TestDb;
use serde_json::{Value, json};

const UM: &str = "/services/usermanagement/api";

fn main() {
    // `cargo bench --no-run` only builds; `cargo test --benches` passes --test-ish flags: run briefly then.
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");
    let secs: u64 = std::env::var("FURROW_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 1 } else { 10 });
    let conc: usize = std::env::var("FURROW_BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut backends = vec![Backend::Sqlite];
    if furrow_store::testing::postgres_url().is_some() {
        backends.push(Backend::Postgres);
    }
    println!("| backend | request | concurrency | requests/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|---|");
    for backend in backends {
        rt.block_on(run(backend, Duration::from_secs(secs), conc));
    }
}

async fn run(backend: Backend, dur: Duration, conc: usize) {
    let db = TestDb::new(backend).await;
    db.store
        .create_owner("bench@example.com", "bench-password")
        .await
        .unwrap();
    let state = AppState::new(db.store.clone(), &db.key, ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, furrow_api::router(state))
            .await
            .unwrap()
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conc)
        .build()
        .unwrap();
    let token = client
        .post(format!("{base}/api/authenticate"))
        .json(&json!({"username": "bench@example.com", "password": "bench-password"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Users for POST (one credential each, so no 409) and one with a credential for GET.
    let n_users = 20_000;
    let mut users = Vec::with_capacity(n_users);
    let owner = db
        .store
        .owner_by_username("bench@example.com")
        .await
        .unwrap()
        .unwrap();
    for i in 0..n_users {
        let input = furrow_model::UserInput {
            name: Some(format!("u{i}")),
            ..Default::default()
        };
        users.push(db.store.create_user(&owner.id, &input).await.unwrap().id);
    }
    let body = json!({"clientKey": "bench-key", "clientSecret": "bench-secret-value", "refreshToken": "bench-refresh-value"});
    let r = client
        .post(format!("{base}{UM}/users/{}/claas-credentials", users[0]))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let get_url = format!("{base}{UM}/users/{}/claas-credentials", users[0]);
    let users = Arc::new(users);
    let next = Arc::new(AtomicUsize::new(1));

    for kind in ["GET", "POST"] {
        let deadline = Instant::now() + dur;
        let mut tasks = Vec::new();
        for _ in 0..conc {
            let (client, token, get_url, base, body, users, next) = (
                client.clone(),
                token.clone(),
                get_url.clone(),
                base.clone(),
                body.clone(),
                users.clone(),
                next.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0usize;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let resp = if kind == "GET" {
                        client.get(&get_url).bearer_auth(&token).send().await
                    } else {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(u) = users.get(i) else { break };
                        client
                            .post(format!("{base}{UM}/users/{u}/claas-credentials"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await
                    };
                    match resp {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let started = Instant::now();
        let mut lat = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.unwrap();
            lat.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        lat.sort();
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        println!(
            "| {backend:?} | {kind} credentials | {conc} | {:.0} | {:.2} | {:.2} | {errors} |",
            lat.len() as f64 / elapsed,
            pct(0.50),
            pct(0.99)
        );
    }
    server.abort();
    db.cleanup().await;
}
