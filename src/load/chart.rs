//! `source.helm` of component.yaml: a Helm chart vendored in the component.
//!
//! The chart is an input like a template: strata reads it through the [`World`], so a render of
//! a git commit sees the chart as committed there, and it checks the chart before any `helm`
//! sees it. The chart must lie inside its component, hold no symbolic link that leaves it (Helm's
//! loader follows links and would put the file they name into `.Files`), carry the version
//! component.yaml names, and match the digest component.yaml records, so that an edit of a
//! vendored chart is a deliberate step (`strata vendor`), never a surprise in a diff.

use std::io::Read as _;

use sha2::{Digest as _, Sha256};

use crate::digest::hex;
use crate::world::World;

/// The most a chart archive may unpack to: a chart is templates and values, not data.
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;

/// A chart as strata reads it: its files by path relative to the chart (a directory chart), or
/// one archive (a `.tgz` chart).
pub(crate) enum ChartFiles<'w> {
    Dir(Vec<(&'w str, &'w [u8])>),
    Archive(&'w [u8]),
}

/// What is wrong with a vendored chart, said for a person.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ChartProblem {
    pub(crate) message: String,
    pub(crate) hint: String,
    /// The file the problem is in, when it is not component.yaml.
    pub(crate) file: Option<String>,
}

impl ChartProblem {
    fn new(message: String, hint: impl Into<String>) -> ChartProblem {
        ChartProblem {
            message,
            hint: hint.into(),
            file: None,
        }
    }
}

/// `chart` of `source.helm` checked to be a relative path inside the component: no `..`, no
/// absolute path, no URL. The normalized path, without `./` or a trailing `/`.
pub(crate) fn chart_path(chart: &str) -> Result<String, ChartProblem> {
    let parts: Vec<&str> = chart
        .trim_end_matches('/')
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let refused = chart.starts_with('/')
        || chart.contains([':', '\\', '\0'])
        || parts.is_empty()
        || parts.contains(&"..");
    if refused {
        return Err(ChartProblem::new(
            format!("the chart `{chart}` is not a path inside the component"),
            "vendor the chart into the component (e.g. `helm pull` it, then `strata vendor COMPONENT CHART.tgz`) and name it relative to the component directory, e.g. `chart: charts/ingress-nginx`; strata never fetches a chart while it renders",
        ));
    }
    Ok(parts.join("/"))
}

/// The files of the chart at `chart` (relative to `component_dir`) in `world`, checked for links
/// that leave it.
pub(crate) fn chart_files<'w>(
    world: &'w dyn World,
    component_dir: &str,
    chart: &str,
) -> Result<ChartFiles<'w>, ChartProblem> {
    let full = format!("{component_dir}/{chart}");
    let leaves = |path: &str| {
        world
            .links()
            .get(path)
            .filter(|target| !target.starts_with(&format!("{full}/")) && **target != full)
    };
    if chart.ends_with(".tgz") {
        let Some(bytes) = world.read(&full) else {
            return Err(ChartProblem::new(
                format!("the chart {full} does not exist"),
                "vendor the chart archive into the component, or fix `source.helm.chart`",
            ));
        };
        if let Some(target) = leaves(&full) {
            return Err(link_problem(&full, target, &full));
        }
        return Ok(ChartFiles::Archive(bytes));
    }
    let prefix = format!("{full}/");
    let mut files = Vec::new();
    for (path, bytes) in world.under(&full) {
        if let Some(target) = leaves(path) {
            return Err(link_problem(path, target, &full));
        }
        files.push((&path[prefix.len()..], bytes));
    }
    if !files.iter().any(|(p, _)| *p == "Chart.yaml") {
        return Err(ChartProblem::new(
            format!("{full} is not a Helm chart: it has no Chart.yaml"),
            "`source.helm.chart` names the chart's directory (the one holding Chart.yaml) or its .tgz, relative to the component",
        ));
    }
    Ok(ChartFiles::Dir(files))
}

fn link_problem(path: &str, target: &str, chart: &str) -> ChartProblem {
    ChartProblem {
        message: format!(
            "{path} is a symbolic link to {target}, outside the chart {chart}"
        ),
        hint: "Helm reads the files a link points to into the chart; replace the link with the file itself, inside the chart".into(),
        file: Some(path.to_string()),
    }
}

/// `sha256:<hex>` over a chart: for a directory, every file's path relative to the chart, its
/// length and its bytes, in path order; for an archive, its bytes.
pub(crate) fn chart_digest(files: &ChartFiles<'_>) -> String {
    let mut h = Sha256::new();
    match files {
        ChartFiles::Dir(files) => {
            for (path, bytes) in files {
                h.update(path.as_bytes());
                h.update([0]);
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(bytes);
            }
        }
        ChartFiles::Archive(bytes) => h.update(bytes),
    }
    format!("sha256:{}", hex(&h.finalize()))
}

