//! Merged values + templates → [`Manifest`]s: the Kubernetes objects of each cluster.
//!
//! Every (cluster, component) pair renders independently, in parallel. A component's minijinja
//! environment is built once and shared by every cluster.

mod builtins;
mod command;
pub(crate) mod helm;
mod operators;
pub(crate) mod patch;
mod process;
pub(crate) mod template;

use std::collections::BTreeMap;
use std::path::PathBuf;

use minijinja::{Environment, ErrorKind};
use rayon::prelude::*;
use serde::Serialize;

pub(crate) use command::CommandError;

use crate::diag::{Code, DiagResult, Diagnostic, Diagnostics, Span};
use crate::load::{self, Component, Source};
use crate::merge::{Cluster, Merged};
use crate::world::World;
use crate::yaml;

/// One rendered Kubernetes object, before strata's labels are added.
#[derive(Clone, Debug)]
pub(crate) struct Manifest {
    pub(crate) component: String,
    /// The template (or component directory, for command sources) that produced it.
    pub(crate) origin: String,
    /// The 1-based index of the document within that output.
    pub(crate) document: usize,
    pub(crate) object: serde_json::Value,
    /// The patches of layers that changed it, in the order they applied.
    pub(crate) patched: Vec<patch::Patched>,
}

/// The rendered objects of one cluster, by component.
#[derive(Clone, Debug, Default)]
pub(crate) struct RenderedCluster {
    pub(crate) components: BTreeMap<String, Vec<Manifest>>,
}

/// Renders clusters: the minijinja environment of each component is built once and shared by
/// every cluster, and a command source runs once per distinct set of values.
pub(crate) struct Renderer<'a> {
    source: &'a Source,
    world: &'a dyn World,
    envs: BTreeMap<&'a str, Environment<'static>>,
    memos: Memos,
    progress: Option<&'a dyn crate::progress::Progress>,
}

impl<'a> Renderer<'a> {
    /// `progress` is told of each (cluster, component) pair done; the caller tells it the total.
    pub(crate) fn new(
        source: &'a Source,
        world: &'a dyn World,
        progress: Option<&'a dyn crate::progress::Progress>,
    ) -> Renderer<'a> {
        let envs = source
            .components
            .iter()
            .filter(|(_, c)| matches!(c.source, load::ComponentSource::Templates(_)))
            .map(|(n, c)| (n.as_str(), template::environment(c.partials.clone())))
            .collect();
        Renderer {
            source,
            world,
            envs,
            memos: Memos::default(),
            progress,
        }
    }

    /// Renders every enabled component of `cluster`, in parallel. Components in `skip` are left
    /// out: their values are already known to be invalid, and their template errors would only
    /// repeat that. `parallel` renders the components on several threads: worth it when there
    /// are fewer clusters than threads.
    pub(crate) fn cluster(
        &self,
        cluster: &Cluster,
        skip: &std::collections::BTreeSet<&str>,
        parallel: bool,
    ) -> DiagResult<RenderedCluster> {
        let jobs: Vec<(&Component, &Merged)> = cluster
            .enabled()
            .filter(|(n, _)| !skip.contains(n.as_str()))
            .filter_map(|(n, v)| self.source.components.get(n).map(|c| (c, v)))
            .collect();
        let render = |(component, values): &(&Component, &Merged)| {
            let r = match &component.source {
                load::ComponentSource::Templates(templates) => {
                    match self.envs.get(component.name.as_str()) {
                        Some(env) => render_templates(
                            env,
                            templates,
                            cluster,
                            component,
                            values,
                            &self.memos.parsed,
                        ),
                        None => Ok(Vec::new()),
                    }
                }
                load::ComponentSource::Command { argv, timeout } => render_command(
                    self.world,
                    argv,
                    *timeout,
                    cluster,
                    component,
                    values,
                    &self.memos,
                ),
                load::ComponentSource::Helm(chart) => {
                    render_helm(self.world, chart, cluster, component, values, &self.memos)
                }
            };
            let patches = cluster
                .components
                .get(&component.name)
                .map_or(&[][..], |p| p.patches.as_slice());
            let r = match r {
                Ok(mut manifests) if !patches.is_empty() => {
                    patch::apply(&mut manifests, patches, component, &cluster.name)
                        .map(|()| manifests)
                }
                other => other,
            };
            if let Some(p) = self.progress {
                p.advance();
            }
            (component.name.clone(), r)
        };
        let results: Vec<(String, DiagResult<Vec<Manifest>>)> = if parallel {
            jobs.par_iter().map(render).collect()
        } else {
            jobs.iter().map(render).collect()
        };
        let mut out = RenderedCluster::default();
        let mut diags = Diagnostics::new();
        for (name, r) in results {
            match r {
                Ok(manifests) => {
                    out.components.insert(name, manifests);
                }
                Err(d) => diags.extend(d),
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(out)
        }
    }
}

