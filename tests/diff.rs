//! `strata diff` on real git repositories made in temp dirs.

mod common;

use git2::{Repository, Signature, Time};

use common::{Platform, stderr, stdout};

struct Repo {
    p: Platform,
    git: Repository,
}

impl Repo {
    /// The minimal platform plus a second datacenter, committed.
    fn new() -> Repo {
        let p = Platform::minimal();
        p.write(
            "strata.yaml",
            &format!(
                "{}{}promotion:\n  order: [dev, prod]\n",
                common::STRATA_YAML,
                common::POLICIES_OFF
            ),
        );
        p.write(
            "environments/prod/osl2/workload.cluster.yaml",
            "cluster: {role: workload, server: https://prod-osl2.example.com:6443}\n",
        );
        let git = Repository::init(p.path()).expect("init");
        let r = Repo { p, git };
        r.commit("platform");
        r
    }

    fn commit(&self, subject: &str) -> String {
        let sig = Signature::new("Alice", "alice@example.com", &Time::new(1_790_000_000, 0))
            .expect("sig");
        let mut index = self.git.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"], None).expect("update");
        index.write().expect("write");
        let tree = self
            .git
            .find_tree(index.write_tree().expect("tree"))
            .expect("tree");
        let parents: Vec<git2::Commit> = self
            .git
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        self.git
            .commit(Some("HEAD"), &sig, &sig, subject, &tree, &refs)
            .expect("commit")
            .to_string()
    }

    fn diff(&self, args: &[&str]) -> (i32, String, String) {
        let mut full = vec!["diff", "--color", "never"];
        full.extend_from_slice(args);
        let o = self.p.strata(&full);
        (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
    }
}

#[test]
fn a_datacenter_layer_change_touches_only_that_datacenter() {
    let r = Repo::new();
    r.p.write(
        "environments/prod/osl2/layer.yaml",
        "values:\n  web: {image: nginx:1.28}\n",
    );
    let (code, out, err) = r.diff(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("⚠ this change reaches prod"), "{out}");
    assert!(out.contains("osl2/workload"), "{out}");
    assert!(!out.contains("sto2/workload"), "sto2 is untouched: {out}");
    assert!(
        out.contains("spec.template.spec.containers[name=web].image"),
        "{out}"
    );
    assert!(
        out.contains("-          image: nginx:1.27") || out.contains("-        image: nginx:1.27"),
        "{out}"
    );
    insta::assert_snapshot!("datacenter_human", out);
}

#[test]
fn a_change_to_the_top_layer_touches_every_cluster() {
    let r = Repo::new();
    r.p.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.org}\n",
    );
    let (code, out, _) = r.diff(&["--stat"]);
    assert_eq!(code, 1);
    assert!(out.contains("prod: 2 clusters"), "{out}");
    assert!(out.contains("dev: 1 cluster"), "{out}");
    let (_, md, _) = r.diff(&["--format", "markdown"]);
    assert!(md.starts_with("⚠ this change reaches prod"), "{md}");
    assert!(md.contains("<details>"), "{md}");
    insta::assert_snapshot!("every_cluster_markdown", md);
}

#[test]
fn a_component_added_and_one_removed() {
    let r = Repo::new();
    r.p.write(
        "components/api/component.yaml",
        "name: api\nversion: \"1\"\nnamespace: api\nroles: [workload]\n",
    );
    r.p.write(
        "components/api/values.schema.json",
        "{\"type\": \"object\"}",
    );
    r.p.write(
        "components/api/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api\ndata: {a: b}\n",
    );
    let added = r.commit("add api");
    std::fs::remove_dir_all(r.p.path().join("components/web")).expect("rm");
    std::fs::write(r.p.path().join("environments/prod/layer.yaml"), "{}\n").expect("w");
    std::fs::write(
        r.p.path()
            .join("environments/prod/sto2/workload.cluster.yaml"),
        "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\n",
    )
    .expect("w");
    let (code, out, err) = r.diff(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("- apps/Deployment web/web"), "{out}");
    let (code, out, _) = r.diff(&["--base", "HEAD~1", "--head", &added, "--format", "json"]);
    assert_eq!(code, 1);
    let j: serde_json::Value = serde_json::from_str(&out).expect("json");
    let added: Vec<&serde_json::Value> = j["resources"]
        .as_array()
        .expect("r")
        .iter()
        .filter(|r| r["status"] == "added")
        .collect();
    assert!(
        added
            .iter()
            .any(|r| r["kind"] == "ConfigMap" && r["name"] == "api"),
        "{out}"
    );
    assert!(added.iter().any(|r| r["kind"] == "Application"), "{out}");
}

