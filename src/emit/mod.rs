//! Manifests → [`OutputTree`]: file paths and bytes, plus the Argo CD objects.
//!
//! The tree is a pure function of the source. Paths are built only from names that were checked
//! to be DNS-1123 names, or made safe by [`layout`] (an RBAC name may hold `:`), and
//! [`OutputTree::insert`] refuses anything else, so no input can place a file outside the output
//! directory.

pub(crate) mod argocd;
pub(crate) mod layout;
mod tree;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

pub(crate) use layout::owned_prefixes;
pub use tree::OutputTree;

use crate::diag::{Code, DiagResult, Diagnostic, Diagnostics, Span};
use crate::kube::{Crds, Scope};
use crate::load::Source;
use crate::merge::Cluster;
use crate::object::{
    COMPONENT_LABEL, MANAGED_BY, MANAGED_BY_STRATA, ObjectId, RenderedObject, group_of,
    is_cluster_scoped,
};
use crate::render::{Manifest, RenderedCluster};
use crate::yaml::{canonicalize, to_yaml, to_yaml_canonical};

/// Whether `object` lives outside namespaces: as the CRD of its kind in `crds` says, else as
/// the built-in list of cluster-scoped kinds says.
fn cluster_scoped(object: &Value, crds: &Crds) -> bool {
    let text = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or("");
    let kind = text("kind");
    match crds.scope(group_of(text("apiVersion")), kind) {
        Some(scope) => scope == Scope::Cluster,
        None => is_cluster_scoped(kind),
    }
}

/// Adds strata's labels and the component namespace to a rendered object, and puts its keys in
/// canonical order. `crds`: the CRDs of the cluster, which say the scope of their kinds.
fn finish_object(m: &mut Manifest, namespace: &str, crds: &Crds) -> Value {
    let mut object = std::mem::take(&mut m.object);
    let namespaced = !cluster_scoped(&object, crds);
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if namespaced && meta.get("namespace").is_none_or(Value::is_null) {
            meta.insert("namespace".into(), Value::String(namespace.to_string()));
        }
        let labels = meta
            .entry("labels")
            .or_insert_with(|| Value::Object(Default::default()));
        if !labels.is_object() {
            *labels = Value::Object(Default::default());
        }
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(MANAGED_BY.into(), Value::String(MANAGED_BY_STRATA.into()));
            labels.insert(COMPONENT_LABEL.into(), Value::String(m.component.clone()));
        }
    }
    canonicalize(&mut object);
    object
}

/// One cluster's output: its files (its directory and its Applications), and its objects as
/// the policies check them.
#[derive(Debug, Default)]
pub(crate) struct EmittedCluster {
    pub(crate) tree: OutputTree,
    pub(crate) objects: Vec<RenderedObject>,
    /// For each of `objects`, the file that rendered it (a template, or the component.yaml of
    /// a command source) and the 1-based document of that file's output.
    pub(crate) rendered_by: Vec<(String, usize)>,
    /// The CRDs the cluster's components rendered or declare.
    pub(crate) crds: Crds,
}

