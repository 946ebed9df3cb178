//! Helm charts as a component source, and patches of rendered objects from layers, on real
//! charts rendered by Helm's engine (the `helm` on PATH; tools/helm's in CI, installed by the
//! harness when missing: `common::path_with_helm`).

mod common;

use common::{Platform, path_with_helm, stderr, stdout};

const STRATA_YAML: &str =
    "output: {repoURL: https://git.example.com/out.git}\nsources:\n  commands: [helm template]\n";

const CHART_YAML: &str = "apiVersion: v2\nname: web\nversion: 1.0.0\nkubeVersion: \">= 1.27.0-0\"\ndependencies:\n  - name: sub\n    version: 1.0.0\n    condition: sub.enabled\n";

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/managed-by: Helm
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: {{ .Values.image | quote }}
          env:
            - name: LEVEL
              value: {{ .Values.level | quote }}
        - name: sidecar
          image: "busybox:1.36"
"#;

const CONFIGMAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-facts
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  namespace: {{ .Release.Namespace | quote }}
  layers: {{ printf "%s %s %s %s" .Values.level .Values.fromRoot .Values.fromEnv .Values.fromCluster | quote }}
  {{- with .Values.data }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
"#;

const MONITOR: &str = r#"{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: web}}
  endpoints: [{port: http}]
{{- end }}
"#;

const HOOKS: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: "migrate:1.0"}]
---
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
spec:
  containers: [{name: test, image: "busybox:1.36"}]
"#;

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";

const SUB_CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  domain: {{ .Values.global.domain | quote }}\n  own: {{ .Values.own | quote }}\n";

/// A platform whose one component, `web`, renders the chart `charts/web` (a Deployment, a
/// ConfigMap of what the chart saw, a ServiceMonitor when the API exists, a hook Job, a test
/// Pod, a CRD and a subchart), its digest recorded with `strata vendor`.
fn chart_platform() -> Platform {
    let p = Platform::minimal();
    p.write(
        "strata.yaml",
        &format!("{STRATA_YAML}{}", common::POLICIES_OFF),
    );
    p.remove("components/web/templates/deployment.yaml");
    p.write(
        "components/web/component.yaml",
        &format!(
            "{}source:\n  helm:\n    chart: charts/web\n    version: 1.0.0\n",
            common::WEB_COMPONENT
        ),
    );
    p.write(
        "components/web/values.yaml",
        "replicas: 1\nimage: nginx:1.27\nlevel: defaults\n",
    );
    p.write(
        "components/web/values.schema.json",
        r#"{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 1}}, "required": ["replicas"]}"#,
    );
    let chart = "components/web/charts/web";
    p.write(&format!("{chart}/Chart.yaml"), CHART_YAML);
    p.write(
        &format!("{chart}/values.yaml"),
        "replicas: 1\nimage: nginx\nlevel: chart\nfromRoot: \"-\"\nfromEnv: \"-\"\nfromCluster: \"-\"\nsub:\n  enabled: true\n",
    );
    p.write(&format!("{chart}/templates/deployment.yaml"), DEPLOYMENT);
    p.write(&format!("{chart}/templates/configmap.yaml"), CONFIGMAP);
    p.write(&format!("{chart}/templates/servicemonitor.yaml"), MONITOR);
    p.write(&format!("{chart}/templates/hooks.yaml"), HOOKS);
    p.write(&format!("{chart}/templates/NOTES.txt"), "Thanks.\n");
    p.write(&format!("{chart}/crds/widgets.yaml"), CRD);
    p.write(
        &format!("{chart}/charts/sub/Chart.yaml"),
        "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
    );
    p.write(
        &format!("{chart}/charts/sub/values.yaml"),
        "own: sub-default\n",
    );
    p.write(&format!("{chart}/charts/sub/templates/cm.yaml"), SUB_CM);
    p.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.com}\n  web: {fromRoot: root}\n",
    );
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\n    fromEnv: prod\n",
    );
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster:\n  role: workload\n  server: https://prod-sto2.example.com:6443\n  kubernetesVersion: \"1.31\"\n  apiVersions: monitoring.coreos.com/v1\nvalues:\n  web: {replicas: 3, fromCluster: sto2}\n",
    );
    p.write(
        "environments/dev/sto2/workload.cluster.yaml",
        "cluster:\n  role: workload\n  server: https://dev-sto2.example.com:6443\n  kubernetesVersion: \"1.29\"\n",
    );
    let v = p.strata(&["vendor", "web"]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    p
}

