//! `strata diff` on small platforms: two environments, three cluster paths, Argo CD objects.

use serde_json::{Value, json};

use crate::compare::diff::markdown::MARKDOWN_LIMIT;
use crate::compare::diff::{
    Diff, DiffError, DiffOptions, Side, Status, diff, render_human, render_json, render_markdown,
};
use crate::emit::OutputTree;

/// A cluster of the test platform and the components it runs.
struct Cluster {
    env: &'static str,
    path: &'static str,
    components: &'static [&'static str],
}

const PLATFORM: &[Cluster] = &[
    Cluster {
        env: "non-prod",
        path: "sto2/management",
        components: &["ingress-nginx"],
    },
    Cluster {
        env: "non-prod",
        path: "sto2/workload",
        components: &["ingress-nginx"],
    },
    Cluster {
        env: "prod",
        path: "osl2/workload",
        components: &["ingress-nginx"],
    },
    Cluster {
        env: "prod",
        path: "sto2/workload",
        components: &["ingress-nginx"],
    },
];

fn options() -> DiffOptions {
    DiffOptions {
        gated: vec!["prod".into()],
        ..DiffOptions::default()
    }
}

fn cluster_name(env: &str, path: &str) -> String {
    format!("{env}-{}", path.replace('/', "-"))
}

fn labels(component: &str) -> Value {
    json!({"app.kubernetes.io/managed-by": "strata", "strata.dev/component": component})
}

/// The objects one component renders, by file name.
fn component_objects(component: &str) -> Vec<(String, Value)> {
    match component {
        "ingress-nginx" => vec![
            (
                "deployment-ingress-nginx-controller.yaml".into(),
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx",
                        "labels": labels(component)},
                    "spec": {
                        "replicas": 2,
                        "selector": {"matchLabels": {"app": "ingress-nginx"}},
                        "template": {
                            "metadata": {"labels": {"app": "ingress-nginx"}},
                            "spec": {"containers": [
                                {"name": "controller",
                                 "image": "registry.k8s.io/ingress-nginx/controller:v1.11.0",
                                 "args": ["/nginx-ingress-controller", "--election-id=ingress-nginx-leader"],
                                 "ports": [{"name": "http", "containerPort": 80}, {"name": "https", "containerPort": 443}]}
                            ]}
                        }
                    }
                }),
            ),
            (
                "service-ingress-nginx-controller.yaml".into(),
                json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx",
                        "labels": labels(component)},
                    "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]}
                }),
            ),
        ],
        "cert-manager" => vec![(
            "deployment-cert-manager.yaml".into(),
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "cert-manager", "namespace": "cert-manager",
                    "labels": labels(component)},
                "spec": {"replicas": 1, "template": {"spec": {"containers": [
                    {"name": "cert-manager", "image": "quay.io/jetstack/cert-manager-controller:v1.15.0"}
                ]}}}
            }),
        )],
        _ => Vec::new(),
    }
}

fn application(env: &str, path: &str, component: &str) -> Value {
    let name = cluster_name(env, path);
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {
            "name": format!("{name}-{component}"), "namespace": "argocd",
            "labels": {"app.kubernetes.io/managed-by": "strata", "strata.dev/component": component,
                "strata.dev/cluster": name, "strata.dev/environment": env},
            "annotations": {"argocd.argoproj.io/sync-wave": "0"}
        },
        "spec": {
            "project": env,
            "destination": {"server": format!("https://{name}.example.com:6443"), "namespace": component},
            "source": {"repoURL": "https://git.example.com/platform/rendered.git",
                "targetRevision": format!("env/{env}"), "path": format!("{path}/{component}"),
                "directory": {"recurse": true}},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true},
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"]}
        }
    })
}

