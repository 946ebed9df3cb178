//! The example platform with a scripted year of history, as a site model: some 200 publishes
//! to non-prod, a promotion to prod most Wednesdays (about 45), one emergency promoted by
//! break-glass a day after it reached non-prod, Swedish public holidays, and a pending
//! proposal that has soaked one of five working days.
//!
//! Everything is computed from a fixed script: the same model on every run.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use sha2::Digest as _;
use strata::compare::Status;
use strata::promote::gates::calendar::Calendar;
use strata::site::model::*;

pub const TZ: &str = "Europe/Stockholm";

/// 2026's public holidays in Sweden that fall on a weekday, plus the company's days off.
pub const HOLIDAYS: [&str; 11] = [
    "2026-01-01",
    "2026-01-06",
    "2026-04-03",
    "2026-04-06",
    "2026-05-01",
    "2026-05-14",
    "2026-06-19",
    "2026-12-24",
    "2026-12-25",
    "2026-12-31",
    "2027-01-01",
];

/// When the site is made: a Thursday afternoon in December.
pub const NOW: &str = "2026-12-17T16:00:00+01:00";

/// The emergency: published on a Tuesday afternoon, promoted the next morning.
pub const EMERGENCY_PUBLISHED: &str = "2026-09-15T14:10:00+02:00";
pub const EMERGENCY_PROMOTED: &str = "2026-09-16T08:30:00+02:00";
pub const EMERGENCY_REASON: &str =
    "CVE-2026-40312 in ingress-nginx is exploited in the wild; INC-4471";

/// The components of the example platform: name, version, namespace, roles, description.
const COMPONENTS: [(&str, &str, &str, &[&str], &str); 16] = [
    (
        "cert-manager",
        "1.16.2",
        "cert-manager",
        &["management", "workload"],
        "Issues TLS certificates for every Ingress from Let's Encrypt (ACME HTTP-01).",
    ),
    (
        "dex",
        "2.41.1",
        "dex",
        &["management"],
        "Single sign-on for the platform UIs (Grafana, OpenSearch Dashboards, Harbor) via the staff IdP.",
    ),
    (
        "external-dns",
        "0.15.0",
        "external-dns",
        &["workload"],
        "Publishes DNS records for customer Ingresses under the workload cluster's apps domain.",
    ),
    (
        "falco",
        "0.39.2",
        "falco",
        &["management", "workload"],
        "Runtime threat detection on every node; alerts end up in the platform's log pipeline.",
    ),
    (
        "fluentd",
        "1.17.1",
        "fluentd",
        &["management", "workload"],
        "Ships container logs of every cluster to the datacenter's OpenSearch on the management cluster.",
    ),
    (
        "gatekeeper",
        "3.17.1",
        "gatekeeper-system",
        &["management", "workload"],
        "OPA Gatekeeper admission controller that enforces the platform's safeguards.",
    ),
    (
        "grafana",
        "11.3.1",
        "monitoring",
        &["management"],
        "Dashboards over the datacenter's metrics (Thanos) for the platform team, behind Dex SSO.",
    ),
    (
        "harbor",
        "2.12.0",
        "harbor",
        &["management"],
        "The environment's container registry; every platform image is pulled from here.",
    ),
    (
        "ingress-nginx",
        "1.11.3",
        "ingress-nginx",
        &["management", "workload"],
        "The ingress controller that terminates TLS for every platform and customer Ingress.",
    ),
    (
        "kured",
        "1.16.2",
        "kured",
        &["management", "workload"],
        "Reboots nodes one at a time after OS updates, inside an agreed maintenance window.",
    ),
    (
        "network-policies",
        "1.0.0",
        "network-policies",
        &["management", "workload"],
        "Baseline NetworkPolicies (default deny, DNS, scraping) for the platform namespaces on every cluster.",
    ),
    (
        "opensearch",
        "2.18.0",
        "opensearch",
        &["management"],
        "Log storage and search (OpenSearch and Dashboards) for every cluster of the datacenter.",
    ),
    (
        "prometheus",
        "2.55.1",
        "monitoring",
        &["management", "workload"],
        "Metrics and alerting on every cluster (a trimmed kube-prometheus-stack without the operator).",
    ),
    (
        "thanos",
        "0.36.1",
        "thanos",
        &["management"],
        "Long-term metrics of the datacenter; every cluster's Prometheus remote-writes to Thanos Receive.",
    ),
    (
        "trivy-operator",
        "0.24.1",
        "trivy-system",
        &["workload"],
        "Scans the images of customer workloads for known vulnerabilities and reports them as objects.",
    ),
    (
        "velero",
        "1.15.0",
        "velero",
        &["management", "workload"],
        "Backs up cluster objects and volumes to the datacenter's object storage.",
    ),
];

