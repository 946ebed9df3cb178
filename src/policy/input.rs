//! What the compiler hands the policy engine: rendered objects and facts about each cluster.

/// What the policies need to know about one cluster beyond its objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClusterFacts {
    pub(crate) environment: String,
    pub(crate) cluster: String,
    /// `policies.registries` of the cluster's environment, rendered for this cluster.
    pub(crate) registries: Vec<String>,
    /// Every value of this cluster that a component's schema marks `"x-strata-secret": true`.
    pub(crate) secret_values: Vec<SecretValue>,
}

/// A value that must never appear in clear. Reports show its hash, never the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SecretValue {
    pub(crate) value: String,
    /// The layer file that set it, relative to the source root.
    pub(crate) set_in: String,
    pub(crate) line: u32,
    /// Where in the values it was set: `grafana.adminPassword`.
    pub(crate) path: String,
}

/// One string leaf of one cluster's merged values, with the layer that set it last. It borrows
/// what the merged values already hold: a render makes one per string of every cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResolvedLeaf<'a> {
    pub(crate) environment: &'a str,
    pub(crate) cluster: &'a str,
    /// `component.a.b`, or `global.a` for a global value.
    pub(crate) path: String,
    pub(crate) value: &'a str,
    /// The file of the last layer that set it, relative to the source root:
    /// `environments/prod/layer.yaml`, `components/grafana/values.yaml`.
    pub(crate) set_in: &'a str,
    pub(crate) line: u32,
}