#[derive(Serialize)]
struct ComponentInfo<'a> {
    name: &'a str,
    version: &'a str,
    namespace: &'a str,
}

fn render_templates(
    env: &Environment<'static>,
    templates: &BTreeMap<String, String>,
    cluster: &Cluster,
    component: &Component,
    values: &Merged,
    parsed: &ParseMemo,
) -> DiagResult<Vec<Manifest>> {
    let ctx = minijinja::context! {
        values => minijinja::Value::from(minijinja::value::Serde(values)),
        global => minijinja::Value::from(minijinja::value::Serde(&cluster.global)),
        cluster => minijinja::Value::from(minijinja::value::Serde(&cluster.identity)),
        component => minijinja::Value::from(minijinja::value::Serde(ComponentInfo {
            name: &component.name,
            version: &component.version,
            namespace: &component.namespace,
        })),
    };
    let mut manifests = Vec::new();
    let mut diags = Diagnostics::new();
    for name in templates.keys() {
        let rendered_by_itself = !name.starts_with('_')
            && !name.contains('/')
            && (name.ends_with(".yaml") || name.ends_with(".yml"));
        if !rendered_by_itself {
            continue;
        }
        let file = format!("{}/templates/{name}", component.dir);
        // minijinja panics on some templates it parsed (`{% import "x" as 1 %}` reaches an
        // `unreachable!` in its code generator). A template is user input: that is a
        // diagnostic, not a crash of the whole render.
        let mut out = template::Capped::for_output(
            templates.get(name).map_or(0, |t| t.len().saturating_mul(2)),
        );
        let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            env.get_template(name)
                .and_then(|t| t.render_captured_to(&ctx, &mut out))
                .map(drop)
        }));
        if out.over {
            diags.push(
                Diagnostic::error(
                    Code::Template,
                    format!(
                        "{file} rendered more than {} bytes, the limit for one template",
                        template::MAX_RENDERED_BYTES
                    ),
                )
                .at(Span::new(&file, 1, 1))
                .note(format!("cluster: {}", cluster.name))
                .hint("look for a loop that runs far more often than intended"),
            );
            continue;
        }
        let text = match rendered {
            Ok(Ok(())) => out.into_text(),
            Ok(Err(e)) => {
                diags.push(template_error(&e, component, cluster));
                continue;
            }
            Err(_) => {
                diags.push(
                    Diagnostic::error(
                        Code::TemplateEngine,
                        format!("the template engine crashed on {file}"),
                    )
                    .at(Span::new(&file, 1, 1))
                    .note(format!("cluster: {}", cluster.name))
                    .hint("this is a bug in minijinja, not in your values; look for an unusual construct such as `import ... as` followed by anything but a name"),
                );
                continue;
            }
        };
        match documents(
            &text,
            &file,
            templates.get(name).map(String::as_str),
            cluster,
            component,
            parsed,
        ) {
            Ok(m) => manifests.extend(m),
            Err(d) => diags.extend(d),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(manifests)
    }
}

/// The source file of a template name as the loader knows it.
fn template_file(component: &Component, name: &str) -> String {
    match name.strip_prefix("_lib/") {
        Some(rest) => format!("components/_lib/{rest}"),
        None => format!("{}/templates/{name}", component.dir),
    }
}

