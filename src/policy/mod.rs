//! The compliance policies: rules that the rendered output must follow, whatever the layers say.
//!
//! [`Checker::check`] runs every rule over the rendered objects of the selected clusters and returns
//! [`Violation`]s sorted by file, rule and field. It is a pure function: no files, no clock.
//!
//! - The built-in pack ([`pod_security`]) checks every pod that a Pod, Deployment, StatefulSet,
//!   DaemonSet, ReplicaSet, ReplicationController, Job or CronJob runs, and each of its regular,
//!   init and ephemeral containers.
//! - [`network_policy`]: every pod is selected by a NetworkPolicy of its namespace and cluster.
//! - [`secret`]: no Secret in plaintext, no `x-strata-secret` value in clear.
//! - [`leak`]: nothing one environment owns in another environment's output.
//! - [`exemption`]: `strata.dev/exempt: <rule>=<reason>` on a resource records a violation as
//!   exempted instead of failing.
//!
//! Each rule's level comes from [`PolicyConfig`] (`policies:` in strata.yaml): `deny` (the
//! default) fails `strata render` and `strata validate`, `warn` reports, `off` skips.

mod config;
mod exemption;
mod finding;
mod image;
mod input;
mod leak;
mod list;
mod network_policy;
mod pod_security;
mod resource;
mod rule;
mod sarif;
mod secret;
mod text;
mod violation;
mod workload;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub(crate) use crate::object::RenderedObject;
pub(crate) use config::{Level, PolicyConfig};
pub(crate) use input::{ClusterFacts, ResolvedLeaf, SecretValue};
pub(crate) use leak::{Ownership, OwnershipBuilder};
pub(crate) use list::list_rules;
pub(crate) use rule::{ENVIRONMENT_LEAK, rule};
pub(crate) use sarif::{render_diagnostics_sarif, render_sarif};
pub(crate) use violation::Violation;
pub(crate) use violation::known_violations;

use crate::object::{ObjectId, is_core};
use exemption::Exemptions;
use finding::Finding;
use network_policy::NetworkPolicies;

/// Every violation of every rule in `objects`, sorted by file, rule and field.
///
/// - `clusters`: the rendered registries and the `x-strata-secret` values of each cluster. A
///   cluster without facts uses `config.registries` of its environment as written.
/// - `leaves`: every string leaf of every cluster's merged values, for leak detection. Pass the
///   leaves of all clusters, not only the rendered ones: ownership compares environments.
///
/// Rules at level `off` are not reported. Exempted violations are reported with their reason.
#[cfg(test)]
pub(crate) fn check(
    objects: &[RenderedObject],
    clusters: &[ClusterFacts],
    leaves: &[ResolvedLeaf<'_>],
    config: &PolicyConfig,
) -> Vec<Violation> {
    Checker::new(clusters, Ownership::build(leaves, config), config).check(objects, leaves)
}

/// The `(namespace, podSelector)` of each NetworkPolicy among `objects`, in order: what a
/// NetworkPolicy contributes to the checks of the other objects of its cluster.
pub(crate) fn network_policy_selectors(
    objects: &[RenderedObject],
) -> Vec<(String, serde_json::Value)> {
    NetworkPolicies::of(objects)
}

/// `(environment, cluster, [(namespace, podSelector)])`: NetworkPolicies of a cluster that
/// are not among the objects being checked.
pub(crate) type OtherNetworkPolicies<'a> = (&'a str, &'a str, &'a [(String, serde_json::Value)]);

/// The rules with what they need from every cluster built once — leak ownership from all
/// leaves, the facts of each cluster — so that each cluster's objects can be checked on their
/// own, in parallel, as soon as they are rendered.
pub(crate) struct Checker<'a> {
    facts: BTreeMap<(&'a str, &'a str), &'a ClusterFacts>,
    ownership: Ownership<'a>,
    config: &'a PolicyConfig,
}

