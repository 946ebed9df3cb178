//! Where the bytes of a source repository come from.
//!
//! The pipeline reads its input only through [`World`], so the same compiler runs on the working
//! tree, on a git commit read straight from the object database (for `diff`, `publish` and the
//! promotion gates), and on files held in memory by tests. This is typst's `World`.
//!
//! A world is a snapshot: every file under `strata.yaml`, `components/` and `environments/` is
//! read once, checked against the limits below, and kept in memory. A source repository is small,
//! and a snapshot makes a render a pure function of its bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Diagnostics};

/// The largest source file strata reads. A bigger one is an error, not a slow render.
pub(crate) const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The top-level entries of a source repository that strata reads.
pub(crate) const SOURCE_ROOTS: [&str; 2] = ["components", "environments"];

/// The source files of one platform, by '/'-separated path relative to the root.
pub trait World: Sync {
    /// Every file, sorted by path.
    fn files(&self) -> &BTreeMap<String, Vec<u8>>;

    /// What this world is, for messages: "the working tree", "commit 1a2b3c4 (HEAD)".
    fn describe(&self) -> String;

    /// The directory on disk that holds the source, when there is one. Command sources run
    /// there; a world without one has its files written to a temporary directory first.
    fn disk_root(&self) -> Option<&Path> {
        None
    }

    /// The allow-list this world's own strata.yaml may not widen, when its files may come from
    /// someone not trusted to decide what strata runs: a pull request.
    fn trusted_commands(&self) -> Option<&TrustedCommands> {
        None
    }
    /// The files that were read through a symbolic link, each with the path of the file the
    /// link points to (relative to the root, where it resolves inside it). A vendored Helm
    /// chart may hold no link that leaves it ([`crate::load`]).
    fn links(&self) -> &BTreeMap<String, String>;

    fn read(&self, path: &str) -> Option<&[u8]> {
        self.files().get(path).map(Vec::as_slice)
    }

    /// The files under a directory, with their paths relative to the root.
    fn under<'a>(&'a self, dir: &str) -> Box<dyn Iterator<Item = (&'a str, &'a [u8])> + 'a> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        Box::new(
            self.files()
                .range(prefix.clone()..)
                .take_while(move |(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| (k.as_str(), v.as_slice())),
        )
    }
}

/// The `sources.commands` of a trusted revision (the base of a pull request), for a world
/// whose strata.yaml a pull request may have changed. A command source of such a world runs
/// only if both its own strata.yaml and these entries allow it, so a change cannot widen what
/// strata runs in the same change that uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedCommands {
    /// The entries, as strata.yaml writes them.
    pub entries: Vec<String>,
    /// Where they come from, for messages: "strata.yaml at origin/main".
    pub from: String,
}

/// Files held in memory: a git commit's tree, or a test's fixture.
#[derive(Clone, Debug, Default)]
pub struct MemWorld {
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) links: BTreeMap<String, String>,
    pub(crate) description: String,
    pub(crate) trusted: Option<TrustedCommands>,
}

impl MemWorld {
    /// This world, with a strata.yaml that may not widen `trusted`.
    pub fn trusting(mut self, trusted: TrustedCommands) -> MemWorld {
        self.trusted = Some(trusted);
        self
    }

    pub fn new(description: impl Into<String>) -> MemWorld {
        MemWorld {
            files: BTreeMap::new(),
            links: BTreeMap::new(),
            description: description.into(),
            trusted: None,
        }
    }

    pub fn with(mut self, path: &str, text: &str) -> MemWorld {
        self.files
            .insert(path.to_string(), text.as_bytes().to_vec());
        self
    }
}

impl World for MemWorld {
    fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    fn links(&self) -> &BTreeMap<String, String> {
        &self.links
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn trusted_commands(&self) -> Option<&TrustedCommands> {
        self.trusted.as_ref()
    }
}

/// The working tree on disk, including uncommitted and untracked files.
#[derive(Debug)]
pub struct FsWorld {
    root: PathBuf,
    files: BTreeMap<String, Vec<u8>>,
    trusted: Option<TrustedCommands>,
    links: BTreeMap<String, String>,
}

impl FsWorld {
    /// This world, with a strata.yaml that may not widen `trusted`.
    pub fn trusting(mut self, trusted: TrustedCommands) -> FsWorld {
        self.trusted = Some(trusted);
        self
    }

