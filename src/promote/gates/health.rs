//! The health gate ("verified in non-prod"): every Argo CD Application of the previous
//! environment synced a revision that contains the proposal, and is `Synced` and `Healthy`.
//!
//! The Applications come as `kubectl get applications.argoproj.io -n argocd -o yaml` prints
//! them (a `List`, one object, or a stream), offline, like the live objects of `drift`. Of each,
//! the fields of the Application CRD's `status` are read:
//! - `sync.revision`: the commit of `env/<previous>` Argo CD deployed. It *contains* the
//!   proposal when the drySha that commit records is the proposed drySha or descends from it
//!   (the caller knows git; this file is handed the answer as [`Synced`]);
//! - `sync.status` must be `Synced` and `health.status` `Healthy`;
//! - `operationState.phase`, where Argo CD recorded a sync operation, must be `Succeeded`;
//! - `reconciledAt` must not be before `operationState.finishedAt`: otherwise the health shown
//!   was assessed before the sync ended, and says nothing about the change;
//! - `history[]`, the entry of the synced revision gives `deployedAt`, shown as evidence.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

use super::break_glass::BreakGlass;
use super::gate::{Gate, GateName};
use crate::compare::drift::{LivePlace, parse_live_placed};

/// What the export says of one Application.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppStatus {
    pub(crate) name: String,
    pub(crate) revision: Option<String>,
    pub(crate) sync: Option<String>,
    pub(crate) health: Option<String>,
    pub(crate) phase: Option<String>,
    pub(crate) finished_at: Option<Timestamp>,
    pub(crate) reconciled_at: Option<Timestamp>,
    pub(crate) deployed_at: Option<Timestamp>,
}

/// How the revision an Application synced stands to the proposal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Synced {
    /// It records `dry_sha`, which is the proposal or descends from it.
    Contains { dry_sha: String },
    /// It records `dry_sha`, which does not contain the proposal: older, or another line.
    Predates { dry_sha: String },
    /// The output repository has no such commit, or it records no drySha.
    Unknown,
}

/// Reads the Argo CD Applications of an export; the error says where and what to do.
pub(crate) fn read_applications(text: &str) -> Result<BTreeMap<String, AppStatus>, String> {
    let objects = parse_live_placed(text).map_err(|e| {
        e.to_string().replace(
            "`kubectl get -o yaml` (or `-o json`)",
            "`kubectl get applications.argoproj.io -n argocd -o yaml`",
        )
    })?;
    let mut apps: BTreeMap<String, (LivePlace, AppStatus)> = BTreeMap::new();
    for (place, object) in objects {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        if kind != "Application" || !api.starts_with("argoproj.io/") {
            return Err(format!(
                "{place} is a {kind} ({api}), not an Argo CD Application; export them with `kubectl get applications.argoproj.io -n argocd -o yaml`"
            ));
        }
        let app = app_status(&object, place)?;
        if let Some((first, _)) = apps.get(&app.name) {
            return Err(format!(
                "the Application {} is there twice, at {first} and at {place}; export one namespace, or one Argo CD, at a time",
                app.name
            ));
        }
        apps.insert(app.name.clone(), (place, app));
    }
    Ok(apps.into_iter().map(|(k, (_, v))| (k, v)).collect())
}

fn app_status(object: &Value, place: LivePlace) -> Result<AppStatus, String> {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let time = |pointer: &str| -> Result<Option<Timestamp>, String> {
        match object.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
                format!(
                    "{place}: {} is `{s}`, not an RFC 3339 time such as 2026-12-07T10:05:00Z; pass the export unchanged",
                    pointer.trim_start_matches('/').replace('/', ".")
                )
            }),
            Some(other) => Err(format!(
                "{place}: {} is {other}, not a time; pass the export unchanged",
                pointer.trim_start_matches('/').replace('/', ".")
            )),
        }
    };
    let name = text("/metadata/name").unwrap_or_default();
    // A commit id of digits only reads as a number where the export was re-serialized unquoted.
    let revision = match object.pointer("/status/sync/revision") {
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => text("/status/sync/revision"),
    }
    .filter(|r| !r.is_empty());
    let mut deployed_at = None;
    if let (Some(Value::Array(history)), Some(rev)) = (object.pointer("/status/history"), &revision)
    {
        for entry in history {
            if entry.get("revision").and_then(Value::as_str) == Some(rev.as_str())
                && let Some(Value::String(at)) = entry.get("deployedAt")
            {
                deployed_at = Some(at.parse().map_err(|_| {
                    format!(
                        "{place}: status.history[].deployedAt is `{at}`, not an RFC 3339 time; pass the export unchanged"
                    )
                })?);
            }
        }
    }
    Ok(AppStatus {
        name,
        revision,
        sync: text("/status/sync/status"),
        health: text("/status/health/status"),
        phase: text("/status/operationState/phase"),
        finished_at: time("/status/operationState/finishedAt")?,
        reconciled_at: time("/status/reconciledAt")?,
        deployed_at,
    })
}

