//! What the site shows, as plain facts.
//!
//! `collect` fills a [`Site`] from the source and the output repository (`collect.rs` says where
//! each fact comes from); [`super::render`] turns it into pages. Nothing here reads git, files or
//! the clock: `now` is a field, so the same model always gives the same bytes.
//!
//! Every list is shown in the order it has here, so the caller decides the order once (the
//! integration keeps the orders `status`, `audit` and `diff` print in). Text is kept as the
//! repositories hold it: the templates escape it, and secrets must already be masked as
//! `strata diff` masks them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::compare::diff::Status;

/// The whole site: one platform as of `now`.
#[derive(Clone, Debug, Serialize)]
pub struct Site {
    /// `platform:` of strata.yaml, or the source repository's directory name.
    pub platform: String,
    /// When the facts were read: `--now`, or the clock at the command line's edge.
    pub now: Timestamp,
    /// What made the site, e.g. `strata 0.1.0`.
    pub generator: String,
    /// The source commit the site describes (`HEAD` of the source repository).
    pub source: Option<Revision>,
    pub calendar: SoakPolicy,
    /// Every component of the source, by name.
    pub components: Vec<Component>,
    /// In promotion order: `promotion.order` first, then any other environment.
    pub environments: Vec<Environment>,
    pub checks: Checks,
}

/// The promotion policy as the timeline and the gates need it.
#[derive(Clone, Debug, Serialize)]
pub struct SoakPolicy {
    /// The IANA time zone every time on the site is shown in: `promotion.soak.timezone`.
    pub timezone: String,
    /// `promotion.soak.workdays`: `None` for Monday to Friday.
    pub workdays: Option<Vec<String>>,
    pub holidays: Vec<Date>,
    /// `promotion.soak.workingDays`.
    pub working_days: u32,
    /// `promotion.approvals.distinct`.
    pub approvals: u32,
}

/// A component of the source repository.
#[derive(Clone, Debug, Serialize)]
pub struct Component {
    pub name: String,
    /// `version` of component.yaml at the source commit.
    pub version: String,
    pub description: Option<String>,
    pub namespace: String,
}

/// A commit, as a person recognizes it.
#[derive(Clone, Debug, Serialize)]
pub struct Revision {
    pub sha: String,
    pub subject: String,
    pub author: String,
    /// When it got where it is: for what an environment runs, the time of the tip of
    /// `env/<e>`; for a source commit, its commit time.
    pub at: Timestamp,
}

/// One environment: what runs, what waits, how changes got there.
#[derive(Clone, Debug, Serialize)]
pub struct Environment {
    pub name: String,
    /// `env/<e>`.
    pub branch: String,
    /// The environment a change soaks in before this one; `None` for the first.
    pub previous: Option<String>,
    /// Whether changes reach it only by promotion from `env/<e>-next`.
    pub gated: bool,
    /// The source commit (drySha) `env/<e>` runs, and since when.
    pub running: Option<Revision>,
    pub clusters: Vec<Cluster>,
    /// What waits on `env/<e>-next`, with its gates.
    pub pending: Option<Proposal>,
    /// Every source commit as it reached this environment, oldest first: the timeline.
    pub landings: Vec<Landing>,
    /// Every change of `env/<e>`, newest first: the audit trail.
    pub audit: Vec<AuditEntry>,
    /// What is wrong with the history of `env/<e>` and `env/<e>-next`.
    pub problems: Vec<String>,
    /// The pending change: `env/<e>-next` against `env/<e>`, per cluster.
    pub changes: Vec<ClusterChanges>,
}

/// One cluster of an environment and the versions it runs.
#[derive(Clone, Debug, Serialize)]
pub struct Cluster {
    /// `prod-sto2-workload`.
    pub name: String,
    /// `sto2/workload`: the path under the environment.
    pub path: String,
    pub datacenter: Option<String>,
    pub role: String,
    /// Component name → version, as `hydrator.metadata` of `env/<e>` records it.
    pub components: BTreeMap<String, String>,
    /// What Argo CD reports of the cluster's Applications, from an export given with
    /// `--argocd-status`; `None` when no export holds an Application of its environment.
    pub argocd: Option<ClusterArgoCd>,
}