/// The first four write changes; everyone reviews.
const PEOPLE: [&str; 6] = [
    "Alice Andersson <alice@example.com>",
    "Bengt Berg <bengt@example.com>",
    "Cecilia Carlsson <cecilia@example.com>",
    "David Dahl <david@example.com>",
    "Eva Ek <eva@example.com>",
    "Fredrik Falk <fredrik@example.com>",
];
const AUTHORS: usize = 4;

const TWEAKS: [&str; 9] = [
    "raise the memory limit",
    "tune the alert thresholds",
    "add a PodDisruptionBudget",
    "spread replicas over zones",
    "shorten the log retention",
    "pin the image by digest",
    "drop an unused ConfigMap",
    "tighten the NetworkPolicy",
    "set resource requests",
];

const DATACENTERS: [&str; 2] = ["sto2", "osl2"];
const ROLES: [&str; 2] = ["management", "workload"];

fn ts(s: &str) -> Timestamp {
    s.parse().expect("sample timestamp")
}

fn sha(seed: &str) -> String {
    let digest = sha2::Sha256::digest(seed.as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

/// One source commit of the script.
struct Commit {
    revision: Revision,
    /// When `publish` put it on env/non-prod (and env/prod-next).
    published: Timestamp,
    /// The output commit of that publish.
    output: String,
    /// A version bump: component, from, to.
    bump: Option<(usize, String, String)>,
}

/// One promotion to prod.
struct Promotion {
    at: Timestamp,
    /// The index of the newest commit it brought.
    to: usize,
    /// The index of the newest commit prod had before, if any.
    from: Option<usize>,
    emergency: Option<String>,
    output: String,
}

fn next_patch(version: &str) -> String {
    match version.rsplit_once('.') {
        Some((head, patch)) => format!("{head}.{}", patch.parse::<u32>().unwrap_or(0) + 1),
        None => format!("{version}.1"),
    }
}

fn at(date: Date, hour: i8, minute: i8, tz: &TimeZone) -> Timestamp {
    date.to_datetime(Time::constant(hour, minute, 0, 0))
        .to_zoned_datetime(tz.clone())
        .expect("local time")
        .timestamp()
}

/// The scripted year, as the site's model.
pub fn year() -> Site {
    let tz = TimeZone::get(TZ).expect("tz");
    let holidays: Vec<Date> = HOLIDAYS.iter().map(|d| d.parse().expect("date")).collect();
    let calendar = Calendar::new(TZ, None, &holidays).expect("calendar");
    let now = ts(NOW);
    let today = now.to_zoned_datetime(tz.clone()).date();

    // The commits: most working days one, the emergency on its own.
    let mut versions: Vec<String> = COMPONENTS.iter().map(|c| c.1.to_string()).collect();
    let mut commits: Vec<Commit> = Vec::new();
    let mut day: Date = "2026-01-05".parse().expect("date");
    let emergency_at = ts(EMERGENCY_PUBLISHED);
    let mut emergency_index = None;
    let mut n = 0usize;
    while day <= today {
        let index = day.day_of_year() as usize;
        if calendar.is_working_day(day) && index % 6 != 4 {
            let minutes = (index * 53) % 420;
            let time = at(day, 9, 0, &tz)
                .checked_add(jiff::Span::new().minutes(minutes as i64))
                .expect("time");
            if emergency_index.is_none() && time > emergency_at {
                commits.push(commit(
                    n,
                    &mut versions,
                    Some(8),
                    "ingress-nginx: patch CVE-2026-40312",
                    emergency_at,
                ));
                emergency_index = Some(n);
                n += 1;
            }
            if time < now {
                let bump = (n % 6 == 5).then_some(n / 6 % COMPONENTS.len());
                let name = COMPONENTS[n % COMPONENTS.len()].0;
                let subject = match bump {
                    Some(c) => format!("{}: bump to {}", COMPONENTS[c].0, next_patch(&versions[c])),
                    None => format!("{name}: {}", TWEAKS[n % TWEAKS.len()]),
                };
                commits.push(commit(n, &mut versions, bump, &subject, time));
                n += 1;
            }
        }
        day = day.tomorrow().expect("date");
    }

    // Promotions: Wednesdays at 10:00 bring the newest commit that soaked five working days;
    // the emergency goes by break-glass the morning after it reached non-prod.
    let mut promotions: Vec<Promotion> = Vec::new();
    let mut prod: Option<usize> = None;
    let mut day: Date = "2026-01-05".parse().expect("date");
    let emergency_index = emergency_index.expect("the emergency commit");
    let emergency_promoted = ts(EMERGENCY_PROMOTED);
    while day <= today {
        let time = at(day, 10, 0, &tz);
        if !promotions.iter().any(|p| p.emergency.is_some()) && time > emergency_promoted {
            promotions.push(Promotion {
                at: emergency_promoted,
                to: emergency_index,
                from: prod,
                emergency: Some(EMERGENCY_REASON.to_string()),
                output: sha(&format!("prod emergency {emergency_index}")),
            });
            prod = Some(emergency_index);
        }
        if day.weekday() == jiff::civil::Weekday::Wednesday
            && calendar.is_working_day(day)
            && time < now
        {
            let soaked = commits
                .iter()
                .rposition(|c| c.published <= time && calendar.soaked(c.published, time) >= 5);
            if let Some(to) = soaked.filter(|to| prod.is_none_or(|p| *to > p)) {
                promotions.push(Promotion {
                    at: time,
                    to,
                    from: prod,
                    emergency: None,
                    output: sha(&format!("prod promotion {to}")),
                });
                prod = Some(to);
            }
        }
        day = day.tomorrow().expect("date");
    }
    let in_prod = prod.expect("promotions");
    let newest = commits.len() - 1;

    let non_prod = environment(
        "non-prod",
        None,
        false,
        &commits,
        newest,
        non_prod_landings(&commits),
        non_prod_audit(&commits),
    );
    let mut prod_env = environment(
        "prod",
        Some("non-prod"),
        true,
        &commits,
        in_prod,
        prod_landings(&commits, &promotions),
        prod_audit(&commits, &promotions, &calendar, &tz),
    );
    prod_env.running = Some(Revision {
        at: promotions.last().expect("promotion").at,
        ..commits[in_prod].revision.clone()
    });
    prod_env.pending = Some(pending(&commits, in_prod, &calendar, now));
    prod_env.changes = pending_changes();

    Site {
        platform: "welkin".into(),
        now,
        generator: "strata 0.1.0".into(),
        source: Some(commits[newest].revision.clone()),
        calendar: SoakPolicy {
            timezone: TZ.into(),
            workdays: None,
            holidays,
            working_days: 5,
            approvals: 1,
        },
        components: COMPONENTS
            .iter()
            .zip(&versions)
            .map(|(c, v)| Component {
                name: c.0.into(),
                version: v.clone(),
                description: Some(c.4.into()),
                namespace: c.2.into(),
            })
            .collect(),
        environments: vec![non_prod, prod_env],
        checks: checks(),
    }
}

fn commit(
    n: usize,
    versions: &mut [String],
    bump: Option<usize>,
    subject: &str,
    time: Timestamp,
) -> Commit {
    let bump = bump.map(|c| {
        let from = versions[c].clone();
        let to = next_patch(&from);
        versions[c] = to.clone();
        (c, from, to)
    });
    Commit {
        revision: Revision {
            sha: sha(&format!("source {n}")),
            subject: subject.to_string(),
            author: PEOPLE[n % AUTHORS].to_string(),
            at: time,
        },
        published: time
            .checked_add(jiff::Span::new().minutes(3))
            .expect("time"),
        output: sha(&format!("non-prod publish {n}")),
        bump,
    }
}

/// The clusters of an environment, with the versions after commit `upto`.
fn clusters(env: &str, commits: &[Commit], upto: usize) -> Vec<Cluster> {
    let mut versions: Vec<String> = COMPONENTS.iter().map(|c| c.1.to_string()).collect();
    // The script bumps from the component.yaml versions: replay the bumps up to `upto`.
    for c in &commits[..=upto] {
        if let Some((i, _, to)) = &c.bump {
            versions[*i] = to.clone();
        }
    }
    let mut out = Vec::new();
    for dc in DATACENTERS {
        for role in ROLES {
            out.push(Cluster {
                name: format!("{env}-{dc}-{role}"),
                path: format!("{dc}/{role}"),
                datacenter: Some(dc.into()),
                role: role.into(),
                components: COMPONENTS
                    .iter()
                    .zip(&versions)
                    .filter(|(c, _)| c.3.contains(&role))
                    .map(|(c, v)| (c.0.to_string(), v.clone()))
                    .collect::<BTreeMap<_, _>>(),
                argocd: None,
            });
        }
    }
    out
}

fn environment(
    name: &str,
    previous: Option<&str>,
    gated: bool,
    commits: &[Commit],
    running: usize,
    landings: Vec<Landing>,
    audit: Vec<AuditEntry>,
) -> Environment {
    Environment {
        name: name.into(),
        branch: format!("env/{name}"),
        previous: previous.map(str::to_string),
        gated,
        running: Some(Revision {
            at: commits[running].published,
            ..commits[running].revision.clone()
        }),
        clusters: clusters(name, commits, running),
        pending: None,
        landings,
        audit,
        problems: Vec::new(),
        changes: Vec::new(),
    }
}

fn non_prod_landings(commits: &[Commit]) -> Vec<Landing> {
    commits
        .iter()
        .map(|c| Landing {
            revision: c.revision.clone(),
            soak_start: None,
            landed: Some(c.published),
            emergency: None,
            change: Some(c.output.clone()),
        })
        .collect()
}

fn version_changes(env: &str, commits: &[Commit]) -> Vec<VersionChange> {
    let mut by_component: BTreeMap<usize, (String, String)> = BTreeMap::new();
    for c in commits {
        if let Some((i, from, to)) = &c.bump {
            by_component
                .entry(*i)
                .and_modify(|e| e.1 = to.clone())
                .or_insert((from.clone(), to.clone()));
        }
    }
    let mut out = Vec::new();
    for dc in DATACENTERS {
        for role in ROLES {
            for (i, (from, to)) in &by_component {
                if COMPONENTS[*i].3.contains(&role) {
                    out.push(VersionChange {
                        cluster: format!("{env}-{dc}-{role}"),
                        component: COMPONENTS[*i].0.into(),
                        from: Some(from.clone()),
                        to: Some(to.clone()),
                    });
                }
            }
        }
    }
    out
}

fn non_prod_audit(commits: &[Commit]) -> Vec<AuditEntry> {
    commits
        .iter()
        .enumerate()
        .rev()
        .map(|(i, c)| AuditEntry {
            commit: c.output.clone(),
            at: Some(c.published),
            kind: ChangeKind::Publish,
            active: i.checked_sub(1).map(|p| commits[p].revision.sha.clone()),
            proposed: c.revision.sha.clone(),
            source_commits: vec![c.revision.clone()],
            version_changes: version_changes("non-prod", std::slice::from_ref(c)),
            soaked_in: None,
            approvers: Vec::new(),
            emergency: None,
            rollback: None,
            render_digest: format!("sha256:{}", sha(&format!("digest non-prod {i}"))),
            evidence: Vec::new(),
            problems: Vec::new(),
        })
        .collect()
}

fn prod_landings(commits: &[Commit], promotions: &[Promotion]) -> Vec<Landing> {
    commits
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let by = promotions.iter().find(|p| p.to >= i);
            Landing {
                revision: c.revision.clone(),
                soak_start: Some(c.published),
                landed: by.map(|p| p.at),
                emergency: by.and_then(|p| p.emergency.clone()),
                change: by.map(|p| p.output.clone()),
            }
        })
        .collect()
}

