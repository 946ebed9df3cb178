//! Where every output file goes: the one place that makes and parses the paths of the output
//! tree.
//!
//! ```text
//! <environment>/<cluster path>/<component>/<object file>   one file per Kubernetes object
//! <environment>/argocd/project.yaml                         the environment's AppProject
//! <environment>/argocd/root.yaml                            the app-of-apps
//! <environment>/argocd/apps/<application file>              one Application per (cluster, component)
//! ```
//!
//! Every path is built from names checked to be DNS-1123 labels or subdomains, and the layout is
//! what makes two objects, two clusters or two Applications land in different files:
//! - a cluster path never holds a reserved segment ([`RESERVED`]), so no cluster writes into the
//!   directory the root Application deploys, and no cluster's directory holds another's;
//! - an object's file name is injective over its identity (group, kind, namespace, name) but
//!   for the case of its kind and the namespace of a cluster-scoped object, which
//!   [`crate::emit::cluster`] refuses as a collision rather than overwrite a file;
//! - a name longer than a file system allows is cut, and a hash of the whole name added.
//!
//! [`place`] reads a path back. A render deletes only paths it accepts (see `crate::output`).

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::load::{Source, is_dns_label};
use crate::merge::Cluster;

use crate::object::ObjectId;

/// The directory of an environment's Argo CD objects.
pub(crate) const ARGOCD: &str = "argocd";
/// Names the layout uses itself, which no environment, datacenter or cluster may take.
pub(crate) const RESERVED: &[&str] = &[ARGOCD];
/// The longest file name strata writes, in bytes: the limit of ext4, XFS, APFS and NTFS.
pub(crate) const MAX_FILE_NAME: usize = 255;
const YAML: &str = ".yaml";
/// What stands between a cut name and the hash of the whole name. No name that is not cut has
/// it, so a cut name is never another's whole name.
const CUT: char = '~';
/// Hex digits of the hash after a cut name: 128 bits.
const CUT_HASH: usize = 32;

pub(crate) fn is_reserved(segment: &str) -> bool {
    RESERVED.contains(&segment)
}

/// `prod/`: the directory of an environment, the tree of its branch `env/prod`.
pub(crate) fn environment_dir(environment: &str) -> String {
    format!("{environment}/")
}

/// `prod/sto2/workload/`: the directory of a cluster's components.
pub(crate) fn cluster_dir(environment: &str, cluster_path: &str) -> String {
    format!("{environment}/{cluster_path}/")
}

/// `prod/sto2/workload/ingress/`: the directory of one component on one cluster.
pub(crate) fn component_dir(environment: &str, cluster_path: &str, component: &str) -> String {
    format!("{environment}/{cluster_path}/{component}/")
}

/// `sto2/workload/ingress`: the same directory within the environment's branch, where its
/// Application points.
pub(crate) fn application_source(cluster_path: &str, component: &str) -> String {
    format!("{cluster_path}/{component}")
}

/// The cluster path of an Application's `spec.source.path` ([`application_source`]).
pub(crate) fn cluster_of_application_source(source: &str) -> Option<&str> {
    let (cluster_path, _component) = source.trim_end_matches('/').rsplit_once('/')?;
    (!cluster_path.is_empty()).then_some(cluster_path)
}

