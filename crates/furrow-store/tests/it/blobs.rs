//! The blob store, on a local folder and, with `FURROW_TEST_S3_ENDPOINT` set at build time (`cfg(furrow_s3)`,
//! `.ci/run` starts moto's S3 server), on a real S3-compatible server: the same behaviour on both.

use furrow_store::{BlobError, Blobs};
use futures_util::StreamExt;

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    let (blobs, _dirs) = super::local().await;
                    super::$name(&blobs).await;
                }
            )*
        }
        #[cfg(furrow_s3)]
        mod s3 {
            $(
                #[tokio::test]
                async fn $name() {
                    let (blobs, _dirs) = super::s3().await;
                    super::$name(&blobs).await;
                }
            )*
        }
    };
}

on_both_stores!(
    bytes_round_trip_and_missing_keys_answer_not_found,
    streams_go_up_in_parts_and_appear_only_whole,
    local_copies_and_files,
    prefixes_list_and_delete_and_sets_are_replaced,
    keys_that_are_not_plain_paths_are_refused,
    the_sweeper_removes_only_old_leftovers,
    blobs_whose_rows_are_gone_are_swept_once_old_enough,
);

async fn local() -> (Blobs, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::local(dir.path().join("blobs"), dir.path().join("scratch")).unwrap();
    (blobs, dir)
}

/// A fresh bucket on the S3 server at `FURROW_TEST_S3_ENDPOINT`, opened the way the server opens it.
#[cfg(furrow_s3)]
async fn s3() -> (Blobs, tempfile::TempDir) {
    let endpoint = env!("FURROW_TEST_S3_ENDPOINT");
    let bucket = format!("furrow-test-{}", uuid::Uuid::new_v4().simple());
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "creating bucket {bucket}: {r:?}");
    let dir = tempfile::tempdir().unwrap();
    let options = [
        ("aws_endpoint", endpoint),
        ("aws_allow_http", "true"),
        ("aws_access_key_id", "testing"),
        ("aws_secret_access_key", "testing"),
        ("aws_region", "us-east-1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let blobs = Blobs::open(&format!("s3://{bucket}/furrow"), options, dir.path()).unwrap();
    assert!(!blobs.is_local());
    (blobs, dir)
}

async fn bytes_round_trip_and_missing_keys_answer_not_found(blobs: &Blobs) {
    let key = "owner/user/files/f1/standard.parquet";
    assert_eq!(blobs.size(key).await.unwrap(), None);
    assert!(matches!(
        blobs.get_bytes(key).await,
        Err(BlobError::NotFound(_))
    ));
    blobs
        .put_bytes(key, bytes::Bytes::from_static(b"PAR1 data PAR1"))
        .await
        .unwrap();
    assert_eq!(blobs.size(key).await.unwrap(), Some(14));
    assert_eq!(&blobs.get_bytes(key).await.unwrap()[..], b"PAR1 data PAR1");
    // Replaced whole.
    blobs
        .put_bytes(key, bytes::Bytes::from_static(b"v2"))
        .await
        .unwrap();
    assert_eq!(&blobs.get_bytes(key).await.unwrap()[..], b"v2");
    blobs.delete(key).await.unwrap();
    assert_eq!(blobs.size(key).await.unwrap(), None);
    // Deleting what is not there is fine.
    blobs.delete(key).await.unwrap();
}

/// 20 MiB in uneven chunks: three parts of a multipart upload.
fn chunks() -> Vec<Vec<u8>> {
    (0..20u32)
        .map(|i| {
            let n = 1024 * 1024 + (i as usize % 3) * 4099;
            (0..n).map(|j| (j as u32 ^ i) as u8).collect()
        })
        .collect()
}

async fn streams_go_up_in_parts_and_appear_only_whole(blobs: &Blobs) {
    let key = "owner/user/originals/o1/original";
    let parts = chunks();
    let total: usize = parts.iter().map(Vec::len).sum();
    let stream = futures_util::stream::iter(
        parts
            .iter()
            .cloned()
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))),
    )
    .boxed();
    assert_eq!(blobs.put_stream(key, stream).await.unwrap(), total as u64);
    let mut got = Vec::with_capacity(total);
    let mut s = blobs.get_stream(key).await.unwrap();
    while let Some(c) = s.next().await {
        got.extend_from_slice(&c.unwrap());
    }
    assert_eq!(got.len(), total);
    assert!(got == parts.concat(), "the bytes come back as they went up");

    // A stream that fails half way (a client gone) leaves nothing under its key.
    let broken = "owner/user/originals/o2/original";
    let failing = futures_util::stream::iter(
        parts
            .iter()
            .take(10)
            .cloned()
            .map(|c| Ok(bytes::Bytes::from(c)))
            .chain(std::iter::once(Err(std::io::Error::other("client gone")))),
    )
    .boxed();
    let e = blobs.put_stream(broken, failing).await.unwrap_err();
    assert!(
        matches!(&e, BlobError::Source(m) if m.contains("client gone")),
        "{e}"
    );
    assert_eq!(blobs.size(broken).await.unwrap(), None);
    assert_eq!(
        blobs.list("owner/user/originals/").await.unwrap(),
        [key.to_owned()]
    );
}

