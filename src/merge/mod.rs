//! [`Source`] → one [`Cluster`] per cluster file: its identity, its enabled components and their
//! merged values, each value with the layers that set it.

mod value;

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

pub(crate) use value::{MValue, Merged, Origin, Wrote, merge};

use crate::diag::{Code, DiagResult, Diagnostic, Diagnostics, Span};
use crate::load::{ClusterFile, Patch, Source, is_dns_label};
use crate::yaml::Scalar;

/// One cluster, fully merged.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub name: String,
    pub role: String,
    pub environment: String,
    pub datacenter: Option<String>,
    pub server: String,
    /// The cluster file.
    pub(crate) file: ClusterFile,
    /// `cluster:` merged, with the derived `environment` and `datacenter`: the template's `cluster`.
    pub(crate) identity: Merged,
    /// `values.global` merged: the template's `global`.
    pub(crate) global: Merged,
    /// Every component, enabled or not, with why.
    pub(crate) components: BTreeMap<String, Placement>,
}

/// Whether a component runs on a cluster, why, and with which values.
#[derive(Clone, Debug)]
pub(crate) struct Placement {
    pub(crate) enabled: bool,
    /// The `components:` entries that decided it; empty when the component's roles did.
    pub(crate) origins: Vec<Origin>,
    /// The merged values, for enabled components.
    pub(crate) values: Option<Merged>,
    /// The patches of its rendered objects, in layer order (the cluster file's last), each
    /// naming its file and line: their provenance.
    pub(crate) patches: Vec<Arc<Patch>>,
}

impl Cluster {
    /// The enabled components, by name.
    pub(crate) fn enabled(&self) -> impl Iterator<Item = (&String, &Merged)> {
        self.components
            .iter()
            .filter_map(|(n, p)| p.values.as_ref().filter(|_| p.enabled).map(|v| (n, v)))
    }

    /// Lets go of the merged values of the components, which are most of a cluster: each
    /// enabled component keeps an empty map. Its identity, globals, placements and patches
    /// stay; [`merge_again`] gives the values back.
    pub(crate) fn hollow(&mut self) {
        for p in self.components.values_mut() {
            if let Some(values) = &mut p.values {
                *values = Merged::empty_map();
            }
        }
    }

    /// The output directory of the cluster under its environment: `sto2/workload`.
    pub fn path(&self) -> String {
        self.file.cluster_path()
    }
}

/// Merges every cluster of the platform.
pub(crate) fn merge_all(source: &Source, wrote: Wrote) -> DiagResult<Vec<Cluster>> {
    merge_each(source, wrote, |c| (c, ())).map(|(clusters, _)| clusters)
}

/// Merges every cluster of the platform and hands each to `keep` as soon as it is merged, in
/// parallel: `keep` takes what it needs of the cluster and returns the cluster to keep (it may
/// let go of its values, [`Cluster::hollow`]) with what it took.
pub(crate) fn merge_each<T: Send>(
    source: &Source,
    wrote: Wrote,
    keep: impl Fn(Cluster) -> (Cluster, T) + Sync,
) -> DiagResult<(Vec<Cluster>, Vec<T>)> {
    let results: Vec<DiagResult<(Cluster, T)>> = source
        .clusters
        .par_iter()
        .map(|c| merge_cluster(source, c, wrote).map(&keep))
        .collect();
    let mut clusters = Vec::new();
    let mut taken = Vec::new();
    let mut diags = Diagnostics::new();
    for r in results {
        match r {
            Ok((c, t)) => {
                clusters.push(c);
                taken.push(t);
            }
            Err(d) => diags.extend(d),
        }
    }
    check_unique(&clusters, &mut diags);
    if diags.has_errors() {
        Err(diags.sorted())
    } else {
        Ok((clusters, taken))
    }
}

/// Merges one cluster again, from the cluster file of a cluster merged before (by
/// [`merge_each`], with the same `wrote`).
pub(crate) fn merge_again(source: &Source, cluster: &Cluster, wrote: Wrote) -> DiagResult<Cluster> {
    merge_cluster(source, &cluster.file, wrote)
}

fn check_unique(clusters: &[Cluster], diags: &mut Diagnostics) {
    let mut names: BTreeMap<&str, &Cluster> = BTreeMap::new();
    let mut servers: BTreeMap<&str, &Cluster> = BTreeMap::new();
    for c in clusters {
        if let Some(first) = names.insert(&c.name, c) {
            diags.push(
                Diagnostic::error(
                    Code::Cluster,
                    format!("two clusters are named `{}`", c.name),
                )
                .at(Span::new(&c.file.path, 1, 1))
                .note(format!("the other is {}", first.file.path))
                .hint(
                    "cluster names must be unique: set a different `cluster.name` in one of them",
                ),
            );
        }
        if let Some(first) = servers.insert(&c.server, c) {
            let span = c
                .identity
                .get("server")
                .and_then(Merged::last_origin)
                .map(Origin::span);
            let mut d = Diagnostic::error(
                Code::Cluster,
                format!(
                    "clusters `{}` and `{}` have the same server {}",
                    first.name, c.name, c.server
                ),
            )
            .at_opt(span);
            if first.environment != c.environment {
                d = d.note(format!(
                    "they are in different environments ({} and {}): that would break the separation of environments",
                    first.environment, c.environment
                ));
            }
            diags.push(d.hint("each cluster has its own API server URL in `cluster.server`"));
        }
    }
}