/// Whether a path of an environment's branch is one of its Argo CD objects (the AppProject,
/// the root Application, an Application).
pub(crate) fn is_argocd_file(branch_path: &str) -> bool {
    branch_path
        .strip_prefix(ARGOCD)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// The directory the root Application deploys, within the environment's branch.
pub(crate) fn apps_source() -> String {
    format!("{ARGOCD}/apps")
}

pub(crate) fn object_path(
    environment: &str,
    cluster_path: &str,
    component: &str,
    file: &str,
) -> String {
    format!("{environment}/{cluster_path}/{component}/{file}")
}

pub(crate) fn project_path(environment: &str) -> String {
    format!("{environment}/{ARGOCD}/project.yaml")
}

pub(crate) fn root_path(environment: &str) -> String {
    format!("{environment}/{ARGOCD}/root.yaml")
}

/// `prod/argocd/apps/sto2-workload-ingress.yaml`.
pub(crate) fn application_path(environment: &str, cluster_path: &str, component: &str) -> String {
    format!(
        "{environment}/{ARGOCD}/apps/{}",
        fit(&format!("{}-{component}", slug(cluster_path)))
    )
}

/// A cluster path (`sto2/workload`) joined by '-': `sto2-workload`.
pub(crate) fn slug(cluster_path: &str) -> String {
    cluster_path.replace('/', "-")
}

/// The file name of an object in its component's directory:
///
/// - `deployment-web.yaml`: `<kind>-<name>`, the kind in lower case;
/// - `kube-system_role-web.yaml`: outside the component's namespace, `<namespace>_` before it;
/// - `widget.example.com_web.yaml`: `qualified`, when another object of the component has the
///   same kind and name in another API group, `<kind>.<group>_<name>`.
///
/// Neither a namespace nor a group has a `_`, and only a qualified name has a `.` before its
/// first `_`, so the parts are always told apart. A name that is not a DNS-1123 subdomain (an
/// RBAC name such as `system:aggregated-metrics-reader`) is made safe by [`file_safe`].
pub(crate) fn object_file(key: &ObjectId, component_namespace: &str, qualified: bool) -> String {
    let kind = key.kind.to_lowercase();
    let name = file_safe(&key.name);
    let kind_and_name = if qualified && !key.group.is_empty() {
        format!("{kind}.{}_{name}", key.group)
    } else {
        format!("{kind}-{name}")
    };
    match key.namespace.as_deref() {
        Some(namespace) if namespace != component_namespace => {
            fit(&format!("{namespace}_{kind_and_name}"))
        }
        _ => fit(&kind_and_name),
    }
}

/// A name as it may stand in a file name: itself when it is lowercase letters, digits, `-`
/// and `.`; else each other character as `-`, then `~` and a hash of the name, so that
/// `system:auth` and `system-auth` keep files of their own.
fn file_safe(name: &str) -> std::borrow::Cow<'_, str> {
    let safe = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.');
    if !name.is_empty() && name.bytes().all(safe) {
        return std::borrow::Cow::Borrowed(name);
    }
    use sha2::Digest as _;
    let hash = crate::digest::hex(&sha2::Sha256::digest(name.as_bytes()));
    let mapped: String = name
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            c if c.is_ascii() && safe(c as u8) => c,
            _ => '-',
        })
        .collect();
    std::borrow::Cow::Owned(format!("{mapped}{CUT}{}", &hash[..8]))
}

/// `<stem>.yaml`, or for a stem too long for a file name, its start, `~` and a hash of the
/// whole stem.
fn fit(stem: &str) -> String {
    if stem.len() + YAML.len() <= MAX_FILE_NAME {
        return format!("{stem}{YAML}");
    }
    use sha2::Digest as _;
    let hash = crate::digest::hex(&sha2::Sha256::digest(stem.as_bytes()));
    let mut keep = MAX_FILE_NAME - YAML.len() - CUT.len_utf8() - CUT_HASH;
    while !stem.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{CUT}{}{YAML}", &stem[..keep], &hash[..CUT_HASH])
}

/// A file name of the shapes [`object_file`] and [`application_path`] make.
fn is_file_name(name: &str) -> bool {
    name.len() <= MAX_FILE_NAME
        && name.strip_suffix(YAML).is_some_and(|stem| {
            !stem.is_empty()
                && stem
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
                && stem.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'-' | b'.' | b'_' | b'~')
                })
        })
}

/// A segment of an environment, cluster path or component: a DNS-1123 label the layout does not
/// reserve.
fn is_segment(s: &str) -> bool {
    is_dns_label(s) && !is_reserved(s)
}

/// What a path of the output tree is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place<'a> {
    /// `<environment>/<cluster>/<component>/<file>`.
    Object {
        environment: &'a str,
        cluster: &'a str,
        component: &'a str,
        file: &'a str,
    },
    /// `<environment>/argocd/...`: the AppProject, the root Application or an Application.
    Argocd { environment: &'a str },
}

/// Where `path` is in the layout; `None` for a path the layout never makes.
pub(crate) fn place(path: &str) -> Option<Place<'_>> {
    let (environment, rest) = path.split_once('/')?;
    if !is_segment(environment) {
        return None;
    }
    if let Some(argocd) = rest.strip_prefix(ARGOCD).and_then(|r| r.strip_prefix('/')) {
        let ok = match argocd.split_once('/') {
            None => argocd == "project.yaml" || argocd == "root.yaml",
            Some(("apps", file)) => is_file_name(file),
            Some(_) => false,
        };
        return ok.then_some(Place::Argocd { environment });
    }
    let (dirs, file) = rest.rsplit_once('/')?;
    let (cluster, component) = dirs.rsplit_once('/')?;
    let fits = is_file_name(file) && is_segment(component) && cluster.split('/').all(is_segment);
    fits.then_some(Place::Object {
        environment,
        cluster,
        component,
        file,
    })
}

