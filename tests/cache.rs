//! The render cache skips unchanged clusters, and never gives stale output: a change to a
//! template, a values file, a schema or strata itself is rendered.

mod common;

use common::{Platform, stderr, stdout};

fn render(p: &Platform) -> serde_json::Value {
    let o = p.strata(&["render", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

/// The output directory equals a render that uses no cache.
fn assert_fresh(p: &Platform) {
    let o = p.strata(&["check", "--against", "rendered"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_second_render_with_no_change_writes_nothing() {
    let p = Platform::minimal();
    let first = render(&p);
    assert_eq!(first["cached"], 0);
    let second = render(&p);
    assert_eq!(second["cached"], 2, "{second}");
    assert_eq!(second["written"], 0, "{second}");
    assert_eq!(second["files"], first["files"]);
    assert_fresh(&p);
}

#[test]
fn a_template_change_is_rendered() {
    let p = Platform::minimal();
    render(&p);
    p.write(
        "components/web/templates/deployment.yaml",
        &common::WEB_TEMPLATE.replace(
            "name: web\nspec:",
            "name: web\n  annotations: {team: platform}\nspec:",
        ),
    );
    let r = render(&p);
    assert_eq!(r["cached"], 0, "{r}");
    assert!(
        std::fs::read_to_string(
            p.path()
                .join("rendered/prod/sto2/workload/web/deployment-web.yaml")
        )
        .expect("read")
        .contains("team: platform")
    );
    assert_fresh(&p);
}

#[test]
fn a_values_change_re_renders_only_the_clusters_it_reaches() {
    let p = Platform::minimal();
    render(&p);
    p.write("environments/prod/sto2/workload.cluster.yaml", "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 4}\n");
    let r = render(&p);
    assert_eq!(r["cached"], 1, "dev is untouched: {r}");
    assert_eq!(r["written"], 1, "{r}");
    assert!(
        std::fs::read_to_string(
            p.path()
                .join("rendered/prod/sto2/workload/web/deployment-web.yaml")
        )
        .expect("read")
        .contains("replicas: 4")
    );
    assert_fresh(&p);
}

#[test]
fn a_schema_change_is_checked_again() {
    let p = Platform::minimal();
    render(&p);
    p.write(
        "components/web/values.schema.json",
        &common::WEB_SCHEMA.replace("\"minimum\": 1", "\"minimum\": 1, \"maximum\": 2"),
    );
    let o = p.strata(&["render"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the cache must not hide the new rule: {}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("`web.replicas`: 3 is greater than the maximum of 2"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn another_strata_does_not_trust_the_cache() {
    let p = Platform::minimal();
    render(&p);
    let other = p.path().join("strata-copy");
    std::fs::copy(assert_cmd::cargo::cargo_bin("strata"), &other).expect("copy");
    let o = std::process::Command::new(&other)
        .current_dir(p.path())
        .args(["render", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        r["cached"], 0,
        "a different executable renders everything: {r}"
    );
    assert_fresh(&p);
}

#[test]
fn a_deleted_output_file_is_written_again() {
    let p = Platform::minimal();
    render(&p);
    std::fs::remove_file(
        p.path()
            .join("rendered/dev/sto2/workload/web/deployment-web.yaml"),
    )
    .expect("rm");
    let r = render(&p);
    assert_eq!(r["written"], 1, "{r}");
    assert_fresh(&p);
}

#[test]
fn a_removed_cluster_takes_its_files_along() {
    let p = Platform::minimal();
    render(&p);
    p.remove("environments/dev/sto2/workload.cluster.yaml");
    let r = render(&p);
    assert!(r["removed"].as_u64().expect("n") >= 3, "{r}");
    assert!(!p.path().join("rendered/dev/sto2").exists());
    assert_fresh(&p);
}

#[test]
fn a_new_leak_in_an_unchanged_cluster_is_still_found() {
    let p = Platform::minimal();
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  global: {domain: shop.prod.example.com}\n  web:\n    replicas: 2\n",
    );
    p.write(
        "environments/dev/layer.yaml",
        "values:\n  global: {domain: shop.dev.example.com}\n",
    );
    p.write(
        "components/web/templates/status.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-status\ndata:\n  url: https://status.example.org/web\n",
    );
    render(&p);
    // prod now claims a string that dev's unchanged output already contains.
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  global: {domain: status.example.org}\n  web:\n    replicas: 2\n",
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("error[environment-leak]: ConfigMap web/web-status"),
        "{err}"
    );
    assert!(
        err.contains("in dev/sto2/workload/web/configmap-web-status.yaml"),
        "{err}"
    );
}