/// What the health gate judges: the Applications `env/<previous>` deploys, what the export
/// says of them, and how each synced revision stands to the proposal.
pub(crate) struct HealthEvidence<'a> {
    pub(crate) previous: &'a str,
    /// The proposed drySha, short.
    pub(crate) proposed: &'a str,
    pub(crate) expected: &'a [String],
    pub(crate) apps: &'a BTreeMap<String, AppStatus>,
    pub(crate) synced: &'a BTreeMap<String, Synced>,
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

impl Gate {
    /// The health gate, and the evidence of each Application for the promotion's trailers.
    /// Break-glass opens it, as it opens the soak.
    pub(crate) fn healthy(
        e: &HealthEvidence<'_>,
        emergency: Option<&BreakGlass>,
    ) -> (Gate, Vec<String>) {
        let mut problems = Vec::new();
        let mut evidence = Vec::new();
        for name in e.expected {
            let Some(app) = e.apps.get(name) else {
                problems.push(format!(
                    "{name}: not in the export; export every Application of {} (kubectl get applications.argoproj.io -n argocd -o yaml)",
                    e.previous
                ));
                continue;
            };
            let Some(revision) = &app.revision else {
                problems.push(format!(
                    "{name}: has not synced yet (no status.sync.revision)"
                ));
                continue;
            };
            let rev = short(revision);
            let mut wrong = Vec::new();
            let dry = match e.synced.get(name).unwrap_or(&Synced::Unknown) {
                Synced::Contains { dry_sha } => short(dry_sha).to_string(),
                Synced::Predates { dry_sha } => {
                    wrong.push(format!(
                        "synced {rev} (drySha {}), which predates {}: Argo CD has not deployed the change yet",
                        short(dry_sha),
                        e.proposed
                    ));
                    short(dry_sha).to_string()
                }
                Synced::Unknown => {
                    wrong.push(format!(
                        "synced {rev}, which is not a commit of env/{} in this output repository: fetch it, or check that the Application follows env/{}",
                        e.previous, e.previous
                    ));
                    "?".to_string()
                }
            };
            let sync = app.sync.as_deref().unwrap_or("Unknown");
            let health = app.health.as_deref().unwrap_or("Unknown");
            if sync != "Synced" {
                wrong.push(format!("is {sync}, not Synced"));
            }
            if health != "Healthy" {
                wrong.push(format!("is {health}, not Healthy"));
            }
            if let Some(phase) = app.phase.as_deref().filter(|p| *p != "Succeeded") {
                wrong.push(format!("its last sync operation is {phase}"));
            }
            if let (Some(finished), Some(reconciled)) = (app.finished_at, app.reconciled_at)
                && reconciled < finished
            {
                wrong.push(format!(
                    "its health was last assessed at {reconciled}, before its sync finished at {finished}: wait for Argo CD to reconcile it, and export again"
                ));
            }
            if wrong.is_empty() {
                let since = app
                    .deployed_at
                    .or(app.finished_at)
                    .map(|t| format!(" since {t}"))
                    .unwrap_or_default();
                evidence.push(format!("{name} {rev} (drySha {dry}) Synced Healthy{since}"));
            } else {
                problems.push(format!("{name}: {}", wrong.join("; ")));
            }
        }
        let n = e.expected.len();
        let gate = if problems.is_empty() {
            Gate {
                name: GateName::Healthy,
                open: true,
                summary: format!(
                    "{n} of {n} Applications of {} synced {} or later, and are Synced and Healthy",
                    e.previous, e.proposed
                ),
                details: Vec::new(),
            }
        } else {
            let verdict = format!(
                "{} of {n} Applications of {} are not verified with {}",
                problems.len(),
                e.previous,
                e.proposed
            );
            Gate {
                name: GateName::Healthy,
                open: emergency.is_some(),
                summary: match emergency {
                    Some(_) => format!("skipped by break-glass; {verdict}"),
                    None => format!(
                        "{verdict}; fix {} and export the Applications again",
                        e.previous
                    ),
                },
                details: problems,
            }
        };
        (gate, evidence)
    }

