//! The dependency invariants of `docs/ARCHITECTURE.md`, checked over `cargo metadata`.
//!
//! The resolve graph of `cargo metadata` unifies features across the workspace, dev-dependencies' included: a
//! feature that only a test turns on counts here as if it were on in the library. The check can therefore be
//! stricter than a build, never looser.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// The library crates of the first invariant: no network IO, nothing of HTTP, SQL or tokio.
const PURE: [&str; 9] = [
    "furrow-credentials",
    "furrow-model",
    "furrow-isoxml",
    "furrow-shapefile",
    "furrow-machine-data",
    "furrow-geoparquet",
    "furrow-allocate",
    "furrow-pipeline",
    "furrow-render",
];

/// What a pure crate may not depend on, directly or transitively.
const RUNTIME: [&str; 5] = ["tokio", "sqlx", "reqwest", "hyper", "axum"];

/// The provider adapters (`furrow-provider-*`). `furrow-provider-sim` is not one: it is the simulators, which
/// adapters use in their tests (and `furrow-provider`'s `testing` feature in its conformance suite).
const ADAPTERS: [&str; 14] = [
    "furrow-provider-ag-leader",
    "furrow-provider-agvance",
    "furrow-provider-claas",
    "furrow-provider-climate-field-view",
    "furrow-provider-cnhi",
    "furrow-provider-john-deere",
    "furrow-provider-lindsay",
    "furrow-provider-panorama",
    "furrow-provider-raven",
    "furrow-provider-raven-slingshot",
    "furrow-provider-sentera",
    "furrow-provider-stara",
    "furrow-provider-trimble",
    "furrow-provider-valley",
];
const SIMULATORS: &str = "furrow-provider-sim";

/// The normal (not dev, not build) dependency graph of a resolve, by package name.
#[derive(Debug, Default)]
struct Graph {
    workspace: BTreeSet<String>,
    deps: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn from_metadata(metadata: &Value) -> Graph {
        let names: BTreeMap<&str, &str> = metadata["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let workspace = metadata["workspace_members"]
            .as_array()
            .expect("workspace_members")
            .iter()
            .map(|id| names[id.as_str().unwrap()].to_owned())
            .collect();
        let mut deps = BTreeMap::new();
        for node in metadata["resolve"]["nodes"].as_array().expect("resolve") {
            let normal = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| names[d["pkg"].as_str().unwrap()].to_owned())
                .collect::<BTreeSet<_>>();
            deps.entry(names[node["id"].as_str().unwrap()].to_owned())
                .or_insert_with(BTreeSet::new)
                .extend(normal);
        }
        Graph { workspace, deps }
    }

    /// Every package `name` needs to build, each with the path that brings it in.
    fn closure(&self, name: &str) -> BTreeMap<String, Vec<String>> {
        let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut stack = vec![vec![name.to_owned()]];
        while let Some(path) = stack.pop() {
            let last = path.last().unwrap();
            for dep in self.deps.get(last).into_iter().flatten() {
                if !paths.contains_key(dep) {
                    let mut longer = path.clone();
                    longer.push(dep.clone());
                    paths.insert(dep.clone(), longer.clone());
                    stack.push(longer);
                }
            }
        }
        paths
    }

    /// The broken rules, one line each, and the crates each rule looked at.
    fn violations(&self) -> (Vec<String>, Vec<&'static str>, Vec<&'static str>) {
        let mut found = Vec::new();
        let mut pure_checked = Vec::new();
        for name in PURE {
            if !self.workspace.contains(name) {
                continue;
            }
            pure_checked.push(name);
            for (dep, path) in self.closure(name) {
                if RUNTIME.contains(&dep.as_str()) {
                    found.push(format!("{name} depends on {dep}: {}", path.join(" -> ")));
                }
            }
        }
        let mut adapters_checked = Vec::new();
        for name in ADAPTERS {
            if !self.workspace.contains(name) {
                continue;
            }
            adapters_checked.push(name);
            for (dep, path) in self.closure(name) {
                if dep != name && ADAPTERS.contains(&dep.as_str()) {
                    found.push(format!(
                        "adapter {name} depends on adapter {dep}: {}",
                        path.join(" -> ")
                    ));
                }
            }
        }
        (found, pure_checked, adapters_checked)
    }

