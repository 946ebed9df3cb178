//! `strata vendor`: a chart pulled with `helm pull` unpacked into its component, and its version
//! and digest recorded in component.yaml.
//!
//! This is the one deliberate way to change a vendored chart: a render refuses a chart that no
//! longer matches the digest component.yaml records, so an edit of a chart (by hand, or by a
//! pull request that slips one in) is seen, and recording it again is a visible change of
//! component.yaml.

use std::path::Path;

use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::load::chart;
use crate::world::FsWorld;

/// What `vendor` did.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Vendored {
    pub component: String,
    /// The chart, relative to the source root.
    pub chart: String,
    pub version: String,
    pub digest: String,
    /// Whether an archive was unpacked (or copied) into the component.
    pub unpacked: bool,
}

/// Unpacks `archive` (when given) into the chart path that `source.helm.chart` of `component`
/// names, then records the chart's version and digest in its component.yaml.
pub fn vendor(
    root: &Path,
    component: &str,
    archive: Option<&Path>,
) -> Result<Vendored, Diagnostics> {
    let dir = format!("components/{component}");
    let file = format!("{dir}/component.yaml");
    let fail = |message: String, hint: &str| -> Diagnostics {
        Diagnostic::error(Code::Chart, message)
            .at(Span::new(&file, 1, 1))
            .hint(hint.to_string())
            .into()
    };
    let io = |what: String| -> Diagnostics { Diagnostic::error(Code::Io, what).into() };
    let text = std::fs::read_to_string(root.join(&file))
        .map_err(|e| io(format!("cannot read {file}: {e}")))?;
    let node = crate::yaml::parse_one(&text)
        .map_err(|e| Diagnostics::from(crate::load::yaml_diag(&file, &e)))?;
    let Some(chart_path) = node.pointer("/source/helm/chart").and_then(|n| n.as_str()) else {
        return Err(fail(
            format!("component `{component}` has no `source.helm.chart` in {file}"),
            "add `source: {helm: {chart: charts/NAME, version: VERSION}}` to component.yaml first; vendor then fills in the chart, its version and its digest",
        ));
    };
    let chart_path = chart::chart_path(chart_path).map_err(|p| fail(p.message, &p.hint))?;
    let full = format!("{dir}/{chart_path}");
    if let Some(archive) = archive {
        let bytes = std::fs::read(archive)
            .map_err(|e| io(format!("cannot read {}: {e}", archive.display())))?;
        unpack_into(root, &full, &chart_path, &bytes).map_err(|e| {
            fail(
                format!("cannot vendor {} into {full}: {e}", archive.display()),
                "give a chart archive made by `helm pull` or `helm package`",
            )
        })?;
    }
    let world = FsWorld::open(root)?;
    let files =
        chart::chart_files(&world, &dir, &chart_path).map_err(|p| fail(p.message, &p.hint))?;
    let (chart_file, chart_text) =
        chart::chart_yaml(&files, &full).map_err(|p| fail(p.message, &p.hint))?;
    let Some(version) = chart::chart_version(&chart_text) else {
        return Err(fail(
            format!("{chart_file} has no version"),
            "a chart's Chart.yaml names its version",
        ));
    };
    let digest = chart::chart_digest(&files);
    let text = set_helm_field(&text, &node, "version", &version)
        .and_then(|t| {
            let node = crate::yaml::parse_one(&t).map_err(|e| e.message.clone())?;
            set_helm_field(&t, &node, "digest", &digest)
        })
        .map_err(|e| {
            fail(
                format!("cannot update {file}: {e}"),
                "write `source.helm` in block style (one key a line), then run vendor again",
            )
        })?;
    write_aside(&root.join(&file), text.as_bytes())
        .map_err(|e| io(format!("cannot write {file}: {e}")))?;
    Ok(Vendored {
        component: component.to_string(),
        chart: full,
        version,
        digest,
        unpacked: archive.is_some(),
    })
}