fn template_error(e: &minijinja::Error, component: &Component, cluster: &Cluster) -> Diagnostic {
    // The innermost error names the template and line where it happened, even across includes.
    let mut inner = e;
    while let Some(next) =
        std::error::Error::source(inner).and_then(|s| s.downcast_ref::<minijinja::Error>())
    {
        if next.name().is_none() {
            break;
        }
        inner = next;
    }
    let file = inner.name().map(|n| template_file(component, n));
    let line = inner.line().unwrap_or(1) as u32;
    // minijinja compiled the source with the operands of `~` and `in` wrapped: the range is
    // mapped back to what the user wrote.
    let original = inner.name().and_then(|n| component.partials.get(n));
    let (source, range) = match (original, inner.range()) {
        (Some(text), Some(r)) => {
            let rewritten = operators::rewrite(text, &template::syntax());
            (
                Some(text.as_str()),
                Some(rewritten.original_offset(r.start)..rewritten.original_offset(r.end)),
            )
        }
        _ => (inner.template_source(), inner.range()),
    };
    let column = match (source, range.clone()) {
        (Some(src), Some(r)) => src.get(..r.start).map_or(1, |before| {
            before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1
        }),
        _ => 1,
    };
    let expr = match (source, range) {
        (Some(src), Some(r)) => src.get(r).map(str::to_string),
        _ => None,
    };
    let detail = inner.detail().unwrap_or("").to_string();
    let (code, message, hint) = match inner.kind() {
        ErrorKind::UndefinedError => (
            Code::TemplateUndefined,
            match &expr {
                Some(x) => format!("undefined variable `{x}`"),
                None => format!("undefined variable{}", if detail.is_empty() { String::new() } else { format!(": {detail}") }),
            },
            "set the value in values.yaml or a layer, or guard it with `{% if ... is defined %}`; templates see `values`, `global`, `cluster` and `component`".to_string(),
        ),
        ErrorKind::TemplateNotFound => (
            Code::TemplateInclude,
            format!("template not found: {}", if detail.is_empty() { e.to_string() } else { detail.clone() }),
            format!("`include` and `import` load only from {}/templates/ and components/_lib/ (as `_lib/<file>`)", component.dir),
        ),
        ErrorKind::InvalidOperation if detail.starts_with("fail: ") => (
            Code::TemplateFail,
            format!("the template failed: {}", &detail["fail: ".len()..]),
            "the template's own check rejected these values; see the message above".to_string(),
        ),
        ErrorKind::InvalidOperation if detail.starts_with("required: ") => (
            Code::TemplateRequired,
            format!("a required value is missing: {}", &detail["required: ".len()..]),
            "set the value in a layer of this cluster".to_string(),
        ),
        ErrorKind::InvalidOperation if detail.starts_with("too-large: ") => (
            Code::TemplateLimit,
            format!("the template built a value too large: {}", &detail["too-large: ".len()..]),
            "a template may render at most 16 MiB; look for a list repeated (`* n`) or a loop that builds far more than intended".to_string(),
        ),
        ErrorKind::InvalidOperation if detail.starts_with("too-deep: ") => (
            Code::TemplateLimit,
            format!("the template built a value too deep: {}", &detail["too-deep: ".len()..]),
            "look for a namespace or a list that holds itself".to_string(),
        ),
        ErrorKind::OutOfFuel => (
            Code::TemplateLimit,
            format!(
                "the template ran out of fuel: its budget of {} pays for one instruction or {} bytes of text and lists each",
                template::TEMPLATE_FUEL,
                template::BYTES_PER_FUEL
            ),
            format!(
                "a template may run about {} instructions and build about {} MB; look for a loop that runs far more often than intended, or a string that grows in one (`*`, `~`, `join`, `replace`)",
                template::TEMPLATE_FUEL,
                template::TEMPLATE_FUEL * template::BYTES_PER_FUEL / 1_000_000
            ),
        ),
        ErrorKind::SyntaxError => (
            Code::TemplateSyntax,
            format!("template syntax error: {detail}"),
            "see the minijinja (Jinja2) syntax".to_string(),
        ),
        _ => (
            Code::Template,
            if detail.is_empty() { inner.kind().to_string() } else { format!("{}: {detail}", inner.kind()) },
            "fix the template expression on this line".to_string(),
        ),
    };
    Diagnostic::error(code, message)
        .at_opt(file.map(|f| Span::new(f, line, column)))
        .note(format!(
            "cluster: {}, component: {}",
            cluster.name, component.name
        ))
        .hint(hint)
}

