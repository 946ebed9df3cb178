//! Filling a [`Site`] from the source and the output repository: what `status`, `audit`,
//! `verify-promotion`, `diff` and `validate` say, read once and kept as plain facts.
//!
//! Nothing here decides anything the commands do not: the gates are `verify-promotion`'s
//! (every gate it returns, whatever its name), the audit trail is `audit`'s, the pending change
//! is `diff` of `env/<e>` against `env/<e>-next` (the trees a promotion would merge, Secret
//! values hashed as `diff` hashes them), the findings are those of a compile of `HEAD`. The
//! timeline is the two audits of an environment and the one before it set side by side: when
//! each source commit reached the previous environment (the soak starts) and when it reached
//! this one.

use std::collections::BTreeMap;

use git2::Repository;
use jiff::Timestamp;

use super::model::{
    ApplicationHealth, ApplicationState, AuditEntry, ChangeKind, Checks, Cluster, ClusterArgoCd,
    ClusterDrift, Component, Environment, Gate, GateFacts, Landing, PolicyFinding, Proposal,
    Revision, SchemaFinding, Site, SoakPolicy, VersionChange,
};
use super::pending;
use crate::compile::Compiled;
use crate::diag::{Diagnostic, Severity};
use crate::git::output::{self, Metadata};
use crate::git::source::SourceRepo;
use crate::git::{resolve, world_at};
use crate::policy::Level;
use crate::promote::audit::{self as audit_trail, audit_with};
use crate::promote::error::{PromotionError, require_history};
use crate::promote::gates::gate::{Gate as PromotionGate, GateName};
use crate::promote::gates::health::AppStatus;
use crate::promote::history::FindingsCache;
use crate::promote::repos::{Compiles, policy_for, settings_at};
use crate::promote::status::{environments, is_pending};
use crate::promote::tree_digests::TreeDigests;
use crate::promote::verify::{Counted, PromotionRequest, holidays, verify_with};
use crate::world::World as _;

/// What the site is asked besides the repositories.
#[derive(Clone, Debug)]
pub struct Request {
    /// When the facts are read: `--now`, or the clock at the command line's edge.
    pub now: Timestamp,
    /// The content of an `--approvals` file, as `verify-promotion` reads it; `None` when
    /// four-eyes is judged on the pull request.
    pub approvals: Option<String>,
    /// The live drift of each cluster a report was given for.
    pub drift: Option<Vec<ClusterDrift>>,
    /// The Argo CD Applications of every export given with `--argocd-status`, by name.
    pub(crate) argocd_status: Option<BTreeMap<String, AppStatus>>,
    /// `strata 0.1.0`.
    pub generator: String,
}

