//! Files → [`Source`]: the settings, components, layers and clusters of a platform.
//!
//! Loading checks everything that can be checked file by file: YAML syntax, strata's own
//! schemas, names, unknown components and the command allow-list. It reports every mistake it
//! finds, not only the first.

mod allow_list;
pub(crate) mod chart;
mod component;
pub(crate) mod ignore_rule;
mod layer;
pub(crate) mod schema;
mod settings;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub(crate) use allow_list::AllowList;
pub(crate) use component::schema_errors;
pub(crate) use component::{
    Component, ComponentSource, DEFAULT_COMMAND_TIMEOUT, HelmChart, parse_duration,
};
pub use ignore_rule::IgnoreRule;
pub(crate) use layer::{ClusterFile, Layer, Patch, PatchChange, PatchTarget};
#[cfg(test)]
pub(crate) use settings::Approvals;
#[cfg(test)]
pub(crate) use settings::Health;
pub(crate) use settings::{Freeze, MajorChanges, Promotion, Settings, Soak, Window};

use crate::diag::{Code, Diagnostic, Diagnostics, Failure, SourceTexts, Span};
use crate::world::World;
use crate::yaml::{self, Node, NodeKind};
use schema::{OwnFormat, check_own};

/// A platform as read from its files.
#[derive(Clone, Debug)]
pub struct Source {
    pub(crate) settings: Settings,
    pub(crate) components: BTreeMap<String, Component>,
    /// Every layer file by path, cluster files included.
    pub(crate) layers: BTreeMap<String, Layer>,
    /// The leaves, sorted by path.
    pub(crate) clusters: Vec<ClusterFile>,
    /// The text of every file read, to quote in diagnostics.
    pub texts: SourceTexts,
    /// What the load found that does not stop it.
    pub(crate) warnings: Diagnostics,
}

/// `true` for a DNS-1123 label: what Kubernetes accepts as a namespace, and what strata accepts
/// as a component, environment, datacenter or cluster name.
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Reads and checks the platform in `world`.
pub fn load(world: &dyn World) -> Result<Source, Failure> {
    load_vouched(world, &|_| false)
}

/// Like [`load`], without checking against strata's own schemas the files for which `vouched`
/// is true: files that a past render read, as they are now, and rendered without a word. The
/// check is a function of the file alone, so it would find nothing again, and it is a large
/// part of a load.
pub fn load_vouched(world: &dyn World, vouched: &dyn Fn(&str) -> bool) -> Result<Source, Failure> {
    let own = OwnCheck { vouched };
    let mut texts = SourceTexts::default();
    let mut diags = Diagnostics::new();
    let settings = read_settings(world, &own, &mut texts, &mut diags)?;

    let (components, known) =
        load_components(world, &own, settings.as_ref(), &mut texts, &mut diags);
    let (layers, clusters) = load_environments(world, &own, &known, &mut texts, &mut diags);

    match settings {
        Some(settings) if !diags.has_errors() => Ok(Source {
            settings,
            components,
            layers,
            clusters,
            texts,
            warnings: diags.sorted(),
        }),
        _ => {
            // The schemas compile only when a render needs them; a load that fails reports
            // theirs too, so that one run shows every mistake.
            diags.extend(schema_errors(components.values()));
            Err(Failure {
                diagnostics: diags.sorted(),
                texts,
            })
        }
    }
}

/// strata's own-schema check, skipped for the files a past render vouches for.
struct OwnCheck<'a> {
    vouched: &'a dyn Fn(&str) -> bool,
}

impl OwnCheck<'_> {
    fn check(&self, file: &str, node: &Node, format: OwnFormat) -> Diagnostics {
        if (self.vouched)(file) {
            Diagnostics::new()
        } else {
            check_own(file, node, format)
        }
    }
}

/// Reads and checks strata.yaml alone: enough to know, for one, where the output goes.
pub(crate) fn settings(world: &dyn World) -> Result<Settings, Failure> {
    let mut texts = SourceTexts::default();
    let mut diags = Diagnostics::new();
    match read_settings(
        world,
        &OwnCheck {
            vouched: &|_| false,
        },
        &mut texts,
        &mut diags,
    )? {
        Some(settings) if !diags.has_errors() => Ok(settings),
        _ => Err(Failure {
            diagnostics: diags.sorted(),
            texts,
        }),
    }
}