fn read(p: &Platform, rel: &str) -> String {
    std::fs::read_to_string(p.path().join("rendered").join(rel))
        .unwrap_or_else(|e| panic!("rendered/{rel}: {e}"))
}

fn exists(p: &Platform, rel: &str) -> bool {
    p.path().join("rendered").join(rel).exists()
}

fn render_ok(p: &Platform) -> String {
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o)
}

/// Renders the good chart platform, applies `break_it`, renders again: exit 1, the previous
/// output untouched; returns stderr.
fn fails(break_it: impl FnOnce(&Platform)) -> String {
    let p = chart_platform();
    render_ok(&p);
    let before = p.rendered();
    break_it(&p);
    let bad = p.strata(&["render"]);
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(p.rendered(), before, "a failed render changed the output");
    err
}

#[test]
fn values_from_four_layers_and_the_global_values_reach_the_chart() {
    let p = chart_platform();
    render_ok(&p);
    let facts = read(&p, "prod/sto2/workload/web/configmap-web-facts.yaml");
    assert!(facts.contains("layers: defaults root prod sto2"), "{facts}");
    assert!(facts.contains("namespace: web"), "{facts}");
    let deployment = read(&p, "prod/sto2/workload/web/deployment-web.yaml");
    assert!(deployment.contains("replicas: 3"), "{deployment}");
    // strata's labels win over the chart's own managed-by.
    assert!(
        deployment.contains("app.kubernetes.io/managed-by: strata"),
        "{deployment}"
    );
    let dev = read(&p, "dev/sto2/workload/web/configmap-web-facts.yaml");
    assert!(dev.contains("layers: defaults root - -"), "{dev}");
    // The subchart renders, and sees the platform's global values.
    let sub = read(&p, "prod/sto2/workload/web/configmap-sub.yaml");
    assert!(sub.contains("domain: example.com"), "{sub}");
    assert!(sub.contains("own: sub-default"), "{sub}");
}

#[test]
fn the_clusters_kubernetes_version_and_api_versions_reach_capabilities() {
    let p = chart_platform();
    render_ok(&p);
    let prod = read(&p, "prod/sto2/workload/web/configmap-web-facts.yaml");
    let dev = read(&p, "dev/sto2/workload/web/configmap-web-facts.yaml");
    assert!(prod.contains("kube: v1.31.0"), "{prod}");
    assert!(dev.contains("kube: v1.29.0"), "{dev}");
    assert!(exists(&p, "prod/sto2/workload/web/servicemonitor-web.yaml"));
    assert!(!exists(&p, "dev/sto2/workload/web/servicemonitor-web.yaml"));
}

#[test]
fn hooks_are_kept_test_hooks_left_out_and_crds_included() {
    let p = chart_platform();
    render_ok(&p);
    let job = read(&p, "prod/sto2/workload/web/job-web-migrate.yaml");
    assert!(
        job.contains("helm.sh/hook: pre-install,pre-upgrade"),
        "{job}"
    );
    assert!(
        job.contains("helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded"),
        "{job}"
    );
    assert!(!exists(&p, "prod/sto2/workload/web/pod-web-test.yaml"));
    let crd = "prod/sto2/workload/web/customresourcedefinition-widgets.example.com.yaml";
    assert!(exists(&p, crd));
    // includeCRDs: false leaves them out.
    let component = std::fs::read_to_string(p.path().join("components/web/component.yaml"))
        .expect("component.yaml");
    p.write(
        "components/web/component.yaml",
        &component.replace(
            "    version: 1.0.0\n",
            "    version: 1.0.0\n    includeCRDs: false\n",
        ),
    );
    render_ok(&p);
    assert!(!exists(&p, crd));
}