/// Argo CD's report of one cluster's Applications (`<cluster>-<component>`), one per component.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ClusterArgoCd {
    /// The Applications the export has, by component name.
    pub applications: Vec<ApplicationState>,
    /// The components whose Application the export does not have.
    pub missing: Vec<String>,
}

/// One Application of a cluster as Argo CD reports it.
#[derive(Clone, Debug, Serialize)]
pub struct ApplicationState {
    pub component: String,
    /// `prod-sto2-workload-kured`.
    pub name: String,
    /// The commit of `env/<e>` it synced, if it has synced.
    pub revision: Option<String>,
    /// `Synced`, `OutOfSync`, or `Unknown` where the export says nothing.
    pub sync: String,
    /// `Healthy`, `Progressing`, `Degraded`, `Missing`, or `Unknown` where the export says
    /// nothing.
    pub health: String,
}

/// The proposal on `env/<e>-next` that is not promoted yet.
#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    /// `env/<e>-next`.
    pub branch: String,
    pub revision: Revision,
    pub gates: Vec<Gate>,
    /// Lines about how the gates were judged, e.g. that four-eyes is checked on the pull
    /// request.
    pub notes: Vec<String>,
    pub source_commits: Vec<Revision>,
    pub version_changes: Vec<VersionChange>,
}

/// One gate of a promotion, as `verify-promotion` judges it.
#[derive(Clone, Debug, Serialize)]
pub struct Gate {
    pub open: bool,
    /// The one line `verify-promotion` prints.
    pub summary: String,
    pub details: Vec<String>,
    #[serde(flatten)]
    pub facts: GateFacts,
}

/// What each gate is about, with the numbers a page draws. Serialized with the gate's name
/// as `verify-promotion --format json` spells it, in the field `name`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum GateFacts {
    History,
    Reproducible,
    Soaked {
        /// Whole working days soaked in the previous environment.
        done: u32,
        needed: u32,
        /// When the change reached the previous environment; `None` if it has not.
        landed: Option<Timestamp>,
        /// When the soak is complete; `None` if it has not started.
        ready_at: Option<Timestamp>,
    },
    FourEyes {
        needed: u32,
        /// Approvals that count.
        approvers: Vec<String>,
        /// The author set: authors and co-authors of the promoted commits, and the promoter.
        authors: Vec<String>,
        /// Approvals that do not count, each with why.
        rejected: Vec<String>,
    },
    BreakGlass {
        reason: String,
    },
    /// The maintenance window of the environment (issue 21).
    Window {
        /// When the window opens next, if it is closed.
        next_open: Option<Timestamp>,
    },
    /// The previous environment ran the change healthy (issue 21).
    Healthy {
        applications: Vec<ApplicationHealth>,
    },
    /// A gate the site draws nothing more for: its summary and details say it all.
    #[serde(untagged)]
    Other {
        name: String,
    },
}

/// One Argo CD Application of the previous environment, for the health gate.
#[derive(Clone, Debug, Serialize)]
pub struct ApplicationHealth {
    pub name: String,
    pub revision: String,
    /// `Synced`, `OutOfSync`.
    pub sync: String,
    /// `Healthy`, `Degraded`, `Progressing`.
    pub health: String,
}

/// A source commit (a drySha) on its way through the environments: one row of the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Landing {
    pub revision: Revision,
    /// When it reached the previous environment, where it soaked. `None` in the first
    /// environment.
    pub soak_start: Option<Timestamp>,
    /// When it reached this environment; `None` while it waits.
    pub landed: Option<Timestamp>,
    /// The break-glass reason of the promotion that brought it.
    pub emergency: Option<String>,
    /// The output commit of the promotion (or publish) that brought it: its audit entry.
    pub change: Option<String>,
}