    /// The health gate where the policy requires it and no export was given.
    pub(crate) fn healthy_missing(
        env: &str,
        previous: &str,
        emergency: Option<&BreakGlass>,
    ) -> Gate {
        let need = format!(
            "the policy requires proof that {previous} runs the change healthy before {env}: pass --argocd-status FILE, the output of `kubectl get applications.argoproj.io -n argocd -o yaml` on the Argo CD of {previous}"
        );
        Gate {
            name: GateName::Healthy,
            open: emergency.is_some(),
            summary: match emergency {
                Some(_) => format!("skipped by break-glass; {need}"),
                None => need,
            },
            details: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applications as the API server serves them: a List of argoproj.io/v1alpha1
    /// Applications with their status. `web` is healthy on the new revision, `api` is Degraded,
    /// `db` OutOfSync, `cache` synced a revision before the change, `queue` was assessed before
    /// its sync finished.
    const EXPORT: &str = r#"apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: argoproj.io/v1alpha1
  kind: Application
  metadata:
    name: dev-sto2-workload-web
    namespace: argocd
    resourceVersion: "81234"
    uid: 3f0e9a8c-1d2b-4c5e-9f7a-0b1c2d3e4f50
  spec:
    destination: {namespace: web, server: https://dev-sto2.example.com:6443}
    project: dev
    source: {path: sto2/workload/web, repoURL: https://git.example.com/out.git, targetRevision: env/dev}
  status:
    health: {status: Healthy}
    history:
    - deployStartedAt: "2026-11-30T10:04:40Z"
      deployedAt: "2026-11-30T10:05:00Z"
      id: 7
      revision: "1111111111111111111111111111111111111111"
    operationState:
      finishedAt: "2026-11-30T10:05:00Z"
      phase: Succeeded
      startedAt: "2026-11-30T10:04:40Z"
    reconciledAt: "2026-11-30T10:08:00Z"
    sync:
      revision: "1111111111111111111111111111111111111111"
      status: Synced
- apiVersion: argoproj.io/v1alpha1
  kind: Application
  metadata: {name: dev-sto2-workload-api, namespace: argocd}
  status:
    health: {status: Degraded, message: "Deployment api exceeded its progress deadline"}
    operationState: {finishedAt: "2026-11-30T10:05:00Z", phase: Succeeded}
    reconciledAt: "2026-11-30T10:08:00Z"
    sync: {revision: "1111111111111111111111111111111111111111", status: Synced}
- apiVersion: argoproj.io/v1alpha1
  kind: Application
  metadata: {name: dev-sto2-workload-db, namespace: argocd}
  status:
    health: {status: Healthy}
    reconciledAt: "2026-11-30T10:08:00Z"
    sync: {revision: "1111111111111111111111111111111111111111", status: OutOfSync}
- apiVersion: argoproj.io/v1alpha1
  kind: Application
  metadata: {name: dev-sto2-workload-cache, namespace: argocd}
  status:
    health: {status: Healthy}
    sync: {revision: "2222222222222222222222222222222222222222", status: Synced}
- apiVersion: argoproj.io/v1alpha1
  kind: Application
  metadata: {name: dev-sto2-workload-queue, namespace: argocd}
  status:
    health: {status: Healthy}
    operationState: {finishedAt: "2026-11-30T10:05:00Z", phase: Succeeded}
    reconciledAt: "2026-11-30T10:04:00Z"
    sync: {revision: "1111111111111111111111111111111111111111", status: Synced}
"#;

    fn judge(expected: &[&str]) -> (Gate, Vec<String>) {
        let apps = read_applications(EXPORT).expect("export");
        let synced: BTreeMap<String, Synced> = apps
            .iter()
            .map(|(name, app)| {
                let s = match app.revision.as_deref() {
                    Some("1111111111111111111111111111111111111111") => Synced::Contains {
                        dry_sha: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
                    },
                    Some("2222222222222222222222222222222222222222") => Synced::Predates {
                        dry_sha: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into(),
                    },
                    _ => Synced::Unknown,
                };
                (name.clone(), s)
            })
            .collect();
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        Gate::healthy(
            &HealthEvidence {
                previous: "dev",
                proposed: "aaaaaaa",
                expected: &expected,
                apps: &apps,
                synced: &synced,
            },
            None,
        )
    }

    #[test]
    fn every_application_healthy_on_the_change_opens_the_gate() {
        let (gate, evidence) = judge(&["dev-sto2-workload-web"]);
        assert!(gate.open, "{gate:?}");
        assert_eq!(
            gate.summary,
            "1 of 1 Applications of dev synced aaaaaaa or later, and are Synced and Healthy"
        );
        assert_eq!(
            evidence,
            [
                "dev-sto2-workload-web 1111111 (drySha aaaaaaa) Synced Healthy since 2026-11-30T10:05:00Z"
            ]
        );
    }

    #[test]
    fn degraded_out_of_sync_old_missing_and_stale_applications_close_it() {
        let (gate, evidence) = judge(&[
            "dev-sto2-workload-api",
            "dev-sto2-workload-cache",
            "dev-sto2-workload-db",
            "dev-sto2-workload-queue",
            "dev-sto2-workload-search",
            "dev-sto2-workload-web",
        ]);
        assert!(!gate.open);
        assert_eq!(
            gate.summary,
            "5 of 6 Applications of dev are not verified with aaaaaaa; fix dev and export the Applications again"
        );
        assert_eq!(
            gate.details,
            [
                "dev-sto2-workload-api: is Degraded, not Healthy",
                "dev-sto2-workload-cache: synced 2222222 (drySha bbbbbbb), which predates aaaaaaa: Argo CD has not deployed the change yet",
                "dev-sto2-workload-db: is OutOfSync, not Synced",
                "dev-sto2-workload-queue: its health was last assessed at 2026-11-30T10:04:00Z, before its sync finished at 2026-11-30T10:05:00Z: wait for Argo CD to reconcile it, and export again",
                "dev-sto2-workload-search: not in the export; export every Application of dev (kubectl get applications.argoproj.io -n argocd -o yaml)",
            ]
        );
        assert_eq!(evidence.len(), 1);
        let emergency = BreakGlass::new("recovery").expect("valid");
        let apps = read_applications(EXPORT).expect("export");
        let (gate, _) = Gate::healthy(
            &HealthEvidence {
                previous: "dev",
                proposed: "aaaaaaa",
                expected: &["dev-sto2-workload-search".to_string()],
                apps: &apps,
                synced: &BTreeMap::new(),
            },
            Some(&emergency),
        );
        assert!(gate.open);
        assert!(
            gate.summary.starts_with("skipped by break-glass; 1 of 1"),
            "{}",
            gate.summary
        );
    }

    #[test]
    fn a_single_object_and_json_are_read_too() {
        let one = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nstatus:\n  sync: {revision: abc, status: Synced}\n  health: {status: Healthy}\n";
        let apps = read_applications(one).expect("one");
        assert_eq!(apps["a"].revision.as_deref(), Some("abc"));
        let json = r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "b"}}]}"#;
        let apps = read_applications(json).expect("json");
        assert_eq!(apps["b"].revision, None);
    }

    #[test]
    fn a_malformed_export_says_where() {
        let cases = [
            (
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  metadata: {name: a\n",
                "the live input is not valid YAML: document 1, line 7, column 1",
            ),
            (
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web}\n",
                "document 1, item 1 is a Deployment (apps/v1), not an Argo CD Application; export them with `kubectl get applications.argoproj.io -n argocd -o yaml`",
            ),
            (
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: b}\nstatus: {reconciledAt: yesterday}\n",
                "document 2: status.reconciledAt is `yesterday`, not an RFC 3339 time such as 2026-12-07T10:05:00Z; pass the export unchanged",
            ),
            (
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n",
                "the Application a is there twice, at document 1 and at document 2; export one namespace, or one Argo CD, at a time",
            ),
        ];
        for (text, want) in cases {
            let err = read_applications(text).expect_err("malformed");
            assert!(err.starts_with(want), "{err}\nwanted: {want}");
        }
    }
}
