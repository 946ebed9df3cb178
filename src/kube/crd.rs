//! Custom resource definitions found in a render, compiled for checking their resources.

use std::collections::BTreeMap;

use serde_json::Value;

use super::compile::{Compiler, Dialect};
use super::schema::{NodeId, Schema};

/// Whether a kind's objects live in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// One version of a CRD.
#[derive(Debug)]
pub(crate) struct CrdVersion {
    pub(crate) name: String,
    pub(crate) served: bool,
    pub(crate) deprecated: bool,
    pub(crate) warning: Option<String>,
    /// The compiled `openAPIV3Schema` and its root; `None` when the version has none.
    pub(crate) schema: Option<(Schema, NodeId)>,
}

/// One custom resource definition.
#[derive(Debug)]
pub struct Crd {
    pub group: String,
    pub kind: String,
    pub scope: Scope,
    pub(crate) versions: Vec<CrdVersion>,
}

impl Crd {
    /// Reads a CustomResourceDefinition object; `None` if it is not one, or lacks the group,
    /// the kind or the versions (the schema check reports those fields on the CRD itself).
    pub fn from_object(object: &Value) -> Option<Crd> {
        if object.get("apiVersion")?.as_str()? != "apiextensions.k8s.io/v1"
            || object.get("kind")?.as_str()? != "CustomResourceDefinition"
        {
            return None;
        }
        let spec = object.get("spec")?;
        let group = spec.get("group")?.as_str()?.to_string();
        let kind = spec.get("names")?.get("kind")?.as_str()?.to_string();
        let scope = match spec.get("scope").and_then(Value::as_str) {
            Some("Cluster") => Scope::Cluster,
            _ => Scope::Namespaced,
        };
        let versions = spec
            .get("versions")?
            .as_array()?
            .iter()
            .filter_map(|v| {
                let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
                let schema = v
                    .get("schema")
                    .and_then(|s| s.get("openAPIV3Schema"))
                    .map(|s| {
                        let mut schema = Schema::default();
                        let refs = BTreeMap::new();
                        let root = Compiler {
                            schema: &mut schema,
                            refs: &refs,
                            dialect: Dialect::Crd,
                        }
                        .node(s);
                        // The API server checks apiVersion, kind and metadata of a custom
                        // resource itself, whatever the schema says of them.
                        let node = &mut schema.nodes[root as usize];
                        node.embedded = true;
                        node.properties.retain(|(n, _)| {
                            !matches!(n.as_ref(), "apiVersion" | "kind" | "metadata")
                        });
                        (schema, root)
                    });
                Some(CrdVersion {
                    name: v.get("name")?.as_str()?.to_string(),
                    served: flag("served"),
                    deprecated: flag("deprecated"),
                    warning: v
                        .get("deprecationWarning")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    schema,
                })
            })
            .collect();
        Some(Crd {
            group,
            kind,
            scope,
            versions,
        })
    }

    pub(crate) fn version(&self, name: &str) -> Option<&CrdVersion> {
        self.versions.iter().find(|v| v.name == name)
    }

    /// The version to write: the first served one that is not deprecated, else the first
    /// served one.
    pub(crate) fn preferred(&self) -> Option<&str> {
        let served = || self.versions.iter().filter(|v| v.served);
        served()
            .find(|v| !v.deprecated)
            .or_else(|| served().next())
            .map(|v| v.name.as_str())
    }

    /// The versions the API server serves, in the CRD's order.
    pub(crate) fn served(&self) -> Vec<&str> {
        self.versions
            .iter()
            .filter(|v| v.served)
            .map(|v| v.name.as_str())
            .collect()
    }
}

/// The CRDs known for one cluster: rendered for it, or declared by its components.
#[derive(Debug, Default)]
pub struct Crds {
    by_kind: BTreeMap<(String, String), Crd>,
}

impl Crds {
    pub fn new() -> Crds {
        Crds::default()
    }

    /// Adds `object` if it is a CRD; says whether it was. A later CRD of the same group and
    /// kind replaces an earlier one, as a later apply would.
    pub fn add(&mut self, object: &Value) -> bool {
        match Crd::from_object(object) {
            Some(crd) => {
                self.by_kind
                    .insert((crd.group.clone(), crd.kind.clone()), crd);
                true
            }
            None => false,
        }
    }

    pub fn get(&self, group: &str, kind: &str) -> Option<&Crd> {
        self.by_kind.get(&(group.to_string(), kind.to_string()))
    }

    /// The scope of a custom kind, when its CRD is known.
    pub fn scope(&self, group: &str, kind: &str) -> Option<Scope> {
        self.get(group, kind).map(|c| c.scope)
    }

    pub fn len(&self) -> usize {
        self.by_kind.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_kind.is_empty()
    }
}
