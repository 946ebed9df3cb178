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
fn a_render_with_no_change_stops_before_reading_the_cache() {
    let p = Platform::minimal();
    render(&p);
    let cache = p.path().join("rendered/.strata-cache");
    // Without the record of the last render, a no-op goes through the cache, and records it.
    std::fs::remove_file(cache.join("last-render")).expect("the first render records itself");
    let through_cache = render(&p);
    assert_eq!(through_cache["cached"], 2, "{through_cache}");
    // With the record, the same no-op needs neither the cache index nor any parsing, and says
    // exactly what the one through the cache said.
    std::fs::write(cache.join("index.json"), "not the cache").expect("write");
    let quick = render(&p);
    assert_eq!(quick, through_cache);
    assert_fresh(&p);
}

#[test]
fn a_file_changed_since_the_last_render_is_checked_against_strata_own_schemas() {
    let p = Platform::minimal();
    render(&p);
    assert!(
        p.path()
            .join("rendered/.strata-cache/last-render")
            .is_file(),
        "the render did not record the files it read"
    );
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\nvalus: {}\n",
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("environments/prod/layer.yaml:4"), "{err}");
    assert!(err.contains("valus"), "{err}");
}

#[test]
fn the_load_does_not_check_again_the_files_a_past_render_vouched_for() {
    let world = strata::world::MemWorld::new("test")
        .with(
            "strata.yaml",
            &format!("{}{}", common::STRATA_YAML, common::POLICIES_OFF),
        )
        .with("components/web/component.yaml", common::WEB_COMPONENT)
        .with("components/web/values.yaml", common::WEB_VALUES)
        .with("components/web/values.schema.json", common::WEB_SCHEMA)
        .with(
            "components/web/templates/deployment.yaml",
            common::WEB_TEMPLATE,
        )
        .with(
            "environments/dev/sto2/workload.cluster.yaml",
            "cluster: {role: workload, server: https://dev-sto2.example.com:6443}\nvalus: {}\n",
        );
    let checked = strata::load::load(&world).expect_err("an unknown key");
    let text = format!("{:?}", checked.diagnostics);
    assert!(text.contains("valus"), "{text}");
    // The same file, vouched for, is not checked against the schema again.
    let vouched = strata::load::load_vouched(&world, &|path| path.ends_with(".cluster.yaml"));
    assert!(
        vouched.is_ok(),
        "{:?}",
        vouched.err().map(|f| f.diagnostics)
    );
}

