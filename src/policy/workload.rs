//! Where a workload keeps its pod: the pod spec and labels of Pods, Deployments, StatefulSets,
//! DaemonSets, ReplicaSets, ReplicationControllers, Jobs and CronJobs, and their containers.

use serde_json::{Map, Value};

use super::resource::{get, item_segment, object_at};
use crate::object::ObjectId;

/// The pod a workload runs.
#[derive(Debug)]
pub(crate) struct PodTemplate<'a> {
    pub(crate) spec: &'a Map<String, Value>,
    /// The field path of `spec`: `spec.template.spec`.
    pub(crate) spec_path: &'static str,
    pub(crate) labels: Option<&'a Map<String, Value>>,
    /// The field path of the labels: `spec.template.metadata.labels`.
    pub(crate) labels_path: &'static str,
}

/// The pod template of `object`, if it is a workload.
pub(crate) fn pod_template<'a>(resource: &ObjectId, object: &'a Value) -> Option<PodTemplate<'a>> {
    let (template, spec_path, labels_path): (&[&str], _, _) =
        match (resource.group.as_str(), resource.kind.as_str()) {
            ("", "Pod") => (&[], "spec", "metadata.labels"),
            ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
            | ("", "ReplicationController")
            | ("batch", "Job") => (
                &["spec", "template"],
                "spec.template.spec",
                "spec.template.metadata.labels",
            ),
            ("batch", "CronJob") => (
                &["spec", "jobTemplate", "spec", "template"],
                "spec.jobTemplate.spec.template.spec",
                "spec.jobTemplate.spec.template.metadata.labels",
            ),
            _ => return None,
        };
    let template = get(object, template)?;
    Some(PodTemplate {
        spec: object_at(template, &["spec"])?,
        spec_path,
        labels: object_at(template, &["metadata", "labels"]),
        labels_path,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContainerKind {
    Regular,
    Init,
    Ephemeral,
}

/// One container of a pod.
#[derive(Debug)]
pub(crate) struct Container<'a> {
    pub(crate) kind: ContainerKind,
    pub(crate) name: &'a str,
    /// `spec.template.spec.containers[name=app]`.
    pub(crate) field: String,
    pub(crate) spec: &'a Map<String, Value>,
}

impl Container<'_> {
    /// "container `app`", "init container `migrate`".
    pub(crate) fn describe(&self) -> String {
        let kind = match self.kind {
            ContainerKind::Regular => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Ephemeral => "ephemeral container",
        };
        format!("{kind} `{}`", self.name)
    }

    /// A field of the container's securityContext.
    pub(crate) fn security(&self, key: &str) -> Option<&Value> {
        self.spec.get("securityContext").and_then(|s| s.get(key))
    }
}

impl PodTemplate<'_> {
    /// Every container: regular, init and ephemeral.
    pub(crate) fn containers(&self) -> Vec<Container<'_>> {
        let lists = [
            ("containers", ContainerKind::Regular),
            ("initContainers", ContainerKind::Init),
            ("ephemeralContainers", ContainerKind::Ephemeral),
        ];
        let mut out = Vec::new();
        for (key, kind) in lists {
            let Some(items) = self.spec.get(key).and_then(Value::as_array) else {
                continue;
            };
            for (index, item) in items.iter().enumerate() {
                let Some(spec) = item.as_object() else {
                    continue;
                };
                out.push(Container {
                    kind,
                    name: spec.get("name").and_then(Value::as_str).unwrap_or(""),
                    field: format!("{}.{key}{}", self.spec_path, item_segment(item, index)),
                    spec,
                });
            }
        }
        out
    }

    /// A field of the pod's securityContext.
    pub(crate) fn security(&self, key: &str) -> Option<&Value> {
        self.spec.get("securityContext").and_then(|s| s.get(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_workload_kind_has_its_pod_template_where_kubernetes_keeps_it() {
        let pod = json!({"spec": {"containers": []}});
        let cases = [
            (
                "v1",
                "Pod",
                json!({"metadata": {"labels": {"a": "b"}}, "spec": pod["spec"]}),
                "spec",
            ),
            (
                "apps/v1",
                "Deployment",
                json!({"spec": {"template": pod}}),
                "spec.template.spec",
            ),
            (
                "apps/v1",
                "StatefulSet",
                json!({"spec": {"template": pod}}),
                "spec.template.spec",
            ),
            (
                "apps/v1",
                "DaemonSet",
                json!({"spec": {"template": pod}}),
                "spec.template.spec",
            ),
            (
                "apps/v1",
                "ReplicaSet",
                json!({"spec": {"template": pod}}),
                "spec.template.spec",
            ),
            (
                "batch/v1",
                "Job",
                json!({"spec": {"template": pod}}),
                "spec.template.spec",
            ),
            (
                "batch/v1",
                "CronJob",
                json!({"spec": {"jobTemplate": {"spec": {"template": pod}}}}),
                "spec.jobTemplate.spec.template.spec",
            ),
        ];
        for (api, kind, mut object, path) in cases {
            object["apiVersion"] = json!(api);
            object["kind"] = json!(kind);
            let r = ObjectId::read(&object);
            let t = pod_template(&r, &object);
            assert_eq!(t.map(|t| t.spec_path), Some(path), "{kind}");
        }
        let crd = json!({"apiVersion": "example.com/v1", "kind": "Deployment",
                         "spec": {"template": pod}});
        assert!(pod_template(&ObjectId::read(&crd), &crd).is_none());
    }

    #[test]
    fn containers_include_init_and_ephemeral_ones_with_their_paths() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {
            "containers": [{"name": "app"}],
            "initContainers": [{"name": "migrate"}],
            "ephemeralContainers": [{"image": "debug"}],
        }}}});
        let r = ObjectId::read(&d);
        let Some(t) = pod_template(&r, &d) else {
            panic!("no template")
        };
        let found: Vec<(String, String)> = t
            .containers()
            .iter()
            .map(|c| (c.describe(), c.field.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "container `app`".to_string(),
                    "spec.template.spec.containers[name=app]".to_string()
                ),
                (
                    "init container `migrate`".into(),
                    "spec.template.spec.initContainers[name=migrate]".into()
                ),
                (
                    "ephemeral container ``".into(),
                    "spec.template.spec.ephemeralContainers[0]".into()
                ),
            ]
        );
    }
}