/// strata.yaml, checked. A file that does not read or parse ends the load; one that breaks the
/// format adds its diagnostics and gives `None`, so that the rest of the load can report too.
fn read_settings(
    world: &dyn World,
    own: &OwnCheck<'_>,
    texts: &mut SourceTexts,
    diags: &mut Diagnostics,
) -> Result<Option<Settings>, Failure> {
    match read_yaml(world, "strata.yaml", texts) {
        Err(d) => Err(Failure {
            diagnostics: d.into(),
            texts: std::mem::take(texts),
        }),
        Ok(None) => Err(Failure {
            diagnostics: Diagnostic::error(Code::NoSettings, format!("no strata.yaml in {}", world.describe()))
                .hint("run strata inside a source repository, pass --root DIR, or create strata.yaml (see the README)")
                .into(),
            texts: std::mem::take(texts),
        }),
        Ok(Some(node)) => {
            let found = own.check("strata.yaml", &node, OwnFormat::Settings);
            if !found.is_empty() {
                diags.extend(found);
                return Ok(None);
            }
            match serde_json::from_value::<Settings>(node.to_json()) {
                Ok(s) => {
                    let entry_at = |entry: &str| {
                        s.sources
                            .commands
                            .iter()
                            .position(|e| e == entry)
                            .and_then(|n| node.pointer(&format!("/sources/commands/{n}")))
                            .or_else(|| node.pointer("/sources/commands"))
                            .map_or(node.pos, |n| n.pos)
                    };
                    let mistakes = AllowList::mistakes(&s.sources.commands);
                    for (entry, why) in &mistakes {
                        let at = entry_at(entry);
                        diags.push(
                            Diagnostic::error(
                                Code::CommandNotAllowed,
                                format!("strata.yaml allows `{entry}` as a command source, which strata will not run"),
                            )
                            .at(Span::new("strata.yaml", at.line, at.column))
                            .hint(why.clone()),
                        );
                    }
                    if mistakes.is_empty() { Ok(Some(s)) } else { Ok(None) }
                }
                Err(e) => {
                    diags.push(
                        Diagnostic::error(Code::Format, format!("strata.yaml: {e}"))
                            .at(Span::new("strata.yaml", 1, 1)),
                    );
                    Ok(None)
                }
            }
        }
    }
}

/// Reads and parses one YAML file; `Ok(None)` when it does not exist.
fn read_yaml(
    world: &dyn World,
    path: &str,
    texts: &mut SourceTexts,
) -> Result<Option<Node>, Diagnostic> {
    let Some(bytes) = world.read(path) else {
        return Ok(None);
    };
    let text = utf8(path, bytes)?;
    texts.insert(path, text);
    yaml::parse_one(text)
        .map(Some)
        .map_err(|e| yaml_diag(path, &e))
}

/// Like [`read_yaml`], for a file of values (a layer, a component's values.yaml): a plain
/// value that Kubernetes' YAML reader would read as something else is a warning in `diags`.
fn read_values_yaml(
    world: &dyn World,
    path: &str,
    texts: &mut SourceTexts,
    diags: &mut Diagnostics,
) -> Result<Option<Node>, Diagnostic> {
    let Some(bytes) = world.read(path) else {
        return Ok(None);
    };
    let text = utf8(path, bytes)?;
    texts.insert(path, text);
    let (node, differences) = yaml::parse_one_noting(text).map_err(|e| yaml_diag(path, &e))?;
    for d in differences {
        diags.push(
            Diagnostic::warning(
                Code::ScalarMeaning,
                format!(
                    "`{}` is {} to strata, but {} to Kubernetes' YAML reader",
                    d.text, d.strata, d.kubernetes
                ),
            )
            .at(Span::new(path, d.pos.line, d.pos.column))
            .note("strata reads its own files as YAML 1.2; kubectl, Argo CD and the API server read YAML 1.1 scalars (see \"Scalars\" in the README)")
            .hint(format!(
                "quote it (\"{}\") to keep the text, or write the value both read alike",
                d.text
            )),
        );
    }
    Ok(Some(node))
}

pub(crate) fn utf8<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, Diagnostic> {
    std::str::from_utf8(bytes).map_err(|e| {
        Diagnostic::error(Code::Encoding, format!("{path} is not valid UTF-8: {e}"))
            .hint("save the file as UTF-8")
    })
}

pub(crate) fn yaml_diag(path: &str, e: &yaml::YamlError) -> Diagnostic {
    let d = Diagnostic::error(Code::Yaml, e.message.clone()).at(Span::new(
        path,
        e.pos.line,
        e.pos.column,
    ));
    match &e.hint {
        Some(h) => d.hint(h.clone()),
        None => d,
    }
}