/// Splits rendered text into objects. Empty documents are skipped.
fn documents(
    text: &str,
    origin: &str,
    template_text: Option<&str>,
    cluster: &Cluster,
    component: &Component,
    parsed: &ParseMemo,
) -> DiagResult<Vec<Manifest>> {
    let docs = match parsed.parse(text) {
        Ok(d) => d,
        Err(e) => {
            let bad_line = text
                .lines()
                .nth(e.pos.line.saturating_sub(1) as usize)
                .unwrap_or("");
            let d = Diagnostic::error(
                Code::RenderedYaml,
                format!("{origin} rendered invalid YAML: {}", e.message),
            )
            .note(format!(
                "line {} of the rendered output: {bad_line}",
                e.pos.line
            ))
            .note(format!("cluster: {}", cluster.name));
            // Jinja2 habits: `{%-` at the start of a line. Under strata's trim_blocks and
            // lstrip_blocks the `-` also eats the line break before the tag, and lines run
            // together (`annotations:    owner: x  labels:`).
            let trimming = template_text.and_then(|t| {
                t.lines().enumerate().find_map(|(i, line)| {
                    ["{%-", "-%}", "{{-", "-}}"]
                        .iter()
                        .find(|tag| line.contains(**tag))
                        .map(|tag| (i + 1, line.trim().to_string(), *tag))
                })
            });
            let d = match trimming {
                Some((line, text, tag)) => d
                    .at(Span::new(origin, u32::try_from(line).unwrap_or(u32::MAX), 1))
                    .note(format!("line {line} of the template trims whitespace with `{tag}`: {text}"))
                    .hint(format!(
                        "strata already removes the line of a block tag (trim_blocks, lstrip_blocks), so `{tag}` also eats a line break or indentation the YAML needs; drop the `-`: `{}`",
                        text.replace("{%-", "{%").replace("-%}", "%}").replace("{{-", "{{").replace("-}}", "}}")
                    )),
                None => d.at(Span::new(origin, 1, 1)).hint(
                    "check the indentation around `toyaml`/`indent` and quote values that contain ':' or '#'",
                ),
            };
            return Err(d.into());
        }
    };
    let mut out = Vec::new();
    let mut diags = Diagnostics::new();
    let objects = docs
        .into_iter()
        .enumerate()
        .flat_map(|(i, doc)| unwrap_lists(doc).into_iter().map(move |o| (i, o)));
    for (i, object) in objects {
        if object.is_null() {
            continue;
        }
        if let Err(d) = check_object(&object, origin, template_text, i + 1) {
            diags.push(d.note(format!(
                "cluster: {}, component: {}",
                cluster.name, component.name
            )));
            continue;
        }
        out.push(Manifest {
            component: component.name.clone(),
            origin: origin.to_string(),
            document: i + 1,
            object,
            patched: Vec::new(),
        });
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// The objects of a document: the items of a list (`v1 List`, `ConfigMapList`, any kind
/// ending in `List` with `items`), as `kubectl apply` takes them apart, lists in lists
/// included; else the document itself.
fn unwrap_lists(doc: serde_json::Value) -> Vec<serde_json::Value> {
    let is_list = doc
        .get("kind")
        .and_then(|k| k.as_str())
        .is_some_and(|k| k.ends_with("List"))
        && doc.get("items").is_some_and(|i| i.is_array());
    if !is_list {
        return vec![doc];
    }
    match doc {
        serde_json::Value::Object(mut map) => match map.remove("items") {
            Some(serde_json::Value::Array(items)) => {
                items.into_iter().flat_map(unwrap_lists).collect()
            }
            _ => Vec::new(),
        },
        other => vec![other],
    }
}

/// `true` for a DNS-1123 subdomain: what Kubernetes accepts as most object names.
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// The rule the API server applies to the names of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NameRule {
    /// Most kinds, custom resources included: a DNS-1123 subdomain.
    Subdomain,
    /// Namespace: a DNS-1123 label.
    Label,
    /// Service: a DNS-1035 label (it starts with a letter).
    Label1035,
    /// RBAC roles and bindings: a path segment (`system:aggregated-metrics-reader`).
    PathSegment,
}

impl NameRule {
    fn of(group: &str, kind: &str) -> NameRule {
        match (group, kind) {
            (
                "rbac.authorization.k8s.io",
                "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
            ) => NameRule::PathSegment,
            ("", "Namespace") => NameRule::Label,
            ("", "Service") => NameRule::Label1035,
            _ => NameRule::Subdomain,
        }
    }

    fn accepts(self, name: &str) -> bool {
        match self {
            NameRule::Subdomain => is_dns_subdomain(name),
            NameRule::Label => crate::load::is_dns_label(name),
            NameRule::Label1035 => {
                crate::load::is_dns_label(name)
                    && name.starts_with(|c: char| c.is_ascii_lowercase())
            }
            NameRule::PathSegment => {
                !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '%'])
            }
        }
    }

    fn hint(self) -> &'static str {
        match self {
            NameRule::Subdomain => {
                "names are lowercase letters, digits, '-' and '.', start and end with a letter or digit, at most 253 characters (DNS-1123 subdomain)"
            }
            NameRule::Label => {
                "a namespace name is lowercase letters, digits and '-', starts and ends with a letter or digit, at most 63 characters (DNS-1123 label)"
            }
            NameRule::Label1035 => {
                "a Service name is lowercase letters, digits and '-', starts with a letter, ends with a letter or digit, at most 63 characters (DNS-1035 label)"
            }
            NameRule::PathSegment => {
                "an RBAC name may hold any character but '/' and '%', and may not be '.' or '..'"
            }
        }
    }
}

