//! `Summary`: the blast radius of a change.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::compare::diff::{ARGOCD, ClusterLabel, ResourceDiff, Status, plural};

/// How many resources were added, changed and removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    /// `added + changed + removed`.
    pub(crate) resources: usize,
    pub(crate) added: usize,
    pub(crate) changed: usize,
    pub(crate) removed: usize,
}

impl Counts {
    pub(crate) fn add(&mut self, status: Status) {
        self.resources += 1;
        match status {
            Status::Added => self.added += 1,
            Status::Changed => self.changed += 1,
            Status::Removed => self.removed += 1,
        }
    }

    fn sum(&mut self, other: &Counts) {
        self.resources += other.resources;
        self.added += other.added;
        self.changed += other.changed;
        self.removed += other.removed;
    }

    /// `12 resources changed (3 added, 8 changed, 1 removed)`.
    pub(crate) fn line(&self) -> String {
        format!(
            "{} changed ({} added, {} changed, {} removed)",
            plural(self.resources, "resource"),
            self.added,
            self.changed,
            self.removed
        )
    }
}

/// The resources of one cluster group (a cluster path, or [`ARGOCD`]) of one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct ClusterSummary {
    /// The cluster path, or `argocd`.
    pub(crate) cluster: String,
    /// The cluster name, when an Application names it.
    pub(crate) cluster_name: Option<String>,
    #[serde(flatten)]
    pub(crate) counts: Counts,
}

impl ClusterSummary {
    /// `sto2/workload (prod-sto2-workload): 3 resources changed (1 added, 2 changed, 0 removed)`.
    pub(crate) fn line(&self) -> String {
        let label = ClusterLabel {
            path: &self.cluster,
            name: self.cluster_name.as_deref(),
        };
        format!("{label}: {}", self.counts.line())
    }
}

/// The blast radius in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct EnvironmentSummary {
    pub(crate) environment: String,
    /// Whether the environment is gated (protected).
    pub(crate) gated: bool,
    /// The clusters the change reaches: those with a changed resource, and those whose
    /// Application changed. The `argocd` group itself is not a cluster.
    pub(crate) clusters_touched: usize,
    #[serde(flatten)]
    pub(crate) counts: Counts,
    /// Per cluster group, in path order.
    pub(crate) clusters: Vec<ClusterSummary>,
}

impl EnvironmentSummary {
    /// `prod: 4 clusters, 12 resources changed (3 added, 8 changed, 1 removed)`.
    pub(crate) fn line(&self) -> String {
        format!(
            "{}: {}, {}",
            self.environment,
            plural(self.clusters_touched, "cluster"),
            self.counts.line()
        )
    }
}

/// The blast radius of a change: counts per environment and per cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    /// Over every environment.
    pub(crate) clusters_touched: usize,
    #[serde(flatten)]
    pub(crate) counts: Counts,
    /// The gated environments the change reaches.
    pub(crate) gated_reached: Vec<String>,
    /// In name order.
    pub(crate) environments: Vec<EnvironmentSummary>,
}

impl Summary {
    pub(crate) fn of<'a>(
        resources: impl Iterator<Item = &'a ResourceDiff>,
        gated: &[String],
    ) -> Summary {
        struct Env<'a> {
            counts: Counts,
            reaches: BTreeSet<&'a str>,
            clusters: BTreeMap<&'a str, (Option<&'a str>, Counts)>,
        }
        let mut envs: BTreeMap<&str, Env> = BTreeMap::new();
        for r in resources {
            let env = envs.entry(&r.key.environment).or_insert_with(|| Env {
                counts: Counts::default(),
                reaches: BTreeSet::new(),
                clusters: BTreeMap::new(),
            });
            env.counts.add(r.status);
            if let Some(reaches) = &r.reaches {
                env.reaches.insert(reaches);
            }
            let name = (r.key.cluster != ARGOCD)
                .then_some(r.cluster_name.as_deref())
                .flatten();
            env.clusters
                .entry(&r.key.cluster)
                .or_insert((name, Counts::default()))
                .1
                .add(r.status);
        }
        let mut summary = Summary::default();
        for (environment, env) in envs {
            let is_gated = gated.iter().any(|g| g == environment);
            if is_gated {
                summary.gated_reached.push(environment.to_owned());
            }
            summary.clusters_touched += env.reaches.len();
            summary.counts.sum(&env.counts);
            summary.environments.push(EnvironmentSummary {
                environment: environment.to_owned(),
                gated: is_gated,
                clusters_touched: env.reaches.len(),
                counts: env.counts,
                clusters: env
                    .clusters
                    .into_iter()
                    .map(|(cluster, (name, counts))| ClusterSummary {
                        cluster: cluster.to_owned(),
                        cluster_name: name.map(str::to_owned),
                        counts,
                    })
                    .collect(),
            });
        }
        summary
    }

    /// The first line of every format:
    /// - `⚠ this change reaches prod: 4 clusters, 12 resources` (counted in the gated
    ///   environments only),
    /// - `this change touches non-prod only: 2 clusters, 5 resources`,
    /// - `no differences`.
    pub(crate) fn headline(&self) -> String {
        if self.environments.is_empty() {
            return "no differences".into();
        }
        let gated: Vec<&EnvironmentSummary> =
            self.environments.iter().filter(|e| e.gated).collect();
        if gated.is_empty() {
            let names: Vec<&str> = self
                .environments
                .iter()
                .map(|e| e.environment.as_str())
                .collect();
            return format!(
                "this change touches {} only: {}, {}",
                names.join(", "),
                plural(self.clusters_touched, "cluster"),
                plural(self.counts.resources, "resource")
            );
        }
        let names: Vec<&str> = gated.iter().map(|e| e.environment.as_str()).collect();
        let clusters: usize = gated.iter().map(|e| e.clusters_touched).sum();
        let resources: usize = gated.iter().map(|e| e.counts.resources).sum();
        format!(
            "⚠ this change reaches {}: {}, {}",
            names.join(", "),
            plural(clusters, "cluster"),
            plural(resources, "resource")
        )
    }

    pub(crate) fn reaches_gated(&self) -> bool {
        !self.gated_reached.is_empty()
    }
}