/// The text of the chart's own `Chart.yaml` (not a subchart's), and the path to name it by.
pub(crate) fn chart_yaml(
    files: &ChartFiles<'_>,
    full: &str,
) -> Result<(String, String), ChartProblem> {
    match files {
        ChartFiles::Dir(files) => {
            let bytes = files
                .iter()
                .find(|(p, _)| *p == "Chart.yaml")
                .map_or(&b""[..], |(_, b)| b);
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                ChartProblem::new(
                    format!("{full}/Chart.yaml is not UTF-8"),
                    "save Chart.yaml as UTF-8",
                )
            })?;
            Ok((format!("{full}/Chart.yaml"), text))
        }
        ChartFiles::Archive(bytes) => {
            let entries = unpack(bytes).map_err(|e| {
                ChartProblem::new(
                    format!("{full} is not a chart archive strata can read: {e}"),
                    "vendor a chart archive made by `helm package` or `helm pull`",
                )
            })?;
            let found = entries.into_iter().find(|(p, _)| {
                p.split_once('/')
                    .is_some_and(|(_, rest)| rest == "Chart.yaml")
            });
            match found {
                Some((path, bytes)) => Ok((
                    format!("{full}:{path}"),
                    String::from_utf8(bytes).unwrap_or_default(),
                )),
                None => Err(ChartProblem::new(
                    format!("{full} holds no <chart>/Chart.yaml"),
                    "vendor a chart archive made by `helm package` or `helm pull`",
                )),
            }
        }
    }
}

/// The regular files of a gzipped tar archive, by path. A link, a device, an absolute path, a
/// `..` or more than [`MAX_UNPACKED`] bytes is an error: a chart needs none of them.
pub(crate) fn unpack(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut out = Vec::new();
    let mut total = 0u64;
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .replace('\\', "/");
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        if !kind.is_file() {
            return Err(format!("{path} is not a regular file (a link or a device)"));
        }
        if path.starts_with('/') || path.split('/').any(|p| p == "..") || path.contains(':') {
            return Err(format!("{path} would be written outside the chart"));
        }
        total = total.saturating_add(entry.size());
        if total > MAX_UNPACKED {
            return Err(format!("it unpacks to more than {MAX_UNPACKED} bytes"));
        }
        let mut data = Vec::new();
        entry
            .by_ref()
            .take(MAX_UNPACKED)
            .read_to_end(&mut data)
            .map_err(|e| e.to_string())?;
        out.push((path, data));
    }
    Ok(out)
}

/// The `version` of a Chart.yaml text, as Helm reads it.
pub(crate) fn chart_version(text: &str) -> Option<String> {
    let node = crate::yaml::parse_one(text).ok()?;
    match node.get("version")?.to_json() {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The line of `key:` at the top level of a YAML text, for a diagnostic.
pub(crate) fn line_of_key(text: &str, key: &str) -> u32 {
    text.lines()
        .position(|l| l.starts_with(&format!("{key}:")))
        .map_or(1, |i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::MemWorld;

    #[test]
    fn a_chart_path_stays_inside_its_component() {
        assert_eq!(chart_path("charts/dex/").unwrap(), "charts/dex");
        assert_eq!(chart_path("./charts/dex").unwrap(), "charts/dex");
        for bad in [
            "../other/charts/x",
            "/etc",
            "oci://registry/x",
            "https://x/y.tgz",
            "",
            ".",
        ] {
            assert!(chart_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_link_out_of_the_chart_is_refused_and_one_inside_is_not() {
        let mut w = MemWorld::new("test")
            .with("components/c/charts/x/Chart.yaml", "version: 1.0.0\n")
            .with("components/c/charts/x/files/a", "a")
            .with("components/c/charts/x/files/b", "secret");
        w.links.insert(
            "components/c/charts/x/files/a".into(),
            "components/c/charts/x/files/b".into(),
        );
        assert!(chart_files(&w, "components/c", "charts/x").is_ok());
        w.links.insert(
            "components/c/charts/x/files/b".into(),
            "environments/prod/layer.yaml".into(),
        );
        let Err(p) = chart_files(&w, "components/c", "charts/x") else {
            panic!("a link out of the chart was taken")
        };
        assert_eq!(
            p.message,
            "components/c/charts/x/files/b is a symbolic link to environments/prod/layer.yaml, outside the chart components/c/charts/x"
        );
    }

    #[test]
    fn the_digest_covers_paths_and_bytes() {
        let a = ChartFiles::Dir(vec![("Chart.yaml", b"v"), ("t/a.yaml", b"x")]);
        let b = ChartFiles::Dir(vec![("Chart.yaml", b"v"), ("t/b.yaml", b"x")]);
        let c = ChartFiles::Dir(vec![("Chart.yaml", b"v"), ("t/a.yaml", b"y")]);
        assert_ne!(chart_digest(&a), chart_digest(&b));
        assert_ne!(chart_digest(&a), chart_digest(&c));
        assert!(chart_digest(&a).starts_with("sha256:"));
    }

    #[test]
    fn versions_read_as_helm_reads_them() {
        assert_eq!(
            chart_version("name: x\nversion: 1.2.3\n").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(
            chart_version("version: '0.4.0'\n").as_deref(),
            Some("0.4.0")
        );
        assert_eq!(chart_version("name: x\n"), None);
    }
}