/// How an audit entry came to be, as `audit` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A strata promotion with its trailers.
    Promotion,
    /// A merge into a gated environment without strata's trailers.
    ForgeMerge,
    /// A gated branch changed around the gates.
    DirectPush,
    /// A direct render into an environment that is not gated.
    Publish,
    /// The branch lost what other branches recorded on it.
    Rewritten,
}

/// One change of `env/<e>`: the evidence an auditor files.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    /// The output commit.
    pub commit: String,
    /// `None` for a rewritten history, which has no time of its own.
    pub at: Option<Timestamp>,
    pub kind: ChangeKind,
    /// The drySha before.
    pub active: Option<String>,
    /// The drySha after.
    pub proposed: String,
    pub source_commits: Vec<Revision>,
    pub version_changes: Vec<VersionChange>,
    /// The soak, as the `Soaked-in:` trailer records it.
    pub soaked_in: Option<String>,
    pub approvers: Vec<String>,
    /// The break-glass reason (`Emergency:`): an unplanned change.
    pub emergency: Option<String>,
    pub rollback: Option<String>,
    pub render_digest: String,
    /// Further trailers the promotion recorded, by label, e.g. the window or health evidence.
    pub evidence: Vec<Evidence>,
    /// What is wrong with this entry.
    pub problems: Vec<String>,
}

/// One labelled line of evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    pub label: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    pub cluster: String,
    pub component: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The pending change of one cluster (or of `argocd`, the environment's Argo CD objects).
#[derive(Clone, Debug, Serialize)]
pub struct ClusterChanges {
    /// `sto2/workload`, or `argocd`.
    pub cluster: String,
    /// `prod-sto2-workload`, when an Application names it.
    pub cluster_name: Option<String>,
    pub resources: Vec<ResourceChange>,
}

/// One resource of a pending change.
#[derive(Clone, Debug, Serialize)]
pub struct ResourceChange {
    pub status: Status,
    pub component: String,
    /// `apps/Deployment`, `ConfigMap`.
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The fields that differ; empty for added and removed resources.
    pub changed_paths: Vec<String>,
    /// The unified diff of the canonical YAML, Secret values already hashed.
    pub unified: String,
}

/// What `validate` and `drift` found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Checks {
    /// Every policy violation, exempted ones included.
    pub findings: Vec<PolicyFinding>,
    /// Schema findings of values and of rendered objects.
    pub schema: Vec<SchemaFinding>,
    /// Live drift per cluster; `None` when no drift report was given.
    pub drift: Option<Vec<ClusterDrift>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PolicyFinding {
    pub rule: String,
    /// `deny` or `warn`.
    pub level: String,
    pub environment: String,
    pub cluster: String,
    pub component: String,
    pub resource: String,
    pub field: String,
    pub message: String,
    pub hint: String,
    /// `file:line` of the layer that set the value, when known.
    pub origin: Option<String>,
    /// The reason of a `strata.dev/exempt` annotation: recorded, does not fail.
    pub exemption: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SchemaFinding {
    /// `error` or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    /// `file:line`, when known.
    pub location: Option<String>,
    pub hint: Option<String>,
}

/// A live drift report of one cluster.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterDrift {
    pub cluster: String,
    pub in_sync: usize,
    pub changed: Vec<DriftedObject>,
    /// Rendered objects the cluster does not have: `apps/Deployment ns/name`.
    pub missing: Vec<String>,
    /// Live objects strata labelled and no longer renders.
    pub orphans: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DriftedObject {
    /// `apps/Deployment ns/name`.
    pub object: String,
    pub fields: Vec<DriftedField>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DriftedField {
    pub path: String,
    /// `changed`, `missing_in_live`, `removed_still_live`, `extra_in_live`.
    pub kind: String,
    /// The values as `drift` shows them (Secret values as hashes); `None` where absent.
    pub desired: Option<String>,
    pub live: Option<String>,
}
