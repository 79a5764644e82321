//! Credentials against simulators that behave like real OAuth servers: single-use refresh tokens whose reuse
//! revokes the grant, token endpoints that refuse or fail, slow providers and deletions in the middle of work.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use furrow_credentials::{CredentialStatus, Provider};
use furrow_model::{Page, SortOrder};
use furrow_provider::HttpConfig;
use furrow_provider_sim::{Rotation, Simulator};
use furrow_store::testing::TestDb;
use furrow_store::{Blobs, Store};
use furrow_sync::{Registry, Worker, WorkerConfig};
use serde_json::Value;

use super::{Receiver, drain, stored_credential};

on_both_backends!(
    parallel_jobs_on_two_nodes_present_each_refresh_token_once,
    a_refused_token_request_is_retried_then_settles_invalid_with_an_alert,
    an_outage_is_retried_then_settles_invalid,
    a_validation_that_recovers_within_its_retries_ends_ok,
    a_validation_whose_worker_dies_at_every_attempt_settles_invalid,
    deleting_a_credential_stops_its_provider_calls,
    deleting_a_user_stops_its_credentials_provider_calls,
);

const DEADLINE: Duration = Duration::from_secs(120);

fn registry(sim: &Simulator) -> Registry {
    Registry::new()
        .with(Provider::Claas, |ctx| {
            Ok(Arc::new(furrow_provider_claas::ClaasProvider::new(ctx)?) as _)
        })
        .with_base_url(Provider::Claas, sim.base_url())
        .with_http(HttpConfig::for_tests())
}

fn worker(store: &Store, sim: &Simulator, id: &str, blobs: Option<Blobs>) -> Worker {
    let config = WorkerConfig {
        id: id.into(),
        idle_poll: Duration::from_millis(20),
        webhook_retry_delays: vec![Duration::ZERO],
        blobs,
        sync_interval: None,
        ..WorkerConfig::default()
    };
    Worker::new(store.clone(), registry(sim), config)
}

/// Worker loops running until the returned sender says stop.
struct Workers {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Workers {
    fn start(workers: Vec<Worker>) -> Self {
        let (stop, rx) = tokio::sync::watch::channel(false);
        let tasks = workers
            .into_iter()
            .map(|w| tokio::spawn(w.run(rx.clone())))
            .collect();
        Workers { stop, tasks }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.await.unwrap();
        }
    }
}

/// Waits (with a deadline) until no job is queued or running.
async fn until_idle(db: &TestDb) {
    until_idle_unless(db, || None).await;
}