/// A rendered document must be a Kubernetes object strata can name a file after.
fn check_object(
    object: &serde_json::Value,
    origin: &str,
    template_text: Option<&str>,
    document: usize,
) -> Result<(), Diagnostic> {
    let line_of = |needle: &str| -> u32 {
        template_text
            .and_then(|t| {
                t.lines()
                    .position(|l| !needle.is_empty() && l.contains(needle))
            })
            .map_or(1, |i| i as u32 + 1)
    };
    let at = |needle: &str| Span::new(origin, line_of(needle), 1);
    let Some(map) = object.as_object() else {
        return Err(Diagnostic::error(
            Code::Object,
            format!("document {document} is not a map but {}", kind_name(object)),
        )
        .at(Span::new(origin, 1, 1))
        .hint("each YAML document a template renders must be one Kubernetes object"));
    };
    let api = map.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
    if api.is_empty() {
        return Err(Diagnostic::error(
            Code::Object,
            format!("document {document} has no apiVersion"),
        )
        .at(Span::new(origin, 1, 1))
        .hint("every Kubernetes object needs `apiVersion`, `kind` and `metadata.name`"));
    }
    // The group goes into file names: `<group>/<version>` or a bare version, as Kubernetes
    // has them.
    let api_ok = match api.split_once('/') {
        Some((group, version)) => is_dns_subdomain(group) && crate::load::is_dns_label(version),
        None => crate::load::is_dns_label(api),
    };
    if !api_ok {
        return Err(Diagnostic::error(
            Code::Object,
            format!("document {document} has the apiVersion {api:?}, which is not `<group>/<version>` or `<version>`"),
        )
        .at(at("apiVersion:"))
        .hint("an apiVersion is a version such as `v1`, or an API group and a version such as `apps/v1`, in lower case"));
    }
    let kind = map.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Diagnostic::error(
            Code::Object,
            format!("document {document} has no valid kind (found {:?})", kind),
        )
        .at(at("kind:"))
        .hint("`kind` is the object's type in CamelCase, e.g. Deployment"));
    }
    let name = map
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let rule = NameRule::of(crate::object::group_of(api), kind);
    if !rule.accepts(name) {
        let shown = if name.is_empty() {
            "no metadata.name".to_string()
        } else {
            format!("the name {name:?}")
        };
        return Err(Diagnostic::error(
            Code::ObjectName,
            format!(
                "{kind} in document {document} has {shown}, which is not a valid name for a {kind}"
            ),
        )
        .at(at(if name.is_empty() { "metadata:" } else { name }))
        .hint(rule.hint()));
    }
    if let Some(ns) = map.get("metadata").and_then(|m| m.get("namespace")) {
        let ok = ns.as_str().is_some_and(crate::load::is_dns_label);
        if !ok {
            return Err(Diagnostic::error(Code::ObjectName, format!("{kind} {name} has the namespace {ns}, which is not a valid namespace name"))
                .at(at(ns.as_str().unwrap_or("namespace:")))
                .hint("a namespace is a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters"));
        }
    }
    Ok(())
}