fn load_components(
    world: &dyn World,
    own: &OwnCheck<'_>,
    settings: Option<&Settings>,
    texts: &mut SourceTexts,
    diags: &mut Diagnostics,
) -> (BTreeMap<String, Component>, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    for (path, _) in world.under("components") {
        if let Some(name) = path
            .split('/')
            .nth(1)
            .filter(|_| path.split('/').count() > 2)
        {
            names.insert(name.to_string());
        }
    }
    // `_lib` holds partials shared by every component; other `_` or `.` directories are ignored.
    let mut lib = BTreeMap::new();
    for (path, bytes) in world.under("components/_lib") {
        match utf8(path, bytes) {
            Ok(text) => {
                let name = format!("_lib/{}", &path["components/_lib/".len()..]);
                texts.insert(path, text);
                lib.insert(name, text.to_string());
            }
            Err(d) => diags.push(d),
        }
    }

    // Components that fail to load are still known by name, so that layers naming them do not
    // add a second, misleading "unknown component" error.
    names.retain(|n| !n.starts_with('_') && !n.starts_with('.'));
    let mut components = BTreeMap::new();
    for name in &names {
        if let Some(c) = load_component(world, own, name, settings, &lib, texts, diags) {
            components.insert(name.clone(), c);
        }
    }
    (components, names)
}