/// Writes a file aside and renames it over `path`, so no reader sees half of it.
fn write_aside(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Replaces the chart at `full` with the archive's contents: the archive itself for a `.tgz`
/// chart, its one top directory for a directory chart.
fn unpack_into(root: &Path, full: &str, chart_path: &str, bytes: &[u8]) -> Result<(), String> {
    let entries = chart::unpack(bytes)?;
    let target = root.join(full);
    if let Ok(meta) = std::fs::symlink_metadata(&target)
        && meta.file_type().is_symlink()
    {
        return Err(format!(
            "{full} is a symbolic link; strata writes no chart through one"
        ));
    }
    if chart_path.ends_with(".tgz") {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        return std::fs::write(&target, bytes).map_err(|e| e.to_string());
    }
    let tops: std::collections::BTreeSet<&str> = entries
        .iter()
        .filter_map(|(p, _)| p.split('/').next())
        .collect();
    let [top] = tops.into_iter().collect::<Vec<_>>()[..] else {
        return Err("the archive does not hold exactly one top directory (the chart)".into());
    };
    let prefix = format!("{top}/");
    if !entries
        .iter()
        .any(|(p, _)| *p == format!("{top}/Chart.yaml"))
    {
        return Err(format!("the archive has no {top}/Chart.yaml"));
    }
    // Unpacked aside, then swapped in, so a failure leaves the old chart as it was.
    let staging = target.with_file_name(format!(
        ".{}.vendor",
        target
            .file_name()
            .map_or("chart".into(), |n| n.to_string_lossy())
    ));
    let _ = std::fs::remove_dir_all(&staging);
    for (path, data) in &entries {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        let file = staging.join(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&file, data).map_err(|e| e.to_string())?;
    }
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(|e| e.to_string())?;
    }
    std::fs::rename(&staging, &target).map_err(|e| e.to_string())
}

/// `text` with `source.helm.<key>` set to `value`: the value replaced where it is, or a line
/// added after `version:`.
fn set_helm_field(
    text: &str,
    node: &crate::yaml::Node,
    key: &str,
    value: &str,
) -> Result<String, String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line_of = |n: &crate::yaml::Node| n.pos.line as usize;
    if let Some(v) = node.pointer(&format!("/source/helm/{key}")) {
        let i = line_of(v).checked_sub(1).ok_or("no line")?;
        let line = lines.get(i).ok_or("no line")?;
        let col = (v.pos.column as usize).saturating_sub(1);
        let (head, rest) = line.split_at(col.min(line.len()));
        if rest.contains(['{', '}', ',']) {
            return Err(format!("`{key}` is not alone on its line"));
        }
        // The comment keeps its column when the new value fits before it.
        let comment = match rest.find(" #") {
            None => String::new(),
            Some(c) => {
                let gap = (c + 1).saturating_sub(value.len()).max(1);
                format!("{}{}", " ".repeat(gap), rest[c + 1..].trim_start())
            }
        };
        lines[i] = format!("{head}{value}{comment}");
    } else {
        let version = node
            .pointer("/source/helm/version")
            .ok_or("no source.helm.version")?;
        let i = line_of(version).checked_sub(1).ok_or("no line")?;
        let line = lines.get(i).ok_or("no line")?;
        let indent = line
            .find("version:")
            .ok_or("`version` is not alone on its line")?;
        lines.insert(i + 1, format!("{}{key}: {value}", " ".repeat(indent)));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_set_in_place_keeping_comments() {
        let text =
            "name: x\nsource:\n  helm:\n    chart: charts/x\n    version: 1.0.0   # the chart's\n";
        let node = crate::yaml::parse_one(text).unwrap();
        let t = set_helm_field(text, &node, "version", "1.1.0").unwrap();
        assert_eq!(
            t,
            "name: x\nsource:\n  helm:\n    chart: charts/x\n    version: 1.1.0   # the chart's\n"
        );
        let node = crate::yaml::parse_one(&t).unwrap();
        let t = set_helm_field(&t, &node, "digest", "sha256:ab").unwrap();
        assert!(
            t.ends_with("    version: 1.1.0   # the chart's\n    digest: sha256:ab\n"),
            "{t}"
        );
        let node = crate::yaml::parse_one(&t).unwrap();
        let t = set_helm_field(&t, &node, "digest", "sha256:cd").unwrap();
        assert!(t.ends_with("    digest: sha256:cd\n"), "{t}");
    }

    #[test]
    fn a_flow_style_source_is_refused_rather_than_mangled() {
        let text = "source: {helm: {chart: c, version: 1.0.0}}\n";
        let node = crate::yaml::parse_one(text).unwrap();
        assert!(set_helm_field(text, &node, "version", "2.0.0").is_err());
    }
}