async fn local_copies_and_files(blobs: &Blobs) {
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("standard.parquet");
    let body: Vec<u8> = (0..(9 * 1024 * 1024))
        .map(|i: u32| (i % 251) as u8)
        .collect();
    std::fs::write(&from, &body).unwrap();
    let key = "owner/user/files/f2/standard.parquet";
    assert_eq!(blobs.put_file(key, &from).await.unwrap(), body.len() as u64);
    let copy = blobs.local_copy(key).await.unwrap();
    assert!(std::fs::read(copy.path()).unwrap() == body);
    let path = copy.path().to_path_buf();
    drop(copy);
    // A scratch download goes with its copy; a local store's blob stays where it is.
    assert_eq!(path.exists(), blobs.is_local());
    assert!(matches!(
        blobs
            .local_copy("owner/user/files/none/standard.parquet")
            .await,
        Err(BlobError::NotFound(_))
    ));
    // A scratch folder for one piece of work goes when dropped.
    let scratch = blobs.scratch().unwrap();
    std::fs::write(scratch.path().join("x"), b"x").unwrap();
    let p = scratch.path().to_path_buf();
    drop(scratch);
    assert!(!p.exists());
}

async fn prefixes_list_and_delete_and_sets_are_replaced(blobs: &Blobs) {
    for key in [
        "o/u1/files/a/standard.parquet",
        "o/u1/files/b/standard.parquet",
        "o/u1/originals/c/original",
        "o/u2/files/d/standard.parquet",
    ] {
        blobs
            .put_bytes(key, bytes::Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    let mut u1 = blobs.list("o/u1/").await.unwrap();
    u1.sort();
    assert_eq!(u1.len(), 3);
    assert_eq!(blobs.delete_prefix("o/u1/").await.unwrap(), 3);
    assert!(blobs.list("o/u1/").await.unwrap().is_empty());
    assert_eq!(blobs.list("o/u2/").await.unwrap().len(), 1);

    // A set replaced: what the new set does not name goes, the manifest is written.
    let base = "o/u2/operations/op/";
    let set = |names: &[&str]| -> Vec<(String, Vec<u8>)> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), n.as_bytes().to_vec()))
            .collect()
    };
    blobs
        .replace_set(
            base,
            set(&["imagesV2/a.png", "imagesV2/b.png", "images.json"]),
            &["imagesV2"],
        )
        .await
        .unwrap();
    blobs
        .replace_set(base, set(&["imagesV2/b.png", "images.json"]), &["imagesV2"])
        .await
        .unwrap();
    let mut left = blobs.list(base).await.unwrap();
    left.sort();
    assert_eq!(
        left,
        [
            "o/u2/operations/op/images.json",
            "o/u2/operations/op/imagesV2/b.png"
        ]
    );
}

async fn keys_that_are_not_plain_paths_are_refused(blobs: &Blobs) {
    for key in [
        "",
        "../etc/passwd",
        "o//u",
        "o/u/.hidden",
        "o/u/a b",
        "/abs/key",
    ] {
        assert!(
            matches!(
                blobs.put_bytes(key, bytes::Bytes::from_static(b"x")).await,
                Err(BlobError::BadKey(_))
            ),
            "{key:?}"
        );
    }
}

/// Back-dates a file or folder.
fn age(path: &std::path::Path, hours: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(hours * 3600);
    std::fs::File::open(path).unwrap().set_modified(t).unwrap();
}