fn argocd_objects(env: &str) -> Vec<(String, Value)> {
    let env_labels =
        json!({"app.kubernetes.io/managed-by": "strata", "strata.dev/environment": env});
    vec![
        (
            format!("{env}/argocd/project.yaml"),
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
                "metadata": {"name": env, "namespace": "argocd", "labels": env_labels},
                "spec": {"sourceRepos": ["https://git.example.com/platform/rendered.git"]}}),
        ),
        (
            format!("{env}/argocd/root.yaml"),
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                "metadata": {"name": format!("{env}-root"), "namespace": "argocd", "labels": env_labels},
                "spec": {"project": env, "source": {"path": "argocd/apps"}}}),
        ),
    ]
}

/// Every file of a platform, as (path, object), before `edit`.
fn platform_objects(clusters: &[Cluster]) -> Vec<(String, Value)> {
    let mut files = Vec::new();
    let mut envs: Vec<&str> = clusters.iter().map(|c| c.env).collect();
    envs.dedup();
    for env in envs {
        files.extend(argocd_objects(env));
    }
    for c in clusters {
        for component in c.components {
            for (file, object) in component_objects(component) {
                files.push((format!("{}/{}/{component}/{file}", c.env, c.path), object));
            }
            files.push((
                format!(
                    "{}/argocd/apps/{}-{component}.yaml",
                    c.env,
                    c.path.replace('/', "-")
                ),
                application(c.env, c.path, component),
            ));
        }
    }
    files
}

fn to_tree(files: Vec<(String, Value)>) -> OutputTree {
    let mut tree = OutputTree::default();
    for (path, object) in files {
        let text = yaml_serde::to_string(&object).expect("test objects print as YAML");
        tree.files.insert(path, text.into_bytes());
    }
    tree
}

fn platform() -> OutputTree {
    to_tree(platform_objects(PLATFORM))
}

/// The platform with `edit` applied to every object, given its path.
fn platform_with(edit: impl Fn(&str, &mut Value)) -> OutputTree {
    let mut files = platform_objects(PLATFORM);
    for (path, object) in &mut files {
        edit(path, object);
    }
    to_tree(files)
}

fn compare(base: &OutputTree, head: &OutputTree) -> Diff {
    diff(base, head).expect("the test trees are valid")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn all_formats(d: &Diff, o: &DiffOptions) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stat in [false, true] {
        for color in [false, true] {
            let o = DiffOptions {
                stat,
                color,
                ..o.clone()
            };
            let tag = format!("stat={stat} color={color}");
            out.push((format!("human {tag}"), render_human(d, &o)));
            out.push((format!("json {tag}"), render_json(d, &o)));
            out.push((format!("markdown {tag}"), render_markdown(d, &o)));
        }
    }
    out
}

#[test]
fn value_change_in_one_cluster() {
    let head = platform_with(|path, object| {
        if path == "prod/sto2/workload/ingress-nginx/deployment-ingress-nginx-controller.yaml" {
            object["spec"]["replicas"] = json!(3);
        }
    });
    let d = compare(&platform(), &head);
    assert_eq!(d.resources.len(), 1);
    let r = &d.resources[0];
    assert_eq!(r.status, Status::Changed);
    assert_eq!(r.key.cluster, "sto2/workload");
    assert_eq!(r.cluster_name.as_deref(), Some("prod-sto2-workload"));
    assert_eq!(r.changed_paths, vec!["spec.replicas"]);
    assert!(
        r.unified.contains("-  replicas: 2\n+  replicas: 3\n"),
        "{}",
        r.unified
    );

    let o = options();
    for (format, out) in all_formats(&d, &o) {
        assert!(
            first_line(&out).contains("⚠ this change reaches prod: 1 cluster, 1 resource"),
            "{format}: {out}"
        );
    }
    insta::assert_snapshot!("value_change_in_one_cluster_human", render_human(&d, &o));
    insta::assert_snapshot!(
        "value_change_in_one_cluster_markdown",
        render_markdown(&d, &o)
    );
    insta::assert_snapshot!("value_change_in_one_cluster_json", render_json(&d, &o));
}

