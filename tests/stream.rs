//! `strata render` writes each cluster's files as soon as the cluster is checked, and lets them
//! go, so that its memory does not grow with the fleet. What it writes is byte for byte what a
//! compile that keeps the whole tree gives (`strata::compile`, which `check --against` and
//! `diff` use), with the same warnings; and when the compile fails after some clusters were
//! written, the output directory is put back as it was.

mod common;

use std::path::Path;

use common::{Platform, repo_root, stderr, stdout};
use strata::output::read_tree;
use strata::world::FsWorld;
use strata::{Selection, compile};

/// The whole tree and the warnings, as a compile that keeps everything in memory makes them.
fn in_memory(root: &Path) -> (strata::emit::OutputTree, String) {
    let world = FsWorld::open(root).expect("the platform opens");
    match compile(&world, &Selection::default()) {
        Ok(c) => {
            let warnings = if c.warnings.is_empty() {
                String::new()
            } else {
                strata::diag::render(&c.warnings, &c.source.texts)
            };
            (c.tree, warnings)
        }
        Err(f) => panic!(
            "the platform does not compile:\n{}",
            strata::diag::render(&f.diagnostics, &f.texts)
        ),
    }
}

/// Renders `root` into `out` with the binary; its stderr.
fn render(root: &Path, out: &Path) -> String {
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("binary")
        .env("PATH", common::path_with_helm())
        .args(["render", "--root"])
        .arg(root)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run strata");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn the_streamed_render_of_the_example_is_golden_byte_for_byte() {
    let out = tempfile::tempdir().expect("tmp");
    render(&repo_root(), &out.path().join("out"));
    let streamed = read_tree(&out.path().join("out")).expect("read");
    let golden = read_tree(&repo_root().join("golden")).expect("golden/ is readable");
    assert_eq!(
        streamed.files.keys().collect::<Vec<_>>(),
        golden.files.keys().collect::<Vec<_>>()
    );
    assert!(streamed == golden, "a file's bytes differ from golden/");
}

#[test]
fn the_streamed_render_of_a_generated_platform_is_the_in_memory_one_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tmp");
    let generated = std::process::Command::new("python3")
        .arg(repo_root().join("bench/gen"))
        .args(["--clusters", "60", "--components", "4", "--resources", "5"])
        .arg("--out")
        .arg(dir.path().join("gen"))
        .output()
        .expect("python3 runs bench/gen");
    assert!(generated.status.success(), "{}", stderr(&generated));
    let root = dir.path().join("gen/strata");
    let out = dir.path().join("out");
    let warnings = render(&root, &out);
    let (tree, expected_warnings) = in_memory(&root);
    let streamed = read_tree(&out).expect("read");
    assert_eq!(streamed.files.len(), tree.files.len());
    assert!(
        streamed == tree,
        "a file's bytes differ from the in-memory compile"
    );
    assert_eq!(warnings, expected_warnings);
}

/// Two environments over two datacenters, three workload clusters each: dev's own layer copies
/// a URL of prod's domain into `web.host`, which the environment-leak rule finds only by
/// comparing the two environments.
fn leaking(level: &str) -> Platform {
    let p = Platform::minimal();
    p.write(
        "strata.yaml",
        &format!(
            "{}{}    environment-leak: {level}\n",
            common::STRATA_YAML,
            common::POLICIES_OFF
        ),
    );
    p.write(
        "components/web/templates/host.yaml",
        "{% if values.host is defined %}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-host\ndata:\n  url: {{ values.host }}\n{% endif %}\n",
    );
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  global: {domain: shop.prod.example.com}\n  web:\n    replicas: 2\n",
    );
    p.write(
        "environments/dev/layer.yaml",
        "values:\n  global: {domain: shop.dev.example.com}\n",
    );
    p.write(
        "environments/dev/osl2/layer.yaml",
        "values:\n  web: {host: https://shop.prod.example.com/api}\n",
    );
    for env in ["dev", "prod"] {
        for dc in ["sto2", "osl2"] {
            for n in 1..=3 {
                p.write(
                    &format!("environments/{env}/{dc}/workload{n}.cluster.yaml"),
                    &format!(
                        "cluster: {{role: workload, server: https://{env}-{dc}-{n}.example.com:6443}}\n"
                    ),
                );
            }
        }
    }
    p
}

#[test]
fn a_leak_between_environments_is_reported_by_the_streamed_render_as_by_the_in_memory_one() {
    let p = leaking("warn");
    let warnings = render(p.path(), &p.path().join("rendered"));
    let (tree, expected) = in_memory(p.path());
    assert!(
        expected.contains("warning[environment-leak]: ConfigMap web/web-host"),
        "{expected}"
    );
    assert!(
        expected.contains("in dev/osl2/workload1/web/configmap-web-host.yaml"),
        "{expected}"
    );
    assert_eq!(warnings, expected);
    assert!(read_tree(&p.path().join("rendered")).expect("read") == tree);
}

#[test]
fn a_leak_found_after_other_clusters_were_written_leaves_the_output_as_it_was() {
    let p = leaking("deny");
    // Without the leak, the render goes through.
    p.write(
        "environments/dev/osl2/layer.yaml",
        "values:\n  web: {host: https://shop.dev.example.com/api}\n",
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = p.rendered();
    // A change that reaches every cluster, and a leak in three of them.
    p.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.org}\n",
    );
    p.write(
        "environments/dev/osl2/layer.yaml",
        "values:\n  web: {host: https://shop.prod.example.com/api}\n",
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("error[environment-leak]: ConfigMap web/web-host"),
        "{err}"
    );
    assert!(
        err.contains("in dev/osl2/workload1/web/configmap-web-host.yaml"),
        "{err}"
    );
    assert_eq!(
        p.rendered(),
        before,
        "the output directory, its cache and records included, is as it was"
    );
    // A render that fails into a new directory leaves none.
    let o = p.strata(&["render", "--out", "fresh"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(!p.path().join("fresh").exists());
}
