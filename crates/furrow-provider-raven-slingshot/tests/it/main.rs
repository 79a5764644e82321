//! The Raven Slingshot adapter against its simulator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{
    HttpConfig, MemorySink, Provider, ProviderContext, ProviderExt, RateLimit, conformance,
};
use furrow_provider_raven_slingshot::RavenSlingshotProvider;
use furrow_provider_sim::Simulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let sim = Simulator::start(ProviderKind::RavenSlingshot)
        .await
        .unwrap();
    let report = conformance::run(&sim, |ctx| {
        Ok(Arc::new(RavenSlingshotProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert!(report.passed.len() >= 14, "{report:#?}");
    let allowed = [
        "refresh_rotation",
        "expired_token_mid_sync",
        "organization_connection",
        "fields_with_boundaries",
    ];
    assert!(
        report.skipped.iter().all(|(c, _)| allowed.contains(c)),
        "{report:#?}"
    );
}

#[tokio::test]
async fn waits_while_the_conversion_needs_more_time() {
    let sim = Simulator::start(ProviderKind::RavenSlingshot)
        .await
        .unwrap();
    sim.faults().rate_limit(None);
    let sink = MemorySink::new();
    let http = HttpConfig {
        rate_limit: Some(RateLimit {
            requests: 1000,
            per: Duration::from_secs(1),
        }),
        ..HttpConfig::for_tests()
    };
    let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
        .with_base_url(sim.base_url())
        .with_http(http);
    let p = RavenSlingshotProvider::new(ctx).unwrap();
    let files = p.all_machine_files("default", None).await.unwrap();
    sim.faults().async_polls(2);
    let start = Instant::now();
    let bytes = p.download_bytes(&files[0]).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "waited {:?}",
        start.elapsed()
    );
    assert_eq!(
        bytes.len(),
        sim.seed().file(&files[0].id).unwrap().bytes.len()
    );
}

#[tokio::test]
async fn an_old_timestamp_or_wrong_secret_is_unauthenticated() {
    let sim = Simulator::start(ProviderKind::RavenSlingshot)
        .await
        .unwrap();
    let sink = MemorySink::new();
    let ctx = |cred| {
        ProviderContext::new(cred, sink.clone(), sink.clone())
            .with_base_url(sim.base_url())
            .with_http(HttpConfig::for_tests())
    };
    sim.advance_clock(Duration::from_secs(600));
    let e = RavenSlingshotProvider::new(ctx(sim.credential()))
        .unwrap()
        .authenticate()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), furrow_provider::ErrorKind::Unauthenticated);
    let mut cred = sim.credential();
    cred.insert("sharedSecret".into(), "AAAAAAAAAAAAAAAAAAAAAA==".into());
    let e = RavenSlingshotProvider::new(ctx(cred))
        .unwrap()
        .authenticate()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), furrow_provider::ErrorKind::Unauthenticated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_credentials_refresh_and_list_concurrently() {
    let sim = Simulator::start(ProviderKind::RavenSlingshot)
        .await
        .unwrap();
    let report = conformance::run_many(&sim, 1000, |ctx| {
        Ok(Arc::new(RavenSlingshotProvider::new(ctx)?) as Arc<dyn Provider>)
    })
    .await;
    assert_eq!(report.credentials, 1000);
    assert!(report.events >= 1000, "{report:?}");
}