fn load_component(
    world: &dyn World,
    own: &OwnCheck<'_>,
    name: &str,
    settings: Option<&Settings>,
    lib: &BTreeMap<String, String>,
    texts: &mut SourceTexts,
    diags: &mut Diagnostics,
) -> Option<Component> {
    let dir = format!("components/{name}");
    let file = format!("{dir}/component.yaml");
    let node = match read_yaml(world, &file, texts) {
        Ok(Some(n)) => n,
        Ok(None) => {
            diags.push(
                Diagnostic::error(Code::Component, format!("{dir}/ has no component.yaml"))
                    .hint("every directory under components/ is a component; add component.yaml or rename the directory to start with `_`"),
            );
            return None;
        }
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let found = own.check(&file, &node, OwnFormat::Component);
    if !found.is_empty() {
        diags.extend(found);
        return None;
    }
    let spec: component::ComponentFile = match serde_json::from_value(node.to_json()) {
        Ok(s) => s,
        Err(e) => {
            diags.push(
                Diagnostic::error(Code::Format, format!("{file}: {e}")).at(Span::new(&file, 1, 1)),
            );
            return None;
        }
    };
    let at = |key: &str| {
        let pos = node.get(key).map_or(node.pos, |n| n.pos);
        Span::new(&file, pos.line, pos.column)
    };
    let mut ok = true;
    if spec.name != name {
        diags.push(
            Diagnostic::error(
                Code::Component,
                format!(
                    "component.yaml names the component `{}`, but its directory is `{name}`",
                    spec.name
                ),
            )
            .at(at("name"))
            .hint(format!("set `name: {name}` or rename the directory")),
        );
        ok = false;
    }

    let values_file = format!("{dir}/values.yaml");
    let values = match read_values_yaml(world, &values_file, texts, diags) {
        Ok(Some(v)) => v,
        Ok(None) => yaml::parse_one("")
            .unwrap_or_else(|_| Node::scalar(yaml::Scalar::Null, Default::default())),
        Err(d) => {
            diags.push(d);
            ok = false;
            Node::scalar(yaml::Scalar::Null, Default::default())
        }
    };
    if ok && !matches!(values.kind, NodeKind::Map(_)) {
        diags.push(
            Diagnostic::error(
                Code::Values,
                format!(
                    "{values_file} must be a map of values, not {}",
                    values.describe()
                ),
            )
            .at(Span::new(&values_file, values.pos.line, values.pos.column)),
        );
        ok = false;
    }

    let schema_file = format!("{dir}/values.schema.json");
    let schema = match world.read(&schema_file) {
        None => {
            diags.push(
                Diagnostic::error(Code::ValuesSchema, format!("{dir}/ has no values.schema.json"))
                    .hint("every component declares the JSON Schema (2020-12) of its values; start from {\"type\": \"object\"}"),
            );
            None
        }
        Some(bytes) => match utf8(&schema_file, bytes) {
            Err(d) => {
                diags.push(d);
                None
            }
            Ok(text) => {
                texts.insert(&schema_file, text);
                match serde_json::from_str::<serde_json::Value>(text) {
                    Err(e) => {
                        diags.push(
                            Diagnostic::error(
                                Code::ValuesSchema,
                                format!("{schema_file} is not valid JSON: {e}"),
                            )
                            .at(Span::new(
                                &schema_file,
                                e.line() as u32,
                                e.column() as u32,
                            )),
                        );
                        None
                    }
                    Ok(json) => match external_ref(&json) {
                        // Compiled when first needed: `Component::validator`.
                        None => Some(json),
                        Some(target) => {
                            let line = text
                                .lines()
                                .position(|l| {
                                    l.contains("\"$ref\"") && l.contains(&format!("{target:?}"))
                                })
                                .or_else(|| text.lines().position(|l| l.contains("\"$ref\"")))
                                .map_or(1, |i| i + 1);
                            let column = text
                                .lines()
                                .nth(line - 1)
                                .and_then(|l| l.find("\"$ref\""))
                                .map_or(1, |c| c + 1);
                            diags.push(
                                Diagnostic::error(
                                    Code::ValuesSchema,
                                    format!("external $ref {target:?} is not supported; put the definition under $defs"),
                                )
                                .at(Span::new(&schema_file, line as u32, column as u32))
                                .hint("strata reads no schema from a URL or another file: copy the definition into this schema's \"$defs\" and refer to it as \"#/$defs/<name>\""),
                            );
                            None
                        }
                    },
                }
            }
        },
    };

    let source = match spec.source {
        Some(component::SourceFile {
            helm: Some(helm),
            command: None,
            timeout,
        }) => {
            let timeout = timeout
                .as_deref()
                .and_then(parse_duration)
                .unwrap_or(DEFAULT_COMMAND_TIMEOUT);
            let (allowed, untrusted) = allowed_commands(settings, world);
            if settings.is_some()
                && let Err(refusal) = AllowList::new(&allowed).check_helm()
            {
                let pos = node.pointer("/source/helm").map_or(node.pos, |n| n.pos);
                let at = Span::new(&file, pos.line, pos.column);
                diags.push(
                    widened_refusal(name, "helm", untrusted.as_ref(), at.clone()).unwrap_or_else(
                        || {
                            Diagnostic::error(
                                Code::CommandNotAllowed,
                                format!("component `{name}` {}", refusal.message),
                            )
                            .at(at)
                            .hint(refusal.hint)
                        },
                    ),
                );
            }
            match helm_chart(world, name, &dir, &file, &node, helm, timeout, texts) {
                Ok(chart) => ComponentSource::Helm(chart),
                Err(d) => {
                    diags.extend(d);
                    ok = false;
                    ComponentSource::Templates(BTreeMap::new())
                }
            }
        }
        Some(component::SourceFile {
            command: Some(command),
            helm: None,
            timeout,
        }) => {
            let timeout = timeout
                .as_deref()
                .and_then(parse_duration)
                .unwrap_or(DEFAULT_COMMAND_TIMEOUT);
            let (allowed, untrusted) = allowed_commands(settings, world);
            if settings.is_some()
                && let Err(refusal) = AllowList::new(&allowed).check(&command, &dir, world)
            {
                let pos = node
                    .pointer("/source/command/0")
                    .map_or(node.pos, |n| n.pos);
                let program = command.first().map(String::as_str).unwrap_or_default();
                let at = Span::new(&file, pos.line, pos.column);
                if let Some(d) = widened_refusal(name, program, untrusted.as_ref(), at) {
                    diags.push(d);
                } else {
                    let mut d = Diagnostic::error(
                        Code::CommandNotAllowed,
                        format!("component `{name}` {}", refusal.message),
                    )
                    .at(Span::new(&file, pos.line, pos.column));
                    if let Some(entry) = &refusal.entry {
                        d = d.note(format!(
                            "the entry `{entry}` of sources.commands in strata.yaml"
                        ));
                    }
                    diags.push(d.hint(refusal.hint));
                }
            }
            ComponentSource::Command {
                argv: command,
                timeout,
            }
        }
        Some(_) => {
            let pos = node.get("source").map_or(node.pos, |n| n.pos);
            diags.push(
                Diagnostic::error(
                    Code::Format,
                    format!("component `{name}` names both or neither of `source.command` and `source.helm`"),
                )
                .at(Span::new(&file, pos.line, pos.column))
                .hint("a component renders with one source: `source: {command: [...]}` or `source: {helm: {chart: ..., version: ...}}`; leave `source` out to render templates/"),
            );
            ok = false;
            ComponentSource::Templates(BTreeMap::new())
        }
        None => {
            let mut templates = BTreeMap::new();
            for (path, bytes) in world.under(&format!("{dir}/templates")) {
                let rel = &path[dir.len() + "/templates/".len()..];
                match utf8(path, bytes) {
                    Ok(text) => {
                        texts.insert(path, text);
                        templates.insert(rel.to_string(), text.to_string());
                    }
                    Err(d) => {
                        diags.push(d);
                        ok = false;
                    }
                }
            }
            ComponentSource::Templates(templates)
        }
    };

    let crds = declared_crds(world, &dir, texts, diags);

    let mut partials = lib.clone();
    if let ComponentSource::Templates(t) = &source {
        partials.extend(t.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    let schema_json = schema?;
    if !ok {
        return None;
    }
    Some(Component {
        name: spec.name,
        version: spec.version,
        namespace: spec.namespace,
        roles: spec.roles,
        sync_wave: spec.sync_wave,
        dir,
        source,
        values,
        schema_json,
        compiled: Arc::default(),
        partials: Arc::new(partials),
        ignore_differences: spec.ignore_differences,
        crds,
    })
}

/// The CustomResourceDefinitions in `<dir>/crds/*.yaml`: CRDs a component's resources need
/// that something other than strata installs. They are read for the Kubernetes check (scope
/// and schema of their kinds on every cluster that enables the component), never written.
fn declared_crds(
    world: &dyn World,
    dir: &str,
    texts: &mut SourceTexts,
    diags: &mut Diagnostics,
) -> Vec<serde_json::Value> {
    let mut crds = Vec::new();
    for (path, bytes) in world.under(&format!("{dir}/crds")) {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let text = match utf8(path, bytes) {
            Ok(text) => text,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        texts.insert(path, text);
        let docs = match yaml::documents_json(text) {
            Ok(docs) => docs,
            Err(e) => {
                diags.push(yaml_diag(path, &e));
                continue;
            }
        };
        for (i, doc) in docs.into_iter().enumerate().filter(|(_, d)| !d.is_null()) {
            if crate::kube::Crd::from_object(&doc).is_some() {
                crds.push(doc);
            } else {
                diags.push(
                    Diagnostic::error(
                        Code::Component,
                        format!(
                            "document {} of {path} is not a CustomResourceDefinition with a group, names.kind and versions",
                            i + 1
                        ),
                    )
                    .at(Span::new(path, 1, 1))
                    .hint("crds/ holds only apiextensions.k8s.io/v1 CustomResourceDefinitions; render other objects from templates/"),
                );
            }
        }
    }
    crds
}

/// The entries of `sources.commands` that count for `world`: all of them, or, of a world a
/// pull request may have changed, only those a trusted revision allows too. Also the entries
/// left out for that, with where the trusted ones come from.
fn allowed_commands<'a>(
    settings: Option<&'a Settings>,
    world: &'a dyn World,
) -> (Vec<String>, Option<(Vec<&'a String>, &'a str)>) {
    let entries = settings.map_or(&[][..], |s| &s.sources.commands[..]);
    let untrusted = world
        .trusted_commands()
        .map(|t| (AllowList::widening(entries, &t.entries), t.from.as_str()));
    let allowed = entries
        .iter()
        .filter(|e| !untrusted.as_ref().is_some_and(|(w, _)| w.contains(e)))
        .cloned()
        .collect();
    (allowed, untrusted)
}

/// The error for a component whose `program` only an entry the trusted revision does not
/// allow would permit, if that is why it is refused.
fn widened_refusal(
    name: &str,
    program: &str,
    untrusted: Option<&(Vec<&String>, &str)>,
    at: Span,
) -> Option<Diagnostic> {
    let (widening, from) = untrusted?;
    let entry = widening
        .iter()
        .find(|e| e.split_whitespace().next() == Some(program))?;
    Some(
        Diagnostic::error(
            Code::CommandNotAllowed,
            format!("component `{name}` runs `{program}`, which strata.yaml here allows (`{entry}`) but {from} does not"),
        )
        .at(at)
        .note(format!("a command source runs only if both strata.yaml here and {from} allow it, so that a change cannot widen what strata runs in the same change that uses it"))
        .hint("merge the change to sources.commands on its own first, reviewed by the platform's owners; then this change renders (for a diff of your own change on your machine: strata diff --trust-head)"),
    )
}

/// `source.helm` checked against the chart it names: inside the component, no link out of it,
/// the version of its Chart.yaml, the digest component.yaml records.
#[allow(clippy::too_many_arguments)]
fn helm_chart(
    world: &dyn World,
    name: &str,
    dir: &str,
    file: &str,
    node: &Node,
    helm: component::HelmFile,
    timeout: std::time::Duration,
    texts: &mut SourceTexts,
) -> Result<HelmChart, Diagnostics> {
    let at = |pointer: &str| {
        let pos = node
            .pointer(pointer)
            .or_else(|| node.pointer("/source/helm"))
            .map_or(node.pos, |n| n.pos);
        Span::new(file, pos.line, pos.column)
    };
    let problem = |p: chart::ChartProblem, pointer: &str| -> Diagnostics {
        let mut d = Diagnostic::error(Code::Chart, format!("component `{name}`: {}", p.message))
            .at(at(pointer));
        if let Some(f) = p.file {
            d = d.note(format!("in {f}"));
        }
        d.hint(p.hint).into()
    };
    let chart = chart::chart_path(&helm.chart).map_err(|p| problem(p, "/source/helm/chart"))?;
    let full = format!("{dir}/{chart}");
    let files =
        chart::chart_files(world, dir, &chart).map_err(|p| problem(p, "/source/helm/chart"))?;
    let (chart_file, text) =
        chart::chart_yaml(&files, &full).map_err(|p| problem(p, "/source/helm/chart"))?;
    let mut diags = Diagnostics::new();
    match chart::chart_version(&text) {
        Some(v) if v == helm.version => {}
        found => {
            texts.insert(&chart_file, &text);
            let line = chart::line_of_key(&text, "version");
            diags.push(
                Diagnostic::error(
                    Code::Chart,
                    match &found {
                        Some(v) => format!(
                            "component `{name}` expects chart version {}, but {chart_file} says {v}",
                            helm.version
                        ),
                        None => format!(
                            "component `{name}` expects chart version {}, but {chart_file} has no version",
                            helm.version
                        ),
                    },
                )
                .at(at("/source/helm/version"))
                .note(format!("{chart_file}:{line}"))
                .hint("vendor the chart version you mean (`strata vendor COMPONENT CHART.tgz` records it), or set `source.helm.version` to the chart's version"),
            );
        }
    }
    let digest = chart::chart_digest(&files);
    match &helm.digest {
        Some(recorded) if *recorded == digest => {}
        Some(recorded) => diags.push(
            Diagnostic::error(
                Code::ChartDigest,
                format!("component `{name}`: the vendored chart {full} does not match the digest component.yaml records"),
            )
            .at(at("/source/helm/digest"))
            .note(format!("recorded: {recorded}"))
            .note(format!("the chart: {digest}"))
            .hint(format!("a file of the vendored chart changed. If you meant to change it, record the new digest with `strata vendor {name}`; if not, restore the chart (git checkout -- {full})")),
        ),
        None => diags.push(
            Diagnostic::error(
                Code::ChartDigest,
                format!("component `{name}` records no digest of its chart {full}"),
            )
            .at(at("/source/helm"))
            .note(format!("the chart: {digest}"))
            .hint(format!("record it with `strata vendor {name}` (or add `digest: {digest}` under source.helm), so that a later edit of the vendored chart is seen")),
        ),
    }
    let release_name = helm.release_name.unwrap_or_else(|| name.to_string());
    if !is_dns_label(&release_name) || release_name.len() > 53 {
        diags.push(
            Diagnostic::error(
                Code::Name,
                format!("component `{name}` has the release name `{release_name}`, which Helm does not accept"),
            )
            .at(at("/source/helm/releaseName"))
            .hint("a release name is lowercase letters, digits and '-', at most 53 characters"),
        );
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(HelmChart {
        chart,
        release_name,
        include_crds: helm.include_crds.unwrap_or(true),
        timeout,
    })
}

fn load_environments(
    world: &dyn World,
    own: &OwnCheck<'_>,
    components: &BTreeSet<String>,
    texts: &mut SourceTexts,
    diags: &mut Diagnostics,
) -> (BTreeMap<String, Layer>, Vec<ClusterFile>) {
    let mut layers = BTreeMap::new();
    let mut clusters = Vec::new();
    let paths: Vec<String> = world
        .under("environments")
        .map(|(p, _)| p.to_string())
        .collect();
    if paths.is_empty() {
        diags.push(
            Diagnostic::error(
                Code::NoClusters,
                "there is no environments/ directory with cluster files",
            )
            .hint(
                "add environments/<environment>/<datacenter>/<name>.cluster.yaml (see the README)",
            ),
        );
    }
    for path in paths {
        let parts: Vec<&str> = path.split('/').collect();
        let Some(file_name) = parts.last().copied() else {
            continue;
        };
        let is_layer = file_name == "layer.yaml"
            || (file_name.starts_with("layer.")
                && file_name.ends_with(".yaml")
                && file_name.matches('.').count() == 2);
        let is_cluster = file_name.ends_with(".cluster.yaml");
        if !is_layer && !is_cluster {
            if file_name.ends_with(".yaml") || file_name.ends_with(".yml") {
                diags.push(
                    Diagnostic::error(Code::UnknownFile, format!("{path} is not a layer strata knows"))
                        .at(Span::new(&path, 1, 1))
                        .hint("layers are named layer.yaml, layer.<role>.yaml or <name>.cluster.yaml; strata would silently ignore this one, so it refuses"),
                );
            }
            continue;
        }
        for dir in &parts[1..parts.len() - 1] {
            if !is_dns_label(dir) {
                diags.push(
                    Diagnostic::error(Code::Name, format!("the directory name `{dir}` in {path} is not a valid name"))
                        .hint("environment and datacenter directories use lowercase letters, digits and '-' (a DNS-1123 label)"),
                );
            }
        }
        let node = match read_values_yaml(world, &path, texts, diags) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        // Schema errors are reported, and the parts that are well-formed are still read, so
        // that an unknown component is reported in the same run as an unknown key.
        diags.extend(own.check(&path, &node, OwnFormat::Layer));
        let layer = read_layer(&path, &node, components, diags);
        if let Some(c) = is_cluster
            .then(|| read_cluster_file(&path, &parts, &node, diags))
            .flatten()
        {
            clusters.push(c);
        }
        layers.insert(path, layer);
    }
    if clusters.is_empty() && !diags.has_errors() {
        diags.push(
            Diagnostic::error(Code::NoClusters, "environments/ holds no cluster files")
                .hint("add environments/<environment>/<datacenter>/<name>.cluster.yaml with `cluster: {role: ..., server: ...}`"),
        );
    }
    clusters.sort_by(|a, b| a.path.cmp(&b.path));
    (layers, clusters)
}

fn read_layer(
    path: &str,
    node: &Node,
    components: &BTreeSet<String>,
    diags: &mut Diagnostics,
) -> Layer {
    let unknown = |name: &str, pos: yaml::Pos, what: &str| {
        let mut d = Diagnostic::error(
            Code::UnknownComponent,
            format!("{what} names the unknown component `{name}`"),
        )
        .at(Span::new(path, pos.line, pos.column));
        let close: Vec<&str> = components
            .iter()
            .map(String::as_str)
            .filter(|k| similar_name(k, name))
            .collect();
        d = match close.first() {
            Some(c) => d.hint(format!(
                "did you mean `{c}`? The components are the directories under components/"
            )),
            None => d.hint("the components are the directories under components/"),
        };
        d
    };
    let mut layer = Layer {
        path: path.to_string(),
        cluster: node.get("cluster").filter(|n| !n.is_null()).cloned(),
        components: Vec::new(),
        values: Vec::new(),
        patches: Vec::new(),
    };
    if let Some(map) = node.get("components").and_then(Node::as_map) {
        for (name, pos, v) in map {
            if !components.contains(name) {
                diags.push(unknown(name, *pos, "`components:`"));
                continue;
            }
            if let NodeKind::Scalar(yaml::Scalar::Bool(b)) = v.kind {
                layer.components.push((name.clone(), b, *pos));
            }
        }
    }
    if let Some(map) = node.get("values").and_then(Node::as_map) {
        for (name, pos, v) in map {
            if name != "global" && !components.contains(name) {
                diags.push(unknown(name, *pos, "`values:`"));
                continue;
            }
            layer.values.push((name.clone(), *pos, v.clone()));
        }
    }
    if let Some(map) = node.get("patches").and_then(Node::as_map) {
        for (name, pos, list) in map {
            if !components.contains(name) {
                diags.push(unknown(name, *pos, "`patches:`"));
                continue;
            }
            let NodeKind::Seq(items) = &list.kind else {
                continue;
            };
            for item in items {
                match read_patch(path, item) {
                    Ok(p) => layer.patches.push((name.clone(), Arc::new(p))),
                    Err(d) => diags.push(d),
                }
            }
        }
    }
    layer
}

/// One entry of `patches.<component>`; its shape was checked against the layer schema.
fn read_patch(path: &str, item: &Node) -> Result<layer::Patch, Diagnostic> {
    let text = |n: &Node, key: &str| n.get(key).and_then(Node::as_str).map(str::to_string);
    let target_node = item.get("target");
    let target = match target_node {
        Some(t) => layer::PatchTarget {
            group: text(t, "group"),
            version: text(t, "version"),
            kind: text(t, "kind").unwrap_or_default(),
            name: text(t, "name"),
            namespace: text(t, "namespace"),
            labels: match text(t, "labelSelector") {
                None => BTreeMap::new(),
                Some(sel) => {
                    let mut labels = BTreeMap::new();
                    for part in sel.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        let Some((k, v)) = part.split_once('=') else {
                            let pos = t.get("labelSelector").map_or(t.pos, |n| n.pos);
                            return Err(Diagnostic::error(
                                Code::Format,
                                format!("the labelSelector {sel:?} is not a list of key=value"),
                            )
                            .at(Span::new(path, pos.line, pos.column))
                            .hint("write `labelSelector: \"app.kubernetes.io/name=x,tier=web\"`: labels the objects must carry"));
                        };
                        labels.insert(
                            k.trim().trim_end_matches('=').to_string(),
                            v.trim().to_string(),
                        );
                    }
                    labels
                }
            },
        },
        None => layer::PatchTarget::default(),
    };
    let change = match (item.get("patch"), item.get("jsonPatch")) {
        (Some(p), None) => layer::PatchChange::Merge(p.to_json()),
        (None, Some(ops)) => {
            let lines = match &ops.kind {
                NodeKind::Seq(items) => items.iter().map(|o| o.pos.line).collect(),
                _ => Vec::new(),
            };
            let parsed: json_patch::Patch =
                serde_json::from_value(ops.to_json()).map_err(|e| {
                    Diagnostic::error(
                        Code::Patch,
                        format!("the jsonPatch is not an RFC 6902 JSON patch: {e}"),
                    )
                    .at(Span::new(path, ops.pos.line, ops.pos.column))
                    .hint("each operation is `{op: add|remove|replace|move|copy|test, path: /a/b, value: ...}` (`from:` for move and copy); a `/` inside a key is written `~1`")
                })?;
            layer::PatchChange::Json(parsed, lines)
        }
        _ => {
            return Err(Diagnostic::error(
                Code::Format,
                "a patch has both or neither of `patch` and `jsonPatch`",
            )
            .at(Span::new(path, item.pos.line, item.pos.column))
            .hint(
                "give each entry one of `patch:` (a strategic merge) or `jsonPatch:` (RFC 6902)",
            ));
        }
    };
    Ok(layer::Patch {
        file: Arc::from(path),
        line: item.pos.line,
        column: item.pos.column,
        target,
        change,
        written: item.to_json(),
    })
}

fn read_cluster_file(
    path: &str,
    parts: &[&str],
    node: &Node,
    diags: &mut Diagnostics,
) -> Option<ClusterFile> {
    // parts: ["environments", env, dirs..., "<stem>.cluster.yaml"]
    if parts.len() < 3 {
        diags.push(
            Diagnostic::error(
                Code::Cluster,
                format!("{path} is not inside an environment directory"),
            )
            .at(Span::new(path, 1, 1))
            .hint("move it to environments/<environment>/[<datacenter>/]<name>.cluster.yaml"),
        );
        return None;
    }
    let file_name = parts[parts.len() - 1];
    let stem = &file_name[..file_name.len() - ".cluster.yaml".len()];
    if !is_dns_label(stem) {
        diags.push(
            Diagnostic::error(
                Code::Name,
                format!("the cluster file name `{stem}` is not a valid name"),
            )
            .at(Span::new(path, 1, 1))
            .hint("use lowercase letters, digits and '-' (a DNS-1123 label)"),
        );
        return None;
    }
    let role = node
        .get("cluster")
        .and_then(|c| c.get("role"))
        .and_then(Node::as_str);
    let Some(role) = role else {
        diags.push(
            Diagnostic::error(Code::Cluster, format!("the cluster file {path} sets no role"))
                .at(Span::new(path, node.pos.line, node.pos.column))
                .hint("add `cluster: {role: management}` or `cluster: {role: workload}`; the role picks the layer.<role>.yaml files and the default components"),
        );
        return None;
    };
    Some(ClusterFile {
        path: path.to_string(),
        environment: parts[1].to_string(),
        dirs: parts[2..parts.len() - 1]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        stem: stem.to_string(),
        role: role.to_string(),
    })
}

/// The first `$ref` of a schema that points outside it: anything but `#...`. The JSON Schema
/// meta-schemas are built into the validator and need no fetch.
fn external_ref(schema: &serde_json::Value) -> Option<String> {
    match schema {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(target)) = map.get("$ref")
                && !target.starts_with('#')
                && !target.starts_with("https://json-schema.org/")
            {
                return Some(target.clone());
            }
            map.values().find_map(external_ref)
        }
        serde_json::Value::Array(items) => items.iter().find_map(external_ref),
        _ => None,
    }
}

/// A cheap "did you mean": same letters but one, or one is a prefix of the other.
fn similar_name(a: &str, b: &str) -> bool {
    if a.starts_with(b) || b.starts_with(a) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    // One swap of neighbours: `wbe` for `web`.
    if a.len() == b.len() {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        if diff.len() == 2
            && diff[1] == diff[0] + 1
            && a[diff[0]] == b[diff[1]]
            && a[diff[1]] == b[diff[0]]
        {
            return true;
        }
    }
    // Levenshtein distance ≤ 1 in one pass.
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("prod-sto2"));
        assert!(!is_dns_label("Prod"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label("../x"));
        assert!(!is_dns_label(""));
    }

    #[test]
    fn near_names() {
        assert!(similar_name("harbor", "harbour"));
        assert!(similar_name("web", "wbe"));
        assert!(similar_name("grafana", "grafan"));
        assert!(!similar_name("dex", "velero"));
    }
}