#[test]
fn change_that_touches_every_cluster() {
    let head = platform_with(|path, object| {
        if path.ends_with("/deployment-ingress-nginx-controller.yaml") {
            object["spec"]["template"]["spec"]["containers"][0]["image"] =
                json!("registry.k8s.io/ingress-nginx/controller:v1.12.1");
        }
    });
    let d = compare(&platform(), &head);
    assert_eq!(d.resources.len(), PLATFORM.len());
    assert!(
        d.resources.iter().all(
            |r| r.changed_paths == vec!["spec.template.spec.containers[name=controller].image"]
        )
    );
    let o = options();
    let summary = d.summary(&o);
    assert_eq!(summary.clusters_touched, 4);
    assert_eq!(summary.gated_reached, vec!["prod"]);
    let per_env: Vec<(&str, usize, usize)> = summary
        .environments
        .iter()
        .map(|e| (e.environment.as_str(), e.clusters_touched, e.counts.changed))
        .collect();
    assert_eq!(per_env, vec![("non-prod", 2, 2), ("prod", 2, 2)]);
    assert_eq!(
        first_line(&render_human(&d, &o)),
        "⚠ this change reaches prod: 2 clusters, 2 resources"
    );
    insta::assert_snapshot!(
        "every_cluster_human_stat",
        render_human(
            &d,
            &DiffOptions {
                stat: true,
                ..options()
            }
        )
    );
    insta::assert_snapshot!("every_cluster_markdown", render_markdown(&d, &o));
}

#[test]
fn component_added_and_component_removed() {
    let mut clusters: Vec<Cluster> = PLATFORM
        .iter()
        .map(|c| Cluster {
            env: c.env,
            path: c.path,
            components: c.components,
        })
        .collect();
    clusters[0].components = &[];
    clusters[1].components = &["cert-manager", "ingress-nginx"];
    let head = to_tree(platform_objects(&clusters));
    let d = compare(&platform(), &head);
    let seen: Vec<(Status, String, String)> = d
        .resources
        .iter()
        .map(|r| (r.status, r.key.cluster.clone(), r.key.to_string()))
        .collect();
    let expected = [
        (
            Status::Removed,
            "argocd",
            "argoproj.io/Application argocd/non-prod-sto2-management-ingress-nginx",
        ),
        (
            Status::Added,
            "argocd",
            "argoproj.io/Application argocd/non-prod-sto2-workload-cert-manager",
        ),
        (
            Status::Removed,
            "sto2/management",
            "Service ingress-nginx/ingress-nginx-controller",
        ),
        (
            Status::Removed,
            "sto2/management",
            "apps/Deployment ingress-nginx/ingress-nginx-controller",
        ),
        (
            Status::Added,
            "sto2/workload",
            "apps/Deployment cert-manager/cert-manager",
        ),
    ];
    let expected: Vec<(Status, String, String)> = expected
        .iter()
        .map(|(s, c, k)| (*s, (*c).to_string(), (*k).to_string()))
        .collect();
    assert_eq!(seen, expected);
    let o = options();
    assert_eq!(
        first_line(&render_markdown(&d, &o)),
        "this change touches non-prod only: 2 clusters, 5 resources"
    );
    insta::assert_snapshot!("component_added_and_removed_human", render_human(&d, &o));
    insta::assert_snapshot!(
        "component_added_and_removed_markdown",
        render_markdown(&d, &o)
    );
}