/// What a killed process left in the scratch folder (and, on a local store, half-written staging files) goes
/// once it is older than the threshold; work in progress in this process, fresh leftovers and blobs stay.
async fn the_sweeper_removes_only_old_leftovers(blobs: &Blobs) {
    blobs
        .put_bytes(
            "o/u/originals/1/original",
            bytes::Bytes::from_static(b"kept"),
        )
        .await
        .unwrap();
    let root = blobs.scratch_root().to_path_buf();
    std::fs::create_dir_all(root.join("work-dead/unzipped")).unwrap();
    std::fs::write(
        root.join("work-dead/unzipped/TASKDATA.XML"),
        b"<ISO11783_TaskData/>",
    )
    .unwrap();
    std::fs::write(root.join("copy-dead"), b"partial download").unwrap();
    std::fs::write(root.join("copy-fresh"), b"another process, just now").unwrap();
    let busy = blobs.scratch().unwrap();
    std::fs::write(busy.path().join("part"), b"in progress").unwrap();
    for p in ["work-dead", "copy-dead"] {
        age(&root.join(p), 3);
    }
    age(busy.path(), 3);
    // object_store's staging file of an upload cut short, beside a complete blob (local folders only)
    let staging = blobs.is_local().then(|| {
        let dir = std::path::PathBuf::from(blobs.label()).join("o/u/originals/2");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("original#7");
        std::fs::write(&p, b"half").unwrap();
        age(&p, 3);
        let fresh = dir.join("original#8");
        std::fs::write(&fresh, b"still uploading").unwrap();
        (p, fresh)
    });
    let swept = blobs.sweep(std::time::Duration::from_secs(3600));
    assert_eq!(swept.scratch, 2, "{swept:?}");
    assert_eq!(swept.staging, usize::from(blobs.is_local()), "{swept:?}");
    assert!(!root.join("work-dead").exists() && !root.join("copy-dead").exists());
    assert!(root.join("copy-fresh").exists(), "fresh leftovers wait");
    assert!(
        busy.path().join("part").exists(),
        "work in progress is never swept"
    );
    if let Some((old, fresh)) = staging {
        assert!(!old.exists());
        assert!(fresh.exists());
    }
    assert_eq!(
        blobs
            .get_bytes("o/u/originals/1/original")
            .await
            .unwrap()
            .as_ref(),
        b"kept"
    );
    // Nothing more to do; once the work is done its folder goes with it.
    assert_eq!(
        blobs.sweep(std::time::Duration::from_secs(3600)),
        Default::default()
    );
    let busy_path = busy.path().to_path_buf();
    drop(busy);
    assert!(!busy_path.exists());
}

/// Blobs whose original or file row is gone (a crash between deleting rows and blobs, an upload stored but
/// never registered) are removed once older than the threshold; blobs with rows, fresh blobs and keys of
/// another layout stay.
async fn blobs_whose_rows_are_gone_are_swept_once_old_enough(blobs: &Blobs) {
    let db = furrow_store::testing::TestDb::sqlite().await;
    let store = &db.store;
    let owner = store
        .create_owner("orphans@example.com", "password")
        .await
        .unwrap()
        .id;
    let user = store
        .create_user(&owner, &furrow_model::UserInput::default())
        .await
        .unwrap()
        .id;
    let upload_key = format!("{owner}/uploads/kept-original/original");
    store
        .register_upload(
            &owner,
            &user,
            "Leaf",
            "AFE.zip",
            4,
            "batch-1",
            "kept-original",
            &upload_key,
        )
        .await
        .unwrap();
    let (file, _) = store
        .insert_file_if_absent(
            &owner,
            &furrow_store::NewFile {
                user_id: user.clone(),
                provider: "Leaf".into(),
                provider_file_id: "p1".into(),
                credential_id: None,
                organization_id: None,
                origin: "uploaded".into(),
                file_name: "AFE.zip".into(),
                file_format: Some("ISO11783".into()),
                size_bytes: Some(4),
                batch_id: None,
                original_id: None,
                dataset_key: None,
                original_key: None,
            },
        )
        .await
        .unwrap();
    let kept = [
        upload_key.clone(),
        furrow_store::blobs::file_key(&owner, &user, &file, "standard.parquet"),
        furrow_store::blobs::file_key(&owner, &user, &file, "images/yield.png"),
        format!("{owner}/{user}/fields/f1/boundary.json"),
    ];
    let orphans = [
        format!("{owner}/uploads/never-registered/original"),
        furrow_store::blobs::original_key(&owner, &user, "deleted-original"),
        furrow_store::blobs::file_key(&owner, &user, "deleted-file", "standard.parquet"),
        furrow_store::blobs::operation_key(&owner, &user, "deleted-operation", "images.json"),
        furrow_store::blobs::file_key("another-owner", "u", &file, "standard.parquet"),
    ];
    for key in kept.iter().chain(&orphans) {
        blobs
            .put_bytes(key, bytes::Bytes::from_static(b"data"))
            .await
            .unwrap();
    }
    // Younger than the threshold: nothing is touched (their rows may not be committed yet).
    let swept = blobs
        .sweep_orphans(store, std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(swept, furrow_store::OrphanSweep::default());
    // Old enough (any age): the five orphans go, the rest stays.
    let swept = blobs
        .sweep_orphans(store, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        swept,
        furrow_store::OrphanSweep {
            checked: 9,
            removed: 5,
            unknown: 1,
        }
    );
    let mut left = blobs.list("").await.unwrap();
    left.sort();
    let mut want = kept.to_vec();
    want.sort();
    assert_eq!(left, want);
    db.cleanup().await;
}