/// The site of the platform in `source`, published to `out`, as of `request.now`.
pub(crate) fn collect(
    source: &SourceRepo,
    out: &Repository,
    request: &Request,
) -> Result<Site, PromotionError> {
    let now = request.now;
    require_history(source, out)?;
    let head_settings = settings_at(source, "HEAD")?;
    let names = environments(out, &head_settings)?;
    let mut history = FindingsCache::default();
    let mut compiles = Compiles::default();
    let compiled = compiles.at(source, "HEAD");
    let head = resolve(&source.repo, "HEAD")?;
    let platform = head_settings.platform.clone().unwrap_or_else(|| {
        std::path::Path::new(&source.path())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });

    let mut audits: BTreeMap<&str, Vec<audit_trail::AuditEntry>> = BTreeMap::new();
    let mut digests = TreeDigests::default();
    for env in &names {
        let trail = match output::tip(out, &format!("env/{env}"))? {
            Some(_) => audit_with(source, out, env, None, &mut digests)?,
            None => Vec::new(),
        };
        audits.insert(env, trail);
    }

    let mut environments = Vec::new();
    let mut calendar = None;
    for env in &names {
        let env = env.as_str();
        let branch = format!("env/{env}");
        let (policy, _) = policy_for(source, out, env, &head_settings)?;
        if policy.previous.is_some() || calendar.is_none() {
            calendar = Some(SoakPolicy {
                timezone: policy.soak.timezone.clone(),
                workdays: policy.soak.workdays.clone(),
                holidays: holidays(&policy.soak.holidays)?,
                working_days: policy.soak.working_days,
                approvals: policy.distinct,
            });
        }
        let tip = output::tip(out, &branch)?;
        let meta = match &tip {
            Some(c) => output::metadata_of(out, c)?,
            None => None,
        };
        let running = match (&tip, &meta) {
            (Some(c), Some(m)) => Some(Revision {
                sha: m.dry_sha.clone(),
                subject: m.subject.clone(),
                author: m.author.clone(),
                at: output::time_of(c),
            }),
            _ => None,
        };
        let clusters = meta
            .as_ref()
            .map(|m| clusters(m, compiled.as_deref().ok(), request.argocd_status.as_ref()))
            .unwrap_or_default();
        let mut problems: Vec<String> = history
            .of(source, out, env)?
            .into_iter()
            .map(|f| f.message)
            .collect();
        let next_branch = format!("{branch}-next");
        let next = match output::tip(out, &next_branch)? {
            Some(c) => output::metadata_of(out, &c)?.map(|m| (c, m)),
            None => None,
        };
        let (pending, changes) = match next {
            Some((next, next_meta)) if is_pending(meta.as_ref(), &next_meta) => {
                let previous_apps = match (&policy.previous, &request.argocd_status) {
                    (Some(previous), Some(apps)) => {
                        applications_in(out, &format!("env/{previous}"), apps)?
                    }
                    _ => None,
                };
                let waiting = Waiting {
                    env,
                    branch: &next_branch,
                    commit: &next,
                    meta: &next_meta,
                    active: meta.as_ref(),
                    previous_apps,
                };
                let proposal =
                    proposal(source, out, &waiting, request, &mut history, &mut compiles)?;
                let changes = match pending::pending_change(out, env, &branch) {
                    Ok(c) => c,
                    Err(why) => {
                        problems.push(why);
                        Vec::new()
                    }
                };
                (Some(proposal), changes)
            }
            _ => (None, Vec::new()),
        };
        let trail = &audits[env];
        let landings = landings(
            source,
            trail,
            policy.previous.as_deref().and_then(|p| audits.get(p)),
        );
        environments.push(Environment {
            name: env.to_string(),
            branch,
            previous: policy.previous.clone(),
            gated: policy.gated,
            running,
            clusters,
            pending,
            landings,
            audit: trail.iter().map(|a| audit_entry(source, a)).collect(),
            problems,
            changes,
        });
    }

    let calendar = match calendar {
        Some(c) => c,
        None => {
            let soak = head_settings
                .promotion
                .as_ref()
                .and_then(|p| p.soak.clone());
            SoakPolicy {
                timezone: soak
                    .as_ref()
                    .map_or_else(|| "UTC".to_string(), |s| s.timezone.clone()),
                workdays: soak.as_ref().and_then(|s| s.workdays.clone()),
                holidays: match &soak {
                    Some(s) => holidays(&s.holidays)?,
                    None => Vec::new(),
                },
                working_days: soak.as_ref().map_or(5, |s| s.working_days),
                approvals: 1,
            }
        }
    };

    let (components, checks) = match &compiled {
        Ok(c) => (components(source, c), checks_of(c)),
        Err(PromotionError::Render { failure, .. }) => (
            Vec::new(),
            Checks {
                findings: Vec::new(),
                schema: failure.diagnostics.0.iter().map(schema_finding).collect(),
                drift: None,
            },
        ),
        Err(e) => return Err(PromotionError::Policy(e.to_string())),
    };
    Ok(Site {
        platform,
        now,
        generator: request.generator.clone(),
        source: Some(revision_of(&head)),
        calendar,
        components,
        environments,
        checks: Checks {
            drift: request.drift.clone(),
            ..checks
        },
    })
}

/// A source commit as a person recognizes it, at its commit time.
fn revision_of(c: &git2::Commit<'_>) -> Revision {
    Revision {
        sha: c.id().to_string(),
        subject: c.summary().ok().flatten().unwrap_or("").to_string(),
        author: output::who(&c.author()),
        at: output::time_of(c),
    }
}

/// The commit time of the source commit `sha`, when the source repository has it.
fn committed(source: &SourceRepo, sha: &str) -> Option<Timestamp> {
    let oid = git2::Oid::from_str(sha).ok()?;
    source
        .repo
        .find_commit(oid)
        .ok()
        .map(|c| output::time_of(&c))
}

