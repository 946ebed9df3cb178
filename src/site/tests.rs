use std::collections::BTreeMap;

use jiff::Timestamp;

use super::model::*;
use super::{SiteError, render};
use crate::compare::diff::Status;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn rev(sha: &str, subject: &str, author: &str, at: &str) -> Revision {
    Revision {
        sha: sha.to_string(),
        subject: subject.to_string(),
        author: author.to_string(),
        at: ts(at),
    }
}

fn cluster(name: &str, path: &str, role: &str, versions: &[(&str, &str)]) -> Cluster {
    Cluster {
        name: name.to_string(),
        path: path.to_string(),
        datacenter: path.split('/').next().map(str::to_string),
        role: role.to_string(),
        components: versions
            .iter()
            .map(|(c, v)| (c.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        argocd: None,
    }
}

const ALICE: &str = "Alice <alice@example.com>";
const BOB: &str = "Bob <bob@example.com>";

/// Two environments in June 2026: prod waits for a change that has soaked 3 of 5 days.
fn small() -> Site {
    let fix = rev(
        "1111111aaaaaaa",
        "fluentd: raise the buffer",
        ALICE,
        "2026-06-01T10:00:00+02:00",
    );
    let dash = rev(
        "2222222bbbbbbb",
        "grafana: new dashboards",
        BOB,
        "2026-06-22T11:00:00+02:00",
    );
    let non_prod_clusters = vec![
        cluster(
            "non-prod-sto2-workload",
            "sto2/workload",
            "workload",
            &[("fluentd", "1.17.1"), ("grafana", "11.3.0")],
        ),
        cluster(
            "non-prod-sto2-management",
            "sto2/management",
            "management",
            &[("fluentd", "1.17.1"), ("grafana", "11.4.0")],
        ),
    ];
    let prod_clusters = vec![cluster(
        "prod-sto2-workload",
        "sto2/workload",
        "workload",
        &[("fluentd", "1.17.1"), ("grafana", "11.3.0")],
    )];
    Site {
        platform: "welkin".into(),
        now: ts("2026-06-25T12:00:00+02:00"),
        generator: "strata 0.1.0".into(),
        source: Some(dash.clone()),
        calendar: SoakPolicy {
            timezone: "Europe/Stockholm".into(),
            workdays: None,
            holidays: vec!["2026-06-19".parse().expect("date")],
            working_days: 5,
            approvals: 1,
        },
        components: vec![
            Component {
                name: "fluentd".into(),
                version: "1.17.1".into(),
                description: Some("Ships container logs.".into()),
                namespace: "fluentd".into(),
            },
            Component {
                name: "grafana".into(),
                version: "11.4.0".into(),
                description: None,
                namespace: "monitoring".into(),
            },
        ],
        environments: vec![
            Environment {
                name: "non-prod".into(),
                branch: "env/non-prod".into(),
                previous: None,
                gated: false,
                running: Some(Revision {
                    at: ts("2026-06-22T11:05:00+02:00"),
                    ..dash.clone()
                }),
                clusters: non_prod_clusters,
                pending: None,
                landings: vec![
                    Landing {
                        revision: fix.clone(),
                        soak_start: None,
                        landed: Some(ts("2026-06-01T10:05:00+02:00")),
                        emergency: None,
                        change: Some("aaaa0001".into()),
                    },
                    Landing {
                        revision: dash.clone(),
                        soak_start: None,
                        landed: Some(ts("2026-06-22T11:05:00+02:00")),
                        emergency: None,
                        change: Some("aaaa0002".into()),
                    },
                ],
                audit: vec![AuditEntry {
                    commit: "aaaa0002".into(),
                    at: Some(ts("2026-06-22T11:05:00+02:00")),
                    kind: ChangeKind::Publish,
                    active: Some(fix.sha.clone()),
                    proposed: dash.sha.clone(),
                    source_commits: vec![dash.clone()],
                    version_changes: vec![VersionChange {
                        cluster: "non-prod-sto2-management".into(),
                        component: "grafana".into(),
                        from: Some("11.3.0".into()),
                        to: Some("11.4.0".into()),
                    }],
                    soaked_in: None,
                    approvers: Vec::new(),
                    emergency: None,
                    rollback: None,
                    render_digest: "sha256:0123".into(),
                    evidence: Vec::new(),
                    problems: Vec::new(),
                }],
                problems: Vec::new(),
                changes: Vec::new(),
            },
            Environment {
                name: "prod".into(),
                branch: "env/prod".into(),
                previous: Some("non-prod".into()),
                gated: true,
                running: Some(Revision {
                    at: ts("2026-06-10T09:00:00+02:00"),
                    ..fix.clone()
                }),
                clusters: prod_clusters,
                pending: Some(Proposal {
                    branch: "env/prod-next".into(),
                    revision: Revision {
                        at: ts("2026-06-22T11:06:00+02:00"),
                        ..dash.clone()
                    },
                    gates: vec![
                        Gate {
                            open: true,
                            summary: "re-rendering 2222222 gives the proposed tree".into(),
                            details: Vec::new(),
                            facts: GateFacts::Reproducible,
                        },
                        Gate {
                            open: false,
                            summary: "soaked 3 of 5 working days; ready at 2026-06-29 11:05 Europe/Stockholm".into(),
                            details: Vec::new(),
                            facts: GateFacts::Soaked {
                                done: 3,
                                needed: 5,
                                landed: Some(ts("2026-06-22T11:05:00+02:00")),
                                ready_at: Some(ts("2026-06-29T11:05:00+02:00")),
                            },
                        },
                        Gate {
                            open: false,
                            summary: "0 of 1 distinct approvers outside the author set (bob@example.com is the author)".into(),
                            details: vec!["approval by Bob <bob@example.com> does not count: bob@example.com is the author".into()],
                            facts: GateFacts::FourEyes {
                                needed: 1,
                                approvers: Vec::new(),
                                authors: vec![BOB.into()],
                                rejected: vec!["Bob <bob@example.com>: bob@example.com is the author".into()],
                            },
                        },
                    ],
                    notes: Vec::new(),
                    source_commits: vec![dash.clone()],
                    version_changes: vec![VersionChange {
                        cluster: "prod-sto2-workload".into(),
                        component: "grafana".into(),
                        from: Some("11.3.0".into()),
                        to: Some("11.4.0".into()),
                    }],
                }),
                landings: vec![
                    Landing {
                        revision: fix.clone(),
                        soak_start: Some(ts("2026-06-01T10:05:00+02:00")),
                        landed: Some(ts("2026-06-10T09:00:00+02:00")),
                        emergency: None,
                        change: Some("bbbb0001".into()),
                    },
                    Landing {
                        revision: dash.clone(),
                        soak_start: Some(ts("2026-06-22T11:05:00+02:00")),
                        landed: None,
                        emergency: None,
                        change: None,
                    },
                ],
                audit: vec![AuditEntry {
                    commit: "bbbb0001".into(),
                    at: Some(ts("2026-06-10T09:00:00+02:00")),
                    kind: ChangeKind::Promotion,
                    active: None,
                    proposed: fix.sha.clone(),
                    source_commits: vec![fix.clone()],
                    version_changes: Vec::new(),
                    soaked_in: Some("non-prod since 2026-06-01 10:05 Europe/Stockholm (6 working days)".into()),
                    approvers: vec![BOB.into()],
                    emergency: None,
                    rollback: None,
                    render_digest: "sha256:4567".into(),
                    evidence: Vec::new(),
                    problems: Vec::new(),
                }],
                problems: Vec::new(),
                changes: vec![ClusterChanges {
                    cluster: "sto2/workload".into(),
                    cluster_name: Some("prod-sto2-workload".into()),
                    resources: vec![
                        ResourceChange {
                            status: Status::Changed,
                            component: "grafana".into(),
                            kind: "apps/Deployment".into(),
                            namespace: Some("monitoring".into()),
                            name: "grafana".into(),
                            changed_paths: vec!["spec.template.spec.containers[name=grafana].image".into()],
                            unified: "@@ -10,3 +10,3 @@\n       containers:\n-      - image: grafana/grafana:11.3.0\n+      - image: grafana/grafana:11.4.0\n".into(),
                        },
                        ResourceChange {
                            status: Status::Added,
                            component: "grafana".into(),
                            kind: "Secret".into(),
                            namespace: Some("monitoring".into()),
                            name: "grafana-admin".into(),
                            changed_paths: Vec::new(),
                            unified: "+apiVersion: v1\n+data:\n+  password: sha256:9f86d081884c\n+kind: Secret\n".into(),
                        },
                    ],
                }],
            },
        ],
        checks: Checks {
            findings: vec![
                PolicyFinding {
                    rule: "image-pinned".into(),
                    level: "warn".into(),
                    environment: "non-prod".into(),
                    cluster: "non-prod-sto2-workload".into(),
                    component: "grafana".into(),
                    resource: "apps/Deployment monitoring/grafana".into(),
                    field: "spec.template.spec.containers[name=grafana].image".into(),
                    message: "image grafana/grafana:11.3.0 is not pinned by digest".into(),
                    hint: "pin the image as name@sha256:…".into(),
                    origin: Some("components/grafana/values.yaml:4".into()),
                    exemption: None,
                },
                PolicyFinding {
                    rule: "no-privileged".into(),
                    level: "deny".into(),
                    environment: "prod".into(),
                    cluster: "prod-sto2-workload".into(),
                    component: "falco".into(),
                    resource: "apps/DaemonSet falco/falco".into(),
                    field: "spec.template.spec.containers[name=falco].securityContext.privileged".into(),
                    message: "the container runs privileged".into(),
                    hint: "drop privileged".into(),
                    origin: None,
                    exemption: Some("falco reads kernel events; approved in CHG-1234".into()),
                },
            ],
            schema: vec![SchemaFinding {
                severity: "warning".into(),
                code: "kube-deprecated".into(),
                message: "policy/v1beta1 PodDisruptionBudget is removed in Kubernetes 1.25".into(),
                location: Some("components/velero/templates/pdb.yaml:1".into()),
                hint: Some("use policy/v1".into()),
            }],
            drift: Some(vec![ClusterDrift {
                cluster: "prod-sto2-workload".into(),
                in_sync: 41,
                changed: vec![DriftedObject {
                    object: "apps/Deployment monitoring/grafana".into(),
                    fields: vec![DriftedField {
                        path: "spec.replicas".into(),
                        kind: "changed".into(),
                        desired: Some("2".into()),
                        live: Some("5".into()),
                    }],
                }],
                missing: Vec::new(),
                orphans: vec!["ConfigMap monitoring/old-dashboards".into()],
            }]),
        },
    }
}

fn page(files: &super::SiteFiles, path: &str) -> String {
    String::from_utf8(files.get(path).cloned().unwrap_or_default()).expect("utf-8")
}

fn html_pages(files: &super::SiteFiles) -> impl Iterator<Item = (&String, String)> {
    files
        .iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .map(|(p, b)| (p, String::from_utf8_lossy(b).into_owned()))
}

#[test]
fn every_page_of_the_site() {
    let files = render(&small()).expect("site");
    let paths: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "changes.html",
            "checks.html",
            "env-non-prod.html",
            "env-prod.html",
            "index.html",
            "site.js",
            "style.css"
        ]
    );
}

