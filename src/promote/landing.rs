//! When a drySha reached an environment: the time of the output commit that carried it, or of
//! the no-op publish that a note records, and whether that time can be true.

use git2::{Oid, Repository};
use jiff::Timestamp;
use serde::Serialize;

use crate::git::output::{self};
use crate::git::short;
use crate::git::source::SourceRepo;
use crate::promote::error::PromotionError;

/// When the proposed drySha reached the previous environment.
pub(crate) struct Landing {
    /// The output commit where it first arrived.
    pub(crate) commit: String,
    pub(crate) at: Timestamp,
    /// Whether the previous environment still runs it (or a descendant).
    pub(crate) still_there: bool,
    /// The drySha the previous environment runs now.
    pub(crate) current: String,
    /// Why the landing time cannot be true, when it cannot: it precedes its drySha's commit,
    /// its parent's landing, or (for a note) the commit the note is on.
    pub(crate) untrusted: Option<String>,
}

/// The drySha of an output commit, and those that no-op publishes recorded on it in notes.
/// One no-op publish recorded in a note: which drySha, and when.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Noted {
    pub(crate) dry_sha: String,
    #[serde(default)]
    pub(crate) at: Option<String>,
}

/// The note on `commit` with one more no-op publish appended. Every earlier entry is kept: the
/// soak gate needs the time each drySha arrived, not only the latest.
pub(crate) fn noted(out: &Repository, commit: Oid, dry_sha: &str, at: Timestamp) -> String {
    let mut entries = read_noted(out, commit);
    if !entries.iter().any(|e| e.dry_sha == dry_sha) {
        entries.push(Noted {
            dry_sha: dry_sha.to_string(),
            at: Some(at.to_string()),
        });
    }
    let mut text = serde_json::to_string_pretty(&entries).unwrap_or_default();
    text.push('\n');
    text
}

pub(crate) fn read_noted(out: &Repository, commit: Oid) -> Vec<Noted> {
    let Some(note) = output::note_of(out, commit) else {
        return Vec::new();
    };
    serde_json::from_str::<Vec<Noted>>(&note)
        .or_else(|_| serde_json::from_str::<Noted>(&note).map(|n| vec![n]))
        .unwrap_or_default()
}

/// The drySha of an output commit with the time it arrived (the commit's time), and those that
/// no-op publishes recorded on it in notes, with the time of each publish.
pub(crate) fn dry_shas(
    out: &Repository,
    commit: &git2::Commit<'_>,
) -> Result<Vec<(String, Timestamp)>, PromotionError> {
    let mut shas = Vec::new();
    if let Some(m) = output::metadata_of(out, commit)? {
        shas.push((m.dry_sha, output::time_of(commit)));
    }
    for n in read_noted(out, commit.id()) {
        let at =
            n.at.as_deref()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| output::time_of(commit));
        shas.push((n.dry_sha, at));
    }
    Ok(shas)
}

pub(crate) fn landing(
    source: &SourceRepo,
    out: &Repository,
    branch: &str,
    proposed: &str,
) -> Result<Option<Landing>, PromotionError> {
    let Some(tip) = output::tip(out, branch)? else {
        return Ok(None);
    };
    let current_shas = dry_shas(out, &tip)?;
    let current = current_shas
        .last()
        .map(|(s, _)| s.clone())
        .unwrap_or_default();
    let still_there = current_shas
        .iter()
        .any(|(s, _)| source.contains(s, proposed));
    // First-parent history: the landing is the earliest arrival of the drySha or a descendant,
    // whether by a commit or by a no-op publish noted on one. A change that left this
    // environment's output as it was lands when its publish was noted, not when the older
    // commit it was noted on was made.
    let mut found: Option<(git2::Commit<'_>, Timestamp, String, bool)> = None;
    let mut at = Some(tip);
    while let Some(c) = at {
        for (i, (sha, when)) in dry_shas(out, &c)?.into_iter().enumerate() {
            if source.contains(&sha, proposed) && found.as_ref().is_none_or(|f| when < f.1) {
                let noted = i > 0 || output::metadata_of(out, &c)?.is_none();
                found = Some((c.clone(), when, sha, noted));
            }
        }
        at = c.parents().next();
    }
    let Some((commit, at, sha, noted)) = found else {
        return Ok(None);
    };
    let untrusted = untrusted_time(source, branch, &commit, at, &sha, noted);
    Ok(Some(Landing {
        commit: commit.id().to_string(),
        at,
        still_there,
        current,
        untrusted,
    }))
}

/// Why `at`, the time `branch@commit` says `dry_sha` arrived, cannot be true: before the drySha
/// was committed, before the parent it was made on, or (`noted`, a no-op publish) before the
/// commit the note is on. Times are the committers' clocks; keep CI's clock in sync.
pub(crate) fn untrusted_time(
    source: &SourceRepo,
    branch: &str,
    commit: &git2::Commit<'_>,
    at: Timestamp,
    dry_sha: &str,
    noted: bool,
) -> Option<String> {
    let says = |what: &str, then: Timestamp| {
        Some(format!(
            "{branch}@{} says {} arrived at {at}, before {what} ({then})",
            short(&commit.id().to_string()),
            short(dry_sha),
        ))
    };
    if let Some(committed) = Oid::from_str(dry_sha)
        .ok()
        .and_then(|o| source.repo.find_commit(o).ok())
        .map(|c| output::time_of(&c))
        .filter(|t| at < *t)
    {
        return says("that source commit was made", committed);
    }
    if noted {
        let made = output::time_of(commit);
        return (at < made)
            .then(|| says("the commit its note is on was made", made))
            .flatten();
    }
    let parent = commit.parents().next()?;
    let before = output::time_of(&parent);
    (at < before)
        .then(|| {
            says(
                &format!(
                    "its parent {branch}@{} was made",
                    short(&parent.id().to_string())
                ),
                before,
            )
        })
        .flatten()
}
