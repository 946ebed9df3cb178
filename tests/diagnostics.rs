//! Every bad input gets a diagnostic with file:line and exit 1, and leaves the previous output
//! untouched. One test per kind of mistake; the exact wording is snapshotted.

mod common;

use common::{Platform, stderr};

/// Renders the good platform, applies `break_it`, renders again, and returns stderr after
/// checking exit 1 and that the previous output is byte for byte unchanged.
fn fails(break_it: impl FnOnce(&Platform)) -> String {
    let p = Platform::minimal();
    let ok = p.strata(&["render"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let before = p.rendered();
    assert!(before.len() > 5);
    break_it(&p);
    let bad = p.strata(&["render"]);
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert_eq!(p.rendered(), before, "a failed render changed the output");
    let validate = p.strata(&["validate"]);
    assert_eq!(validate.status.code(), Some(1));
    assert_eq!(
        stderr(&validate),
        err,
        "validate and render report the same"
    );
    err
}

#[test]
fn malformed_yaml() {
    let err = fails(|p| {
        p.write(
            "environments/prod/layer.yaml",
            "values:\n  web: [1, 2\n  x: 3\n",
        )
    });
    assert!(err.contains("error[yaml]: invalid YAML"), "{err}");
    assert!(err.contains("environments/prod/layer.yaml:3:4"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn wrong_type_set_in_a_datacenter_layer() {
    let err = fails(|p| {
        p.write(
            "environments/prod/sto2/layer.yaml",
            "values:\n  web:\n    image: 5\n",
        )
    });
    assert!(
        err.contains("error[values-schema]: `web.image`: 5 is not of type \"string\""),
        "{err}"
    );
    assert!(
        err.contains("environments/prod/sto2/layer.yaml:3:12"),
        "{err}"
    );
    assert!(err.contains("cluster: prod-sto2-workload"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn missing_required_value() {
    let err = fails(|p| p.write("components/web/values.yaml", "replicas: 1\n"));
    assert!(
        err.contains("`web.image` is required, but no layer sets it"),
        "{err}"
    );
    assert!(err.contains("cluster `dev-sto2-workload`"), "{err}");
    assert!(
        err.contains("environments/dev/sto2/workload.cluster.yaml"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn unknown_component_in_a_layer() {
    let err = fails(|p| p.write("environments/prod/layer.yaml", "components:\n  wbe: true\n"));
    assert!(
        err.contains("error[unknown-component]: `components:` names the unknown component `wbe`"),
        "{err}"
    );
    assert!(err.contains("environments/prod/layer.yaml:2:3"), "{err}");
    assert!(err.contains("did you mean `web`?"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn unknown_top_level_key() {
    let err = fails(|p| {
        p.write(
            "environments/prod/layer.yaml",
            "valeus:\n  web: {replicas: 2}\n",
        )
    });
    assert!(
        err.contains("error[unknown-key]: unknown key `valeus` in the top level"),
        "{err}"
    );
    assert!(err.contains("environments/prod/layer.yaml:1:1"), "{err}");
    assert!(
        err.contains("the keys allowed here are: cluster, components, values"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn undefined_template_variable() {
    let err = fails(|p| {
        p.write(
            "components/web/templates/deployment.yaml",
            &common::WEB_TEMPLATE.replace("values.replicas", "values.replicaz"),
        )
    });
    assert!(
        err.contains("error[template-undefined]: undefined variable `values.replicaz`"),
        "{err}"
    );
    assert!(
        err.contains("components/web/templates/deployment.yaml:6:"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn template_calls_fail() {
    let err = fails(|p| {
        p.write(
            "components/web/templates/guard.yaml",
            "{% if values.replicas > 2 %}\n{{ fail(\"at most 2 replicas on \" ~ cluster.name) }}\n{% endif %}\n",
        )
    });
    assert!(
        err.contains(
            "error[template-fail]: the template failed: at most 2 replicas on prod-sto2-workload"
        ),
        "{err}"
    );
    assert!(
        err.contains("components/web/templates/guard.yaml:2:"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn duplicate_object_across_two_components() {
    let err = fails(|p| {
        p.write(
            "components/api/component.yaml",
            "name: api\nversion: \"2\"\nnamespace: web\nroles: [workload]\n",
        );
        p.write(
            "components/api/values.schema.json",
            "{\"type\": \"object\"}",
        );
        p.write(
            "components/api/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-dev\n",
        );
    });
    assert!(err.contains("error[duplicate]: ConfigMap web/web-dev is rendered by both `api` and `web` on cluster `dev-sto2-workload`"), "{err}");
    assert!(
        err.contains("components/web/templates/deployment.yaml"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn resource_named_with_path_traversal() {
    let err = fails(|p| {
        p.write(
            "components/web/templates/evil.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../etc/passwd\n",
        )
    });
    assert!(
        err.contains(
            "has the name \"../../etc/passwd\", which is not a valid name for a ConfigMap"
        ),
        "{err}"
    );
    assert!(
        err.contains("components/web/templates/evil.yaml:4:"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn cluster_file_with_no_role() {
    let err = fails(|p| {
        p.write(
            "environments/dev/osl2/mgmt.cluster.yaml",
            "cluster:\n  server: https://dev-osl2.example.com:6443\n",
        )
    });
    assert!(
        err.contains(
            "error[cluster]: the cluster file environments/dev/osl2/mgmt.cluster.yaml sets no role"
        ),
        "{err}"
    );
    assert!(
        err.contains("environments/dev/osl2/mgmt.cluster.yaml:1:1"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn command_source_that_exits_non_zero() {
    let err = fails(|p| {
        p.write(
            "components/web/component.yaml",
            &format!(
                "{}source:\n  command: [sh, -c, \"echo boom >&2; exit 3\"]\n",
                common::WEB_COMPONENT
            ),
        )
    });
    assert!(
        err.contains(
            "error[command]: the command source of `web` failed: `sh` exited with exit status: 3"
        ),
        "{err}"
    );
    assert!(err.contains("components/web/component.yaml:1:1"), "{err}");
    assert!(
        err.contains("boom"),
        "stderr of the command is shown: {err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn command_source_that_hangs() {
    let err = fails(|p| {
        p.write(
            "components/web/component.yaml",
            &format!(
                "{}source:\n  command: [sh, -c, \"sleep 60\"]\n  timeout: 300ms\n",
                common::WEB_COMPONENT
            ),
        )
    });
    assert!(
        err.contains("`sh` did not finish within 300ms and was killed"),
        "{err}"
    );
    assert!(err.contains("components/web/component.yaml:1:1"), "{err}");
}

#[test]
fn unlisted_program() {
    let err = fails(|p| {
        p.write(
            "components/web/component.yaml",
            &format!(
                "{}source:\n  command: [curl, http://x]\n",
                common::WEB_COMPONENT
            ),
        )
    });
    assert!(err.contains("error[command-not-allowed]: component `web` runs `curl`, which strata.yaml does not allow"), "{err}");
    assert!(err.contains("components/web/component.yaml:7:13"), "{err}");
    assert!(err.contains("commands: [curl]"), "{err}");
}

#[test]
fn several_errors_in_one_run() {
    let err = fails(|p| {
        p.write(
            "environments/prod/layer.yaml",
            "valeus: {}\ncomponents: {nope: true}\n",
        );
        p.write(
            "environments/dev/layer.yaml",
            "values:\n  web: {replicas: zero}\n",
        );
    });
    assert!(err.contains("unknown key `valeus`"), "{err}");
    assert!(err.contains("unknown component `nope`"), "{err}");
    assert!(err.ends_with("2 errors\n"), "{err}");
}

/// Issue 28, point 4: a template in plain Jinja2 style (`{%- for %}` at the start of a line) ran
/// lines together under trim_blocks/lstrip_blocks, and the hint spoke of `toyaml`/`indent`.
#[test]
fn whitespace_control_that_joins_lines_is_named_with_the_fix() {
    let err = fails(|p| {
        p.write(
            "components/web/templates/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n  annotations:\n    {%- for k in ['owner'] %}\n    {{ k }}: x\n    {%- endfor %}\n  labels:\n    a: b\n",
        )
    });
    assert!(
        err.contains("components/web/templates/configmap.yaml:6:1"),
        "{err}"
    );
    assert!(
        err.contains(
            "line 6 of the template trims whitespace with `{%-`: {%- for k in ['owner'] %}"
        ),
        "{err}"
    );
    assert!(
        err.contains("drop the `-`: `{% for k in ['owner'] %}`"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}