/// The clusters `hydrator.metadata` records, with where each lives as the source at `HEAD`
/// has it (a cluster `HEAD` no longer has keeps its name only), and what Argo CD reports of
/// them when an export holds any Application of the environment.
fn clusters(
    meta: &Metadata,
    compiled: Option<&Compiled>,
    apps: Option<&BTreeMap<String, AppStatus>>,
) -> Vec<Cluster> {
    let apps = apps.filter(|apps| {
        meta.components.iter().any(|(cluster, comps)| {
            comps
                .keys()
                .any(|c| apps.contains_key(&app_name(cluster, c)))
        })
    });
    meta.components
        .iter()
        .map(|(name, versions)| {
            let known = compiled.and_then(|c| c.all.iter().find(|k| k.name == *name));
            Cluster {
                name: name.clone(),
                path: known.map(|k| k.path()).unwrap_or_default(),
                datacenter: known.and_then(|k| k.datacenter.clone()),
                role: known.map(|k| k.role.clone()).unwrap_or_default(),
                components: versions.clone(),
                argocd: apps.map(|apps| argocd_of(name, versions, apps)),
            }
        })
        .collect()
}

/// The Application of a component on a cluster: `metadata.name` of the Applications strata
/// writes.
fn app_name(cluster: &str, component: &str) -> String {
    format!("{cluster}-{component}")
}

/// What the export says of the Applications of `cluster`, one per component.
fn argocd_of(
    cluster: &str,
    components: &BTreeMap<String, String>,
    apps: &BTreeMap<String, AppStatus>,
) -> ClusterArgoCd {
    let mut out = ClusterArgoCd::default();
    for component in components.keys() {
        let name = app_name(cluster, component);
        match apps.get(&name) {
            Some(app) => out.applications.push(ApplicationState {
                component: component.clone(),
                name,
                revision: app.revision.clone(),
                sync: app.sync.clone().unwrap_or_else(|| "Unknown".to_string()),
                health: app.health.clone().unwrap_or_else(|| "Unknown".to_string()),
            }),
            None => out.missing.push(component.clone()),
        }
    }
    out
}

/// The Applications of the environment of `branch` that the export holds; `None` when it
/// holds none of them (it was exported from another environment's Argo CD).
fn applications_in(
    out: &Repository,
    branch: &str,
    apps: &BTreeMap<String, AppStatus>,
) -> Result<Option<BTreeMap<String, AppStatus>>, PromotionError> {
    let meta = match output::tip(out, branch)? {
        Some(c) => output::metadata_of(out, &c)?,
        None => None,
    };
    let found: BTreeMap<String, AppStatus> = meta
        .iter()
        .flat_map(|m| m.components.iter())
        .flat_map(|(cluster, comps)| comps.keys().map(move |c| app_name(cluster, c)))
        .filter_map(|name| apps.get(&name).map(|app| (name, app.clone())))
        .collect();
    Ok((!found.is_empty()).then_some(found))
}

/// A proposal that waits on `env/<e>-next`.
struct Waiting<'a> {
    env: &'a str,
    /// `env/<e>-next`.
    branch: &'a str,
    commit: &'a git2::Commit<'a>,
    meta: &'a Metadata,
    /// What `env/<e>` runs.
    active: Option<&'a Metadata>,
    /// The Applications of the previous environment in the `--argocd-status` exports: what
    /// the health gate judges.
    previous_apps: Option<BTreeMap<String, AppStatus>>,
}

/// What waits on `env/<e>-next`: every gate `verify-promotion` returns, with the approvals of
/// `request` when given.
fn proposal(
    source: &SourceRepo,
    out: &Repository,
    waiting: &Waiting<'_>,
    request: &Request,
    history: &mut FindingsCache,
    compiles: &mut Compiles,
) -> Result<Proposal, PromotionError> {
    let verification = verify_with(
        source,
        out,
        &PromotionRequest {
            environment: waiting.env.to_string(),
            now: request.now,
            approvals: request.approvals.clone(),
            promoter: None,
            emergency: None,
            // Without an export of the previous environment a required health gate shows
            // as closed, with the hint to pass one.
            argocd_status: waiting.previous_apps.clone(),
        },
        history,
        compiles,
    );
    let (gates, mut notes) = match &verification {
        Ok(v) => (
            v.gates
                .iter()
                .map(|g| gate(g, &v.counted, waiting.previous_apps.as_ref()))
                .collect(),
            Vec::new(),
        ),
        // As `status` shows it: the gates could not be judged.
        Err(e) => (
            vec![Gate {
                open: false,
                summary: e.to_string(),
                details: Vec::new(),
                facts: GateFacts::Reproducible,
            }],
            Vec::new(),
        ),
    };
    if request.approvals.is_none() {
        notes.push(format!(
            "Four-eyes counts only the Approved-by trailers of {}: the reviews of its pull request are judged there, by strata verify-promotion --approvals.",
            waiting.branch
        ));
    }
    let proposed = &waiting.meta.dry_sha;
    let source_commits = source
        .range(proposed, waiting.active.map(|m| m.dry_sha.as_str()))?
        .iter()
        .map(revision_of)
        .collect();
    let version_changes =
        audit_trail::version_changes(waiting.active.unwrap_or(&Metadata::default()), waiting.meta)
            .into_iter()
            .map(version_change)
            .collect();
    Ok(Proposal {
        branch: waiting.branch.to_string(),
        revision: Revision {
            sha: proposed.clone(),
            subject: waiting.meta.subject.clone(),
            author: waiting.meta.author.clone(),
            at: output::time_of(waiting.commit),
        },
        gates,
        notes,
        source_commits,
        version_changes,
    })
}