/// Which component of a cluster each of its output files belongs to, by its path: the files in
/// the component's directory, and its Argo CD Application.
pub(crate) struct FileOwner {
    dir: String,
    /// Each component's Application file.
    apps: BTreeMap<String, String>,
}

impl FileOwner {
    /// For `cluster`, whose components are among `components`.
    pub(crate) fn of<'c>(
        cluster: &Cluster,
        components: impl IntoIterator<Item = &'c String>,
    ) -> FileOwner {
        FileOwner::new(&cluster.environment, &cluster.path(), components)
    }

    /// For the cluster at `path` (`sto2/workload`) in `environment`.
    pub(crate) fn new<'c>(
        environment: &str,
        path: &str,
        components: impl IntoIterator<Item = &'c String>,
    ) -> FileOwner {
        FileOwner {
            dir: cluster_dir(environment, path),
            apps: components
                .into_iter()
                .map(|c| (application_path(environment, path, c), c.clone()))
                .collect(),
        }
    }

    /// The component `path` belongs to; `None` for a file of no component of the cluster.
    pub(crate) fn component<'p>(&'p self, path: &'p str) -> Option<&'p str> {
        match path.strip_prefix(&self.dir) {
            Some(rest) => rest.split_once('/').map(|(c, _)| c),
            None => self.apps.get(path).map(String::as_str),
        }
    }
}

/// What a render of `clusters` may delete when it no longer produces them: each cluster's
/// directory and its Applications.
pub(crate) fn owned_prefixes<'a>(
    source: &Source,
    clusters: impl IntoIterator<Item = &'a Cluster>,
) -> Vec<String> {
    let mut out = Vec::new();
    for c in clusters {
        let path = c.path();
        out.push(cluster_dir(&c.environment, &path));
        for name in source.components.keys() {
            out.push(application_path(&c.environment, &path, name));
        }
    }
    out
}

