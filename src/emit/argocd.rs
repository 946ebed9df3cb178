//! The Argo CD objects of an environment: its AppProject, its root Application and one
//! Application per (cluster, component).

use serde_json::{Value, json};

use crate::load::{Component, Settings};
use crate::merge::Cluster;
use crate::object::{CLUSTER_LABEL, COMPONENT_LABEL, MANAGED_BY};

/// The branch Argo CD syncs for an environment.
pub(crate) fn branch(environment: &str) -> String {
    format!("env/{environment}")
}

pub(crate) fn application(settings: &Settings, cluster: &Cluster, component: &Component) -> Value {
    let mut app = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": format!("{}-{}", cluster.name, component.name),
            "namespace": settings.argocd.namespace(),
            "labels": {
                MANAGED_BY: "strata",
                COMPONENT_LABEL: component.name,
                CLUSTER_LABEL: cluster.name,
                "strata.dev/environment": cluster.environment,
            },
            "annotations": {
                "argocd.argoproj.io/sync-wave": component.sync_wave.to_string(),
                "strata.dev/version": component.version,
            },
        },
        "spec": {
            "project": cluster.environment,
            "destination": {
                "server": cluster.server,
                "namespace": component.namespace,
            },
            "source": {
                "repoURL": settings.output.repo_url,
                "targetRevision": branch(&cluster.environment),
                "path": super::layout::application_source(&cluster.path(), &component.name),
                "directory": {"recurse": true},
            },
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true},
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
            },
        },
    });
    // What live drift ignores, Argo CD must not self-heal either (an HPA's replicas).
    if !component.ignore_differences.is_empty() {
        let rules: Vec<Value> = component
            .ignore_differences
            .iter()
            .map(|r| {
                let mut v =
                    json!({"group": r.group, "kind": r.kind, "jsonPointers": r.json_pointers});
                if let Some(name) = &r.name {
                    v["name"] = json!(name);
                }
                if let Some(ns) = &r.namespace {
                    v["namespace"] = json!(ns);
                }
                v
            })
            .collect();
        app["spec"]["ignoreDifferences"] = json!(rules);
        if let Some(opts) = app["spec"]["syncPolicy"]["syncOptions"].as_array_mut() {
            opts.push(json!("RespectIgnoreDifferences=true"));
        }
    }
    app
}

/// The AppProject of an environment: its own clusters and the output repository, nothing else.
pub(crate) fn project(settings: &Settings, environment: &str, clusters: &[&Cluster]) -> Value {
    let argocd_server = settings.argocd.server_for(environment);
    let mut destinations: Vec<(String, String)> = clusters
        .iter()
        .map(|c| (c.server.clone(), "*".to_string()))
        .collect();
    destinations.push((
        argocd_server.to_string(),
        settings.argocd.namespace().to_string(),
    ));
    destinations.sort();
    destinations.dedup();
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {
            "name": environment,
            "namespace": settings.argocd.namespace(),
            "labels": {MANAGED_BY: "strata", "strata.dev/environment": environment},
        },
        "spec": {
            "description": format!("The {environment} environment, rendered by strata. It may deploy only to the {environment} clusters."),
            "sourceRepos": [settings.output.repo_url],
            "destinations": destinations
                .iter()
                .map(|(server, namespace)| json!({"server": server, "namespace": namespace}))
                .collect::<Vec<_>>(),
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            "namespaceResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    })
}

/// The app-of-apps Application over `argocd/apps`.
pub(crate) fn root(settings: &Settings, environment: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": format!("{environment}-root"),
            "namespace": settings.argocd.namespace(),
            "labels": {MANAGED_BY: "strata", "strata.dev/environment": environment},
        },
        "spec": {
            "project": environment,
            "destination": {
                "server": settings.argocd.server_for(environment),
                "namespace": settings.argocd.namespace(),
            },
            "source": {
                "repoURL": settings.output.repo_url,
                "targetRevision": branch(environment),
                "path": super::layout::apps_source(),
                "directory": {"recurse": true},
            },
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true},
            },
        },
    })
}