/// A gate of `verify-promotion` with the numbers a page draws. A gate the site has no
/// drawing for (one added after it) shows its summary and details.
fn gate(
    g: &PromotionGate,
    counted: &Counted,
    previous_apps: Option<&BTreeMap<String, AppStatus>>,
) -> Gate {
    let facts = match g.name {
        GateName::History => GateFacts::History,
        GateName::Reproducible => GateFacts::Reproducible,
        GateName::Soaked => GateFacts::Soaked {
            done: counted.soaked,
            needed: counted.working_days,
            landed: counted.landed,
            ready_at: counted.ready_at,
        },
        GateName::FourEyes => GateFacts::FourEyes {
            needed: counted.required,
            approvers: counted.approvers.clone(),
            authors: counted.authors.clone(),
            rejected: counted.rejected.clone(),
        },
        GateName::Healthy if previous_apps.is_some() => GateFacts::Healthy {
            applications: previous_apps
                .into_iter()
                .flatten()
                .map(|(name, app)| ApplicationHealth {
                    name: name.clone(),
                    revision: app.revision.clone().unwrap_or_default(),
                    sync: app.sync.clone().unwrap_or_else(|| "Unknown".to_string()),
                    health: app.health.clone().unwrap_or_else(|| "Unknown".to_string()),
                })
                .collect(),
        },
        other => GateFacts::Other {
            name: other.to_string(),
        },
    };
    Gate {
        open: g.open,
        summary: g.summary.clone(),
        details: g.details.clone(),
        facts,
    }
}

fn version_change(v: audit_trail::VersionChange) -> VersionChange {
    VersionChange {
        cluster: v.cluster,
        component: v.component,
        from: v.from,
        to: v.to,
    }
}

/// One audit entry, its source commits at their commit times.
fn audit_entry(source: &SourceRepo, a: &audit_trail::AuditEntry) -> AuditEntry {
    let at = a.at.parse::<Timestamp>().ok();
    AuditEntry {
        commit: a.commit.clone(),
        at,
        kind: kind_of(a.kind),
        active: a.active.clone(),
        proposed: a.proposed.clone(),
        source_commits: a
            .source_commits
            .iter()
            .map(|s| Revision {
                sha: s.sha.clone(),
                subject: s.subject.clone(),
                author: s.author.clone(),
                at: committed(source, &s.sha)
                    .or(at)
                    .unwrap_or(Timestamp::UNIX_EPOCH),
            })
            .collect(),
        version_changes: a
            .version_changes
            .iter()
            .map(|v| VersionChange {
                cluster: v.cluster.clone(),
                component: v.component.clone(),
                from: v.from.clone(),
                to: v.to.clone(),
            })
            .collect(),
        soaked_in: a.soaked_in.clone(),
        approvers: a.approvers.clone(),
        emergency: a.emergency.clone(),
        rollback: a.rollback.clone(),
        render_digest: a.render_digest.clone(),
        evidence: Vec::new(),
        problems: a.problems.clone(),
    }
}

fn kind_of(kind: &str) -> ChangeKind {
    match kind {
        "promotion" => ChangeKind::Promotion,
        "forge-merge" => ChangeKind::ForgeMerge,
        "publish" => ChangeKind::Publish,
        "rewritten" => ChangeKind::Rewritten,
        _ => ChangeKind::DirectPush,
    }
}

/// Whether an audit entry brought its source commits through the gates (or, for the first
/// environment, by a publish): what the timeline draws.
fn brings(a: &audit_trail::AuditEntry) -> bool {
    matches!(a.kind, "promotion" | "forge-merge" | "publish")
}

