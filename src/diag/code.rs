//! What kind of mistake a diagnostic is ([`Code`]), and what it means for the exit code
//! ([`Exit`]). Both are part of strata's interface: users grep for a code, CI scripts match on
//! it and branch on the exit code.

use std::cmp::Ordering;
use std::fmt;

/// The exit code of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Success, and nothing found.
    Clean = 0,
    /// It ran and found something: differences, drift, invalid input, a policy violation, a
    /// closed gate.
    Found = 1,
    /// It could not run: bad arguments, no strata.yaml, an I/O or git failure.
    Failed = 2,
}

/// The stable name of a diagnostic, e.g. `values-schema`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    // Reading the source.
    /// A file could not be read.
    Io,
    /// There is no strata.yaml, or no way to read it.
    NoSettings,
    /// A source file is not UTF-8.
    Encoding,
    /// A source file is over the size limit.
    FileTooLarge,
    /// A symbolic link leads outside the repository.
    Symlink,
    /// A git submodule (or another repository) inside the source: refused everywhere.
    Submodule,
    /// A file is not valid YAML.
    Yaml,
    /// A file does not have the shape of its format (strata's own schemas).
    Format,
    /// A file strata does not know where it does not belong.
    UnknownFile,
    /// A key the format does not have.
    UnknownKey,
    /// A key the format needs.
    MissingKey,
    /// A name that is not a valid name.
    Name,
    /// A component's `component.yaml` or its files.
    Component,
    /// A layer names a component the platform does not have.
    UnknownComponent,
    /// A cluster file's identity.
    Cluster,
    /// The platform has no clusters.
    NoClusters,
    /// A component's values, or its `values.yaml`.
    Values,
    /// A component has no `values.yaml` or values schema.
    ValuesMissing,
    /// Merged values that break the component's values schema.
    ValuesSchema,
    /// `policies:` in strata.yaml.
    PolicyConfig,
    /// `--env` or `--cluster` names nothing.
    Selection,
    /// A `kubernetesVersion` strata cannot read or has no schemas for.
    KubernetesVersion,
    /// A plain value in a layer that Kubernetes' YAML reader would read as something else.
    ScalarMeaning,

    // Rendering.
    /// A template's render, for a reason of its own.
    Template,
    /// A template names what is not defined.
    TemplateUndefined,
    /// A template includes a template that is not there.
    TemplateInclude,
    /// A template called `fail`.
    TemplateFail,
    /// A value a template marks `required` is not set.
    TemplateRequired,
    /// A template went past a resource limit.
    TemplateLimit,
    /// A template's syntax.
    TemplateSyntax,
    /// The template engine itself failed.
    TemplateEngine,
    /// A command source: not allowed, failed or timed out.
    Command,
    /// A command source that strata.yaml does not allow.
    CommandNotAllowed,
    /// A vendored Helm chart strata will not render: outside its component, a link out of it,
    /// a version other than component.yaml's.
    Chart,
    /// A vendored Helm chart that no longer matches the digest component.yaml records.
    ChartDigest,
    /// `helm template` failed on a chart.
    Helm,
    /// There is no `helm` to render a chart with: strata could not run.
    HelmMissing,
    /// A patch of a layer matches no rendered object.
    PatchTarget,
    /// A patch of a layer could not be applied.
    Patch,
    /// A template or command rendered text that is not YAML.
    RenderedYaml,
    /// A rendered document is not a Kubernetes object strata can write.
    Object,
    /// A rendered object's name or namespace is not a valid Kubernetes name.
    ObjectName,

    // The output layout.
    /// One object rendered twice.
    Duplicate,
    /// Two objects would be written to one file.
    FileCollision,
    /// Two Applications would share a file or a name.
    ApplicationCollision,
    /// A cluster under a name the layout reserves.
    ReservedName,
    /// A cluster's directory inside another's.
    ClusterPath,
    /// An environment's Argo CD would run on another environment's cluster.
    Separation,
    /// A path that could leave the output directory: a bug of strata's.
    OutputPath,
    /// An output directory strata will not write to.
    OutputDir,
    /// The render cache is not what it should be.
    Cache,

    // Live drift.
    /// The live objects given to `strata drift` do not read: strata cannot compare.
    LiveInput,

    // Explaining a value.
    /// The component does not run on the cluster.
    Disabled,
    /// The value is not set.
    NotSet,

    /// A policy rule, by its id (`no-privileged`).
    Rule(&'static str),
    /// A bug of strata's.
    Internal,
}