/// The layout's rules over the whole platform, checked before anything renders: no reserved
/// name in a cluster's path, no cluster's directory inside another's, no two Applications in
/// one file or under one name.
pub(crate) fn check(all: &[Cluster]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for c in all {
        let file = &c.file;
        let segments = std::iter::once(&file.environment)
            .chain(&file.dirs)
            .chain(std::iter::once(&file.stem));
        if let Some(reserved) = segments.into_iter().find(|s| is_reserved(s)) {
            diags.push(
                Diagnostic::error(
                    Code::ReservedName,
                    format!(
                        "{} puts cluster `{}` under `{reserved}`, a name the output layout reserves",
                        file.path, c.name
                    ),
                )
                .at(Span::new(&file.path, 1, 1))
                .note(format!(
                    "rendered/<environment>/{ARGOCD}/ holds the environment's Argo CD objects; the root Application deploys everything under {ARGOCD}/apps to the Argo CD cluster itself"
                ))
                .hint(format!(
                    "rename the directory or file: no environment, datacenter or cluster may be named {}",
                    RESERVED.join(", ")
                )),
            );
        }
    }
    // A cluster directory inside another's: its files would be read as the other's components.
    let mut dirs: BTreeMap<String, &Cluster> = BTreeMap::new();
    for c in all {
        dirs.insert(cluster_dir(&c.environment, &c.path()), c);
    }
    let sorted: Vec<(&String, &&Cluster)> = dirs.iter().collect();
    for pair in sorted.windows(2) {
        let ((outer_dir, outer), (inner_dir, inner)) = (pair[0], pair[1]);
        if inner_dir.starts_with(outer_dir.as_str()) {
            diags.push(
                Diagnostic::error(
                    Code::ClusterPath,
                    format!(
                        "cluster `{}` would be rendered inside the directory of cluster `{}` ({outer_dir})",
                        inner.name, outer.name
                    ),
                )
                .at(Span::new(&inner.file.path, 1, 1))
                .note(format!("the other cluster is {}", outer.file.path))
                .hint(format!(
                    "move one cluster file: a cluster's output directory holds only its own components, so no cluster file may sit beside a directory of the same name ({inner_dir})"
                )),
            );
        }
    }
    // Applications: one file and one name each.
    let mut files: BTreeMap<String, (&Cluster, &str)> = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for env in all.iter().map(|c| c.environment.as_str()) {
        names.insert(
            format!("{env}-root"),
            format!("the root Application of `{env}`"),
        );
    }
    for c in all {
        let path = c.path();
        for component in c.enabled().map(|(n, _)| n.as_str()) {
            let file = application_path(&c.environment, &path, component);
            if let Some((other, other_component)) = files.insert(file.clone(), (c, component)) {
                diags.push(
                    Diagnostic::error(
                        Code::ApplicationCollision,
                        format!(
                            "the Applications of `{component}` on cluster `{}` and of `{other_component}` on cluster `{}` would both be written to {file}",
                            c.name, other.name
                        ),
                    )
                    .at(Span::new(&c.file.path, 1, 1))
                    .note(format!("the other cluster is {}", other.file.path))
                    .hint("an Application file is the cluster path and the component joined by '-': rename a directory, a cluster file or a component so that they differ"),
                );
            }
            let name = format!("{}-{component}", c.name);
            let this = format!("the Application of `{component}` on cluster `{}`", c.name);
            if let Some(other) = names.insert(name.clone(), this.clone()) {
                diags.push(
                    Diagnostic::error(
                        Code::ApplicationCollision,
                        format!("{this} and {other} are both named `{name}`"),
                    )
                    .at(Span::new(&c.file.path, 1, 1))
                    .hint("an Application is named `<cluster name>-<component>`: set another `cluster.name`, or rename a component"),
                );
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(group: &str, kind: &str, namespace: &str, name: &str) -> ObjectId {
        ObjectId {
            group: group.into(),
            kind: kind.into(),
            namespace: (!namespace.is_empty()).then(|| namespace.into()),
            name: name.into(),
        }
    }

    #[test]
    fn object_files() {
        let k = key("apps", "Deployment", "ingress", "ctl");
        assert_eq!(object_file(&k, "ingress", false), "deployment-ctl.yaml");
        assert_eq!(
            object_file(&k, "other", false),
            "ingress_deployment-ctl.yaml"
        );
        assert_eq!(object_file(&k, "ingress", true), "deployment.apps_ctl.yaml");
        assert_eq!(
            object_file(&k, "other", true),
            "ingress_deployment.apps_ctl.yaml"
        );
        let core = key("", "ConfigMap", "ingress", "a");
        assert_eq!(object_file(&core, "ingress", true), "configmap-a.yaml");
    }

    /// The identities a file name does not tell apart: the kind's case, and the namespace of a
    /// cluster-scoped object written in the component's own namespace.
    fn same_file_allowed(a: &ObjectId, b: &ObjectId, component_namespace: &str) -> bool {
        let ns = |k: &ObjectId| {
            if k.namespace_or_empty() == component_namespace {
                String::new()
            } else {
                k.namespace_or_empty().to_string()
            }
        };
        a.group == b.group
            && a.kind.to_lowercase() == b.kind.to_lowercase()
            && ns(a) == ns(b)
            && a.name == b.name
    }

    #[test]
    fn object_file_names_are_injective_but_for_the_case_of_a_kind() {
        // Parts that run into each other when joined: '-' and '.' inside every part, names that
        // look like a group, a namespace equal to the component's, none at all.
        let groups = ["", "a", "a-b", "b", "a.b", "b-c", "apps", "x.k8s.io"];
        let kinds = [
            "Widget",
            "widget",
            "ConfigMap",
            "Configmap",
            "Map",
            "Config",
        ];
        let namespaces = ["", "web", "a", "a-b", "b-c"];
        let names = [
            "c",
            "b-c",
            "a-b-c",
            "map-x",
            "x",
            "c.a",
            "a.b_c",
            "a-b",
            "config-map",
        ];
        let mut keys = Vec::new();
        for g in groups {
            for k in kinds {
                for ns in namespaces {
                    for n in names {
                        keys.push(key(g, k, ns, n));
                    }
                }
            }
        }
        for qualified in [false, true] {
            let mut seen: BTreeMap<String, &ObjectId> = BTreeMap::new();
            for k in &keys {
                let file = object_file(k, "web", qualified);
                assert!(is_file_name(&file), "{file}");
                if let Some(other) = seen.insert(file.clone(), k) {
                    assert!(
                        same_file_allowed(k, other, "web")
                            || (!qualified && k.group != other.group),
                        "{k:?} and {other:?} share {file}"
                    );
                }
            }
        }
        // Unqualified names leave out the group by design: an object is qualified whenever
        // another object of its component shares its unqualified name (emit::cluster).
        let mixed = [
            object_file(&key("a", "Widget", "web", "b-c"), "web", true),
            object_file(&key("a-b", "Widget", "web", "c"), "web", true),
            object_file(&key("", "Widget", "web", "a-b-c"), "web", false),
        ];
        assert_eq!(
            mixed,
            [
                "widget.a_b-c.yaml",
                "widget.a-b_c.yaml",
                "widget-a-b-c.yaml"
            ]
        );
    }

    #[test]
    fn a_name_too_long_for_a_file_system_is_cut_and_hashed() {
        let long = "a".repeat(253);
        let other = format!("{}b", "a".repeat(252));
        let k = key("", "ConfigMap", "web", &long);
        let file = object_file(&k, "web", false);
        assert_eq!(file.len(), MAX_FILE_NAME);
        assert!(file.starts_with("configmap-aaaa"), "{file}");
        assert!(file.contains('~'), "{file}");
        assert_eq!(file, object_file(&k, "web", false), "deterministic");
        assert_ne!(
            file,
            object_file(&key("", "ConfigMap", "web", &other), "web", false)
        );
        assert!(is_file_name(&file));
        assert!(matches!(
            place(&object_path("prod", "sto2/w", "web", &file)),
            Some(Place::Object { .. })
        ));
        // Just under the limit: whole.
        let fits = "a".repeat(MAX_FILE_NAME - "configmap-.yaml".len());
        assert_eq!(
            object_file(&key("", "ConfigMap", "web", &fits), "web", false),
            format!("configmap-{fits}.yaml")
        );
        let app = application_path(
            "prod",
            &format!("{}/{}", "d".repeat(63), "c".repeat(63)),
            &"x".repeat(63),
        );
        assert!(
            app.rsplit('/')
                .next()
                .is_some_and(|f| f.len() <= MAX_FILE_NAME)
        );
    }

    #[test]
    fn places() {
        type Case<'a> = (&'a str, Option<Place<'a>>);
        let object = |environment, cluster, component, file| {
            Some(Place::Object {
                environment,
                cluster,
                component,
                file,
            })
        };
        let cases: [Case; 16] = [
            (
                "prod/sto2/workload/ingress/deployment-web.yaml",
                object("prod", "sto2/workload", "ingress", "deployment-web.yaml"),
            ),
            (
                "prod/edge1/harbor/svc.yaml",
                object("prod", "edge1", "harbor", "svc.yaml"),
            ),
            (
                "prod/argocd/project.yaml",
                Some(Place::Argocd {
                    environment: "prod",
                }),
            ),
            (
                "prod/argocd/root.yaml",
                Some(Place::Argocd {
                    environment: "prod",
                }),
            ),
            (
                "prod/argocd/apps/sto2-workload-harbor.yaml",
                Some(Place::Argocd {
                    environment: "prod",
                }),
            ),
            ("prod/argocd/other.yaml", None),
            ("prod/argocd/apps/x/y.yaml", None),
            ("prod/argocd/apps/sto2-workload-harbor.yaml/x/y.yaml", None),
            ("prod/harbor/svc.yaml", None),
            ("strata.yaml", None),
            (".git/config", None),
            ("environments/prod/layer.yaml", None),
            ("prod/sto2/workload/web/notes.txt", None),
            ("prod/sto2/workload/.hidden/x.yaml", None),
            ("prod/sto2/Workload/web/x.yaml", None),
            ("prod/sto2/workload/web/../x.yaml", None),
        ];
        for (path, want) in cases {
            assert_eq!(place(path), want, "{path}");
        }
    }

    #[test]
    fn a_file_belongs_to_the_component_whose_directory_or_application_it_is() {
        let components = ["cert-manager".to_string(), "ingress".to_string()];
        let owner = FileOwner::new("prod", "sto2/workload", &components);
        let cases = [
            (
                "prod/sto2/workload/ingress/deployment-web.yaml",
                Some("ingress"),
            ),
            (
                "prod/sto2/workload/ingress/sub/configmap-a.yaml",
                Some("ingress"),
            ),
            (
                "prod/argocd/apps/sto2-workload-ingress.yaml",
                Some("ingress"),
            ),
            (
                "prod/argocd/apps/sto2-workload-cert-manager.yaml",
                Some("cert-manager"),
            ),
            // Not a component's: a file right in the cluster's directory, the environment's
            // own Argo CD objects, another cluster's directory, another environment, the
            // Application of a component the platform does not have.
            ("prod/sto2/workload/stray.yaml", None),
            ("prod/argocd/project.yaml", None),
            ("prod/sto2/management/ingress/deployment-web.yaml", None),
            ("non-prod/sto2/workload/ingress/deployment-web.yaml", None),
            ("prod/argocd/apps/sto2-management-ingress.yaml", None),
            ("prod/argocd/apps/sto2-workload-dex.yaml", None),
        ];
        for (path, component) in cases {
            assert_eq!(owner.component(path), component, "{path}");
        }
    }
}