fn kind_name(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    }
}

/// Rendered texts that were parsed before, by their sha256. Most clusters render some
/// templates to the same text (a Service, a NetworkPolicy, a CRD), and parsing YAML costs more
/// than rendering it. A text's documents are kept from its second sighting on, so texts that
/// only one cluster renders cost no memory.
#[derive(Default)]
struct ParseMemo {
    seen: std::sync::Mutex<std::collections::HashMap<[u8; 32], Option<SharedDocuments>>>,
}

type SharedDocuments = std::sync::Arc<Vec<serde_json::Value>>;

/// What renders of different clusters share.
#[derive(Default)]
struct Memos {
    commands: CommandMemo,
    parsed: ParseMemo,
}

impl ParseMemo {
    /// The documents of `text` as JSON; a null document stands for an empty one.
    fn parse(&self, text: &str) -> Result<Vec<serde_json::Value>, yaml::YamlError> {
        use sha2::Digest as _;
        let key: [u8; 32] = sha2::Sha256::digest(text.as_bytes()).into();
        let lock = || self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let seen_before = match lock().get(&key) {
            Some(Some(docs)) => return Ok(docs.as_ref().clone()),
            Some(None) => true,
            None => false,
        };
        let docs = yaml::documents_json(text)?;
        let kept = seen_before.then(|| std::sync::Arc::new(docs.clone()));
        lock().insert(key, kept);
        Ok(docs)
    }
}

/// Command outputs by (component, merged values): a command sees only its directory and its
/// values, so clusters with the same values share one run.
type CommandMemo = std::sync::Mutex<
    BTreeMap<(String, String), std::sync::Arc<std::sync::OnceLock<DiagResult<String>>>>,
>;

fn render_command(
    world: &dyn World,
    argv: &[String],
    timeout: std::time::Duration,
    cluster: &Cluster,
    component: &Component,
    values: &Merged,
    memos: &Memos,
) -> DiagResult<Vec<Manifest>> {
    let origin = format!("{}/component.yaml", component.dir);
    let key = (component.name.clone(), values.to_json().to_string());
    let cell = match memos.commands.lock() {
        Ok(mut m) => m.entry(key).or_default().clone(),
        Err(_) => std::sync::Arc::default(),
    };
    let text = cell
        .get_or_init(|| run_command(world, argv, timeout, cluster, component, values))
        .clone()?;
    documents(&text, &origin, None, cluster, component, &memos.parsed)
}

