//! The built-in pack over one pod template: privileges, users, host namespaces, volumes, images
//! and resource requests.

use serde_json::Value;

use super::finding::Finding;
use super::image::{self, Pin};
use super::rule::*;
use super::workload::{Container, ContainerKind, PodTemplate};

const HOST_NAMESPACES: &[(&str, &str)] = &[
    ("hostIPC", "IPC"),
    ("hostPID", "PID"),
    ("hostNetwork", "network"),
];

const VOLUME_TYPES_ALLOWED: &[&str] = &[
    "configMap",
    "emptyDir",
    "projected",
    "secret",
    "downwardAPI",
    "persistentVolumeClaim",
];

/// What the rules need besides the pod: the registries of the object's cluster.
pub(crate) struct Context<'a> {
    pub(crate) environment: &'a str,
    /// Empty: `allowed-registries` is off for this cluster.
    pub(crate) registries: &'a [String],
}

pub(crate) fn check(pod: &PodTemplate, context: &Context, out: &mut Vec<Finding>) {
    for (key, namespace) in HOST_NAMESPACES {
        if pod.spec.get(*key) == Some(&Value::Bool(true)) {
            out.push(Finding::new(
                NO_HOST_NAMESPACES,
                format!("{}.{key}", pod.spec_path),
                format!("the pod shares the host's {namespace} namespace (`{key}: true`)"),
            ));
        }
    }
    volumes(pod, out);
    for container in pod.containers() {
        privileged(&container, out);
        privilege_escalation(&container, out);
        run_as_non_root(pod, &container, out);
        image(&container, context, out);
        requests(&container, out);
    }
}

fn volumes(pod: &PodTemplate, out: &mut Vec<Finding>) {
    let Some(volumes) = pod.spec.get("volumes").and_then(Value::as_array) else {
        return;
    };
    for (index, volume) in volumes.iter().enumerate() {
        let Some(fields) = volume.as_object() else {
            continue;
        };
        let name = fields.get("name").and_then(Value::as_str).unwrap_or("");
        let path = format!(
            "{}.volumes{}",
            pod.spec_path,
            super::resource::item_segment(volume, index)
        );
        for kind in fields.keys().filter(|k| *k != "name") {
            if !VOLUME_TYPES_ALLOWED.contains(&kind.as_str()) {
                out.push(Finding::new(
                    VOLUME_TYPES,
                    format!("{path}.{kind}"),
                    format!("volume `{name}` is of type `{kind}`, which is not allowed"),
                ));
            }
        }
    }
}

fn privileged(c: &Container, out: &mut Vec<Finding>) {
    if c.security("privileged") == Some(&Value::Bool(true)) {
        out.push(Finding::new(
            NO_PRIVILEGED,
            format!("{}.securityContext.privileged", c.field),
            format!("{} runs privileged", c.describe()),
        ));
    }
}

fn privilege_escalation(c: &Container, out: &mut Vec<Finding>) {
    let message = match c.security("allowPrivilegeEscalation") {
        Some(Value::Bool(false)) => return,
        Some(Value::Bool(true)) => {
            format!("{} sets `allowPrivilegeEscalation: true`", c.describe())
        }
        Some(_) => format!(
            "{} sets `allowPrivilegeEscalation` to something other than `false`",
            c.describe()
        ),
        None => format!(
            "{} does not set `allowPrivilegeEscalation: false`",
            c.describe()
        ),
    };
    out.push(Finding::new(
        NO_PRIVILEGE_ESCALATION,
        format!("{}.securityContext.allowPrivilegeEscalation", c.field),
        message,
    ));
}

/// The container's own securityContext wins over the pod's, as in Kubernetes.
fn run_as_non_root(pod: &PodTemplate, c: &Container, out: &mut Vec<Finding>) {
    let effective = |key: &str| -> Option<(&Value, String)> {
        match c.security(key) {
            Some(v) if !v.is_null() => Some((v, format!("{}.securityContext.{key}", c.field))),
            _ => pod
                .security(key)
                .filter(|v| !v.is_null())
                .map(|v| (v, format!("{}.securityContext.{key}", pod.spec_path))),
        }
    };
    let user = effective("runAsUser");
    let uid = user
        .as_ref()
        .and_then(|(v, _)| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)));
    if let (Some(0), Some((_, field))) = (uid, &user) {
        let whose = if field.starts_with(&c.field) {
            "its own securityContext"
        } else {
            "the pod's securityContext"
        };
        out.push(
            Finding::new(
                RUN_AS_NON_ROOT,
                field.clone(),
                format!("{} runs as root (`runAsUser: 0` in {whose})", c.describe()),
            )
            .hint("set `runAsUser` to a non-zero user id and `runAsNonRoot: true`"),
        );
        return;
    }
    if uid.is_some_and(|u| u > 0) {
        return;
    }
    match effective("runAsNonRoot") {
        Some((Value::Bool(true), _)) => {}
        Some((_, field)) => out.push(Finding::new(
            RUN_AS_NON_ROOT,
            field,
            format!(
                "{} may run as root: `runAsNonRoot` is not `true` and no `runAsUser` above 0 is set",
                c.describe()
            ),
        )),
        None => out.push(Finding::new(
            RUN_AS_NON_ROOT,
            format!("{}.securityContext.runAsNonRoot", c.field),
            format!(
                "{} may run as root: neither it nor its pod sets `runAsNonRoot: true` or a \
                 `runAsUser` above 0",
                c.describe()
            ),
        )),
    }
}

fn image(c: &Container, context: &Context, out: &mut Vec<Finding>) {
    let field = format!("{}.image", c.field);
    let image = c
        .spec
        .get("image")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if image.is_empty() {
        out.push(Finding::new(
            IMAGE_PINNED,
            field,
            format!("{} has no image", c.describe()),
        ));
        return;
    }
    let problem = match image::pin(image) {
        Pin::Digest | Pin::Tag(_) => None,
        Pin::Latest => Some("uses the tag `latest`, which moves"),
        Pin::Unpinned => Some("has no tag or digest, so it means `latest`"),
    };
    if let Some(problem) = problem {
        out.push(Finding::new(
            IMAGE_PINNED,
            field.clone(),
            format!("image `{image}` of {} {problem}", c.describe()),
        ));
    }
    if !context.registries.is_empty() && !image::from_registry(image, context.registries) {
        let registries = context.registries.join(", ");
        out.push(
            Finding::new(
                ALLOWED_REGISTRIES,
                field,
                format!(
                    "image `{image}` of {} is not from a registry of environment {}: {registries}",
                    c.describe(),
                    context.environment
                ),
            )
            .hint(format!(
                "mirror the image into {registries} and reference it there",
            )),
        );
    }
}

/// Ephemeral containers are exempt: Kubernetes does not allow them resources.
fn requests(c: &Container, out: &mut Vec<Finding>) {
    if c.kind == ContainerKind::Ephemeral {
        return;
    }
    let requests = c.spec.get("resources").and_then(|r| r.get("requests"));
    let missing: Vec<&str> = ["cpu", "memory"]
        .into_iter()
        .filter(|k| requests.and_then(|r| r.get(*k)).is_none_or(is_blank))
        .collect();
    if missing.is_empty() {
        return;
    }
    out.push(Finding::new(
        RESOURCE_REQUESTS,
        format!("{}.resources.requests", c.field),
        format!("{} does not request {}", c.describe(), missing.join(" or ")),
    ));
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}