impl Code {
    /// The name users see: `values-schema`, `no-privileged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Io => "io",
            Code::NoSettings => "no-settings",
            Code::Encoding => "encoding",
            Code::FileTooLarge => "file-too-large",
            Code::Symlink => "symlink",
            Code::Submodule => "submodule",
            Code::Yaml => "yaml",
            Code::Format => "format",
            Code::UnknownFile => "unknown-file",
            Code::UnknownKey => "unknown-key",
            Code::MissingKey => "missing-key",
            Code::Name => "name",
            Code::Component => "component",
            Code::UnknownComponent => "unknown-component",
            Code::Cluster => "cluster",
            Code::NoClusters => "no-clusters",
            Code::Values => "values",
            Code::ValuesMissing => "values-missing",
            Code::ValuesSchema => "values-schema",
            Code::PolicyConfig => "policy-config",
            Code::Selection => "selection",
            Code::KubernetesVersion => "kubernetes-version",
            Code::ScalarMeaning => "scalar-meaning",
            Code::Template => "template",
            Code::TemplateUndefined => "template-undefined",
            Code::TemplateInclude => "template-include",
            Code::TemplateFail => "template-fail",
            Code::TemplateRequired => "template-required",
            Code::TemplateLimit => "template-limit",
            Code::TemplateSyntax => "template-syntax",
            Code::TemplateEngine => "template-engine",
            Code::Command => "command",
            Code::CommandNotAllowed => "command-not-allowed",
            Code::Chart => "chart",
            Code::ChartDigest => "chart-digest",
            Code::Helm => "helm",
            Code::HelmMissing => "helm-missing",
            Code::PatchTarget => "patch-target",
            Code::Patch => "patch",
            Code::RenderedYaml => "rendered-yaml",
            Code::Object => "object",
            Code::ObjectName => "object-name",
            Code::Duplicate => "duplicate",
            Code::FileCollision => "file-collision",
            Code::ApplicationCollision => "application-collision",
            Code::ReservedName => "reserved-name",
            Code::ClusterPath => "cluster-path",
            Code::Separation => "separation",
            Code::OutputPath => "output-path",
            Code::OutputDir => "output-dir",
            Code::Cache => "cache",
            Code::LiveInput => "live-input",
            Code::Disabled => "disabled",
            Code::NotSet => "not-set",
            Code::Rule(id) => id,
            Code::Internal => "internal",
        }
    }

    /// What a diagnostic of this code means for the run: strata could not run (the source
    /// could not be read at all), or it ran and found something.
    pub(crate) fn exit(self) -> Exit {
        match self {
            Code::Io | Code::NoSettings | Code::LiveInput | Code::HelmMissing => Exit::Failed,
            _ => Exit::Found,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// By name, as users read them.
impl Ord for Code {
    fn cmp(&self, other: &Code) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Code {
    fn partial_cmp(&self, other: &Code) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::{Code, Exit};

    #[test]
    fn a_code_reads_as_its_name_and_knows_its_exit() {
        assert_eq!(Code::ValuesSchema.to_string(), "values-schema");
        assert_eq!(Code::Rule("no-privileged").as_str(), "no-privileged");
        assert_eq!(Code::Io.exit(), Exit::Failed);
        assert_eq!(Code::NoSettings.exit(), Exit::Failed);
        assert_eq!(Code::LiveInput.exit(), Exit::Failed);
        assert_eq!(Code::ValuesSchema.exit(), Exit::Found);
        assert_eq!(Code::Rule("no-privileged").exit(), Exit::Found);
        assert_eq!(
            serde_json::to_string(&Code::TemplateFail).ok().as_deref(),
            Some("\"template-fail\"")
        );
        assert!(Code::Yaml > Code::ValuesSchema, "ordered by name");
    }
}