    /// Workspace crates named like adapters that `ADAPTERS` does not list.
    fn unlisted_adapters(&self) -> Vec<&str> {
        self.workspace
            .iter()
            .map(String::as_str)
            .filter(|n| n.starts_with("furrow-provider-") && *n != SIMULATORS)
            .filter(|n| !ADAPTERS.contains(n))
            .collect()
    }
}

fn workspace_metadata() -> Value {
    // `--offline` keeps the test off the network; filtering to the host platform keeps cargo from needing the
    // manifests of other platforms' crates, which a build for this machine never downloaded.
    let cargo = env!("CARGO");
    let version = Command::new(cargo).arg("-vV").output().unwrap();
    let version = String::from_utf8(version.stdout).unwrap();
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("cargo -vV names the host");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            host,
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn pure_crates_and_adapters_keep_their_dependency_rules() {
    let graph = Graph::from_metadata(&workspace_metadata());
    let (violations, pure, adapters) = graph.violations();
    assert_eq!(
        pure, PURE,
        "every pure crate is in the workspace and checked"
    );
    assert_eq!(
        adapters, ADAPTERS,
        "every adapter is in the workspace and checked"
    );
    assert_eq!(
        graph.unlisted_adapters(),
        Vec::<&str>::new(),
        "a new adapter crate belongs in ADAPTERS"
    );
    for name in ADAPTERS {
        assert!(
            graph.deps[name].contains("furrow-provider"),
            "{name} is built on furrow-provider"
        );
    }
    // The graph is real: the pure crates need dozens of crates between them, and the server needs the runtime.
    assert!(graph.closure("furrow-pipeline").len() > 50);
    assert!(graph.closure("furrow-server").contains_key("tokio"));
    assert_eq!(violations, Vec::<String>::new());
}

#[test]
fn the_check_reports_a_pure_crate_on_tokio_and_an_adapter_on_another() {
    let node = |id: &str, deps: &[(&str, Option<&str>)]| {
        serde_json::json!({
            "id": id,
            "deps": deps.iter().map(|(pkg, kind)| serde_json::json!({
                "pkg": pkg,
                "dep_kinds": [{ "kind": kind, "target": null }],
            })).collect::<Vec<_>>(),
        })
    };
    let mut ids: Vec<&str> = PURE.iter().chain(ADAPTERS.iter()).copied().collect();
    ids.extend(["furrow-provider", "tokio", "mio", "proptest"]);
    let mut nodes = vec![
        // furrow-render -> mio is fine, mio -> tokio is not: a transitive path.
        node("furrow-render", &[("mio", None)]),
        node("mio", &[("tokio", None)]),
        // A dev-dependency on tokio is allowed.
        node(
            "furrow-model",
            &[("tokio", Some("dev")), ("proptest", None)],
        ),
        node(
            "furrow-provider-lindsay",
            &[("furrow-provider", None), ("furrow-provider-valley", None)],
        ),
    ];
    for id in &ids {
        if ![
            "furrow-render",
            "mio",
            "furrow-model",
            "furrow-provider-lindsay",
        ]
        .contains(id)
        {
            let deps: &[(&str, Option<&str>)] = if id.starts_with("furrow-provider-") {
                &[("furrow-provider", None)]
            } else {
                &[]
            };
            nodes.push(node(id, deps));
        }
    }
    let metadata = serde_json::json!({
        "packages": ids.iter().map(|id| serde_json::json!({ "id": id, "name": id })).collect::<Vec<_>>(),
        "workspace_members": ids.iter().filter(|id| id.starts_with("furrow-")).collect::<Vec<_>>(),
        "resolve": { "nodes": nodes },
    });
    let (violations, pure, adapters) = Graph::from_metadata(&metadata).violations();
    assert_eq!(pure, PURE);
    assert_eq!(adapters, ADAPTERS);
    assert_eq!(
        violations,
        [
            "furrow-render depends on tokio: furrow-render -> mio -> tokio",
            "adapter furrow-provider-lindsay depends on adapter furrow-provider-valley: \
             furrow-provider-lindsay -> furrow-provider-valley",
        ]
    );
}