/// [`until_idle`], failing at once when `broken` says why.
async fn until_idle_unless(db: &TestDb, broken: impl Fn() -> Option<String>) {
    let start = Instant::now();
    loop {
        if let Some(why) = broken() {
            panic!("{why}");
        }
        let busy: Vec<_> = db
            .jobs()
            .await
            .into_iter()
            .filter(|(_, state, _, _)| state == "queued" || state == "running")
            .collect();
        if busy.is_empty() {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "jobs never finished: {busy:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn blobs(db: &TestDb) -> Blobs {
    Blobs::local(db.root().join("blobs"), db.root().join("scratch")).unwrap()
}

/// A CLAAS simulator serving `n` generated machine files in its first organization and nothing else, with
/// single-use refresh tokens whose reuse revokes the grant (oidc-provider, Auth0 and Okta with rotation on).
async fn sim_with_files(n: usize) -> Simulator {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    sim.faults().rotation(Some(Rotation::SingleUse));
    sim.seed().retain_files(|_| false);
    sim.seed().add_generated_files("4201", n);
    sim
}

/// A stored, validated credential whose machine files are all downloaded.
async fn valid_credential(
    db: &TestDb,
    sim: &Simulator,
) -> (String, String, BTreeMap<String, String>) {
    let values = sim.new_credential();
    let (owner, cred) = stored_credential(db, &values).await;
    db.store
        .merge_config(
            &owner,
            None,
            serde_json::json!({"customDataSync": false})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap();
    (owner, cred, values)
}

fn jobs_of(jobs: &[(String, String, Option<String>, i64)], kind: &str, state: &str) -> usize {
    jobs.iter()
        .filter(|(k, s, _, _)| k == kind && s == state)
        .count()
}

/// Validation, the fields and files syncs, 20 file downloads in parallel on four workers of two nodes (two
/// stores on one database), access tokens that expire every two seconds and are all revoked once, then two
/// more syncs: the simulator (single-use refresh tokens, reuse revokes the grant) never sees a refresh token
/// twice and the grant lives.
async fn parallel_jobs_on_two_nodes_present_each_refresh_token_once(db: &TestDb) {
    let sim = sim_with_files(20).await;
    sim.faults().token_lifetime(2);
    let (owner, cred, _) = valid_credential(db, &sim).await;
    let other = db.another_node().await;
    let b = blobs(db);
    let workers = Workers::start(vec![
        worker(&db.store, &sim, "node-a-1", Some(b.clone())),
        worker(&db.store, &sim, "node-a-2", Some(b.clone())),
        worker(&other, &sim, "node-b-1", Some(b.clone())),
        worker(&other, &sim, "node-b-2", Some(b.clone())),
    ]);
    db.store.enqueue_validation(&owner, &cred).await.unwrap();
    // Every access token stops working while the downloads run: the four workers meet a 401 together.
    let probe = sim.probe();
    until("the first downloads", || probe.requests() >= 8).await;
    sim.expire_access_tokens();
    let revoked = || {
        (sim.revoked_grants() > 0).then(|| {
            format!(
                "grant revoked ({} refresh tokens presented twice)",
                sim.refresh_tokens_presented_twice()
            )
        })
    };
    until_idle_unless(db, revoked).await;
    for _ in 0..2 {
        db.store
            .enqueue_files_sync(&owner, &cred, true)
            .await
            .unwrap();
        db.store
            .enqueue_fields_sync(&owner, &cred, true)
            .await
            .unwrap();
        until_idle_unless(db, revoked).await;
    }
    workers.stop().await;

    let jobs = db.jobs().await;
    assert_eq!(jobs_of(&jobs, "file_process", "done"), 20, "{jobs:?}");
    assert!(jobs.iter().all(|(_, s, _, _)| s == "done"), "{jobs:?}");
    assert_eq!(sim.grants_revoked_for_reuse(), 0);
    assert_eq!(sim.revoked_grants(), 0);
    assert_eq!(
        sim.refresh_tokens_presented_twice(),
        0,
        "a refresh token was presented twice"
    );
    let stored = db.store.get_credential_by_id(&owner, &cred).await.unwrap();
    assert_eq!(stored.status, CredentialStatus::Ok);
    assert!(sim.is_refresh_token_valid(&stored.secrets["refreshToken"]));
    assert!(stored.access_expires_at.is_some(), "expiry stored");
    // Tokens were shared: far fewer refreshes than calls (20 downloads, listings, three syncs).
    assert!(
        sim.refresh_count() < 15,
        "{} refreshes for {} requests",
        sim.refresh_count(),
        sim.requests()
    );
    other.close().await;
}

/// A webhook for credential alerts, confirmed; returns the receiver.
async fn alerts(db: &TestDb, owner: &str) -> Receiver {
    let (receiver, url) = Receiver::start(0).await;
    let hook = db
        .store
        .create_webhook(
            owner,
            "alerts",
            &url,
            "hook-secret-123",
            &["credentialsUnauthenticated".to_string()],
        )
        .await
        .unwrap();
    db.store
        .confirm_registration(owner, &hook.id)
        .await
        .unwrap();
    receiver
}

/// Runs the queue, jumping over retry backoffs, until the credential leaves PROCESSING; returns the number
/// of rounds.
async fn validate_to_the_end(db: &TestDb, w: &Worker, owner: &str, cred: &str) -> usize {
    for round in 1..=20 {
        drain(w).await;
        let c = db.store.get_credential_by_id(owner, cred).await.unwrap();
        if c.status != CredentialStatus::Processing {
            return round;
        }
        assert!(
            db.make_jobs_due().await > 0,
            "PROCESSING with nothing queued"
        );
    }
    panic!("the validation never ended");
}

async fn settles_invalid(db: &TestDb, status: u16, code: &str) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    sim.faults().token_errors(1000, status, code);
    let (owner, cred, values) = valid_credential(db, &sim).await;
    let receiver = alerts(db, &owner).await;
    let job = db.store.enqueue_validation(&owner, &cred).await.unwrap();
    let w = worker(&db.store, &sim, "w", None);
    let rounds = validate_to_the_end(db, &w, &owner, &cred).await;
    assert_eq!(rounds, 8, "one round per attempt");
    let (state, _, attempts) = db.store.job_state(&job).await.unwrap();
    assert_eq!((state.as_str(), attempts), ("done", 8));
    let stored = db.store.get_credential_by_id(&owner, &cred).await.unwrap();
    assert_eq!(stored.status, CredentialStatus::Invalid);
    let alerts: Vec<Value> = receiver
        .calls()
        .iter()
        .skip(1)
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "one alert: {alerts:?}");
    assert_eq!(alerts[0]["type"], "credentialsUnauthenticated");
    assert_eq!(alerts[0]["status"], "INVALID");
    assert_eq!(alerts[0]["credential"], values["clientKey"].as_str());
    let message = alerts[0]["message"].as_str().unwrap();
    assert!(message.contains("after 8 attempts"), "{message}");
    let (events, _) = db
        .store
        .list_credential_events(&owner, &cred, Page::new(0, 100).unwrap(), SortOrder::Desc)
        .await
        .unwrap();
    assert!(
        events[0].body.starts_with("status PROCESSING -> INVALID: "),
        "the settlement is an event: {}",
        events[0].body
    );
    // Nothing is left to run for it.
    let jobs = db.jobs().await;
    assert!(
        jobs.iter().all(|(_, s, _, _)| s == "done" || s == "failed"),
        "{jobs:?}"
    );
}

/// A token endpoint answering `400 invalid_request` (not an authorization error) is asked again with
/// backoff; after the validation's eight attempts the credential is INVALID, with an event and one alert.
async fn a_refused_token_request_is_retried_then_settles_invalid_with_an_alert(db: &TestDb) {
    settles_invalid(db, 400, "invalid_request").await;
}

/// A token endpoint that keeps answering 503 (each attempt retried inside the HTTP client too).
async fn an_outage_is_retried_then_settles_invalid(db: &TestDb) {
    settles_invalid(db, 503, "temporarily_unavailable").await;
}

async fn a_validation_that_recovers_within_its_retries_ends_ok(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    sim.faults().token_errors(3, 400, "invalid_request");
    let (owner, cred, _) = valid_credential(db, &sim).await;
    let receiver = alerts(db, &owner).await;
    let job = db.store.enqueue_validation(&owner, &cred).await.unwrap();
    let w = worker(&db.store, &sim, "w", None);
    validate_to_the_end(db, &w, &owner, &cred).await;
    let (state, _, attempts) = db.store.job_state(&job).await.unwrap();
    assert_eq!((state.as_str(), attempts), ("done", 4));
    let stored = db.store.get_credential_by_id(&owner, &cred).await.unwrap();
    assert_eq!(stored.status, CredentialStatus::Ok);
    assert_eq!(receiver.calls().len(), 1, "the confirmation only, no alert");
}

/// A validation whose worker dies at every attempt (each lease expires unanswered) is never left PROCESSING:
/// once its attempts are used up, the abandoned job settles the credential INVALID with an event and one
/// alert saying why.
async fn a_validation_whose_worker_dies_at_every_attempt_settles_invalid(db: &TestDb) {
    let sim = Simulator::start(Provider::Claas).await.unwrap();
    let (owner, cred, _) = valid_credential(db, &sim).await;
    let receiver = alerts(db, &owner).await;
    let job = db.store.enqueue_validation(&owner, &cred).await.unwrap();
    // Eight workers in a row claim it and die: each lease lasts a microsecond and the next claim comes after it.
    let lease = 1;
    let mut t = furrow_model::now_micros();
    for attempt in 1..=8 {
        let claimed = db
            .store
            .claim_job(
                &format!("doomed-{attempt}"),
                &[furrow_store::queue::VALIDATE_JOB],
                t,
                lease,
            )
            .await
            .unwrap()
            .expect("the validation is claimed again after each death");
        assert_eq!(
            (claimed.id.as_str(), claimed.attempts),
            (job.as_str(), attempt)
        );
        t += 2 * lease;
    }
    assert!(
        db.store
            .claim_job("survivor", &[furrow_store::queue::VALIDATE_JOB], t, lease)
            .await
            .unwrap()
            .is_none(),
        "its attempts are used up"
    );
    let w = worker(&db.store, &sim, "survivor", None);
    assert_eq!(
        db.store
            .get_credential_by_id(&owner, &cred)
            .await
            .unwrap()
            .status,
        CredentialStatus::Processing
    );
    assert_eq!(w.fail_abandoned().await.unwrap(), 1);
    let stored = db.store.get_credential_by_id(&owner, &cred).await.unwrap();
    assert_eq!(stored.status, CredentialStatus::Invalid);
    let (events, _) = db
        .store
        .list_credential_events(&owner, &cred, Page::new(0, 100).unwrap(), SortOrder::Desc)
        .await
        .unwrap();
    assert!(
        events[0].body.starts_with("status PROCESSING -> INVALID: ")
            && events[0].body.contains(furrow_store::ABANDONED)
            && events[0].body.contains("after 8 attempts"),
        "{}",
        events[0].body
    );
    drain(&w).await;
    let alerts: Vec<Value> = receiver
        .calls()
        .iter()
        .skip(1)
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "one alert: {alerts:?}");
    assert_eq!(alerts[0]["type"], "credentialsUnauthenticated");
    assert_eq!(sim.requests(), 0, "no worker reached the provider");
}