/// `n` people who wrote none of `commits`, starting from a different one each time.
fn approvers(commits: &[Commit], seed: usize, n: usize) -> Vec<String> {
    let authors: Vec<&str> = commits.iter().map(|c| c.revision.author.as_str()).collect();
    (0..PEOPLE.len())
        .map(|k| PEOPLE[(seed + k) % PEOPLE.len()])
        .filter(|p| !authors.contains(p))
        .take(n)
        .map(str::to_string)
        .collect()
}

fn prod_audit(
    commits: &[Commit],
    promotions: &[Promotion],
    calendar: &Calendar,
    tz: &TimeZone,
) -> Vec<AuditEntry> {
    promotions
        .iter()
        .enumerate()
        .rev()
        .map(|(k, p)| {
            let first = p.from.map_or(0, |f| f + 1);
            let brought = &commits[first..=p.to];
            let landed = commits[p.to].published;
            // Break-glass needs one approver more than usual.
            let approvers = approvers(brought, k, if p.emergency.is_some() { 2 } else { 1 });
            AuditEntry {
                commit: p.output.clone(),
                at: Some(p.at),
                kind: ChangeKind::Promotion,
                active: p.from.map(|f| commits[f].revision.sha.clone()),
                proposed: commits[p.to].revision.sha.clone(),
                source_commits: brought.iter().rev().map(|c| c.revision.clone()).collect(),
                version_changes: version_changes("prod", brought),
                soaked_in: Some(format!(
                    "env/non-prod@{} since {} {TZ} ({} working days)",
                    &commits[p.to].output[..7],
                    landed
                        .to_zoned_datetime(tz.clone())
                        .strftime("%Y-%m-%d %H:%M"),
                    calendar.soaked(landed, p.at)
                )),
                approvers,
                emergency: p.emergency.clone(),
                rollback: None,
                render_digest: format!("sha256:{}", sha(&format!("digest prod {k}"))),
                evidence: Vec::new(),
                problems: Vec::new(),
            }
        })
        .collect()
}

