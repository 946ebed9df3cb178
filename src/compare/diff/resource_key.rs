//! `ResourceKey`: which resource a diff line is about, independent of its file name.

use std::fmt;

use serde_json::Value;

use crate::compare::diff::ARGOCD;
use crate::emit::layout::Place;
use crate::object::ObjectId;

/// The identity of a rendered resource: where it is deployed (environment, cluster path,
/// component: from its place in the tree) and what it is (its [`ObjectId`]: group, kind,
/// namespace, name, from the object).
///
/// Ordering is by the fields in declaration order, which is the order of every diff.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ResourceKey {
    pub(crate) environment: String,
    /// `sto2/workload`, `edge1`, or [`ARGOCD`] for the Argo CD objects.
    pub(crate) cluster: String,
    /// The component, or [`ARGOCD`] for the Argo CD objects.
    pub(crate) component: String,
    pub(crate) id: ObjectId,
}

impl ResourceKey {
    /// The key of `object`, read from `file` of an output tree, or why it has none.
    pub(crate) fn of(file: &str, object: &Value) -> Result<ResourceKey, String> {
        let (environment, cluster, component) = place(file).ok_or_else(|| {
            "not in the output layout `<environment>/<cluster path>/<component>/<file>.yaml` \
             or `<environment>/argocd/...`"
                .to_string()
        })?;
        if !object.is_object() {
            return Err("expected one Kubernetes object (a YAML mapping)".into());
        }
        let id = ObjectId::read(object);
        if id.kind.is_empty() {
            return Err("the object has no `kind`".into());
        }
        if id.name.is_empty() {
            return Err("the object has no `metadata.name`".into());
        }
        Ok(ResourceKey {
            environment,
            cluster,
            component,
            id,
        })
    }

    pub(crate) fn is(&self, group: &str, kind: &str) -> bool {
        self.id.is(group, kind)
    }

    /// A core-group Secret, whose values are never shown.
    pub(crate) fn is_secret(&self) -> bool {
        self.is("", "Secret")
    }
}

/// (environment, cluster path, component) of a file of the output tree.
fn place(file: &str) -> Option<(String, String, String)> {
    match crate::emit::layout::place(file)? {
        Place::Argocd { environment } => {
            Some((environment.to_owned(), ARGOCD.to_owned(), ARGOCD.to_owned()))
        }
        Place::Object {
            environment,
            cluster,
            component,
            ..
        } => Some((
            environment.to_owned(),
            cluster.to_owned(),
            component.to_owned(),
        )),
    }
}

/// `apps/Deployment ingress-nginx/ingress-nginx-controller`, `ClusterRole grafana`.
impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.id.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{ResourceKey, place};

    #[test]
    fn places() {
        type Place<'a> = Option<(&'a str, &'a str, &'a str)>;
        let cases: [(&str, Place); 8] = [
            (
                "prod/sto2/workload/ingress-nginx/deployment.yaml",
                Some(("prod", "sto2/workload", "ingress-nginx")),
            ),
            (
                "prod/edge1/harbor/svc.yaml",
                Some(("prod", "edge1", "harbor")),
            ),
            (
                "prod/argocd/project.yaml",
                Some(("prod", "argocd", "argocd")),
            ),
            (
                "prod/argocd/apps/sto2-workload-harbor.yaml",
                Some(("prod", "argocd", "argocd")),
            ),
            ("prod/harbor/svc.yaml", None),
            ("prod/svc.yaml", None),
            ("prod//harbor/svc.yaml", None),
            ("/prod/edge1/harbor/svc.yaml", None),
        ];
        for (file, expected) in cases {
            let got = place(file);
            let got = got
                .as_ref()
                .map(|(e, c, k)| (e.as_str(), c.as_str(), k.as_str()));
            assert_eq!(got, expected, "{file}");
        }
    }

    #[test]
    fn display() {
        let file = "prod/edge1/c/x.yaml";
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}});
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "reader"}});
        let service = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"}});
        let shown = [deployment, role, service]
            .iter()
            .map(|o| ResourceKey::of(file, o).map(|k| k.to_string()))
            .collect::<Result<Vec<_>, _>>();
        assert_eq!(
            shown,
            Ok(vec![
                "apps/Deployment shop/web".to_string(),
                "rbac.authorization.k8s.io/ClusterRole reader".to_string(),
                "Service shop/web".to_string(),
            ])
        );
    }

    #[test]
    fn objects_without_identity_are_refused() {
        let file = "prod/edge1/c/x.yaml";
        assert_eq!(
            ResourceKey::of(file, &json!({"kind": "Service", "metadata": {}})),
            Err("the object has no `metadata.name`".to_string())
        );
        assert_eq!(
            ResourceKey::of(file, &json!("text")),
            Err("expected one Kubernetes object (a YAML mapping)".to_string())
        );
    }
}