/// Each source commit's first arrival in an audit trail (newest first): when, and the entry.
fn arrivals(
    trail: &[audit_trail::AuditEntry],
) -> BTreeMap<&str, (Timestamp, &audit_trail::AuditEntry)> {
    let mut first: BTreeMap<&str, (Timestamp, &audit_trail::AuditEntry)> = BTreeMap::new();
    for a in trail.iter().rev().filter(|a| brings(a)) {
        let Ok(at) = a.at.parse::<Timestamp>() else {
            continue;
        };
        for s in &a.source_commits {
            first.entry(s.sha.as_str()).or_insert((at, a));
        }
    }
    first
}

/// The timeline of an environment: every source commit that reached it or waits in the
/// previous environment, with when it reached each, oldest first.
fn landings(
    source: &SourceRepo,
    trail: &[audit_trail::AuditEntry],
    previous: Option<&Vec<audit_trail::AuditEntry>>,
) -> Vec<Landing> {
    let here = arrivals(trail);
    let before = previous.map(|p| arrivals(p)).unwrap_or_default();
    let mut commits: BTreeMap<&str, &audit_trail::SourceCommit> = BTreeMap::new();
    for a in trail.iter().chain(previous.into_iter().flatten()) {
        if brings(a) {
            for s in &a.source_commits {
                commits.entry(s.sha.as_str()).or_insert(s);
            }
        }
    }
    let mut out: Vec<Landing> = commits
        .into_iter()
        .filter(|(sha, _)| here.contains_key(sha) || before.contains_key(sha))
        .map(|(sha, s)| {
            let landed = here.get(sha);
            let soak_start = previous.and(before.get(sha).map(|(at, _)| *at));
            let at = committed(source, sha)
                .or(soak_start)
                .or(landed.map(|(at, _)| *at))
                .unwrap_or(Timestamp::UNIX_EPOCH);
            Landing {
                revision: Revision {
                    sha: sha.to_string(),
                    subject: s.subject.clone(),
                    author: s.author.clone(),
                    at,
                },
                soak_start,
                landed: landed.map(|(at, _)| *at),
                emergency: landed.and_then(|(_, a)| a.emergency.clone()),
                change: landed.map(|(_, a)| a.commit.clone()),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let start = |l: &Landing| l.soak_start.or(l.landed).unwrap_or(l.revision.at);
        (
            start(a),
            a.landed.is_none(),
            a.landed,
            a.revision.at,
            &a.revision.sha,
        )
            .cmp(&(
                start(b),
                b.landed.is_none(),
                b.landed,
                b.revision.at,
                &b.revision.sha,
            ))
    });
    out
}

/// Every component of the source at `HEAD`, with the description its component.yaml gives.
fn components(source: &SourceRepo, compiled: &Compiled) -> Vec<Component> {
    #[derive(serde::Deserialize)]
    struct Described {
        description: Option<String>,
    }
    let world = world_at(&source.repo, &source.prefix, "HEAD").ok();
    compiled
        .source
        .components
        .values()
        .map(|c| {
            let description = world
                .as_ref()
                .and_then(|w| w.read(&format!("{}/component.yaml", c.dir)))
                .and_then(|bytes| yaml_serde::from_slice::<Described>(bytes).ok())
                .and_then(|d| d.description);
            Component {
                name: c.name.clone(),
                version: c.version.clone(),
                description,
                namespace: c.namespace.clone(),
            }
        })
        .collect()
}

/// The policy findings (exempted ones included) and the schema warnings of a compile.
fn checks_of(compiled: &Compiled) -> Checks {
    Checks {
        findings: compiled
            .violations
            .iter()
            .map(|v| PolicyFinding {
                rule: v.rule.to_string(),
                level: match v.level {
                    Level::Deny => "deny",
                    Level::Warn => "warn",
                    Level::Off => "off",
                }
                .to_string(),
                environment: v.environment.clone(),
                cluster: v.cluster.clone(),
                component: v.component.clone(),
                resource: v.resource.clone(),
                field: v.field.clone(),
                message: v.message.clone(),
                hint: v.hint.clone(),
                origin: v.origin.as_ref().map(|(f, l)| format!("{f}:{l}")),
                exemption: v.exemption.clone(),
            })
            .collect(),
        schema: compiled.warnings.0.iter().map(schema_finding).collect(),
        drift: None,
    }
}

fn schema_finding(d: &Diagnostic) -> SchemaFinding {
    SchemaFinding {
        severity: match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
        .to_string(),
        code: d.code.to_string(),
        message: d.message.clone(),
        location: d.span.as_ref().map(|s| format!("{}:{}", s.file, s.line)),
        hint: d.hint.clone(),
    }
}
