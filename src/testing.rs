//! Fixtures for the unit tests: a small platform in memory.

use crate::world::MemWorld;

/// Policies that the fixture's bare workloads would break, off.
pub(crate) const POLICIES_OFF: &str = "policies:\n  rules:\n    no-privileged: off\n    run-as-non-root: off\n    no-privilege-escalation: off\n    no-host-namespaces: off\n    volume-types: off\n    image-pinned: off\n    resource-requests: off\n    network-policy: off\n    no-plaintext-secrets: off\n";

/// Two environments, `dev` and `prod`, with one workload cluster each (`dev-sto2-workload`,
/// `prod-sto2-workload`), and one component, `web`, that renders a Deployment and a ConfigMap.
pub(crate) fn platform() -> MemWorld {
    MemWorld::new("test")
        .with(
            "strata.yaml",
            &format!("output: {{repoURL: https://git.example.com/out.git}}\n{POLICIES_OFF}"),
        )
        .with(
            "components/web/component.yaml",
            "name: web\nversion: \"1.0\"\nnamespace: web\nroles: [workload]\nsyncWave: 2\n",
        )
        .with("components/web/values.yaml", "replicas: 1\nimage: nginx:1.27\n")
        .with(
            "components/web/values.schema.json",
            r#"{"type": "object", "properties": {"replicas": {"type": "integer"}, "image": {"type": "string"}}, "required": ["replicas", "image"], "additionalProperties": false}"#,
        )
        .with(
            "components/web/templates/web.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {{ values.replicas }}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: {{ values.image | quote }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-{{ cluster.environment }}\ndata:\n  domain: {{ global.domain }}\n",
        )
        .with(
            "environments/layer.yaml",
            "values:\n  global: {domain: example.com}\n",
        )
        .with(
            "environments/prod/sto2/workload.cluster.yaml",
            "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 3}\n",
        )
        .with(
            "environments/dev/sto2/workload.cluster.yaml",
            "cluster: {role: workload, server: https://dev-sto2.example.com:6443}\n",
        )
}