fn pending(commits: &[Commit], in_prod: usize, calendar: &Calendar, now: Timestamp) -> Proposal {
    let newest = commits.len() - 1;
    let proposed = &commits[newest];
    let landed = proposed.published;
    let done = calendar.soaked(landed, now);
    let ready = calendar.ready_at(landed, 5);
    let brought = &commits[in_prod + 1..];
    let mut authors: Vec<String> = brought.iter().map(|c| c.revision.author.clone()).collect();
    authors.sort();
    authors.dedup();
    Proposal {
        branch: "env/prod-next".into(),
        revision: Revision {
            at: proposed.published,
            ..proposed.revision.clone()
        },
        gates: vec![
            Gate {
                open: true,
                summary: format!(
                    "re-rendering {} gives the proposed tree (412 files)",
                    &proposed.revision.sha[..7]
                ),
                details: Vec::new(),
                facts: GateFacts::Reproducible,
            },
            Gate {
                open: false,
                summary: calendar.describe(landed, now, 5),
                details: Vec::new(),
                facts: GateFacts::Soaked {
                    done,
                    needed: 5,
                    landed: Some(landed),
                    ready_at: Some(ready.timestamp()),
                },
            },
            Gate {
                open: false,
                summary: "0 of 1 distinct approvers outside the author set".into(),
                details: Vec::new(),
                facts: GateFacts::FourEyes {
                    needed: 1,
                    approvers: Vec::new(),
                    authors,
                    rejected: Vec::new(),
                },
            },
        ],
        notes: vec![
            "Four-eyes is judged on the pull request with `strata verify-promotion --approvals`: no approval is recorded yet.".into(),
        ],
        source_commits: brought.iter().rev().map(|c| c.revision.clone()).collect(),
        version_changes: version_changes("prod", brought),
    }
}

