//! `strata diff` compiles the head against the base, so that clusters equal on both sides are
//! compiled once and not compared object by object. Its report, policy findings and
//! environment leaks included, must be byte for byte the one of two whole compiles.

mod common;

use std::path::Path;

use strata::cli::diff_report;
use strata::world::{FsWorld, MemWorld, World};

const FORMATS: [&str; 3] = ["human", "json", "markdown"];

/// Asserts that the narrowed report equals the whole one in every format, and returns the
/// human one.
fn same_report(base: &dyn World, head: &dyn World) -> String {
    let mut human = String::new();
    for format in FORMATS {
        let whole = diff_report(base, head, format, false).expect("the whole diff runs");
        let narrowed = diff_report(base, head, format, true).expect("the narrowed diff runs");
        assert_eq!(
            narrowed, whole,
            "the narrowed {format} report differs from the whole one"
        );
        if format == "human" {
            human = whole;
        }
    }
    human
}

/// A generated platform: two environments of three datacenters of four workload clusters, two
/// components; every rule off but the environment leak and pinned images.
fn generated() -> MemWorld {
    let mut w = MemWorld::new("generated")
        .with(
            "strata.yaml",
            "output: {repoURL: https://git.example.com/out.git}\npolicies:\n  rules:\n    no-privileged: off\n    run-as-non-root: off\n    no-privilege-escalation: off\n    no-host-namespaces: off\n    volume-types: off\n    resource-requests: off\n    network-policy: off\n    no-plaintext-secrets: off\n",
        )
        .with(
            "components/web/component.yaml",
            "name: web\nversion: \"1.0\"\nnamespace: web\nroles: [workload]\nsyncWave: 2\n",
        )
        .with(
            "components/web/values.yaml",
            "replicas: 1\nimage: nginx:1.27\nupstream: upstream.example.org\n",
        )
        .with(
            "components/web/templates/web.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {{ values.replicas }}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: {{ values.image | quote }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  domain: {{ global.domain }}\n  upstream: {{ values.upstream | quote }}\n",
        )
        .with(
            "components/cache/component.yaml",
            "name: cache\nversion: \"2.0\"\nnamespace: cache\nroles: [workload]\n",
        )
        .with("components/cache/values.yaml", "size: 64Mi\n")
        .with("components/cache/values.schema.json", r#"{"type": "object"}"#)
        .with("components/web/values.schema.json", r#"{"type": "object"}"#)
        .with(
            "components/cache/templates/cache.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cache\ndata:\n  size: {{ values.size | quote }}\n  cluster: {{ cluster.name }}\n",
        )
        .with(
            "environments/layer.yaml",
            "values:\n  global: {domain: example.com}\n",
        );
    for env in ["dev", "prod"] {
        w = w.with(
            &format!("environments/{env}/layer.yaml"),
            &format!("values:\n  global: {{domain: {env}.example.com}}\n"),
        );
        for dc in ["sto1", "sto2", "osl1"] {
            w = w.with(
                &format!("environments/{env}/{dc}/layer.yaml"),
                &format!(
                    "values:\n  web: {{replicas: 2, upstream: upstream.{dc}.{env}.example.net}}\n"
                ),
            );
            for n in 1..=4 {
                w = w.with(
                    &format!("environments/{env}/{dc}/w{n}.cluster.yaml"),
                    &format!(
                        "cluster: {{role: workload, server: https://{env}-{dc}-w{n}.example.com:6443}}\n"
                    ),
                );
            }
        }
    }
    w
}

#[test]
fn a_datacenter_change_reports_as_a_whole_diff_does() {
    let base = generated();
    let head = generated().with(
        "environments/prod/sto2/layer.yaml",
        "values:\n  web: {replicas: 3, upstream: upstream.sto2.prod.example.net}\n",
    );
    let human = same_report(&base, &head);
    assert!(human.contains("4 clusters"), "{human}");
}

#[test]
fn a_leak_into_untouched_clusters_and_an_unpinned_image_report_as_a_whole_diff_does() {
    let base = generated();
    // prod now owns a string that dev's sto1 clusters render, and no longer dev alone sets
    // at its path: the untouched dev clusters leak it. And an unpinned image in prod's osl1.
    let head = generated()
        .with(
            "environments/prod/layer.yaml",
            "values:\n  global: {domain: prod.example.com, mirror: upstream.sto1.dev.example.net}\n",
        )
        .with(
            "environments/prod/osl1/layer.yaml",
            "values:\n  web: {replicas: 2, upstream: upstream.sto1.dev.example.net, image: nginx}\n",
        );
    let human = same_report(&base, &head);
    assert!(
        human.contains("environment-leak") && human.contains("dev-sto1-w1"),
        "the leak into dev's untouched clusters is reported:\n{human}"
    );
    assert!(human.contains("image-pinned"), "{human}");
    // And the other way: the leak goes away.
    let back = same_report(&head, &base);
    assert!(back.contains("environment-leak"), "{back}");
}

#[test]
fn nothing_changed_reports_as_a_whole_diff_does() {
    let human = same_report(&generated(), &generated());
    assert!(!human.is_empty());
}

/// The example platform, copied into `dir` with `changes` written over it.
fn example_with(dir: &Path, changes: &[(&str, &str)]) -> FsWorld {
    let root = common::repo_root();
    for top in ["strata.yaml", "components", "environments"] {
        for entry in walkdir::WalkDir::new(root.join(top)) {
            let entry = entry.expect("walk");
            let rel = entry.path().strip_prefix(&root).expect("under the root");
            let to = dir.join(rel);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&to).expect("mkdir");
            } else if entry.file_type().is_file() {
                std::fs::copy(entry.path(), &to).expect("copy");
            }
        }
    }
    for (path, text) in changes {
        std::fs::write(dir.join(path), text).expect("write");
    }
    FsWorld::open(dir).expect("the copy opens")
}

#[test]
fn a_change_to_the_example_reports_as_a_whole_diff_does() {
    common::helm_in_process();
    let base = FsWorld::open(&common::repo_root()).expect("the example opens");
    let read = |path: &str| {
        std::fs::read_to_string(common::repo_root().join(path)).expect("the example's layer")
    };
    let dir = tempfile::tempdir().expect("tmp");
    // A datacenter layer change in prod/sto2; and prod/osl2 takes non-prod/sto2's bucket
    // prefix, also as its region, which makes it prod's: the untouched non-prod/sto2 clusters
    // leak it. prod/osl2's images come from a registry prod does not allow.
    let osl2 = read("environments/prod/osl2/layer.yaml").replace(
        "      region: osl2\n      bucketPrefix: prod-osl2\n",
        "      region: non-prod-sto2\n      bucketPrefix: non-prod-sto2\n    registry: docker.io/platform\n",
    );
    let sto2 = read("environments/prod/sto2/layer.yaml")
        .replace("rebootDays: [tu, th]", "rebootDays: [tu]");
    let head = example_with(
        dir.path(),
        &[
            ("environments/prod/sto2/layer.yaml", &sto2),
            ("environments/prod/osl2/layer.yaml", &osl2),
        ],
    );
    let human = same_report(&base, &head);
    assert!(human.contains("kured"), "{human}");
    assert!(
        human.contains("(cluster non-prod-sto2-workload)") && human.contains("environment-leak"),
        "the leak into the untouched non-prod/sto2 clusters is reported:\n{human}"
    );
}