#[test]
fn the_same_model_gives_the_same_bytes() {
    assert_eq!(
        render(&small()).expect("site"),
        render(&small()).expect("site")
    );
}

#[test]
fn nothing_is_loaded_from_elsewhere() {
    let files = render(&small()).expect("site");
    for (path, html) in html_pages(&files) {
        for attr in ["href=\"", "src=\""] {
            for value in html.split(attr).skip(1) {
                let value = value.split('"').next().unwrap_or("");
                assert!(
                    !value.contains(':') && !value.starts_with("//"),
                    "{path}: {attr}{value}\" leaves the site"
                );
            }
        }
        // The only absolute URL is the SVG namespace, which is a name, not a request.
        let urls = html.matches("http://").count() + html.matches("https://").count();
        let namespaces = html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert_eq!(urls, namespaces, "{path}");
        assert_eq!(html.matches("<script").count(), 1, "{path}");
        assert!(html.contains(r#"<script src="site.js" defer></script>"#));
    }
}

#[test]
fn the_overview_says_what_runs_and_what_waits() {
    let files = render(&small()).expect("site");
    let index = page(&files, "index.html");
    insta::assert_snapshot!(index);
}

#[test]
fn the_gates_show_their_numbers() {
    let files = render(&small()).expect("site");
    let prod = page(&files, "env-prod.html");
    for expected in [
        r#"<p class="verdict blocked">Promotion to prod: blocked by 2 gates.</p>"#,
        r#"<progress max="5" value="3" aria-label="Soaked working days">3 of 5</progress>"#,
        r#"ready at <time datetime="2026-06-29T09:05:00Z">2026-06-29 11:05</time>"#,
        "<dt>Approvals that count (0 of 1)</dt><dd><span class=\"muted\">nobody yet</span></dd>",
        "<dt>Author set</dt><dd>Bob &lt;bob@example.com&gt;</dd>",
        r#"<a href="changes.html#changes-2">The pending change, resource by resource</a> (2 resources in 1 cluster)"#,
        r#"<tr id="change-bbbb0001" class="kind-promotion">"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="tl-2-2026-06""#,
    ] {
        assert!(prod.contains(expected), "{expected}\n{prod}");
    }
}

#[test]
fn the_diff_is_per_cluster_and_resource() {
    let files = render(&small()).expect("site");
    let changes = page(&files, "changes.html");
    for expected in [
        "2 resources in 1 cluster:\n1 added, 1 changed, 0 removed.",
        r#"<span class="del">-      - image: grafana&#x2f;grafana:11.3.0</span><span class="add">+      - image: grafana&#x2f;grafana:11.4.0</span>"#,
        "<span class=\"add\">+  password: sha256:9f86d081884c</span>",
        "<p>No pending change.</p>",
    ] {
        assert!(changes.contains(expected), "{expected}\n{changes}");
    }
}

#[test]
fn checks_show_findings_exemptions_schema_and_drift() {
    let files = render(&small()).expect("site");
    let checks = page(&files, "checks.html");
    for expected in [
        "<p>0 violations fail the render; 1 warning.</p>",
        "<td>falco reads kernel events; approved in CHG-1234</td>",
        "policy&#x2f;v1beta1 PodDisruptionBudget is removed in Kubernetes 1.25",
        "1 drifted, 0 missing, 1 orphan; 41 in sync.",
    ] {
        assert!(checks.contains(expected), "{expected}\n{checks}");
    }
    let mut site = small();
    site.checks.drift = None;
    let checks = page(&render(&site).expect("site"), "checks.html");
    assert!(checks.contains("<p>No drift report was given."));
}

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = r#""><img src=x onerror=alert(1)>"#;

/// Every text a source or output repository controls, set to markup.
pub(crate) fn hostile(mut site: Site) -> Site {
    let both = format!("{SCRIPT}{IMG}");
    site.platform = both.clone();
    site.components[0].description = Some(both.clone());
    site.components[1].name = IMG.to_string();
    let prod = &mut site.environments[1];
    prod.running.as_mut().expect("running").subject = both.clone();
    prod.landings[0].revision.subject = both.clone();
    prod.landings[0].revision.author = IMG.to_string();
    prod.audit[0].approvers = vec![both.clone()];
    prod.audit[0].source_commits[0].subject = both.clone();
    prod.audit[0].emergency = Some(both.clone());
    prod.audit[0].commit = IMG.to_string();
    prod.clusters[0].name = both.clone();
    if let Some(p) = prod.pending.as_mut() {
        p.revision.subject = both.clone();
        p.gates[1].summary = both.clone();
        p.gates[2].facts = GateFacts::FourEyes {
            needed: 1,
            approvers: vec![both.clone()],
            authors: vec![IMG.into()],
            rejected: Vec::new(),
        };
    }
    prod.changes[0].resources[0].unified = format!("+{SCRIPT}\n-{IMG}\n");
    prod.changes[0].resources[0].name = both.clone();
    site.checks.findings[0].message = both.clone();
    site.checks.findings[1].exemption = Some(both.clone());
    site.environments[0].name = format!("{IMG}-x");
    site
}

#[test]
fn hostile_text_is_shown_as_text() {
    let files = render(&hostile(small())).expect("site");
    for (path, html) in html_pages(&files) {
        assert!(!html.contains("<img"), "{path}");
        assert_eq!(html.matches("<script").count(), 1, "{path}");
        assert!(!html.contains("alert(1)</script>"), "{path}");
        // minijinja escapes `/` too; the timelines' SVG escapes the five characters that matter.
        assert!(
            html.contains(
                "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
            ),
            "{path}"
        );
    }
    assert!(files.contains_key("env----img-src-x-onerror-alert-1---x.html"));
}

#[test]
fn environment_pages_have_safe_distinct_names() {
    let mut site = small();
    site.environments[0].name = "../../prod".into();
    site.environments[1].name = "__/__/prod".into();
    let mut third = site.environments[1].clone();
    third.name = "--/--/prod".into();
    site.environments.push(third);
    let mut fourth = site.environments[1].clone();
    fourth.name = String::new();
    site.environments.push(fourth);
    let files = render(&site).expect("site");
    let pages: Vec<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|p| p.starts_with("env-"))
        .collect();
    assert_eq!(
        pages,
        [
            "env-------prod-2.html",
            "env-------prod.html",
            "env-__-__-prod.html",
            "env-environment.html"
        ]
    );
}

#[test]
fn an_unknown_time_zone_is_an_error() {
    let mut site = small();
    site.calendar.timezone = "Europe/Stokholm".into();
    let error = render(&site).expect_err("unknown zone");
    assert!(matches!(error, SiteError::Calendar(_)));
    assert_eq!(
        error.to_string(),
        "unknown timezone `Europe/Stokholm` in promotion.soak.timezone; did you mean `Europe/Stockholm`? use an IANA time zone name such as `Europe/Stockholm` or `UTC`"
    );
}