/// The files and objects of one rendered cluster.
pub(crate) fn cluster(
    source: &Source,
    cluster: &Cluster,
    rendered: RenderedCluster,
) -> DiagResult<EmittedCluster> {
    let mut out = EmittedCluster::default();
    let mut diags = Diagnostics::new();
    emit_cluster(source, cluster, rendered, &mut out, &mut diags);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// The Argo CD objects of each environment in `environments`: its AppProject and root
/// Application. `all` is every cluster of the platform: the AppProjects list them even when
/// only some are rendered.
pub(crate) fn environments(
    source: &Source,
    all: &[Cluster],
    environments: &BTreeSet<String>,
) -> DiagResult<OutputTree> {
    let mut tree = OutputTree::default();
    let mut diags = Diagnostics::new();
    for env in environments.iter().map(String::as_str) {
        let members: Vec<&Cluster> = all.iter().filter(|c| c.environment == env).collect();
        let argocd_server = source.settings.argocd.server_for(env);
        if let Some(other) = all
            .iter()
            .find(|c| c.environment != env && c.server == argocd_server)
        {
            diags.push(
                Diagnostic::error(
                    Code::Separation,
                    format!("the Argo CD of `{env}` would run on `{}`, a cluster of the `{}` environment", other.name, other.environment),
                )
                .at(Span::new("strata.yaml", 1, 1))
                .hint(format!("set argocd.environments.{env}.server to an API server of the {env} environment")),
            );
        }
        let mut put = |path: String, value: &Value| {
            if let Err(d) = tree.insert(path, to_yaml(value).into_bytes()) {
                diags.push(d);
            }
        };
        put(
            layout::project_path(env),
            &argocd::project(&source.settings, env, &members),
        );
        put(layout::root_path(env), &argocd::root(&source.settings, env));
    }
    if diags.has_errors() {
        Err(diags.sorted())
    } else {
        Ok(tree)
    }
}

fn emit_cluster(
    source: &Source,
    cluster: &Cluster,
    mut rendered: RenderedCluster,
    out: &mut EmittedCluster,
    diags: &mut Diagnostics,
) {
    let cluster_path = cluster.path();
    // Scope comes from the CRDs of the whole cluster, whichever component renders them.
    for (name, manifests) in &rendered.components {
        if let Some(component) = source.components.get(name) {
            for crd in &component.crds {
                out.crds.add(crd);
            }
        }
        for m in manifests {
            out.crds.add(&m.object);
        }
    }
    let EmittedCluster {
        tree,
        objects: rendered_objects,
        rendered_by,
        crds,
    } = out;
    let mut seen: BTreeMap<ObjectId, &Manifest> = BTreeMap::new();
    for (name, manifests) in rendered.components.iter_mut() {
        let Some(component) = source.components.get(name) else {
            continue;
        };
        let objects: Vec<(ObjectId, Value, &Manifest)> = manifests
            .iter_mut()
            .map(|m| {
                let o = finish_object(m, &component.namespace, crds);
                let m: &Manifest = m;
                (ObjectId::read(&o), o, m)
            })
            .collect();
        let plains: Vec<String> = objects
            .iter()
            .map(|(key, _, _)| layout::object_file(key, &component.namespace, false))
            .collect();
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for plain in &plains {
            *names.entry(plain.as_str()).or_default() += 1;
        }
        // Which object each file of the component holds: a file name that two identities
        // share is an error, never one object silently written over the other.
        let mut files: BTreeMap<String, (ObjectId, &Manifest)> = BTreeMap::new();
        for ((key, object, m), plain) in objects.into_iter().zip(&plains) {
            if let Some(first) = seen.get(&key) {
                let same = first.component == m.component;
                diags.push(
                    Diagnostic::error(
                        Code::Duplicate,
                        if same {
                            format!("{} is rendered twice by component `{}` on cluster `{}`", key, m.component, cluster.name)
                        } else {
                            format!(
                                "{} is rendered by both `{}` and `{}` on cluster `{}`",
                                key,
                                first.component,
                                m.component,
                                cluster.name
                            )
                        },
                    )
                    .at(Span::new(&m.origin, 1, 1))
                    .note(format!("first rendered by {} (document {})", first.origin, first.document))
                    .note(format!("again rendered by {} (document {})", m.origin, m.document))
                    .hint("one object has one owner: remove it from one component, or give it another name"),
                );
                continue;
            }
            seen.insert(key.clone(), m);
            let qualified = names.get(plain.as_str()).copied().unwrap_or(0) > 1;
            let file = match qualified {
                true => layout::object_file(&key, &component.namespace, true),
                false => plain.clone(),
            };
            let path =
                layout::object_path(&cluster.environment, &cluster_path, &component.name, &file);
            if let Some((other, first)) = files.get(&file) {
                diags.push(
                    Diagnostic::error(
                        Code::FileCollision,
                        format!(
                            "{} and {} would both be written to {path}",
                            other,
                            key
                        ),
                    )
                    .at(Span::new(&m.origin, 1, 1))
                    .note(format!("{} is rendered by {} (document {})", other, first.origin, first.document))
                    .note(format!("{} is rendered by {} (document {})", key, m.origin, m.document))
                    .note(format!("cluster: {}, component: {}", cluster.name, component.name))
                    .hint("a file name does not tell kinds apart by case, nor a cluster-scoped object with a namespace from one without: if one is a typo, fix it; otherwise rename one object"),
                );
                continue;
            }
            files.insert(file, (key, m));
            if let Err(d) = tree.insert(path.clone(), to_yaml_canonical(&object).into_bytes()) {
                diags.push(d);
            }
            rendered_objects.push(RenderedObject {
                environment: cluster.environment.clone(),
                cluster: cluster.name.clone(),
                component: component.name.clone(),
                file: path,
                object,
            });
            rendered_by.push((m.origin.clone(), m.document));
        }
        let mut app = argocd::application(&source.settings, cluster, component);
        canonicalize(&mut app);
        let path = layout::application_path(&cluster.environment, &cluster_path, &component.name);
        if let Err(d) = tree.insert(path, to_yaml_canonical(&app).into_bytes()) {
            diags.push(d);
        }
    }
}