impl<'a> Checker<'a> {
    /// `clusters`: the rendered registries and `x-strata-secret` values of each cluster to be
    /// checked. `ownership`: built from the string leaves of every cluster (see [`Ownership::build`]).
    pub(crate) fn new(
        clusters: &'a [ClusterFacts],
        mut ownership: Ownership<'a>,
        config: &'a PolicyConfig,
    ) -> Checker<'a> {
        let facts = clusters
            .iter()
            .map(|c| ((c.environment.as_str(), c.cluster.as_str()), c))
            .collect();
        ownership.hide(
            clusters
                .iter()
                .flat_map(|c| &c.secret_values)
                .map(|s| s.value.as_str())
                .filter(|s| !s.trim().is_empty())
                .collect(),
        );
        Checker {
            facts,
            ownership,
            config,
        }
    }

    /// Every violation in `objects`, sorted by file, rule and field. A NetworkPolicy selects
    /// pods of its own cluster only, so `objects` may be one cluster's or many clusters'.
    ///
    /// `leaves`: the string leaves of the objects' clusters, for the hints of leak findings.
    pub(crate) fn check(
        &self,
        objects: &[RenderedObject],
        leaves: &[ResolvedLeaf<'_>],
    ) -> Vec<Violation> {
        self.check_with(objects, None, leaves)
    }

    /// Like [`Checker::check`], for objects of one cluster whose other NetworkPolicies are not
    /// among them: `extra` is `(environment, cluster, [(namespace, podSelector)])`.
    pub(crate) fn check_with(
        &self,
        objects: &[RenderedObject],
        extra: Option<OtherNetworkPolicies<'_>>,
        leaves: &[ResolvedLeaf<'_>],
    ) -> Vec<Violation> {
        let config = self.config;
        let mut network_policies = NetworkPolicies::index(objects);
        if let Some((environment, cluster, selectors)) = extra {
            network_policies.add(environment, cluster, selectors);
        }
        let mut violations = Vec::new();
        for object in objects {
            let cluster = self
                .facts
                .get(&(object.environment.as_str(), object.cluster.as_str()));
            let registries: &[String] = match cluster {
                Some(c) => &c.registries,
                None => config
                    .registries
                    .get(&object.environment)
                    .map_or(&[], Vec::as_slice),
            };
            let secret_values = cluster.map_or(&[][..], |c| &c.secret_values);
            let resource = ObjectId::read(&object.object);

            let (exemptions, mut findings) = Exemptions::of(&object.object);
            if let Some(pod) = workload::pod_template(&resource, &object.object) {
                let context = pod_security::Context {
                    environment: &object.environment,
                    registries,
                };
                pod_security::check(&pod, &context, &mut findings);
                findings.extend(network_policies.check(object, &resource, &pod));
            }
            findings.extend(secret::plaintext(&resource, &object.object));
            let texts = text::texts(&object.object, is_core(&object.object, "Secret"));
            secret::value_leaks(&texts, secret_values, &mut findings);
            self.ownership.check(
                &object.environment,
                &object.cluster,
                &texts,
                leaves,
                &mut findings,
            );

            for finding in findings {
                if let Some(v) = violation(object, &resource, &exemptions, config, finding) {
                    violations.push(v);
                }
            }
        }
        violations.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        violations.dedup();
        violations
    }
}

/// What another check (the Kubernetes API check) found in one object, to be reported as a
/// violation of one of the catalogue's rules.
pub(crate) struct External {
    /// A rule id of the catalogue; a finding of any other id is dropped.
    pub(crate) rule: &'static str,
    pub(crate) field: String,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) origin: Option<(String, u32)>,
}

impl Checker<'_> {
    /// `findings` of `object` as violations, at each rule's level in the object's
    /// environment and with the object's exemptions, like the checker's own.
    pub(crate) fn external(
        &self,
        object: &RenderedObject,
        findings: Vec<External>,
        out: &mut Vec<Violation>,
    ) {
        if findings.is_empty() {
            return;
        }
        let resource = ObjectId::read(&object.object);
        // The annotation's own mistakes are the checker's to report.
        let (exemptions, _) = Exemptions::of(&object.object);
        for f in findings {
            let Some(rule) = rule(f.rule) else { continue };
            let finding = Finding {
                rule: rule.id,
                field: f.field,
                message: f.message,
                hint: f.hint,
                origin: f.origin,
            };
            out.extend(violation(
                object,
                &resource,
                &exemptions,
                self.config,
                finding,
            ));
        }
    }
}

fn violation(
    object: &RenderedObject,
    resource: &ObjectId,
    exemptions: &Exemptions,
    config: &PolicyConfig,
    finding: Finding,
) -> Option<Violation> {
    let level = config.level(finding.rule, &object.environment);
    if level == Level::Off {
        return None;
    }
    let hint = match finding.hint {
        Some(hint) => hint,
        None => rule(finding.rule)
            .map(|r| r.hint.to_string())
            .unwrap_or_default(),
    };
    Some(Violation {
        rule: finding.rule,
        level,
        environment: object.environment.clone(),
        cluster: object.cluster.clone(),
        component: object.component.clone(),
        file: object.file.clone(),
        resource: resource.to_string(),
        field: finding.field,
        message: finding.message,
        hint,
        origin: finding.origin,
        exemption: exemptions.reason(finding.rule).map(str::to_string),
    })
}