#[test]
fn key_reordering_is_no_change() {
    let base = platform();
    let mut head = base.clone();
    let path = "prod/sto2/workload/ingress-nginx/service-ingress-nginx-controller.yaml";
    head.files.insert(
        path.into(),
        b"spec:\n  ports:\n  - port: 80\n    name: http\n  type: LoadBalancer\nmetadata:\n  \
          namespace: ingress-nginx\n  labels: {strata.dev/component: ingress-nginx, \
          app.kubernetes.io/managed-by: strata}\n  name: ingress-nginx-controller\nkind: Service\n\
          apiVersion: v1\n"
            .to_vec(),
    );
    assert_ne!(base.files.get(path), head.files.get(path));
    let d = compare(&base, &head);
    assert!(d.is_empty(), "{d:?}");
    for (format, out) in all_formats(&d, &options()) {
        assert!(
            first_line(&out).contains("no differences"),
            "{format}: {out}"
        );
    }
    assert_eq!(render_human(&d, &options()), "no differences\n");
}

#[test]
fn resource_moved_to_another_file_is_no_change() {
    let base = platform();
    let mut head = base.clone();
    let from = "non-prod/sto2/workload/ingress-nginx/service-ingress-nginx-controller.yaml";
    let bytes = head.files.remove(from).expect("the platform has this file");
    head.files.insert(
        "non-prod/sto2/workload/ingress-nginx/svc.yaml".into(),
        bytes,
    );
    let d = compare(&base, &head);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn resource_moved_and_changed_is_one_change() {
    let base = platform();
    let mut head = platform_with(|path, object| {
        if path == "prod/osl2/workload/ingress-nginx/service-ingress-nginx-controller.yaml" {
            object["spec"]["type"] = json!("ClusterIP");
        }
    });
    let from = "prod/osl2/workload/ingress-nginx/service-ingress-nginx-controller.yaml";
    let to = "prod/osl2/workload/ingress-nginx/services.yaml";
    let bytes = head.files.remove(from).expect("the platform has this file");
    head.files.insert(to.into(), bytes);
    let d = compare(&base, &head);
    assert_eq!(d.resources.len(), 1);
    let r = &d.resources[0];
    assert_eq!(
        (r.status, r.base_file.as_deref(), r.head_file.as_deref()),
        (Status::Changed, Some(from), Some(to))
    );
    assert_eq!(r.changed_paths, vec!["spec.type"]);
}

#[test]
fn secret_values_never_reach_any_format() {
    let secret = |password_b64: &str, token: &str| {
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "harbor-admin", "namespace": "harbor", "labels": labels("harbor")},
            "type": "Opaque",
            "data": {"password": password_b64, "username": "c3ZjLXJvYm90"},
            "stringData": {"token": token}})
    };
    let path = "prod/sto2/workload/harbor/secret-harbor-admin.yaml";
    // "hunter2" and "correct-horse-battery", base64; the token is plain text.
    let base = to_tree(vec![(
        path.into(),
        secret("aHVudGVyMg==", "tok-OLD-4f9a1c"),
    )]);
    let head = to_tree(vec![(
        path.into(),
        secret("Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5", "tok-NEW-77e02b"),
    )]);
    let d = compare(&base, &head);
    assert_eq!(d.resources.len(), 1);
    assert_eq!(
        d.resources[0].changed_paths,
        vec!["data.password", "stringData.token"]
    );

    let secrets = [
        "hunter2",
        "aHVudGVyMg",
        "correct-horse-battery",
        "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5",
        "svc-robot",
        "c3ZjLXJvYm90",
        "tok-OLD-4f9a1c",
        "dG9rLU9MRC00ZjlhMWM",
        "tok-NEW-77e02b",
        "dG9rLU5FVy03N2UwMmI",
    ];
    let mut outputs = all_formats(&d, &options());
    outputs.push(("Debug of the Diff".into(), format!("{d:?}")));
    for context in [0, 10] {
        let o = DiffOptions {
            context,
            ..options()
        };
        outputs.extend(all_formats(&d, &o));
    }
    for (format, out) in &outputs {
        for secret in secrets {
            assert!(!out.contains(secret), "{format} shows {secret:?}:\n{out}");
        }
    }
    let human = render_human(&d, &options());
    assert!(
        human.contains("        -  password: sha256:f52fbd32b2b3\n"),
        "{human}"
    );
    assert!(
        human.contains("        +  password: sha256:622493693890\n"),
        "{human}"
    );
    assert!(
        human.contains("           username: sha256:ca6a8280ddf3\n"),
        "{human}"
    );
    insta::assert_snapshot!("secret_human", human);
}

