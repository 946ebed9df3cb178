//! The example platform is a test: its render is compared byte for byte with golden/.

mod common;

use common::{repo_root, stderr, stdout};
use strata::output::read_tree;
use strata::world::FsWorld;
use strata::{Selection, compile};

fn render_example() -> strata::emit::OutputTree {
    let world = FsWorld::open(&repo_root()).expect("the example platform opens");
    match compile(&world, &Selection::default()) {
        Ok(c) => c.tree,
        Err(f) => panic!(
            "the example platform does not compile:\n{}",
            strata::diag::render(&f.diagnostics, &f.texts)
        ),
    }
}

#[test]
fn the_example_renders_to_golden_byte_for_byte() {
    common::helm_in_process();
    let fresh = render_example();
    let golden = read_tree(&repo_root().join("golden")).expect("golden/ is readable");
    let drift = strata::compare::check::compare(&fresh, &golden);
    assert!(
        drift.is_clean(),
        "golden/ differs from a fresh render of the example:\n{}\nIf the change is intended, run `cargo run -- render --out golden` and review the diff.",
        strata::compare::check::render_human(&drift, "golden/")
    );
    assert!(
        fresh.files.len() > 500,
        "the example renders {} files",
        fresh.files.len()
    );
}

#[test]
fn two_renders_are_identical() {
    common::helm_in_process();
    let a = render_example();
    let b = render_example();
    assert_eq!(a, b);
    // And through the CLI, into two directories.
    let dirs = [
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    ];
    for d in &dirs {
        let out = d.path().join("out");
        let o = assert_cmd::Command::cargo_bin("strata")
            .expect("bin")
            .args(["render", "--root"])
            .arg(repo_root())
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let first = read_tree(&dirs[0].path().join("out")).expect("read");
    let second = read_tree(&dirs[1].path().join("out")).expect("read");
    assert_eq!(first, second);
    assert_eq!(first, a);
}

#[test]
fn the_example_has_the_promised_shape() {
    common::helm_in_process();
    let tree = render_example();
    let envs = tree.environments();
    assert_eq!(envs.into_iter().collect::<Vec<_>>(), ["non-prod", "prod"]);
    for env in ["non-prod", "prod"] {
        for dc in ["sto2", "osl2"] {
            for role in ["management", "workload"] {
                let prefix = format!("{env}/{dc}/{role}/");
                let n = tree.files.keys().filter(|k| k.starts_with(&prefix)).count();
                assert!(n >= 15, "{prefix} has only {n} resources");
            }
        }
        assert!(
            tree.files
                .contains_key(&format!("{env}/argocd/project.yaml"))
        );
        assert!(tree.files.contains_key(&format!("{env}/argocd/root.yaml")));
    }
    // Values that really differ per environment.
    let nonprod = String::from_utf8_lossy(&tree.files["non-prod/sto2/workload/ingress-nginx/deployment-ingress-nginx-controller.yaml"]).to_string();
    let prod = String::from_utf8_lossy(
        &tree.files["prod/sto2/workload/ingress-nginx/deployment-ingress-nginx-controller.yaml"],
    )
    .to_string();
    assert!(nonprod.contains("replicas: 1"), "{nonprod}");
    assert!(prod.contains("replicas: 3"), "{prod}");
    assert!(nonprod.contains("harbor.dev.welkin.example.com/"));
    assert!(prod.contains("harbor.prod.welkin.example.com/"));
    // Nothing of prod in non-prod.
    for (path, bytes) in &tree.files {
        if path.starts_with("non-prod/") {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains("prod.welkin.example.com"),
                "{path} mentions a prod domain"
            );
        }
    }
}

#[test]
fn explain_shows_the_chain_of_layers() {
    common::helm_in_process();
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(repo_root())
        .args([
            "explain",
            "prod-sto2-workload",
            "ingress-nginx.controller.replicas",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("prod-sto2-workload ingress-nginx.controller.replicas = 3\n"),
        "{out}"
    );
    assert!(
        out.contains("components/ingress-nginx/values.yaml:"),
        "{out}"
    );
    assert!(out.contains("environments/prod/layer.yaml:"), "{out}");
    assert!(
        out.contains("environments/prod/sto2/workload.cluster.yaml:"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn check_against_golden_is_clean() {
    common::helm_in_process();
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(repo_root())
        .args(["check", "--against", "golden"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "in sync: golden matches a fresh render\n");
}
