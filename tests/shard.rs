//! `render --shard I/N`: shards are a deterministic split of the clusters, and copying their
//! outputs together gives exactly one full render.

mod common;

use std::collections::BTreeMap;

use common::{repo_root, stderr};

fn render(out: &std::path::Path, extra: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .arg("--root")
        .arg(repo_root())
        .arg("render")
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    strata::output::read_tree(out).expect("read").files
}

#[test]
fn merged_shards_are_byte_identical_to_one_full_render() {
    common::helm_in_process();
    let dir = tempfile::tempdir().expect("tmp");
    let full = render(&dir.path().join("full"), &[]);
    let mut merged: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut clusters_per_shard = Vec::new();
    for i in 1..=3 {
        let shard = render(
            &dir.path().join(format!("shard{i}")),
            &["--shard", &format!("{i}/3")],
        );
        clusters_per_shard.push(
            shard
                .keys()
                .filter(|k| k.ends_with("/cert-manager/serviceaccount-cert-manager.yaml"))
                .count(),
        );
        for (path, bytes) in shard {
            if let Some(other) = merged.get(&path) {
                assert_eq!(other, &bytes, "{path} differs between shards");
            }
            merged.insert(path, bytes);
        }
    }
    assert_eq!(
        clusters_per_shard.iter().sum::<usize>(),
        8,
        "every cluster in exactly one shard: {clusters_per_shard:?}"
    );
    assert_eq!(merged, full);
    // The split is the same on every run.
    let again = render(&dir.path().join("again"), &["--shard", "2/3"]);
    assert_eq!(
        again,
        strata::output::read_tree(&dir.path().join("shard2"))
            .expect("read")
            .files
    );
}

#[test]
fn a_bad_shard_is_a_usage_error() {
    common::helm_in_process();
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(repo_root())
        .args(["render", "--shard", "4/3"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`4/3` is not a shard: write I/N with 1 <= I <= N"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn list_clusters_gives_a_ci_matrix_with_shards() {
    common::helm_in_process();
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(repo_root())
        .args(["list", "clusters", "--format", "json", "--shards", "3"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 8);
    for c in list {
        let shard = c["shard"].as_u64().expect("shard");
        assert!((1..=3).contains(&shard));
        assert_eq!(
            shard as u32,
            strata::shard_of(c["name"].as_str().expect("name"), 3)
        );
    }
}