#[test]
fn markdown_stays_under_the_comment_limit() {
    // 3,000 ConfigMaps in 30 clusters, each with its own 84-line diff. Written as text: printing
    // 6,000 objects through YAML would make this test slow in debug builds.
    let mut base = OutputTree::default();
    let mut head = OutputTree::default();
    for i in 0..3_000 {
        let config_map = |value: &str| {
            let mut text = format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{i:04}\n  \
                 namespace: apps\ndata:\n  app.conf: |\n"
            );
            for line in 0..40 {
                text.push_str(&format!("    setting{line}={value}-{i}\n"));
            }
            text.into_bytes()
        };
        let path = format!(
            "prod/dc{}/workload/apps/configmap-config-{i:04}.yaml",
            i % 30
        );
        base.files.insert(path.clone(), config_map("old"));
        head.files.insert(path, config_map("new"));
    }
    let d = compare(&base, &head);
    assert_eq!(d.resources.len(), 3_000);
    let o = options();
    let out = render_markdown(&d, &o);
    assert!(out.len() < MARKDOWN_LIMIT, "{} bytes", out.len());
    assert!(out.chars().count() < 65_000);
    assert_eq!(
        first_line(&out),
        "⚠ this change reaches prod: 30 clusters, 3000 resources"
    );
    assert!(out.contains("| **prod** ⚠ | 30 | 0 | 3000 | 0 |"), "{out}");
    assert!(
        out.contains("_… 34 more lines; run `strata diff` locally for the full diff._"),
        "each long diff is cut"
    );
    assert_eq!(
        out.matches("<details>").count(),
        out.matches("</details>").count()
    );
    // What was left out is said, and adds up.
    let shown = out.matches("`~ ConfigMap apps/config-").count();
    let note = out
        .lines()
        .find(|l| l.starts_with("**⚠ ") && l.contains("not shown"))
        .expect("a note says what was not shown");
    let hidden: usize = note
        .trim_start_matches("**⚠ ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("the note starts with a count");
    assert_eq!(shown + hidden, 3_000, "{note}");
    assert!(
        note.ends_with("run `strata diff` locally for the full diff."),
        "{note}"
    );
}

#[test]
fn markdown_fences_outgrow_backticks_in_the_diff() {
    let cm = |text: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "readme", "namespace": "docs"},
            "data": {"README.md": text}})
    };
    let path = "non-prod/edge1/docs/readme.yaml";
    let base = to_tree(vec![(path.into(), cm("# Docs\n````\ncode\n````\n"))]);
    let head = to_tree(vec![(path.into(), cm("# Docs\n`````\ncode\n`````\n"))]);
    let out = render_markdown(&compare(&base, &head), &options());
    assert!(out.contains("``````diff\n"), "{out}");
    assert!(out.contains("\n``````\n"), "{out}");
}