/// How a credential's secrets go.
#[derive(Debug, Clone, Copy)]
enum Deletion {
    Credential,
    User,
}

/// A slow provider paging its file list one file at a time: while the listing is under way (a request held at
/// the door), the deletion answers; after it the simulator sees no request at all, and the credential's queued
/// jobs are gone.
async fn stops_calls(db: &TestDb, how: Deletion) {
    let sim = sim_with_files(20).await;
    sim.faults().page_size(1);
    sim.faults().latency(u32::MAX, Duration::from_millis(20));
    let (owner, cred, _) = valid_credential(db, &sim).await;
    let workers = Workers::start(vec![worker(&db.store, &sim, "w-1", Some(blobs(db)))]);
    db.store.enqueue_validation(&owner, &cred).await.unwrap();
    // Validated, and the file listing under way.
    let start = Instant::now();
    loop {
        let jobs = db.jobs().await;
        if jobs_of(&jobs, "files_sync", "running") == 1 && sim.requests() >= 5 {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "the listing never started: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sim.faults().hold(true);
    until("a request held at the door", || sim.held() >= 1).await;
    // Queued behind it (the only worker is busy).
    db.store
        .enqueue_fields_sync(&owner, &cred, true)
        .await
        .unwrap();
    let user = db
        .store
        .get_credential_by_id(&owner, &cred)
        .await
        .unwrap()
        .user_id;
    let store = db.store.clone();
    let (o, u) = (owner.clone(), user.clone());
    let deletion = tokio::spawn(async move {
        match how {
            Deletion::Credential => store.delete_credential(&o, &u, Provider::Claas).await,
            Deletion::User => store.delete_user(&o, &u).await,
        }
    });
    // The request in flight is answered; the deletion then answers.
    sim.faults().hold(false);
    deletion.await.unwrap().unwrap();
    let after_delete = sim.requests();
    let jobs = db.jobs().await;
    assert_eq!(
        jobs_of(&jobs, "fields_sync", "queued"),
        0,
        "the queued sync is cancelled: {jobs:?}"
    );
    until_idle(db).await;
    workers.stop().await;
    assert_eq!(
        sim.requests(),
        after_delete,
        "provider calls after the deletion answered ({how:?})"
    );
    assert!(
        after_delete < 5 + 20,
        "the listing was really interrupted ({after_delete} requests)"
    );
    let jobs = db.jobs().await;
    assert_eq!(jobs_of(&jobs, "file_process", "done"), 0, "{jobs:?}");
    assert!(
        db.store.get_credential_by_id(&owner, &cred).await.is_err(),
        "gone"
    );
}

async fn deleting_a_credential_stops_its_provider_calls(db: &TestDb) {
    stops_calls(db, Deletion::Credential).await;
}

async fn deleting_a_user_stops_its_credentials_provider_calls(db: &TestDb) {
    stops_calls(db, Deletion::User).await;
}