fn resource(
    status: Status,
    component: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    paths: &[&str],
    unified: &str,
) -> ResourceChange {
    ResourceChange {
        status,
        component: component.into(),
        kind: kind.into(),
        namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
        name: name.into(),
        changed_paths: paths.iter().map(|p| p.to_string()).collect(),
        unified: unified.into(),
    }
}

fn pending_changes() -> Vec<ClusterChanges> {
    let image = "@@ -24,7 +24,7 @@\n     spec:\n       containers:\n       - name: controller\n-        image: harbor.prod.welkin.example.com/ingress-nginx/controller:v1.11.5\n+        image: harbor.prod.welkin.example.com/ingress-nginx/controller:v1.11.6\n         args:\n         - /nginx-ingress-controller\n         - --election-id=ingress-nginx-leader\n";
    let config = "@@ -8,5 +8,6 @@\n data:\n   allow-snippet-annotations: \"false\"\n-  proxy-body-size: 8m\n+  proxy-body-size: 16m\n+  use-forwarded-headers: \"true\"\n   ssl-protocols: TLSv1.2 TLSv1.3\n";
    let secret = "@@ -1,7 +1,7 @@\n apiVersion: v1\n data:\n-  s3-secret-key: sha256:5e884898da28\n+  s3-secret-key: sha256:a665a45920422\n kind: Secret\n metadata:\n   name: velero-credentials\n";
    let policy = "+apiVersion: networking.k8s.io/v1\n+kind: NetworkPolicy\n+metadata:\n+  name: allow-thanos-receive\n+  namespace: monitoring\n+spec:\n+  podSelector:\n+    matchLabels:\n+      app.kubernetes.io/name: prometheus\n+  policyTypes:\n+  - Egress\n";
    let app = "@@ -3,7 +3,7 @@\n metadata:\n   annotations:\n-    argocd.argoproj.io/sync-wave: \"2\"\n+    argocd.argoproj.io/sync-wave: \"3\"\n   labels:\n     strata.dev/cluster: prod-sto2-workload\n";
    let mut out = Vec::new();
    for dc in DATACENTERS {
        out.push(ClusterChanges {
            cluster: format!("{dc}/management"),
            cluster_name: Some(format!("prod-{dc}-management")),
            resources: vec![
                resource(
                    Status::Changed,
                    "ingress-nginx",
                    "apps/Deployment",
                    "ingress-nginx",
                    "ingress-nginx-controller",
                    &["spec.template.spec.containers[name=controller].image"],
                    image,
                ),
                resource(
                    Status::Changed,
                    "ingress-nginx",
                    "ConfigMap",
                    "ingress-nginx",
                    "ingress-nginx-controller",
                    &["data.proxy-body-size", "data.use-forwarded-headers"],
                    config,
                ),
                resource(
                    Status::Changed,
                    "velero",
                    "Secret",
                    "velero",
                    "velero-credentials",
                    &["data.s3-secret-key"],
                    secret,
                ),
            ],
        });
        out.push(ClusterChanges {
            cluster: format!("{dc}/workload"),
            cluster_name: Some(format!("prod-{dc}-workload")),
            resources: vec![
                resource(
                    Status::Changed,
                    "ingress-nginx",
                    "apps/Deployment",
                    "ingress-nginx",
                    "ingress-nginx-controller",
                    &["spec.template.spec.containers[name=controller].image"],
                    image,
                ),
                resource(
                    Status::Added,
                    "network-policies",
                    "networking.k8s.io/NetworkPolicy",
                    "monitoring",
                    "allow-thanos-receive",
                    &[],
                    policy,
                ),
            ],
        });
    }
    out.push(ClusterChanges {
        cluster: "argocd".into(),
        cluster_name: None,
        resources: vec![resource(
            Status::Changed,
            "argocd",
            "argoproj.io/Application",
            "argocd",
            "prod-sto2-workload-ingress-nginx",
            &["metadata.annotations[\"argocd.argoproj.io/sync-wave\"]"],
            app,
        )],
    });
    out
}