    /// Reads the source under `root`. Symlinks that leave the root and oversized files are
    /// errors that name the file.
    pub fn open(root: &Path) -> Result<FsWorld, Diagnostics> {
        let root = root.canonicalize().map_err(|e| {
            Diagnostic::error(Code::Io, format!("cannot open {}: {e}", root.display()))
        })?;
        // Each directory right under components/ and environments/ is walked and read as one
        // task on the pool, and the results are put together in the order of one walk. Walking
        // everything first and then reading in parallel would leave the walk on one core.
        let mut units: Vec<Unit> = Vec::new();
        let mut diags = Diagnostics::new();
        let settings = root.join("strata.yaml");
        if settings.exists() {
            units.push(Unit::File("strata.yaml".to_string(), settings));
        }
        for top in SOURCE_ROOTS {
            let dir = root.join(top);
            if !dir.exists() {
                continue;
            }
            for entry in walkdir::WalkDir::new(&dir)
                .follow_links(false)
                .sort_by_file_name()
                .min_depth(1)
                .max_depth(1)
            {
                match entry {
                    Ok(e) if e.file_type().is_dir() => units.push(Unit::Dir(e.into_path())),
                    Ok(e) => units.push(Unit::Entry(e)),
                    Err(e) => diags.push(Diagnostic::error(
                        Code::Io,
                        format!("cannot read {}: {e}", dir.display()),
                    )),
                }
            }
        }
        use rayon::prelude::*;
        let read: Vec<(Vec<Read>, Diagnostics)> = units
            .into_par_iter()
            .map(|unit| {
                let mut found = Vec::new();
                let mut diags = Diagnostics::new();
                match unit {
                    Unit::File(rel, path) => found.push((rel, path)),
                    Unit::Entry(e) => visit(&root, &e, &mut found, &mut diags),
                    Unit::Dir(dir) => {
                        let mut walk = walkdir::WalkDir::new(&dir)
                            .follow_links(false)
                            .sort_by_file_name()
                            .into_iter();
                        while let Some(entry) = walk.next() {
                            match entry {
                                Ok(e) if e.file_name() == ".git" => {
                                    if e.file_type().is_dir() {
                                        walk.skip_current_dir();
                                    }
                                    let repo =
                                        e.path().parent().and_then(|p| relative_slash(p, &root));
                                    diags.push(submodule(
                                        &repo.unwrap_or_default(),
                                        "the working tree",
                                    ));
                                }
                                Ok(e) => visit(&root, &e, &mut found, &mut diags),
                                Err(e) => diags.push(Diagnostic::error(
                                    Code::Io,
                                    format!("cannot read {}: {e}", dir.display()),
                                )),
                            }
                        }
                    }
                }
                let read = found
                    .into_iter()
                    .map(|(rel, path)| {
                        let bytes = read_checked(&root, &path, &rel);
                        let link = relative_slash(&path, &root).filter(|target| *target != rel);
                        (rel, bytes, link)
                    })
                    .collect();
                (read, diags)
            })
            .collect();
        let mut files = BTreeMap::new();
        let mut links = BTreeMap::new();
        for (read, found) in read {
            diags.extend(found);
            for (rel, bytes, link) in read {
                match bytes {
                    Ok(bytes) => {
                        if let Some(target) = link {
                            links.insert(rel.clone(), target);
                        }
                        files.insert(rel, bytes);
                    }
                    Err(d) => diags.push(d),
                }
            }
        }
        if diags.is_empty() {
            Ok(FsWorld {
                root,
                files,
                links,
                trusted: None,
            })
        } else {
            Err(diags)
        }
    }
}

/// The one rule for git submodules, and any other repository inside the source: refused, by
/// every command. A commit's tree holds a submodule as a commit id, not its files, so `publish`
/// and `diff --base/--head` could not see what `render` reads from the working tree.
pub(crate) fn submodule(dir: &str, at: &str) -> Diagnostic {
    Diagnostic::error(
        Code::Submodule,
        format!(
            "{dir} in {at} is a git submodule or another repository: strata does not read submodules, because a commit holds only the submodule's commit id, not its files, and publish and diff would render without them"
        ),
    )
    .note(format!("found: {dir}/.git"))
    .hint("make its files part of the source repository (git rm the submodule, then add the files, or use git subtree), or move it out of components/ and environments/")
}

/// A source file as read: its path, its bytes or why they could not be read, and the file a
/// symbolic link at the path points to.
type Read = (String, Result<Vec<u8>, Diagnostic>, Option<String>);

/// A part of the source that one thread walks and reads.
enum Unit {
    /// strata.yaml.
    File(String, PathBuf),
    /// A file or symlink right under `components/` or `environments/`.
    Entry(walkdir::DirEntry),
    /// A directory right under them, walked whole.
    Dir(PathBuf),
}

/// Takes one entry of a walk: a file to read goes to `found`; a symlink is followed only to a
/// file inside `root`.
fn visit(
    root: &Path,
    entry: &walkdir::DirEntry,
    found: &mut Vec<(String, PathBuf)>,
    diags: &mut Diagnostics,
) {
    let path = entry.path();
    let Some(rel) = relative_slash(path, root) else {
        return;
    };
    let ft = entry.file_type();
    if ft.is_symlink() {
        match path.canonicalize() {
            Ok(target) if target.starts_with(root) => {
                if target.is_file() {
                    found.push((rel, target));
                } else if target.is_dir() {
                    diags.push(
                        Diagnostic::error(
                            Code::Symlink,
                            format!("{rel} is a symlink to a directory, which strata does not follow"),
                        )
                        .hint("replace the link with the directory itself"),
                    );
                }
            }
            Ok(target) => diags.push(
                Diagnostic::error(
                    Code::Symlink,
                    format!(
                        "{rel} is a symlink to {}, outside the source repository",
                        target.display()
                    ),
                )
                .hint("strata reads nothing outside the repository root; copy the file in or remove the link"),
            ),
            Err(e) => diags.push(
                Diagnostic::error(Code::Symlink, format!("{rel} is a broken symlink: {e}"))
                    .hint("remove the link or point it at a file inside the repository"),
            ),
        }
    } else if ft.is_file() {
        found.push((rel, path.to_path_buf()));
    }
}

fn read_checked(root: &Path, path: &Path, rel: &str) -> Result<Vec<u8>, Diagnostic> {
    use std::io::Read as _;
    debug_assert!(path.starts_with(root) || path.is_absolute());
    let io = |e: std::io::Error| Diagnostic::error(Code::Io, format!("cannot read {rel}: {e}"));
    // The size comes from the open file: one path lookup per file, not two.
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(too_large(rel, len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // At most one byte past the limit: a file that grew since the size was taken is caught too.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(rel, bytes.len() as u64));
    }
    Ok(bytes)
}

pub(crate) fn too_large(rel: &str, len: u64) -> Diagnostic {
    Diagnostic::error(
        Code::FileTooLarge,
        format!("{rel} is {len} bytes, over the limit of {MAX_FILE_BYTES} bytes for a source file"),
    )
    .hint("split it into smaller files; a source file this large is almost always a mistake")
}

impl World for FsWorld {
    fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    fn links(&self) -> &BTreeMap<String, String> {
        &self.links
    }

    fn describe(&self) -> String {
        format!("the working tree at {}", self.root.display())
    }

    fn disk_root(&self) -> Option<&Path> {
        Some(&self.root)
    }

    fn trusted_commands(&self) -> Option<&TrustedCommands> {
        self.trusted.as_ref()
    }
}

/// Finds the directory holding `strata.yaml`, from `start` upward.
pub(crate) fn find_root(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join("strata.yaml").is_file() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// `path` relative to `root`, with `/` between its parts whatever the platform: how strata names
/// files in messages, the cache and the output. `None` outside `root`.
pub(crate) fn relative_slash(path: &Path, root: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}