#[tokio::test]
async fn xml_by_default_and_json_on_request_list_the_same_files() {
    use furrow_provider_raven_slingshot::SlingshotConfig;
    let sim = Simulator::start(ProviderKind::RavenSlingshot)
        .await
        .unwrap();
    sim.faults().rate_limit(None);
    sim.faults().page_size(3);
    let http = HttpConfig {
        rate_limit: Some(RateLimit {
            requests: 1000,
            per: Duration::from_secs(1),
        }),
        ..HttpConfig::for_tests()
    };
    let build = |json: bool| {
        let sink = MemorySink::new();
        let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
            .with_base_url(sim.base_url())
            .with_http(http.clone());
        let mut config = SlingshotConfig::from_context(&ctx);
        config.json = json;
        (
            RavenSlingshotProvider::with_config(ctx, config).unwrap(),
            sink,
        )
    };
    // Enough files for several pages whatever the seed holds.
    sim.seed().add_generated_files("4201", 6);
    let (xml, xml_sink) = build(false);
    let (json, json_sink) = build(true);
    let a = xml.all_machine_files("default", None).await.unwrap();
    let b = json.all_machine_files("default", None).await.unwrap();
    assert_eq!(a.len(), sim.visible_files().len());
    assert!(a.len() > 3, "more than one page");
    assert_eq!(a, b);
    let content_types = |sink: &MemorySink| {
        sink.events()
            .iter()
            .filter(|e| e.url.as_deref().is_some_and(|u| u.contains("/JobData?")))
            .map(|e| {
                e.headers
                    .to_ascii_lowercase()
                    .contains("content-type: application/xml")
            })
            .collect::<Vec<_>>()
    };
    assert!(content_types(&xml_sink).iter().all(|x| *x));
    assert!(content_types(&json_sink).iter().all(|x| !*x));
    // The conversion status comes back in XML too, and is waited through.
    sim.faults().async_polls(1);
    let bytes = xml.download_bytes(&a[0]).await.unwrap();
    assert_eq!(bytes, sim.seed().file(&a[0].id).unwrap().bytes.to_vec());
}

/// The entry names of a zip.
fn entries(bytes: &[u8]) -> Vec<String> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = (0..z.len())
        .map(|i| z.by_index(i).unwrap().name().to_owned())
        .collect();
    names.sort();
    names
}

/// Every job is fetched as its shapefile export (`format=shp`), the form furrow converts; the other forms the
/// API offers are there for whoever configures them: `bin` (the display's original job data) and `fmis`.
#[tokio::test]
async fn fetches_each_job_as_its_shapefile_export() {
    use furrow_provider_raven_slingshot::SlingshotConfig;
    let sim = Simulator::start(ProviderKind::RavenSlingshot)
        .await
        .unwrap();
    sim.faults().rate_limit(None);
    let http = HttpConfig {
        rate_limit: Some(RateLimit {
            requests: 1000,
            per: Duration::from_secs(1),
        }),
        ..HttpConfig::for_tests()
    };
    let build = |format: Option<&str>| {
        let sink = MemorySink::new();
        let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
            .with_base_url(sim.base_url())
            .with_http(http.clone());
        let mut config = SlingshotConfig::from_context(&ctx);
        assert_eq!(config.download_format, "shp", "the default");
        if let Some(f) = format {
            config.download_format = f.to_owned();
        }
        (
            RavenSlingshotProvider::with_config(ctx, config).unwrap(),
            sink,
        )
    };
    let (p, sink) = build(None);
    let files = p.all_machine_files("default", None).await.unwrap();
    let mut names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Creek Bottom - Fungicide - 2024-07-20",
            "North 40 - Herbicide - 2024-05-14",
            "Split Quarter - Liquid N - 2024-06-05",
        ]
    );
    for f in &files {
        let bytes = p.download_bytes(f).await.unwrap();
        assert_eq!(bytes, sim.seed().file(&f.id).unwrap().bytes.to_vec());
        assert_eq!(
            entries(&bytes),
            ["dbf", "prj", "shp", "shx"].map(|ext| format!("{}.{ext}", f.name))
        );
    }
    let downloads: Vec<String> = sink
        .events()
        .iter()
        .filter_map(|e| e.url.clone())
        .filter(|u| u.contains("/JobData/"))
        .collect();
    assert_eq!(downloads.len(), 3, "{downloads:?}");
    assert!(
        downloads.iter().all(|u| u.ends_with("?format=shp")),
        "{downloads:?}"
    );

    let f = &files[0];
    let (bin, _) = build(Some("bin"));
    assert_eq!(
        entries(&bin.download_bytes(f).await.unwrap()),
        [format!("{}.jdp", f.name)]
    );
    let (fmis, _) = build(Some("fmis"));
    assert_eq!(
        entries(&fmis.download_bytes(f).await.unwrap()),
        [format!("{}.tab", f.name), format!("{}.xml", f.name)]
    );
}