/// A policy finding: rule, level, cluster, component, resource, field, message, exemption.
type Finding<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
);

fn finding(f: Finding<'_>) -> PolicyFinding {
    let (rule, level, cluster, component, resource, field, message, exemption) = f;
    PolicyFinding {
        rule: rule.into(),
        level: level.into(),
        environment: if cluster.starts_with("non-prod") {
            "non-prod"
        } else {
            "prod"
        }
        .into(),
        cluster: cluster.into(),
        component: component.into(),
        resource: resource.into(),
        field: field.into(),
        message: message.into(),
        hint: "see `strata policy list` for what the rule checks and how to comply".into(),
        origin: Some(format!("components/{component}/values.yaml:12")),
        exemption: exemption.map(str::to_string),
    }
}

fn checks() -> Checks {
    Checks {
        findings: [
            ("image-pinned", "warn", "non-prod-sto2-workload", "trivy-operator", "apps/Deployment trivy-system/trivy-operator", "spec.template.spec.containers[name=operator].image", "image aquasec/trivy-operator:0.24.1 is not pinned by digest", None),
            ("resource-requests", "warn", "non-prod-osl2-management", "opensearch", "apps/StatefulSet opensearch/opensearch-data", "spec.template.spec.containers[name=opensearch].resources.requests.memory", "container opensearch sets no memory request", None),
            ("no-privileged", "deny", "prod-sto2-workload", "falco", "apps/DaemonSet falco/falco", "spec.template.spec.containers[name=falco].securityContext.privileged", "container falco runs privileged", Some("falco reads kernel events through its driver; accepted in CHG-2026-118")),
            ("no-host-namespaces", "deny", "prod-osl2-workload", "falco", "apps/DaemonSet falco/falco", "spec.template.spec.hostPID", "the pod shares the host's PID namespace", Some("falco must see every process on the node; accepted in CHG-2026-118")),
            ("volume-types", "deny", "prod-sto2-management", "fluentd", "apps/DaemonSet fluentd/fluentd", "spec.template.spec.volumes[name=varlog].hostPath", "the pod mounts the host path /var/log", Some("fluentd tails container logs from the node; accepted in CHG-2025-302")),
        ]
        .into_iter()
        .map(finding)
        .collect(),
        schema: vec![SchemaFinding {
            severity: "warning".into(),
            code: "kube-deprecated".into(),
            message: "autoscaling/v2beta2 HorizontalPodAutoscaler is removed in Kubernetes 1.26; the clusters run 1.31".into(),
            location: Some("components/harbor/templates/hpa.yaml:1".into()),
            hint: Some("use autoscaling/v2".into()),
        }],
        drift: Some(vec![
            ClusterDrift {
                cluster: "prod-sto2-workload".into(),
                in_sync: 212,
                changed: vec![DriftedObject {
                    object: "apps/Deployment ingress-nginx/ingress-nginx-controller".into(),
                    fields: vec![
                        DriftedField {
                            path: "spec.replicas".into(),
                            kind: "changed".into(),
                            desired: Some("3".into()),
                            live: Some("5".into()),
                        },
                        DriftedField {
                            path: "metadata.labels.debug".into(),
                            kind: "extra_in_live".into(),
                            desired: None,
                            live: Some("\"true\"".into()),
                        },
                    ],
                }],
                missing: vec!["ConfigMap monitoring/grafana-dashboards-ingress".into()],
                orphans: vec!["rbac.authorization.k8s.io/ClusterRole old-metrics-reader".into()],
            },
            ClusterDrift {
                cluster: "prod-osl2-workload".into(),
                in_sync: 214,
                changed: Vec::new(),
                missing: Vec::new(),
                orphans: Vec::new(),
            },
        ]),
    }
}