#[test]
fn filters_by_environment_and_cluster() {
    let head = platform_with(|path, object| {
        if path.ends_with("/deployment-ingress-nginx-controller.yaml") {
            object["spec"]["replicas"] = json!(5);
        }
        if path == "prod/argocd/apps/sto2-workload-ingress-nginx.yaml" {
            object["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = json!("1");
        }
        if path == "prod/argocd/project.yaml" {
            object["spec"]["description"] = json!("prod");
        }
    });
    let d = compare(&platform(), &head);
    assert_eq!(d.resources.len(), 6);
    let shown = |o: DiffOptions| -> Vec<String> {
        d.filtered(&o)
            .resources
            .iter()
            .map(|r| format!("{} {} {}", r.key.environment, r.key.cluster, r.key.id.kind))
            .collect()
    };
    assert_eq!(
        shown(DiffOptions {
            env: Some("non-prod".into()),
            ..options()
        }),
        vec![
            "non-prod sto2/management Deployment",
            "non-prod sto2/workload Deployment"
        ]
    );
    assert_eq!(
        shown(DiffOptions {
            cluster: Some("sto2/workload".into()),
            ..options()
        }),
        vec![
            "non-prod sto2/workload Deployment",
            "prod argocd Application",
            "prod sto2/workload Deployment"
        ]
    );
    assert_eq!(
        shown(DiffOptions {
            cluster: Some("prod-sto2-workload".into()),
            ..options()
        }),
        vec!["prod argocd Application", "prod sto2/workload Deployment"]
    );
    assert_eq!(
        shown(DiffOptions {
            env: Some("prod".into()),
            cluster: Some("argocd".into()),
            ..options()
        }),
        vec!["prod argocd AppProject", "prod argocd Application"]
    );
    let non_prod = DiffOptions {
        env: Some("non-prod".into()),
        ..options()
    };
    let human = render_human(&d, &non_prod);
    assert_eq!(
        human.lines().take(2).collect::<Vec<_>>(),
        vec![
            "this change touches non-prod only: 2 clusters, 2 resources",
            "showing only environment `non-prod`"
        ]
    );
    assert!(!human.contains("\nprod:"), "{human}");
    assert!(!human.contains("environment prod\n"), "{human}");
    let nothing = DiffOptions {
        cluster: Some("no-such-cluster".into()),
        ..options()
    };
    assert!(d.filtered(&nothing).is_empty());
    assert!(first_line(&render_json(&d, &nothing)).contains("no differences"));

    // The AppProject reaches no cluster; the Application reaches its cluster, whose
    // Deployment changed too: 2 clusters in each environment.
    let summary = d.summary(&options());
    assert_eq!(summary.clusters_touched, 4);
    assert_eq!(
        summary.headline(),
        "⚠ this change reaches prod: 2 clusters, 4 resources"
    );
}

#[test]
fn json_follows_its_schema() {
    let head = platform_with(|path, object| {
        if path == "prod/osl2/workload/ingress-nginx/service-ingress-nginx-controller.yaml" {
            object["spec"]["type"] = json!("ClusterIP");
        }
    });
    let d = compare(&platform(), &head);
    let o = options();
    let text = render_json(&d, &o);
    let report: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(report["schema_version"], json!(1));
    assert_eq!(report["empty"], json!(false));
    assert_eq!(report["summary"]["gated_reached"], json!(["prod"]));
    assert_eq!(
        report["summary"]["environments"][0]["clusters"][0]["cluster"],
        json!("osl2/workload")
    );
    let resource = &report["resources"][0];
    assert_eq!(resource["group"], json!(""));
    assert_eq!(resource["kind"], json!("Service"));
    assert_eq!(resource["status"], json!("changed"));
    assert_eq!(resource["cluster_name"], json!("prod-osl2-workload"));
    assert_eq!(resource["changed_paths"], json!(["spec.type"]));
    assert!(
        resource["diff"]
            .as_str()
            .is_some_and(|t| t.contains("+  type: ClusterIP"))
    );

    let stat: Value = serde_json::from_str(&render_json(
        &d,
        &DiffOptions {
            stat: true,
            ..options()
        },
    ))
    .expect("valid JSON");
    assert!(stat.get("resources").is_none());
    assert_eq!(stat["summary"]["changed"], json!(1));
}

#[test]
fn context_lines_follow_the_option() {
    let head = platform_with(|path, object| {
        if path == "prod/osl2/workload/ingress-nginx/service-ingress-nginx-controller.yaml" {
            object["spec"]["type"] = json!("ClusterIP");
        }
    });
    let d = compare(&platform(), &head);
    let lines = |context| {
        render_human(
            &d,
            &DiffOptions {
                context,
                ..options()
            },
        )
        .lines()
        .filter(|l| l.starts_with("         "))
        .count()
    };
    assert_eq!(lines(0), 0);
    assert_eq!(lines(1), 1);
    assert_eq!(lines(3), 3);
    // The whole object, and no overflow.
    assert_eq!(lines(usize::MAX), 12);
}

#[test]
fn colors_only_when_asked() {
    let head = platform_with(|path, object| {
        if path == "prod/osl2/workload/ingress-nginx/service-ingress-nginx-controller.yaml" {
            object["spec"]["type"] = json!("ClusterIP");
        }
    });
    let d = compare(&platform(), &head);
    assert!(!render_human(&d, &options()).contains('\x1b'));
    let colored = render_human(
        &d,
        &DiffOptions {
            color: true,
            ..options()
        },
    );
    assert!(
        colored.contains("\x1b[32m+  type: ClusterIP\x1b[0m"),
        "{colored}"
    );
    assert!(
        colored.contains("\x1b[31m-  type: LoadBalancer\x1b[0m"),
        "{colored}"
    );
    assert!(
        !render_markdown(
            &d,
            &DiffOptions {
                color: true,
                ..options()
            }
        )
        .contains('\x1b')
    );
}

#[test]
fn bad_files_are_named() {
    let good = platform();
    let cases: Vec<(&str, &[u8], &str)> = vec![
        (
            "prod/sto2/workload/ingress-nginx/broken.yaml",
            b"kind: Service\nmetadata: {name: x\n",
            "head tree: prod/sto2/workload/ingress-nginx/broken.yaml: not valid YAML:",
        ),
        (
            "prod/sto2/workload/ingress-nginx/two.yaml",
            b"kind: Service\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: b}\n",
            "head tree: prod/sto2/workload/ingress-nginx/two.yaml: not valid YAML:",
        ),
        (
            "prod/sto2/workload/ingress-nginx/nameless.yaml",
            b"kind: Service\nmetadata: {}\n",
            "head tree: prod/sto2/workload/ingress-nginx/nameless.yaml: the object has no `metadata.name`",
        ),
        (
            "prod/ingress-nginx/misplaced.yaml",
            b"kind: Service\nmetadata: {name: a}\n",
            "head tree: prod/ingress-nginx/misplaced.yaml: not in the output layout",
        ),
        (
            "prod/sto2/workload/ingress-nginx/binary.yaml",
            b"\xff\xfe",
            "head tree: prod/sto2/workload/ingress-nginx/binary.yaml: not UTF-8",
        ),
        (
            "prod/sto2/workload/ingress-nginx/copy.yaml",
            b"apiVersion: v1\nkind: Service\nmetadata: {name: ingress-nginx-controller, namespace: ingress-nginx}\n",
            "head tree: Service ingress-nginx/ingress-nginx-controller is in both \
             prod/sto2/workload/ingress-nginx/copy.yaml and \
             prod/sto2/workload/ingress-nginx/service-ingress-nginx-controller.yaml",
        ),
    ];
    for (path, bytes, message) in cases {
        let mut head = good.clone();
        head.files.insert(path.into(), bytes.to_vec());
        let error = diff(&good, &head).expect_err(path);
        assert!(error.to_string().starts_with(message), "{path}: {error}");
        if let DiffError::File { side, file, .. } = &error {
            assert_eq!((*side, file.as_str()), (Side::Head, path));
        }
        let error = diff(&head, &good).expect_err(path);
        assert!(
            error.to_string().starts_with("base tree: "),
            "{path}: {error}"
        );
    }
}

#[test]
fn files_that_are_not_yaml_are_skipped() {
    let base = platform();
    let mut head = base.clone();
    head.files
        .insert("prod/README.md".into(), b"# rendered".to_vec());
    assert!(compare(&base, &head).is_empty());
}