#[test]
fn objects_out_equal_objects_in_with_the_type_of_every_scalar() {
    let p = chart_platform();
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\n    data:\n      zero: \"010\"\n      yes: \"true\"\n      version: \"1.10\"\n      empty: \"\"\n      tilde: \"~\"\n",
    );
    render_ok(&p);
    let facts = read(&p, "prod/sto2/workload/web/configmap-web-facts.yaml");
    for line in [
        "zero: \"010\"",
        "\"yes\": \"true\"",
        "version: \"1.10\"",
        "empty: \"\"",
        "tilde: \"~\"",
    ] {
        assert!(facts.contains(line), "{line} in\n{facts}");
    }
}

/// A `helm` in `p`'s `bin/` that logs each run's subcommand to `helm-runs`, says the version
/// in `helm-version` when asked, and runs the real helm for the rest; and the `PATH` that
/// finds it first.
fn logging_helm(p: &Platform) -> std::ffi::OsString {
    let bin = p.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let real = std::env::split_paths(&path_with_helm())
        .map(|d| d.join("helm"))
        .find(|h| h.is_file())
        .expect("helm");
    let wrapper = bin.join("helm");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1\" >> {log}\nif [ \"$1\" = version ]; then cat {version}; exit 0; fi\nexec {real} \"$@\"\n",
            log = p.path().join("helm-runs").display(),
            version = p.path().join("helm-version").display(),
            real = real.display()
        ),
    )
    .expect("write");
    p.write("helm-version", "version.BuildInfo{Version:\"v3.16.0\"}\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&path_with_helm()));
    std::env::join_paths(dirs).expect("PATH")
}

