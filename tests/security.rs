//! Untrusted source repositories: whatever the files say, strata runs no unexpected program,
//! reads nothing outside the repository, stays within its memory and time, and never panics.
//! Every case leaves the previous output untouched.

mod common;

use common::{Platform, stderr};

fn fails(break_it: impl FnOnce(&Platform)) -> String {
    let p = Platform::minimal();
    let ok = p.strata(&["render"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let before = p.rendered();
    break_it(&p);
    let bad = p.strata(&["render"]);
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(p.rendered(), before, "the previous output changed");
    err
}

#[test]
fn an_unlisted_program_does_not_run() {
    let err = fails(|p| {
        let marker = p.path().join("ran");
        p.write(
            "components/web/component.yaml",
            &format!(
                "{}source:\n  command: [touch, {}]\n",
                common::WEB_COMPONENT,
                marker.display()
            ),
        );
    });
    assert!(
        err.contains("component `web` runs `touch`, which strata.yaml does not allow"),
        "{err}"
    );
    assert!(err.contains("sources:\n        commands: [touch]"), "{err}");
}

#[test]
fn a_command_that_floods_stdout_is_stopped() {
    let err = fails(|p| {
        p.write(
            "components/web/component.yaml",
            &format!(
                "{}source:\n  command: [sh, -c, \"yes kind: ConfigMap\"]\n",
                common::WEB_COMPONENT
            ),
        )
    });
    assert!(
        err.contains("`sh` printed more than 67108864 bytes and was stopped"),
        "{err}"
    );
}

#[test]
fn a_command_sees_only_path_home_and_the_values_file() {
    let p = Platform::minimal();
    p.write(
        "components/web/component.yaml",
        &format!(
            "{}source:\n  command: [sh, -c, \"printf 'apiVersion: v1\\\\nkind: ConfigMap\\\\nmetadata: {{name: env}}\\\\ndata:\\\\n' && env | sort | grep -v '^_=' | grep -v '^PWD=' | grep -v '^SHLVL=' | sed 's/^\\\\([A-Za-z_]*\\\\)=.*/  \\\\1: set/'\"]\n",
            common::WEB_COMPONENT
        ),
    );
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(p.path())
        .env("AWS_SECRET_ACCESS_KEY", "leak-me")
        .env("GITHUB_TOKEN", "leak-me-too")
        .args(["render"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cm = std::fs::read_to_string(
        p.path()
            .join("rendered/dev/sto2/workload/web/configmap-env.yaml"),
    )
    .expect("rendered");
    assert!(
        cm.contains("HOME: set") && cm.contains("PATH: set") && cm.contains("STRATA_VALUES: set"),
        "{cm}"
    );
    assert!(
        !cm.contains("AWS_SECRET_ACCESS_KEY") && !cm.contains("GITHUB_TOKEN"),
        "{cm}"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_right_under_the_source_roots_are_checked_too() {
    // Each directory under components/ and environments/ is walked on its own; what sits
    // right under them is taken apart from those walks.
    let err = fails(|p| {
        std::os::unix::fs::symlink("/etc", p.path().join("components/outside")).expect("symlink");
        std::os::unix::fs::symlink("../components", p.path().join("environments/inside"))
            .expect("symlink");
    });
    assert!(
        err.contains("components/outside is a symlink to /etc, outside the source repository"),
        "{err}"
    );
    assert!(
        err.contains(
            "environments/inside is a symlink to a directory, which strata does not follow"
        ),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_repository_is_an_error_naming_the_link() {
    let err = fails(|p| {
        std::os::unix::fs::symlink(
            "/etc/hostname",
            p.path().join("components/web/templates/host.yaml"),
        )
        .expect("symlink");
    });
    assert!(err.contains("components/web/templates/host.yaml is a symlink to /etc/hostname, outside the source repository"), "{err}");
    assert!(
        err.contains("strata reads nothing outside the repository root"),
        "{err}"
    );
}

#[test]
fn an_oversized_file_is_refused() {
    let err = fails(|p| {
        let big = format!(
            "values:\n  web:\n    args: [{}]\n",
            "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\", ".repeat(170_000)
        );
        p.write("environments/prod/layer.yaml", &big);
    });
    assert!(err.contains("environments/prod/layer.yaml is"), "{err}");
    assert!(
        err.contains("bytes, over the limit of 8388608 bytes for a source file"),
        "{err}"
    );
}

#[test]
fn a_nine_level_alias_bomb_is_an_error_in_well_under_a_second() {
    let mut bomb = String::from("values:\n  web:\n    a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        bomb.push_str(&format!(
            "    a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let err = fails(|p| p.write("environments/prod/layer.yaml", &bomb));
    assert!(
        err.contains("error[yaml]: YAML aliases expand to more than 100000 nodes in this file"),
        "{err}"
    );
    assert!(err.contains("environments/prod/layer.yaml:"), "{err}");
}

#[test]
fn nesting_ten_thousand_levels_deep_is_an_error_not_a_crash() {
    let deep = format!(
        "values:\n  web:\n    args: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let err = fails(|p| p.write("environments/prod/layer.yaml", &deep));
    assert!(err.contains("YAML nested deeper than 128 levels"), "{err}");
    let json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let err = fails(|p| p.write("components/web/values.schema.json", &json));
    assert!(
        err.contains("components/web/values.schema.json is not valid JSON"),
        "{err}"
    );
}

#[test]
fn include_reaches_only_the_components_own_templates() {
    let err = fails(|p| {
        p.write(
            "components/web/templates/evil.yaml",
            "{% include \"../../strata.yaml\" %}\n",
        )
    });
    assert!(
        err.contains("error[template-include]: template not found"),
        "{err}"
    );
    assert!(err.contains("../../strata.yaml"), "{err}");
    assert!(
        err.contains(
            "`include` and `import` load only from components/web/templates/ and components/_lib/"
        ),
        "{err}"
    );
}

#[test]
fn a_runaway_template_loop_is_stopped() {
    let err = fails(|p| {
        p.write("components/web/templates/loop.yaml", "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}\n")
    });
    assert!(
        err.contains("error[template-limit]") || err.contains("error[template]"),
        "{err}"
    );
}

#[test]
fn a_template_that_renders_too_much_stops_at_the_limit() {
    // Each iteration adds 10 MB; without a cap on the output the loop would hold 300 MB
    // before its fuel ran out.
    let err = fails(|p| {
        p.write(
            "components/web/templates/flood.yaml",
            "{% for i in range(30) %}{{ \"x\" * 10000000 }}{% endfor %}\n",
        )
    });
    assert!(
        err.contains(
            "components/web/templates/flood.yaml rendered more than 16777216 bytes, the limit for one template"
        ),
        "{err}"
    );
    assert!(
        err.contains("look for a loop that runs far more often than intended"),
        "{err}"
    );
}

#[test]
fn runaway_template_recursion_is_stopped() {
    let err = fails(|p| {
        p.write(
            "components/web/templates/_self.yaml",
            "{% include \"_self.yaml\" %}\n",
        );
        p.write(
            "components/web/templates/rec.yaml",
            "{% include \"_self.yaml\" %}\n",
        );
    });
    assert!(err.contains("components/web/templates/"), "{err}");
    assert!(err.contains("recursion") || err.contains("limit"), "{err}");
}

// Issue 26: a hostile source repository.

/// Renders the good platform, applies `break_it`, and checks that `validate` and `render` both
/// refuse it (exit 1) with the same words, and that the render wrote nothing. Returns stderr.
fn refused(break_it: impl FnOnce(&Platform)) -> String {
    let p = Platform::minimal();
    let ok = p.strata(&["render"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let before = p.rendered();
    break_it(&p);
    let bad = p.strata(&["render"]);
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(p.rendered(), before, "a refused render changed the output");
    let validate = p.strata(&["validate"]);
    assert_eq!(validate.status.code(), Some(1));
    assert_eq!(
        stderr(&validate),
        err,
        "validate and render report the same"
    );
    err
}

const TWO_DOCUMENTS: &str = "components/web/templates/two.yaml";

#[test]
fn two_kinds_that_differ_only_by_case_are_a_collision_not_a_lost_object() {
    let err = refused(|p| {
        p.write(
            TWO_DOCUMENTS,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Configmap\nmetadata: {name: x}\n",
        )
    });
    assert!(
        err.contains("error[file-collision]: ConfigMap web/x and Configmap web/x would both be written to dev/sto2/workload/web/configmap-x.yaml"),
        "{err}"
    );
    assert!(
        err.contains(
            "ConfigMap web/x is rendered by components/web/templates/two.yaml (document 1)"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "Configmap web/x is rendered by components/web/templates/two.yaml (document 2)"
        ),
        "{err}"
    );
    let err = err.split("\n\n").next().unwrap_or_default().to_string();
    insta::assert_snapshot!(err);
}

#[test]
fn objects_whose_group_and_name_run_into_each_other_get_files_of_their_own() {
    let p = Platform::minimal();
    p.write(
        TWO_DOCUMENTS,
        // Each name twice, so that both are qualified with their group.
        "apiVersion: a/v1\nkind: Widget\nmetadata: {name: b-c}\n---\napiVersion: a-b/v1\nkind: Widget\nmetadata: {name: c}\n---\napiVersion: z/v1\nkind: Widget\nmetadata: {name: b-c}\n---\napiVersion: z/v1\nkind: Widget\nmetadata: {name: c}\n",
    );
    let o = p.strata(&["render", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = p.path().join("rendered/dev/sto2/workload/web");
    let first = std::fs::read_to_string(dir.join("widget.a_b-c.yaml")).expect("a/Widget b-c");
    let second = std::fs::read_to_string(dir.join("widget.a-b_c.yaml")).expect("a-b/Widget c");
    assert!(
        first.contains("apiVersion: a/v1") && first.contains("name: b-c"),
        "{first}"
    );
    assert!(
        second.contains("apiVersion: a-b/v1") && second.contains("name: c\n"),
        "{second}"
    );
    assert!(dir.join("widget.z_b-c.yaml").is_file() && dir.join("widget.z_c.yaml").is_file());
    // The summary counts files that are there.
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let on_disk = p
        .rendered()
        .iter()
        .filter(|(path, _)| !path.starts_with(".strata-cache") && !path.ends_with(".strata-output"))
        .count();
    assert_eq!(summary["files"].as_u64(), Some(on_disk as u64), "{summary}");
}

#[test]
fn a_valid_name_too_long_for_a_file_name_renders_under_a_short_name() {
    let p = Platform::minimal();
    let name = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    assert_eq!(name.len(), 253);
    p.write(
        TWO_DOCUMENTS,
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"),
    );
    let validate = p.strata(&["validate"]);
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = p.path().join("rendered/dev/sto2/workload/web");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .filter(|f| f.starts_with("configmap-aaa"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].len(), 255, "{files:?}");
    assert!(
        files[0].ends_with(".yaml") && files[0].contains('~'),
        "{files:?}"
    );
    let text = std::fs::read_to_string(dir.join(&files[0])).expect("read");
    assert!(text.contains(&format!("name: {name}")), "{text}");
    // The same name on the next render: nothing to write.
    let again = p.strata(&["render", "--format", "json"]);
    let summary: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(summary["written"].as_u64(), Some(0), "{summary}");
}

#[test]
fn a_cluster_under_the_argocd_directory_is_refused() {
    let err = refused(|p| {
        p.write(
            "environments/dev/argocd/apps.cluster.yaml",
            "cluster: {role: workload, server: https://dev-argo.example.com:6443}\n",
        )
    });
    assert!(
        err.contains("error[reserved-name]: environments/dev/argocd/apps.cluster.yaml puts cluster `dev-argocd-apps` under `argocd`, a name the output layout reserves"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn a_cluster_inside_another_clusters_directory_is_refused() {
    let err = refused(|p| {
        p.write(
            "environments/dev/sto2.cluster.yaml",
            "cluster: {role: workload, server: https://dev-sto2-outer.example.com:6443}\n",
        )
    });
    assert!(
        err.contains("error[cluster-path]: cluster `dev-sto2-workload` would be rendered inside the directory of cluster `dev-sto2` (dev/sto2/)"),
        "{err}"
    );
}

#[test]
fn two_applications_in_one_file_are_refused() {
    let err = refused(|p| {
        // `a/b-c` and `a-b/c`, each with component web: both `a-b-c-web.yaml`.
        p.write(
            "environments/dev/a/b-c.cluster.yaml",
            "cluster: {name: one, role: workload, server: https://one.example.com:6443}\n",
        );
        p.write(
            "environments/dev/a-b/c.cluster.yaml",
            "cluster: {name: two, role: workload, server: https://two.example.com:6443}\n",
        );
    });
    assert!(
        err.contains("would both be written to dev/argocd/apps/a-b-c-web.yaml"),
        "{err}"
    );
}

#[test]
fn an_api_version_with_a_path_in_it_is_refused() {
    let err = refused(|p| {
        p.write(
            TWO_DOCUMENTS,
            "apiVersion: a/../b/v1\nkind: Widget\nmetadata: {name: x}\n",
        )
    });
    assert!(
        err.contains("document 1 has the apiVersion \"a/../b/v1\", which is not `<group>/<version>` or `<version>`"),
        "{err}"
    );
}

/// Every file under `dir` with its bytes, `.git/` included.
fn everything(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            out.push((
                entry.path().to_path_buf(),
                std::fs::read(entry.path()).expect("read"),
            ));
        }
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Plants in `dir` what makes a directory look like strata's: the marker, a cache index that
/// lists `victims` as a gone cluster's files (of the environment `environment`), and a record of
/// writing each with its true hash.
///
/// Careful: strata before issue 26 deleted what such a cache index named, and walked an
/// environment of `..` out of the output directory. Only give `..` where the parent is the
/// test's own.
fn plant(dir: &std::path::Path, victims: &[(&str, &[u8])], environment: &str) {
    std::fs::create_dir_all(dir.join(".strata-cache")).expect("mkdir");
    std::fs::write(dir.join(".strata-output"), "").expect("marker");
    let files: serde_json::Map<String, serde_json::Value> = victims
        .iter()
        .map(|(p, b)| (p.to_string(), serde_json::json!(b.len())))
        .collect();
    let index = serde_json::json!({
        "renderer": "", "leaves": "", "ownership": "",
        "clusters": {"gone": {
            "input": "", "shared": "", "secrets": "", "environment": environment,
            "files": files, "objects": 0, "violations": [], "components": {}
        }}
    });
    std::fs::write(dir.join(".strata-cache/index.json"), index.to_string()).expect("index");
    let mut record = String::from("strata written 1\n");
    for (path, bytes) in victims {
        record.push_str(&format!("{} {path}\n", sha256_hex(bytes)));
    }
    std::fs::write(dir.join(".strata-cache/written"), record).expect("record");
}

/// The platform with `output.dir` set to `dir`, a `.git/`, uncommitted work, and a planted
/// marker, cache index and record in the directory `dir` names.
fn hostile_output_dir(dir: &str) -> Platform {
    let p = Platform::minimal();
    let target = p.path().join(dir);
    hostile_output_dir_at(p, dir, &target)
}

/// [`hostile_output_dir`], with the planted files in `target`.
fn hostile_output_dir_at(p: Platform, dir: &str, target: &std::path::Path) -> Platform {
    p.write(
        "strata.yaml",
        &format!(
            "output: {{dir: \"{dir}\", repoURL: https://git.example.com/out.git}}\nsources:\n  commands: [kubectl, sh]\n{}",
            common::POLICIES_OFF
        ),
    );
    p.write(".git/HEAD", "ref: refs/heads/main\n");
    p.write(".git/config", "[core]\n");
    p.write("NOTES.txt", "my uncommitted work\n");
    p.write(
        "components/web/templates/configmap-web.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n",
    );
    std::fs::create_dir_all(target).expect("mkdir");
    let victims: Vec<(String, Vec<u8>)> = everything(p.path())
        .into_iter()
        .filter_map(|(path, bytes)| {
            let rel = path
                .strip_prefix(target)
                .ok()?
                .to_string_lossy()
                .to_string();
            Some((rel, bytes))
        })
        .collect();
    let victims: Vec<(&str, &[u8])> = victims
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    plant(target, &victims, "prod");
    p
}

#[test]
fn output_dir_may_not_be_the_repository_or_any_of_its_source_directories() {
    let outside = tempfile::tempdir().expect("tmp");
    std::fs::write(outside.path().join("keep.txt"), "keep").expect("write");
    let absolute = outside.path().display().to_string();
    let cases: Vec<(&str, &str)> = vec![
        (".", "it is"),
        ("./", "it is"),
        (".git", "it lies inside .git/ of the source repository"),
        (
            ".git/rendered",
            "it lies inside .git/ of the source repository",
        ),
        (
            "components",
            "it lies inside components/ of the source repository",
        ),
        (
            "components/web",
            "it lies inside components/ of the source repository",
        ),
        (
            "environments",
            "it lies inside environments/ of the source repository",
        ),
        ("schema", "it lies inside schema/ of the source repository"),
        (
            "../outside",
            "must be a relative path inside the repository, without `..`",
        ),
        (
            &absolute,
            "must be a relative path inside the repository, without `..`",
        ),
    ];
    for (dir, why) in cases {
        let p = Platform::minimal();
        let target = if dir == absolute {
            outside.path().to_path_buf()
        } else if dir.starts_with("..") {
            // Outside the platform, in a directory of this test's own.
            outside.path().join("sibling")
        } else {
            p.path().join(dir)
        };
        let p = hostile_output_dir_at(p, dir, &target);
        let before = everything(p.path());
        let outside_before = everything(outside.path());
        let o = p.strata(&["render"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{dir}: {err}");
        assert!(
            err.contains(&format!(
                "error[output-dir]: strata will not write to {dir}: "
            )),
            "{dir}: {err}"
        );
        assert!(err.contains(why), "{dir}: {err}");
        assert!(err.contains("strata.yaml:1:"), "{dir}: {err}");
        assert_eq!(everything(p.path()), before, "{dir}: a file changed");
        assert_eq!(
            everything(outside.path()),
            outside_before,
            "{dir}: a file outside changed"
        );
    }
}

#[test]
fn output_dir_as_the_repository_root_says_why() {
    let p = hostile_output_dir(".");
    let err = stderr(&p.strata(&["render"]));
    let err = err.replace(
        &p.path().canonicalize().expect("real").display().to_string(),
        "<root>",
    );
    insta::assert_snapshot!(err);
}

#[cfg(unix)]
#[test]
fn output_dir_through_a_link_out_of_the_repository_is_refused() {
    let outside = tempfile::tempdir().expect("tmp");
    std::fs::write(outside.path().join("keep.yaml"), "keep").expect("write");
    let p = Platform::minimal();
    std::os::unix::fs::symlink(outside.path(), p.path().join("rendered")).expect("symlink");
    plant(outside.path(), &[("keep.yaml", b"keep")], "prod");
    let before = everything(outside.path());
    let o = p.strata(&["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("outside the repository; only --out may point there"),
        "{err}"
    );
    assert_eq!(everything(outside.path()), before);
    // A link to the repository itself.
    std::fs::remove_file(p.path().join("rendered")).expect("rm");
    std::os::unix::fs::symlink(".", p.path().join("rendered")).expect("symlink");
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("it is the source repository"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_planted_marker_and_record_in_out_delete_nothing_strata_did_not_write() {
    // --out may point anywhere the user says; a directory the repository prepared there still
    // loses nothing.
    let p = Platform::minimal();
    // The planted cache names the environment `..`: the sandbox, with a file that must stay.
    let sandbox = tempfile::tempdir().expect("tmp");
    std::fs::write(sandbox.path().join("canary.txt"), "canary").expect("canary");
    let out = sandbox.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let out = &out;
    let work = "dev/sto2/workload/web/configmap-mine.yaml";
    for (path, text) in [("NOTES.txt", "notes"), (work, "my work")] {
        let full = out.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    // The record has the right hash for NOTES.txt, which is not of the layout, and a guess
    // for the work.
    plant(out, &[("NOTES.txt", b"notes"), (work, b"a guess")], "..");
    let o = p.strata(&["render", "--out", &out.display().to_string()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("NOTES.txt")).expect("notes"),
        "notes"
    );
    assert_eq!(
        std::fs::read_to_string(out.join(work)).expect("work"),
        "my work"
    );
    assert!(err.contains("warning: left 1 file in"), "{err}");
    assert!(
        err.contains(&format!("{work} (it changed since strata wrote it)")),
        "{err}"
    );
}

#[test]
fn a_render_removes_what_it_wrote_and_no_longer_renders() {
    let p = Platform::minimal();
    p.write(
        TWO_DOCUMENTS,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone}\n",
    );
    assert_eq!(p.strata(&["render"]).status.code(), Some(0));
    let gone = p
        .path()
        .join("rendered/dev/sto2/workload/web/configmap-gone.yaml");
    assert!(gone.is_file());
    p.remove(TWO_DOCUMENTS);
    // Without its cache too: the record alone vouches for the file.
    std::fs::remove_file(p.path().join("rendered/.strata-cache/index.json")).expect("rm");
    let o = p.strata(&["render", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!gone.exists());
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(summary["removed"].as_u64(), Some(2), "{summary}");
    assert_eq!(summary["left"].as_u64(), Some(0), "{summary}");
}

#[cfg(unix)]
#[test]
fn a_render_writes_nothing_through_a_link_in_its_output() {
    let outside = tempfile::tempdir().expect("tmp");
    let p = Platform::minimal();
    assert_eq!(p.strata(&["render"]).status.code(), Some(0));
    let app = p.path().join("rendered/dev/argocd/root.yaml");
    std::fs::remove_file(&app).expect("rm");
    std::os::unix::fs::symlink(outside.path().join("bashrc"), &app).expect("symlink");
    p.write(
        "environments/dev/sto2/workload.cluster.yaml",
        "cluster: {role: workload, server: https://dev-sto2.example.com:6443}\nvalues:\n  web: {replicas: 5}\n",
    );
    let before = p.rendered();
    let o = p.strata(&["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("dev/argocd/root.yaml is a symbolic link or not a plain file or directory, and strata never writes through one"), "{err}");
    assert!(!outside.path().join("bashrc").exists());
    let after: Vec<_> = p
        .rendered()
        .into_iter()
        .filter(|(path, _)| !path.starts_with(".strata-cache"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(path, _)| !path.starts_with(".strata-cache"))
        .collect();
    assert_eq!(after, before, "nothing was written");
}

/// The platform allowing only `kubectl`, as the example did, with a component whose command is
/// `command` and whose `kz/` holds a kustomization and a script that leaves a file if it runs.
fn allowing_kubectl(command: &str) -> (Platform, std::path::PathBuf) {
    let p = Platform::minimal();
    p.write(
        "strata.yaml",
        &format!(
            "output: {{repoURL: https://git.example.com/out.git}}\nsources:\n  commands: [kubectl]\n{}",
            common::POLICIES_OFF
        ),
    );
    let ran = p.path().join("ran");
    p.write(
        "components/web/kz/helm.sh",
        &format!("#!/bin/sh\ntouch {}\n", ran.display()),
    );
    p.write(
        "components/web/kz/kustomization.yaml",
        "helmCharts:\n- name: x\n",
    );
    p.write(
        "components/web/component.yaml",
        &format!("{}source:\n  command: {command}\n", common::WEB_COMPONENT),
    );
    (p, ran)
}

#[test]
fn kubectl_allowed_does_not_allow_its_flags_that_run_a_program() {
    let (p, ran) =
        allowing_kubectl("[kubectl, kustomize, --enable-helm, --helm-command, ./kz/helm.sh, kz/]");
    for command in ["render", "validate"] {
        let o = p.strata(&[command]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{command}: {err}");
        assert!(
            err.contains("error[command-not-allowed]: component `web` runs `kubectl kustomize --enable-helm --helm-command ./kz/helm.sh kz/` with `--enable-helm`, which the allow-list entry `kubectl` does not permit"),
            "{command}: {err}"
        );
        assert!(
            err.contains("the entry `kubectl` of sources.commands in strata.yaml"),
            "{err}"
        );
    }
    assert!(!ran.exists(), "the repository's script ran");
    assert!(
        !p.path().join("rendered").exists(),
        "a refused render wrote output"
    );
    insta::assert_snapshot!(stderr(&p.strata(&["render"])));
}

#[test]
fn kubectl_allowed_does_not_allow_a_subcommand_that_talks_to_a_cluster() {
    let (p, _) = allowing_kubectl("[kubectl, get, --raw, /api/v1/namespaces/kube-system/secrets]");
    let o = p.strata(&["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("component `web` runs `kubectl get --raw /api/v1/namespaces/kube-system/secrets` with the subcommand `get`, which the allow-list entry `kubectl` does not permit"),
        "{err}"
    );
    assert!(
        err.contains("`kubectl` permits `kubectl kustomize DIR` only"),
        "{err}"
    );
}

#[test]
fn an_allow_list_entry_for_another_kubectl_subcommand_is_refused() {
    let p = Platform::minimal();
    p.write(
        "strata.yaml",
        &format!(
            "output: {{repoURL: https://git.example.com/out.git}}\nsources:\n  commands: [kubectl get, ./render.sh]\n{}",
            common::POLICIES_OFF
        ),
    );
    let o = p.strata(&["validate"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "strata.yaml allows `kubectl get` as a command source, which strata will not run"
        ),
        "{err}"
    );
    assert!(
        err.contains("strata runs kubectl only as `kubectl kustomize`"),
        "{err}"
    );
    assert!(
        err.contains("strata.yaml allows `./render.sh` as a command source"),
        "{err}"
    );
}

#[test]
fn a_command_gets_an_empty_home() {
    let p = Platform::minimal();
    p.write(
        "components/web/component.yaml",
        &format!(
            "{}source:\n  command: [sh, -c, \"printf 'apiVersion: v1\\\\nkind: ConfigMap\\\\nmetadata: {{name: home}}\\\\ndata:\\\\n  files: \\\"%s\\\"\\\\n' \\\"$(ls -A $HOME | wc -l)\\\"\"]\n",
            common::WEB_COMPONENT
        ),
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cm = std::fs::read_to_string(
        p.path()
            .join("rendered/dev/sto2/workload/web/configmap-home.yaml"),
    )
    .expect("rendered");
    assert!(cm.contains("files: \"0\""), "{cm}");
}

#[test]
fn a_seven_megabyte_line_is_quoted_in_part() {
    let p = Platform::minimal();
    assert_eq!(p.strata(&["render"]).status.code(), Some(0));
    p.write(
        "environments/prod/layer.yaml",
        &format!("bogus: \"{}\"\n", "x".repeat(7 * 1024 * 1024)),
    );
    let o = p.strata(&["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{}", &err[..err.len().min(2000)]);
    assert!(err.len() < 4096, "{} bytes of diagnostics", err.len());
    insta::assert_snapshot!(err);
}

#[test]
fn an_external_ref_in_a_values_schema_says_what_to_do() {
    let err = refused(|p| {
        p.write(
            "components/web/values.schema.json",
            "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"replicas\": {\"$ref\": \"https://example.com/replicas.json\"}\n  }\n}\n",
        )
    });
    assert!(
        !err.contains("resolve-file") && !err.contains("custom resolver"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

/// The minimal platform committed with `kubectl` alone allowed, then, uncommitted, a change that
/// allows `sh` and makes `web` a command source that touches a file: the pull request of someone
/// who wants their code run by CI. Returns the platform and the file the command would make.
fn widening_change() -> (Platform, std::path::PathBuf) {
    let p = Platform::minimal();
    p.write(
        "strata.yaml",
        &format!(
            "{}{}",
            common::STRATA_YAML.replace("[kubectl, sh]", "[kubectl]"),
            common::POLICIES_OFF
        ),
    );
    p.git(&["init", "-q", "-b", "main"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-q", "-m", "the platform"]);
    let marker = p.path().join("ran");
    p.write(
        "strata.yaml",
        &format!("{}{}", common::STRATA_YAML, common::POLICIES_OFF),
    );
    p.write(
        "components/web/component.yaml",
        &format!(
            "{}source:\n  command: [sh, -c, 'touch {}; printf \"apiVersion: v1\\nkind: ConfigMap\\nmetadata: {{name: x}}\\n\"']\n",
            common::WEB_COMPONENT,
            marker.display()
        ),
    );
    (p, marker)
}

#[test]
fn diff_runs_only_the_commands_its_base_allows() {
    let (p, marker) = widening_change();
    let out = p.strata(&["diff"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("component `web` runs `sh`, which strata.yaml here allows (`sh`) but strata.yaml at HEAD does not"),
        "{err}"
    );
    assert!(err.contains("components/web/component.yaml:7:13"), "{err}");
    assert!(err.contains("strata diff --trust-head"), "{err}");
    assert!(!marker.exists(), "the head's command ran");

    // The person who wrote the change may run it on their own machine.
    let out = p.strata(&["diff", "--trust-head"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        marker.exists(),
        "--trust-head did not run the head's command"
    );
}

#[test]
fn render_and_validate_with_allow_from_run_only_what_that_revision_allows() {
    let (p, marker) = widening_change();
    for command in ["render", "validate"] {
        let out = p.strata(&[command, "--allow-from", "main"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(
            err.contains(
                "component `web` runs `sh`, which strata.yaml here allows (`sh`) but strata.yaml at main does not"
            ),
            "{command}: {err}"
        );
        assert!(!marker.exists(), "{command} ran the change's command");
    }
    let out = p.strata(&["render", "--allow-from", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--allow-from no-such-branch: no such revision"),
        "{}",
        stderr(&out)
    );
    // Without the flag the render is the author's own, and runs what strata.yaml allows.
    let out = p.strata(&["render"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(marker.exists());
}

#[test]
fn a_change_that_only_widens_the_allow_list_renders_and_diff_says_so() {
    let (p, _) = widening_change();
    p.write("components/web/component.yaml", common::WEB_COMPONENT);
    let out = p.strata(&["render", "--allow-from", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = p.strata(&["diff"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        err,
        "warning: the head's strata.yaml allows `sh` as a command source, which strata.yaml at HEAD does not; no command source of the head ran it here, and none will in CI until the change to strata.yaml is merged on its own\n"
    );
}