#[test]
fn a_render_that_warned_warns_again() {
    let p = Platform::minimal();
    let strata_yaml = std::fs::read_to_string(p.path().join("strata.yaml")).expect("read");
    p.write(
        "strata.yaml",
        &strata_yaml.replace("image-pinned: off", "image-pinned: warn"),
    );
    p.write(
        "components/web/values.yaml",
        &common::WEB_VALUES.replace("nginx:1.27", "nginx:latest"),
    );
    for run in ["first", "second", "third"] {
        let o = p.strata(&["render"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(
            err.matches("warning[image-pinned]").count(),
            2,
            "the {run} render: {err}"
        );
        if run != "first" {
            assert!(
                stdout(&o).contains("(2 unchanged since the last render)"),
                "{}",
                stdout(&o)
            );
        }
    }
}

#[test]
fn a_partial_render_leaves_no_record_that_the_output_is_current() {
    let p = Platform::minimal();
    render(&p);
    let record = p.path().join("rendered/.strata-cache/last-render");
    assert!(record.exists());
    let o = p.strata(&["render", "--cluster", "dev-sto2-workload"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let left = std::fs::read_to_string(&record).expect("the record is marked, not deleted");
    assert!(
        left.starts_with('#'),
        "a partial render may have changed the output, and leaves the record marked unfinished: {left:.40}"
    );
    let r = render(&p);
    assert_eq!(r["cached"], 2, "{r}");
    let record = std::fs::read_to_string(&record).expect("read");
    assert!(record.starts_with("strata last-render "), "{record:.40}");
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

const BAD_SCHEMA: &str = r#"{"type": "object", "properties": {"replicas": {"type": 5}}}"#;
const BAD_SCHEMA_ERROR: &str = "is not a valid JSON Schema: at /properties/replicas/type:";

#[test]
fn a_schema_that_does_not_compile_is_reported_with_or_without_a_cache() {
    let p = Platform::minimal();
    render(&p);
    let before = p.rendered();
    p.write("components/web/values.schema.json", BAD_SCHEMA);
    // Once through the cache and once without it: the same error, and nothing written.
    for args in [
        &["render"][..],
        &["render", "--cluster", "prod-sto2-workload"][..],
    ] {
        let o = p.strata(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "components/web/values.schema.json {BAD_SCHEMA_ERROR}"
            )),
            "{args:?}: {err}"
        );
        assert_eq!(err.matches("error[values-schema]").count(), 1, "{err}");
        assert!(
            p.rendered() == before,
            "{args:?}: a failed render changed the output"
        );
    }
}

#[test]
fn a_schema_that_does_not_compile_is_reported_even_where_no_cluster_runs_its_component() {
    let p = Platform::minimal();
    render(&p);
    // `idle` runs on no cluster, so no cluster checks values against its schema.
    p.write(
        "components/idle/component.yaml",
        "name: idle\nversion: \"1.0\"\nnamespace: idle\nroles: []\n",
    );
    p.write("components/idle/values.schema.json", BAD_SCHEMA);
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stderr(&o).contains(&format!(
            "components/idle/values.schema.json {BAD_SCHEMA_ERROR}"
        )),
        "{}",
        stderr(&o)
    );
    // A broken layer ends the load first; the schema's error is still in the same report.
    p.write("environments/layer.yaml", "values: [\n");
    let err = stderr(&p.strata(&["render"]));
    assert!(err.contains("error[yaml]"), "{err}");
    assert!(err.contains(BAD_SCHEMA_ERROR), "{err}");
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
fn an_output_file_edited_to_another_size_is_written_again_beside_a_source_change() {
    let p = Platform::minimal();
    render(&p);
    // prod changes; dev does not, but its file on disk is no longer the one strata wrote.
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 4}\n",
    );
    let dev = p
        .path()
        .join("rendered/dev/sto2/workload/web/deployment-web.yaml");
    let mut edited = std::fs::read_to_string(&dev).expect("read");
    edited.push_str("# edited by hand\n");
    std::fs::write(&dev, edited).expect("write");
    let r = render(&p);
    assert_eq!(r["rendered"], 2, "{r}");
    assert_fresh(&p);
}

#[test]
fn a_deleted_file_of_a_cluster_the_leak_rule_reads_again_is_written_again() {
    let p = Platform::minimal();
    render(&p);
    // A new string in prod changes what prod owns, so the leak rule reads dev's unchanged
    // objects again, from files of which one is gone.
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\n    args: !append [--prod, --fast]\n",
    );
    let dev = p
        .path()
        .join("rendered/dev/sto2/workload/web/deployment-web.yaml");
    std::fs::remove_file(&dev).expect("rm");
    let o = p.strata(&["render", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dev.is_file(), "dev's file was not written again");
    assert_fresh(&p);
}

#[test]
fn a_deleted_argo_cd_file_of_an_environment_is_written_again() {
    let p = Platform::minimal();
    render(&p);
    let root_app = p.path().join("rendered/prod/argocd/root.yaml");
    std::fs::remove_file(&root_app).expect("rm");
    let r = render(&p);
    assert_eq!(r["written"], 1, "{r}");
    assert!(root_app.is_file());
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
fn a_cache_that_shrank_is_rewritten_whole() {
    let p = Platform::minimal();
    render(&p);
    p.remove("environments/dev/sto2/workload.cluster.yaml");
    render(&p);
    // Both cache files were rewritten in place over longer ones: nothing of the old is left
    // at their ends.
    let cache = p.path().join("rendered/.strata-cache");
    let index = std::fs::read(cache.join("index.json")).expect("read");
    serde_json::from_slice::<serde_json::Value>(&index).expect("the index is whole JSON");
    let record = std::fs::read_to_string(cache.join("last-render")).expect("read");
    let last = record.lines().last().expect("a line");
    assert_eq!(
        last,
        format!("{} prod/sto2/workload/web/deployment-web.yaml", {
            let f = p
                .path()
                .join("rendered/prod/sto2/workload/web/deployment-web.yaml");
            std::fs::metadata(f).expect("stat").len()
        }),
        "{record}"
    );
    std::fs::remove_file(cache.join("last-render")).expect("remove");
    let r = render(&p);
    assert_eq!(r["cached"], 1, "{r}");
    assert_fresh(&p);
}

#[test]
fn a_cache_an_interrupted_render_left_unfinished_is_not_trusted() {
    let p = Platform::minimal();
    render(&p);
    // A render killed while it wrote leaves both cache files marked unfinished, and output
    // files the cache does not describe: here, one of the same size.
    let cache = p.path().join("rendered/.strata-cache");
    for name in ["index.json", "last-render"] {
        let mut bytes = std::fs::read(cache.join(name)).expect("read");
        bytes[0] = b'#';
        std::fs::write(cache.join(name), bytes).expect("write");
    }
    let file = p
        .path()
        .join("rendered/prod/sto2/workload/web/deployment-web.yaml");
    let text = std::fs::read_to_string(&file).expect("read");
    let edited = text.replace("web", "bew");
    assert_ne!(edited, text);
    std::fs::write(&file, edited).expect("write");
    let r = render(&p);
    assert_eq!(r["cached"], 0, "{r}");
    assert!(r["written"].as_u64().expect("n") >= 1, "{r}");
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

/// A second component, `netpol`, in the namespace of `web`: a NetworkPolicy for every pod of
/// the namespace while its `on` value is true, and any extra objects given in its template.
fn with_netpol(p: &Platform, extra: &str) {
    p.write(
        "components/netpol/component.yaml",
        "name: netpol\nversion: \"1.0\"\nnamespace: web\nroles: [workload]\n",
    );
    p.write("components/netpol/values.yaml", "on: true\n");
    p.write(
        "components/netpol/values.schema.json",
        r#"{"type": "object", "properties": {"on": {"type": "boolean"}, "note": {"type": "string"}, "clash": {"type": "boolean"}}, "additionalProperties": false}"#,
    );
    p.write(
        "components/netpol/templates/np.yaml",
        &format!(
            "{{% if values.on %}}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default\nspec:\n  podSelector: {{}}\n{{% endif %}}\n{extra}"
        ),
    );
    // The network-policy rule on; the rules the fixture's bare pods would fail, off.
    p.write(
        "strata.yaml",
        &format!(
            "{}{}",
            common::STRATA_YAML,
            common::POLICIES_OFF.replace("    network-policy: off\n", "")
        ),
    );
}

/// Sets the prod cluster's values (web's replicas and `values`), renders, and returns stderr
/// of the render, which must fail.
fn render_fails_with_prod_values(p: &Platform, values: &str) -> String {
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        &format!("cluster: {{role: workload, server: https://prod-sto2.example.com:6443}}\nvalues:\n  web: {{replicas: 3}}\n  {values}\n"),
    );
    let o = p.strata(&["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    err
}

#[test]
fn a_values_change_to_one_component_renders_that_component_only() {
    let p = Platform::minimal();
    with_netpol(&p, "");
    let first = render(&p);
    let deployment = p
        .path()
        .join("rendered/prod/sto2/workload/web/deployment-web.yaml");
    let before = std::fs::metadata(&deployment).expect("web").modified().ok();
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 3}\n  netpol: {on: true, note: x}\n",
    );
    let r = render(&p);
    // The prod cluster changed, but only netpol's inputs did: web is neither rendered nor
    // written, and the counts still cover the whole cluster.
    assert_eq!(r["cached"], 1, "{r}");
    assert_eq!(r["components_rendered"], 1, "{r}");
    assert_eq!(first["components_rendered"], 4, "{first}");
    assert_eq!(r["written"], 0, "{r}");
    assert_eq!(r["files"], first["files"], "{r}");
    assert_eq!(r["objects"], first["objects"], "{r}");
    assert_eq!(
        std::fs::metadata(&deployment).expect("web").modified().ok(),
        before
    );
    assert_fresh(&p);
}

#[test]
fn a_changed_component_that_renders_an_unchanged_ones_object_is_a_duplicate() {
    let p = Platform::minimal();
    with_netpol(
        &p,
        "{% if values.clash is defined %}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-prod\n{% endif %}\n",
    );
    render(&p);
    let err = render_fails_with_prod_values(&p, "netpol: {on: true, clash: true}");
    assert!(
        err.contains("ConfigMap web/web-prod is rendered by both `netpol` and `web` on cluster `prod-sto2-workload`"),
        "{err}"
    );
}

#[test]
fn a_networkpolicy_removed_from_a_changed_component_uncovers_an_unchanged_ones_pods() {
    let p = Platform::minimal();
    with_netpol(&p, "");
    render(&p);
    let err = render_fails_with_prod_values(&p, "netpol: {on: false}");
    assert!(
        err.contains("error[network-policy]")
            && err.contains("prod/sto2/workload/web/deployment-web.yaml"),
        "web did not change, but its pods lost their NetworkPolicy: {err}"
    );
}

#[test]
fn a_disabled_component_takes_its_files_and_leaves_the_others() {
    let p = Platform::minimal();
    with_netpol(&p, "");
    render(&p);
    let np = p
        .path()
        .join("rendered/prod/sto2/workload/netpol/networkpolicy-default.yaml");
    assert!(np.is_file());
    // web gets a NetworkPolicy of its own first, so that netpol's going uncovers nothing.
    p.write(
        "components/web/templates/np.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\nspec:\n  podSelector: {}\n",
    );
    render(&p);
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\ncomponents:\n  netpol: false\nvalues:\n  web: {replicas: 3}\n",
    );
    let r = render(&p);
    assert!(
        r["removed"].as_u64() >= Some(2),
        "its object and its Application: {r}"
    );
    assert!(!np.exists());
    assert!(
        !p.path()
            .join("rendered/prod/argocd/apps/sto2-workload-netpol.yaml")
            .exists()
    );
    assert!(
        p.path()
            .join("rendered/prod/sto2/workload/web/deployment-web.yaml")
            .is_file()
    );
    assert_fresh(&p);
}

#[test]
fn a_directory_strata_did_not_create_is_left_as_it_was() {
    let p = Platform::minimal();
    let out = p.path().join("rendered");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not empty and strata did not create it"),
        "{}",
        stderr(&o)
    );
    // Neither the output nor the render cache went in: the directory holds what it held.
    let left: Vec<String> = walkdir::WalkDir::new(&out)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.expect("walk");
            e.path()
                .strip_prefix(&out)
                .expect("under out")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(left, ["notes.txt"]);
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).expect("read"),
        "mine"
    );
}

#[test]
fn a_first_render_into_an_empty_directory_claims_it_and_saves_the_cache() {
    let p = Platform::minimal();
    std::fs::create_dir_all(p.path().join("rendered")).expect("mkdir");
    let first = render(&p);
    assert_eq!(first["cached"], 0, "{first}");
    assert!(p.path().join("rendered/.strata-output").is_file());
    assert!(p.path().join("rendered/.strata-cache/index.json").is_file());
    let second = render(&p);
    assert_eq!(second["cached"], 2, "{second}");
    assert_fresh(&p);
}