#[test]
fn a_base_without_strata_yaml_shows_everything_added() {
    let p = Platform::minimal();
    let git = Repository::init(p.path()).expect("init");
    let sig = Signature::new("A", "a@example.com", &Time::new(1_790_000_000, 0)).expect("sig");
    let tree = git
        .find_tree(git.treebuilder(None).expect("tb").write().expect("w"))
        .expect("t");
    git.commit(Some("HEAD"), &sig, &sig, "empty", &tree, &[])
        .expect("commit");
    let o = p.strata(&["diff", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(
        j["resources"]
            .as_array()
            .expect("r")
            .iter()
            .all(|r| r["status"] == "added")
    );
    assert!(j["summary"]["added"].as_u64().expect("n") > 5);
}

#[test]
fn a_secret_change_shows_no_plaintext_in_any_format() {
    let r = Repo::new();
    r.p.write("components/web/templates/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-token\nstringData:\n  token: correct-horse-battery\n");
    r.commit("secret");
    r.p.write("components/web/templates/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-token\nstringData:\n  token: hunter2-the-new-one\n");
    for format in ["human", "json", "markdown"] {
        let (code, out, _) = r.diff(&["--format", format]);
        assert_eq!(code, 1, "{format}");
        assert!(out.contains("web-token"), "{out}");
        assert!(out.contains("sha256:"), "{out}");
        for secret in [
            "correct-horse-battery",
            "hunter2-the-new-one",
            "aHVudGVyMi10aGUtbmV3LW9uZQ",
            "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5",
        ] {
            assert!(!out.contains(secret), "{format} shows {secret}: {out}");
        }
    }
}

#[test]
fn reordering_keys_is_not_a_change() {
    let r = Repo::new();
    let reordered = common::WEB_TEMPLATE.replace(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-{{ cluster.environment }}\ndata:\n  domain: {{ global.domain }}\n",
        "data:\n  domain: {{ global.domain }}\nmetadata:\n  name: web-{{ cluster.environment }}\nkind: ConfigMap\napiVersion: v1\n",
    );
    assert_ne!(reordered, common::WEB_TEMPLATE);
    r.p.write("components/web/templates/deployment.yaml", &reordered);
    let (code, out, err) = r.diff(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("no differences"), "{out}");
}

#[test]
fn a_huge_change_stays_under_the_markdown_limit() {
    let r = Repo::new();
    let mut big = String::new();
    for i in 0..400 {
        big.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big-{i}\ndata:\n{}",
            (0..30)
                .map(|k| format!(
                    "  key{k}: {{{{ global.domain }}}}-{i}-{k}-padding-padding-padding\n"
                ))
                .collect::<String>()
        ));
    }
    r.p.write("components/web/templates/big.yaml", &big);
    r.commit("big");
    r.p.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: changed.example.org}\n",
    );
    let (code, md, _) = r.diff(&["--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(
        md.chars().count() < 65_000,
        "{} characters",
        md.chars().count()
    );
    assert!(md.contains("not shown"), "the cut is said");
}

#[test]
fn a_bad_ref_is_exit_2_and_names_the_ref() {
    let r = Repo::new();
    let (code, _, err) = r.diff(&["--base", "no-such-branch"]);
    assert_eq!(code, 2);
    assert!(err.contains("`no-such-branch` is not a revision"), "{err}");
}

#[test]
fn an_invalid_head_prints_its_diagnostics_and_exits_2() {
    let r = Repo::new();
    r.p.write("environments/prod/layer.yaml", "valeus: {}\n");
    let (code, _, err) = r.diff(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the head (the working tree"), "{err}");
    assert!(err.contains("unknown key `valeus`"), "{err}");
}

#[test]
fn untracked_files_are_part_of_the_working_tree() {
    let r = Repo::new();
    r.p.write(
        "components/web/templates/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
    );
    let (code, out, _) = r.diff(&["--env", "dev"]);
    assert_eq!(code, 1);
    assert!(out.contains("+ ConfigMap web/extra"), "{out}");
    assert!(!out.contains("prod"), "filtered to dev: {out}");
    assert!(
        r.git
            .statuses(None)
            .expect("status")
            .iter()
            .any(|s| s.path().ok() == Some("components/web/templates/extra.yaml")),
        "still untracked"
    );
}

/// Issue 28, point 2: a change that broke a policy printed the policy errors of both sides and
/// exited 2, without the diff a reviewer needed.
#[test]
fn a_change_that_breaks_a_policy_shows_its_diff_then_the_findings_it_introduces() {
    let r = Repo::new();
    r.p.write(
        "strata.yaml",
        &format!(
            "{}{}promotion:\n  order: [dev, prod]\n",
            common::STRATA_YAML,
            common::POLICIES_OFF.replace("no-plaintext-secrets: off", "no-plaintext-secrets: deny")
        ),
    );
    r.commit("no plaintext secrets");
    r.p.write(
        "components/web/templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-token\nstringData:\n  token: hunter2\n",
    );
    let o = r.p.strata(&["diff", "--color", "never", "--env", "dev"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    assert!(!out.contains("hunter2"), "{out}");
    let (diff, findings) = out
        .split_once("\npolicy findings this change introduces (head): 1\n")
        .unwrap_or_else(|| panic!("no findings after the diff: {out}"));
    assert!(diff.contains("+kind: Secret"), "{diff}");
    // The README's "strata diff" shows these lines.
    assert_eq!(
        findings,
        "  error[no-plaintext-secrets] Secret web/web-token: Secret `web-token` holds 1 key in plaintext (`token`) and is not SOPS-encrypted\n    in dev/sto2/workload/web/secret-web-token.yaml (cluster dev-sto2-workload), field stringData\n"
    );

    // The base has the finding and the head removes it: the other way round.
    r.commit("a plaintext secret");
    r.p.remove("components/web/templates/secret.yaml");
    let o = r.p.strata(&[
        "diff", "--color", "never", "--env", "dev", "--format", "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(json["policy"]["introduced"], serde_json::json!([]));
    assert_eq!(json["policy"]["removed"][0]["rule"], "no-plaintext-secrets");
    assert_eq!(json["policy"]["removed"][0]["cluster"], "dev-sto2-workload");
}

/// Issue 28, point 2: exit 2 only when a side cannot be rendered at all, saying which.
#[test]
fn a_side_that_does_not_render_is_named_with_why() {
    let r = Repo::new();
    r.p.write("components/web/templates/broken.yaml", "{{ nope(");
    let o = r.p.strata(&["diff", "--color", "never"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "error: the head (the working tree at {}) does not render, so there is no diff to show:\n",
            r.p.path().display()
        )),
        "{err}"
    );
    assert!(
        err.contains("components/web/templates/broken.yaml"),
        "{err}"
    );
    assert_eq!(stdout(&o), "");
}