pub const SCRIPT: &str = "<script>alert(1)</script>";
pub const IMG: &str = r#""><img src=x onerror=alert(1)>"#;

/// The year with markup in every text a repository controls.
pub fn hostile() -> Site {
    let mut site = year();
    let both = format!("{SCRIPT}{IMG}");
    site.platform = both.clone();
    site.components[0].description = Some(both.clone());
    let prod = &mut site.environments[1];
    if let Some(r) = prod.running.as_mut() {
        r.subject = both.clone();
    }
    let last = prod.landings.len() - 1;
    prod.landings[last].revision.subject = both.clone();
    prod.landings[0].revision.subject = both.clone();
    prod.landings[0].revision.author = IMG.into();
    prod.audit[0].approvers = vec![both.clone()];
    prod.audit[0].source_commits[0].subject = both.clone();
    prod.audit[0].emergency = Some(both.clone());
    prod.clusters[0].name = both.clone();
    if let Some(p) = prod.pending.as_mut() {
        p.revision.subject = both.clone();
        if let GateFacts::FourEyes { approvers, .. } = &mut p.gates[2].facts {
            approvers.push(both.clone());
        }
    }
    prod.changes[0].resources[0].unified = format!("+{SCRIPT}\n-{IMG}\n");
    site.checks.findings[0].message = both.clone();
    site.checks.findings[2].exemption = Some(both);
    site
}
