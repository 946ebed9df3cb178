//! Where an output directory may be: apart from the source repository's own files, and, when
//! strata.yaml names it, inside the repository.

use std::path::{Component, Path, PathBuf};

use crate::diag::{Code, Diagnostic, Failure, SourceTexts, Span};
use crate::world::World;

/// Where `--out` or `output.dir` came from: strata.yaml is the repository's word, the command
/// line the user's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutputFrom {
    Settings,
    CommandLine,
}

/// The source directories and files an output directory may neither hold nor lie in.
const SOURCE_ENTRIES: &[&str] = &[".git", "components", "environments", "schema"];

/// The output directory `dir` for the source repository at `root`, with symbolic links
/// resolved, or why strata will not write there.
///
/// It may never be the repository root, hold the repository, or lie inside `.git/`,
/// `components/`, `environments/` or `schema/`. From strata.yaml it must also be a relative path
/// without `..` that resolves (links included) inside the repository; only the command line may
/// point elsewhere.
pub(crate) fn output_dir(root: &Path, dir: &Path, from: OutputFrom) -> Result<PathBuf, Diagnostic> {
    let shown = dir.display().to_string();
    let refuse = |why: String, hint: &str| {
        let d = Diagnostic::error(
            Code::OutputDir,
            format!("strata will not write to {shown}: {why}"),
        );
        let d = match from {
            OutputFrom::Settings => d.at(Span::new("strata.yaml", 1, 1)),
            OutputFrom::CommandLine => d.note("from --out"),
        };
        d.hint(hint.to_string())
    };
    let settings_hint = "set `output.dir` to a directory of its own inside the repository, such as `rendered`, or give --out DIR";
    if from == OutputFrom::Settings
        && (dir.is_absolute()
            || dir
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)))
    {
        return Err(refuse(
            "`output.dir` in strata.yaml must be a relative path inside the repository, without `..`".into(),
            settings_hint,
        ));
    }
    let root = resolve(root).map_err(|e| {
        refuse(
            format!("cannot resolve the repository root: {e}"),
            settings_hint,
        )
    })?;
    let joined = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(dir))
            .unwrap_or_else(|_| dir.to_path_buf())
    };
    let joined = if from == OutputFrom::Settings {
        root.join(dir)
    } else {
        joined
    };
    let out =
        resolve(&joined).map_err(|e| refuse(format!("cannot resolve it: {e}"), settings_hint))?;
    let hint = match from {
        OutputFrom::Settings => settings_hint,
        OutputFrom::CommandLine => {
            "give --out a directory of its own, apart from the source repository's own files"
        }
    };
    if root.starts_with(&out) {
        return Err(refuse(
            format!(
                "it is the source repository ({}) or holds it",
                root.display()
            ),
            hint,
        ));
    }
    for entry in SOURCE_ENTRIES {
        let source = resolve(&root.join(entry)).unwrap_or_else(|_| root.join(entry));
        if out.starts_with(&source) {
            return Err(refuse(
                format!("it lies inside {entry}/ of the source repository"),
                hint,
            ));
        }
    }
    if from == OutputFrom::Settings && !out.starts_with(&root) {
        return Err(refuse(
            format!(
                "it resolves to {}, outside the repository; only --out may point there",
                out.display()
            ),
            settings_hint,
        ));
    }
    Ok(out)
}

/// The output directory that `output.dir` of strata.yaml names (see [`output_dir`]); a refusal
/// points at the line of `dir:`.
pub(crate) fn output_dir_of_settings(root: &Path, world: &dyn World) -> Result<PathBuf, Failure> {
    let settings = crate::load::settings(world)?;
    output_dir(root, Path::new(settings.output.dir()), OutputFrom::Settings).map_err(|d| {
        let text =
            String::from_utf8_lossy(world.read("strata.yaml").unwrap_or_default()).to_string();
        // At `dir:`, the first one under `output:`.
        let line = text
            .lines()
            .skip_while(|l| !l.starts_with("output:"))
            .position(|l| l.trim_start().starts_with("dir:"))
            .and_then(|i| {
                text.lines()
                    .position(|l| l.starts_with("output:"))
                    .map(|o| o + i + 1)
            })
            .unwrap_or(1);
        let column = text
            .lines()
            .nth(line - 1)
            .map_or(1, |l| l.len() - l.trim_start().len() + 1);
        let mut texts = SourceTexts::default();
        texts.insert("strata.yaml", &text);
        Failure {
            diagnostics: d
                .at(Span::new("strata.yaml", line as u32, column as u32))
                .into(),
            texts,
        }
    })
}

/// `path` with every symbolic link of its longest existing start resolved, and the rest
/// appended as it is.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(real) => {
                let mut out = real;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                return Ok(out);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some(name) = existing.file_name().map(|n| n.to_os_string()) else {
                    return Err(e);
                };
                rest.push(name);
                if !existing.pop() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}