fn merge_cluster(source: &Source, file: &ClusterFile, wrote: Wrote) -> DiagResult<Cluster> {
    let mut diags = Diagnostics::new();
    let chain: Vec<&crate::load::Layer> = file
        .layer_chain()
        .iter()
        .filter_map(|p| source.layers.get(p))
        .collect();

    // Identity.
    let mut identity = Some(Merged::empty_map());
    for layer in &chain {
        if let Some(node) = &layer.cluster {
            identity = merge(identity, node, &Arc::from(layer.path.as_str()), wrote);
        }
    }
    let mut identity = identity.unwrap_or_else(Merged::empty_map);
    let text = |m: &Merged, key: &str| m.get(key).and_then(Merged::as_str).map(str::to_string);
    let name = text(&identity, "name").unwrap_or_else(|| file.default_name());
    if !is_dns_label(&name) {
        let span = identity
            .get("name")
            .and_then(Merged::last_origin)
            .map(Origin::span);
        diags.push(
            Diagnostic::error(Code::Name, format!("the cluster name `{name}` is not a valid name"))
                .at_opt(span.or_else(|| Some(Span::new(&file.path, 1, 1))))
                .hint("use lowercase letters, digits and '-', at most 63 characters; or set a shorter `cluster.name`"),
        );
    }
    let server = match text(&identity, "server") {
        Some(s) => s,
        None => {
            diags.push(
                Diagnostic::error(Code::Cluster, format!("cluster `{name}` has no API server"))
                    .at(Span::new(&file.path, 1, 1))
                    .hint(format!(
                        "set `cluster.server` (the URL Argo CD deploys to) in {}",
                        file.path
                    )),
            );
            String::new()
        }
    };
    if let MValue::Map(m) = &mut identity.value {
        let derived = |v: Option<&str>| Merged {
            value: MValue::Scalar(v.map_or(Scalar::Null, |s| Scalar::Str(s.to_string()))),
            origins: vec![Origin {
                file: Arc::from(file.path.as_str()),
                line: 1,
                column: 1,
                wrote: "(from the directory)".into(),
            }],
        };
        m.insert("name".into(), derived(Some(&name)));
        m.insert("environment".into(), derived(Some(&file.environment)));
        m.insert("datacenter".into(), derived(file.datacenter()));
    }

    // Global values.
    let mut global = Some(Merged::empty_map());
    for layer in &chain {
        for (key, _, node) in &layer.values {
            if key == "global" {
                global = merge(global, node, &Arc::from(layer.path.as_str()), wrote);
            }
        }
    }

    // Components: placement, then values.
    let mut components = BTreeMap::new();
    for (cname, component) in &source.components {
        let mut enabled = component.enabled_for_role(&file.role);
        let mut origins = Vec::new();
        for layer in &chain {
            for (n, on, pos) in &layer.components {
                if n == cname {
                    enabled = *on;
                    origins.push(Origin {
                        file: Arc::from(layer.path.as_str()),
                        line: pos.line,
                        column: pos.column,
                        wrote: on.to_string(),
                    });
                }
            }
        }
        let values = if enabled {
            let mut v = merge(
                None,
                &component.values,
                &Arc::from(component.values_file().as_str()),
                wrote,
            );
            for layer in &chain {
                for (key, _, node) in &layer.values {
                    if key == cname {
                        v = merge(v, node, &Arc::from(layer.path.as_str()), wrote);
                    }
                }
            }
            Some(v.unwrap_or_else(Merged::empty_map))
        } else {
            None
        };
        let patches = if enabled {
            chain
                .iter()
                .flat_map(|layer| layer.patches.iter())
                .filter(|(n, _)| n == cname)
                .map(|(_, p)| p.clone())
                .collect()
        } else {
            Vec::new()
        };
        components.insert(
            cname.clone(),
            Placement {
                enabled,
                origins,
                values,
                patches,
            },
        );
    }

    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Cluster {
        name,
        role: file.role.clone(),
        environment: file.environment.clone(),
        datacenter: file.datacenter().map(str::to_string),
        server,
        file: file.clone(),
        identity,
        global: global.unwrap_or_else(Merged::empty_map),
        components,
    })
}