fn render_helm(
    world: &dyn World,
    chart: &load::HelmChart,
    cluster: &Cluster,
    component: &Component,
    values: &Merged,
    memos: &Memos,
) -> DiagResult<Vec<Manifest>> {
    let run = helm::helm_run(cluster, component, values)?;
    // A chart sees only its files, its values and its flags: clusters that agree on them share
    // one run of helm.
    let key = (
        component.name.clone(),
        format!("{:?}", (&run.values, &run.kube_version, &run.api_versions)),
    );
    let cell = match memos.commands.lock() {
        Ok(mut m) => m.entry(key).or_default().clone(),
        Err(_) => std::sync::Arc::default(),
    };
    let text = cell
        .get_or_init(|| helm::run(world, chart, cluster, component, &run))
        .clone()?;
    let full = format!("{}/{}", component.dir, chart.chart);
    let mut manifests = Vec::new();
    let mut diags = Diagnostics::new();
    for (origin, piece) in helm::pieces(&text, &full) {
        match documents(&piece, &origin, None, cluster, component, &memos.parsed) {
            Ok(found) => {
                manifests.extend(found.into_iter().filter(|m| !helm::is_test_hook(&m.object)))
            }
            Err(d) => diags.extend(d),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(manifests)
    }
}

fn run_command(
    world: &dyn World,
    argv: &[String],
    timeout: std::time::Duration,
    cluster: &Cluster,
    component: &Component,
    values: &Merged,
) -> DiagResult<String> {
    let origin = format!("{}/component.yaml", component.dir);
    let fail = |message: String, hint: &str| -> Diagnostics {
        Diagnostic::error(Code::Command, message)
            .at(Span::new(&origin, 1, 1))
            .note(format!(
                "cluster: {}, component: {}",
                cluster.name, component.name
            ))
            .hint(hint.to_string())
            .into()
    };
    let scratch = tempfile::tempdir().map_err(|e| {
        fail(
            format!("cannot create a temporary directory: {e}"),
            "check TMPDIR",
        )
    })?;
    // A world without a disk (a git commit) has the component's files written out first.
    let dir: PathBuf = match world.disk_root() {
        Some(root) => root.join(&component.dir),
        None => {
            let dir = scratch.path().join("component");
            for (path, bytes) in world.under(&component.dir) {
                let target = dir.join(&path[component.dir.len() + 1..]);
                let written = target
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&target, bytes));
                if let Err(e) = written {
                    return Err(fail(
                        format!("cannot write {}: {e}", target.display()),
                        "check TMPDIR",
                    ));
                }
            }
            dir
        }
    };
    let values_file = scratch.path().join("values.json");
    let json = serde_json::to_vec_pretty(&values.to_json()).unwrap_or_default();
    std::fs::write(&values_file, json)
        .map_err(|e| fail(format!("cannot write the values file: {e}"), "check TMPDIR"))?;
    // An empty home: no kubeconfig, credentials or tool settings of the user's.
    let home = scratch.path().join("home");
    std::fs::create_dir(&home).map_err(|e| {
        fail(
            format!("cannot create an empty home directory: {e}"),
            "check TMPDIR",
        )
    })?;
    let text = command::run(argv, &dir, &values_file, &home, timeout).map_err(|e| {
        let mut d = Diagnostic::error(
            Code::Command,
            format!("the command source of `{}` failed: {e}", component.name),
        )
        .at(Span::new(&origin, 1, 1))
        .note(format!("cluster: {}", cluster.name))
        .note(format!("command: {}", argv.join(" ")));
        if let Some(stderr) = e.stderr() {
            d = d.note(format!("its stderr:\n{stderr}"));
        }
        let hint = match &e {
            CommandError::Timeout { .. } => {
                "raise `source.timeout` in component.yaml if the command is just slow"
            }
            CommandError::TooMuchOutput { .. } => "a component this large should be split",
            CommandError::Spawn { .. } => {
                "install the program or fix `source.command` in component.yaml"
            }
            _ => "run the command by hand in the component's directory to see what is wrong",
        };
        Diagnostics::from(d.hint(hint))
    })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_seen_twice_is_parsed_once_more_and_then_shared() {
        let memo = ParseMemo::default();
        let text = "a: 1\n---\n---\nb: [x, 'y']\n";
        let first = memo.parse(text).unwrap();
        assert_eq!(
            first,
            [
                serde_json::json!({"a": 1}),
                serde_json::Value::Null,
                serde_json::json!({"b": ["x", "y"]})
            ]
        );
        let kept = |memo: &ParseMemo| {
            memo.seen
                .lock()
                .unwrap()
                .values()
                .filter(|v| v.is_some())
                .count()
        };
        assert_eq!(kept(&memo), 0, "a text seen once is not kept");
        assert_eq!(memo.parse(text).unwrap(), first);
        assert_eq!(kept(&memo), 1);
        assert_eq!(memo.parse(text).unwrap(), first);
        // An invalid text is an error every time, never a remembered success.
        assert!(memo.parse("a: [").is_err());
        assert!(memo.parse("a: [").is_err());
    }
}