/// The subcommands [`logging_helm`] ran, in order.
fn helm_runs(p: &Platform) -> Vec<String> {
    std::fs::read_to_string(p.path().join("helm-runs"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `strata render` in `p` with `path`; checks that it succeeds and returns stdout.
fn render_with(p: &Platform, path: &std::ffi::OsStr) -> String {
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .env("PATH", path)
        .current_dir(p.path())
        .arg("render")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn a_no_op_render_runs_no_helm_template_and_a_chart_edit_renders_again() {
    let p = chart_platform();
    let path = logging_helm(&p);
    let render = || render_with(&p, &path);
    let templates = || {
        helm_runs(&p)
            .iter()
            .filter(|run| run.as_str() == "template")
            .count()
    };
    render();
    assert_eq!(templates(), 2, "one helm run per distinct set of values");
    let again = render();
    assert_eq!(
        templates(),
        2,
        "a render with nothing to do ran helm template: {again}"
    );
    assert_eq!(
        helm_runs(&p),
        ["version", "template", "template"],
        "a render with nothing to do started helm: {again}"
    );
    let runs = templates;

    // An edit of a vendored template is refused until recorded, then renders.
    p.write(
        "components/web/charts/web/templates/configmap.yaml",
        &CONFIGMAP.replace("  namespace:", "  edited: \"yes\"\n  namespace:"),
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error[chart-digest]: component `web`: the vendored chart components/web/charts/web does not match the digest component.yaml records"),
        "{}",
        stderr(&o)
    );
    let v = p.strata(&["vendor", "web"]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    render();
    assert_eq!(runs(), 4, "the edited chart rendered again");
    let facts = read(&p, "prod/sto2/workload/web/configmap-web-facts.yaml");
    assert!(facts.contains("edited: \"yes\""), "{facts}");
}

/// Issue 20: the render cache knew helm by its file's path, size and modification time only,
/// so another helm put in its place with the same size and time (a wrapper script rewritten, a
/// package manager that keeps times) reused charts the old one rendered. The helm file's inode
/// and change time are part of the key now, with what that helm says its version is; a helm
/// that is still the same file is not asked again, so a render with nothing to do starts none.
#[test]
fn another_helm_in_the_same_place_renders_every_chart_again() {
    let p = chart_platform();
    let path = logging_helm(&p);
    render_with(&p, &path);
    let wrapper = p.path().join("bin/helm");
    let stamp = |file: &std::path::Path| {
        let m = std::fs::metadata(file).expect("stat");
        (m.len(), m.modified().expect("mtime"))
    };
    let before = stamp(&wrapper);

    // Another helm with the same bytes, size and modification time: a new file in its place.
    p.write("helm-version", "version.BuildInfo{Version:\"v3.17.0\"}\n");
    let bytes = std::fs::read(&wrapper).expect("read the wrapper");
    std::fs::remove_file(&wrapper).expect("remove the wrapper");
    std::fs::write(&wrapper, bytes).expect("write the wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    std::fs::File::options()
        .write(true)
        .open(&wrapper)
        .and_then(|f| f.set_modified(before.1))
        .expect("set the modification time");
    assert_eq!(stamp(&wrapper), before);
    let out = render_with(&p, &path);
    assert_eq!(
        helm_runs(&p),
        [
            "version", "template", "template", "version", "template", "template"
        ],
        "the charts rendered again: {out}"
    );
    // The same bytes: the helm behind the wrapper is really the same.
    assert!(
        out.starts_with("rendered 2 clusters, 11 objects into "),
        "{out}"
    );

    // The same helm again: nothing to do, and no helm started.
    let out = render_with(&p, &path);
    assert_eq!(helm_runs(&p).len(), 6, "{out}");
    assert!(out.contains(" 0 written"), "{out}");

    // What the cache remembers of a helm is only a hint: a record planted for this helm file
    // with another version renders the charts again, it cannot make strata skip them.
    let record = p.path().join("rendered/.strata-cache/helm");
    let text = std::fs::read_to_string(&record).expect("the helm record");
    std::fs::write(&record, text.replace("v3.17.0", "v9.9.9")).expect("plant");
    let out = render_with(&p, &path);
    assert_eq!(helm_runs(&p).len(), 8, "{out}");
}

#[test]
fn a_chart_version_other_than_component_yamls_is_an_error_naming_both() {
    let err = fails(|p| {
        p.write(
            "components/web/charts/web/Chart.yaml",
            &CHART_YAML.replace("version: 1.0.0\nkubeVersion", "version: 1.1.0\nkubeVersion"),
        )
    });
    assert!(
        err.contains("error[chart]: component `web` expects chart version 1.0.0, but components/web/charts/web/Chart.yaml says 1.1.0"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn a_digest_mismatch_is_an_error_until_recorded_again() {
    let err = fails(|p| {
        p.write(
            "components/web/charts/web/templates/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: slipped-in}\n",
        )
    });
    insta::assert_snapshot!(err);
}

#[test]
fn helm_missing_is_a_diagnostic_that_says_where_helm_comes_from() {
    let p = chart_platform();
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .env("PATH", "/nonexistent")
        .current_dir(p.path())
        .arg("render")
        .output()
        .expect("run");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("error[helm-missing]"), "{err}");
    assert!(err.contains("tools/helm/install"), "{err}");
    assert!(!p.path().join("rendered").exists());
    insta::assert_snapshot!(err);
}

#[test]
fn a_failing_chart_shows_helms_stderr_and_the_template_line() {
    let err = fails(|p| {
        p.write(
            "components/web/charts/web/templates/fail.yaml",
            "{{- if gt (int .Values.replicas) 2 }}\n{{- fail \"at most 2 replicas, please\" }}\n{{- end }}\n",
        );
        let v = p.strata(&["vendor", "web"]);
        assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    });
    assert!(err.contains("error[helm]: helm could not render the chart components/web/charts/web of component `web`"), "{err}");
    assert!(err.contains("at most 2 replicas, please"), "{err}");
    assert!(
        err.contains("components/web/charts/web/templates/fail.yaml:2"),
        "{err}"
    );
    assert!(err.contains("cluster: prod-sto2-workload"), "{err}");
}

#[test]
fn a_chart_must_be_allowed_lie_inside_its_component_and_hold_no_link_out() {
    let err = fails(|p| {
        p.write(
            "strata.yaml",
            &format!(
                "output: {{repoURL: https://git.example.com/out.git}}\n{}",
                common::POLICIES_OFF
            ),
        )
    });
    assert!(
        err.contains("error[command-not-allowed]: component `web` renders a Helm chart, but strata.yaml does not allow `helm template`"),
        "{err}"
    );
    let err = fails(|p| {
        let c =
            std::fs::read_to_string(p.path().join("components/web/component.yaml")).expect("read");
        p.write(
            "components/web/component.yaml",
            &c.replace("chart: charts/web", "chart: ../other/charts/web"),
        )
    });
    assert!(
        err.contains("error[chart]: component `web`: the chart `../other/charts/web` is not a path inside the component"),
        "{err}"
    );
    #[cfg(unix)]
    {
        let err = fails(|p| {
            std::os::unix::fs::symlink(
                p.path().join("environments/prod/layer.yaml"),
                p.path().join("components/web/charts/web/files-prod.yaml"),
            )
            .expect("link");
        });
        assert!(
            err.contains("components/web/charts/web/files-prod.yaml is a symbolic link to environments/prod/layer.yaml, outside the chart components/web/charts/web"),
            "{err}"
        );
    }
}

#[test]
fn a_chart_archive_vendors_into_the_component() {
    let p = chart_platform();
    render_ok(&p);
    let before = read(&p, "prod/sto2/workload/web/configmap-web-facts.yaml");
    // A chart archive as `helm pull` gives it: one top directory, named after the chart.
    let staging = tempfile::tempdir().expect("tmp");
    let src = p.path().join("components/web/charts/web");
    let copy = staging.path().join("web");
    let o = std::process::Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(&copy)
        .output()
        .expect("cp");
    assert!(o.status.success());
    std::fs::write(
        copy.join("Chart.yaml"),
        CHART_YAML.replace("version: 1.0.0\nkubeVersion", "version: 1.2.0\nkubeVersion"),
    )
    .expect("write");
    std::fs::write(
        copy.join("templates/configmap.yaml"),
        CONFIGMAP.replace("  namespace:", "  pulled: \"1.2.0\"\n  namespace:"),
    )
    .expect("write");
    let archive = staging.path().join("web-1.2.0.tgz");
    let o = std::process::Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .arg("-C")
        .arg(staging.path())
        .arg("web")
        .output()
        .expect("tar");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = p.strata(&["vendor", "web", archive.to_str().expect("utf8")]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    let out = stdout(&v);
    assert!(out.starts_with("unpacked "), "{out}");
    assert!(
        out.contains("recorded components/web/charts/web in components/web/component.yaml: version 1.2.0, digest sha256:"),
        "{out}"
    );
    let component =
        std::fs::read_to_string(p.path().join("components/web/component.yaml")).expect("read");
    assert!(
        component.contains("    version: 1.2.0\n    digest: sha256:"),
        "{component}"
    );
    render_ok(&p);
    let after = read(&p, "prod/sto2/workload/web/configmap-web-facts.yaml");
    assert_ne!(before, after);
    assert!(after.contains("pulled: \"1.2.0\""), "{after}");
}

#[test]
fn patches_of_both_kinds_apply_in_layer_order_the_cluster_file_last() {
    let p = chart_platform();
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  web:\n    replicas: 2\n    fromEnv: prod\npatches:\n  web:\n    - target: {kind: Deployment, name: web}\n      patch:\n        spec:\n          template:\n            spec:\n              tolerations: [{operator: Exists}]\n              containers:\n                - name: web\n                  env: [{name: ZONE, value: \"a\"}]\n    - target: {kind: ConfigMap, name: web-facts}\n      jsonPatch:\n        - {op: add, path: /metadata/annotations, value: {}}\n        - {op: add, path: /metadata/annotations/example.com~1owner, value: platform}\n",
    );
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster:\n  role: workload\n  server: https://prod-sto2.example.com:6443\n  kubernetesVersion: \"1.31\"\nvalues:\n  web: {replicas: 3}\npatches:\n  web:\n    - target: {kind: Deployment, name: web, group: apps}\n      patch:\n        spec:\n          template:\n            spec:\n              containers:\n                - name: web\n                  env: [{name: ZONE, value: \"b\"}]\n                - {name: sidecar, $patch: delete}\n",
    );
    render_ok(&p);
    let d = read(&p, "prod/sto2/workload/web/deployment-web.yaml");
    // The env list merged by name: LEVEL kept, ZONE set by the env layer, then the cluster file.
    assert!(d.contains("- name: LEVEL"), "{d}");
    assert!(d.contains("- name: ZONE\n          value: b"), "{d}");
    assert!(!d.contains("value: a"), "{d}");
    assert!(!d.contains("sidecar"), "{d}");
    assert!(d.contains("tolerations:\n      - operator: Exists"), "{d}");
    let cm = read(&p, "prod/sto2/workload/web/configmap-web-facts.yaml");
    assert!(cm.contains("example.com/owner: platform"), "{cm}");
    // dev has no patch.
    let dev = read(&p, "dev/sto2/workload/web/deployment-web.yaml");
    assert!(
        dev.contains("sidecar") && !dev.contains("tolerations"),
        "{dev}"
    );

    // explain names the patches that set a field, in order.
    let o = p.strata(&[
        "explain",
        "prod-sto2-workload",
        "web",
        "Deployment/web",
        "spec.template.spec.containers",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("rendered by components/web/charts/web/templates/deployment.yaml"),
        "{out}"
    );
    assert!(
        out.ends_with("set by these patches, in order (the last one wins):\n  1. environments/prod/layer.yaml:7                   patch       /spec/template/spec/containers/0/env/1\n  2. environments/prod/sto2/workload.cluster.yaml:9   patch       /spec/template/spec/containers/0/env/1/value, /spec/template/spec/containers/1\n"),
        "{out}"
    );
    let o = p.strata(&[
        "explain",
        "prod-sto2-workload",
        "web",
        "Deployment/web",
        "spec.replicas",
    ]);
    assert_eq!(
        stdout(&o),
        "prod-sto2-workload web Deployment/web spec.replicas = 3\n\nrendered by components/web/charts/web/templates/deployment.yaml\nno patch of a layer sets it\n"
    );
}

#[test]
fn a_patch_that_matches_nothing_names_its_file_and_line() {
    let err = fails(|p| {
        p.write(
            "environments/prod/layer.yaml",
            "values:\n  web: {replicas: 2}\npatches:\n  web:\n    - target: {kind: Deployment, name: wbe}\n      patch: {spec: {paused: true}}\n",
        )
    });
    assert!(
        err.contains("error[patch-target]: the patch targets Deployment/wbe of web, which renders no such object"),
        "{err}"
    );
    assert!(err.contains("environments/prod/layer.yaml:5:7"), "{err}");
    insta::assert_snapshot!(err);
    // The README shows this very message.
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).expect("README");
    let shown = err.trim_end().trim_end_matches("1 error").trim_end();
    assert!(readme.contains(shown), "README.md does not show:\n{shown}");
}

#[test]
fn the_readme_shows_what_explain_says_of_a_patched_field_of_the_example() {
    common::helm_in_process();
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(common::repo_root())
        .args([
            "explain",
            "prod-sto2-management",
            "harbor",
            "Deployment/harbor-core",
            "spec.template.spec.topologySpreadConstraints",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let shown = format!(
        "$ strata explain prod-sto2-management harbor Deployment/harbor-core spec.template.spec.topologySpreadConstraints\n{}```",
        stdout(&o)
    );
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).expect("README");
    assert!(readme.contains(&shown), "README.md does not show:\n{shown}");
}

#[test]
fn a_json_patch_that_fails_names_the_line_of_its_operation() {
    let err = fails(|p| {
        p.write(
            "environments/prod/layer.yaml",
            "values:\n  web: {replicas: 2}\npatches:\n  web:\n    - target: {kind: ConfigMap, name: web-facts}\n      jsonPatch:\n        - {op: test, path: /data/namespace, value: web}\n        - {op: replace, path: /data/missing/deeper, value: x}\n",
        )
    });
    assert!(
        err.contains("error[patch]: the patch of web could not be applied to ConfigMap/web-facts"),
        "{err}"
    );
    assert!(err.contains("environments/prod/layer.yaml:8:1"), "{err}");
}

#[test]
fn a_patch_of_a_templates_component_works_too() {
    let p = Platform::minimal();
    p.write(
        "environments/prod/layer.yaml",
        "values:\n  web: {replicas: 2}\npatches:\n  web:\n    - target: {kind: Deployment, name: web}\n      patch: {spec: {template: {spec: {containers: [{name: web, args: [--patched]}]}}}}\n",
    );
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = read(&p, "prod/sto2/workload/web/deployment-web.yaml");
    assert!(d.contains("- --patched"), "{d}");
    assert!(d.contains("image: nginx:1.27"), "{d}");
}

#[test]
fn diff_renders_the_chart_as_it_was_at_each_commit() {
    use common::promotion::git;
    let p = chart_platform();
    git(p.path(), &["init", "--quiet", "-b", "main"], &[]);
    git(p.path(), &["add", "-A"], &[]);
    git(p.path(), &["commit", "--quiet", "-m", "chart 1.0.0"], &[]);
    // Edit a vendored template on purpose, record it, commit; then edit the working tree too.
    p.write(
        "components/web/charts/web/templates/configmap.yaml",
        &CONFIGMAP.replace("  namespace:", "  edition: \"two\"\n  namespace:"),
    );
    let v = p.strata(&["vendor", "web"]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    git(p.path(), &["commit", "--quiet", "-am", "chart edited"], &[]);
    p.write(
        "components/web/charts/web/templates/configmap.yaml",
        &CONFIGMAP.replace("  namespace:", "  edition: \"three\"\n  namespace:"),
    );
    let v = p.strata(&["vendor", "web"]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    // HEAD~1 against HEAD: the committed edit, whatever the working tree holds.
    let o = p.strata(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{}{out}", stderr(&o));
    assert!(out.contains("+  edition: two"), "{out}");
    assert!(!out.contains("three"), "{out}");
    // HEAD against the working tree.
    let o = p.strata(&["diff"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{}{out}", stderr(&o));
    assert!(
        out.contains("-  edition: two") && out.contains("+  edition: three"),
        "{out}"
    );
}

/// A pull request that allows helm and turns a component into a chart in one change: diff
/// renders the head only with what the base allows, so helm does not run.
#[test]
fn diff_does_not_run_a_chart_that_only_the_change_allows() {
    let p = chart_platform();
    let with_helm = std::fs::read_to_string(p.path().join("strata.yaml")).expect("strata.yaml");
    let component =
        std::fs::read_to_string(p.path().join("components/web/component.yaml")).expect("web");
    // The base: no helm allowed, and web rendered from a template.
    p.write(
        "strata.yaml",
        &with_helm.replace("helm template", "kubectl kustomize"),
    );
    p.write("components/web/component.yaml", common::WEB_COMPONENT);
    p.write(
        "components/web/templates/deployment.yaml",
        common::WEB_TEMPLATE,
    );
    p.git(&["init", "-q", "-b", "main"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-q", "-m", "base"]);
    // The change: helm allowed, and web a chart.
    p.write("strata.yaml", &with_helm);
    p.write("components/web/component.yaml", &component);
    p.remove("components/web/templates/deployment.yaml");
    let out = p.strata(&["diff"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("component `web` runs `helm`, which strata.yaml here allows (`helm template`) but strata.yaml at HEAD does not"),
        "{err}"
    );
    let out = p.strata(&["diff", "--trust-head"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}
