//! The history of the environment branches, checked for what no single commit shows: a
//! promotion that is not what its message claims, a branch moved back or rewritten, a time that
//! cannot be true.
//!
//! strata writes every `env/*` branch forward only, and leaves evidence in other branches of
//! what it saw: each publish to `env/<e>-next` records the tip of every `env/<x>` in `Seen-tip:`
//! trailers, and `promote` moves `env/<e>-next` to its merge commit. A branch that no longer
//! contains what that evidence names was moved back or replaced. What strata cannot see, a
//! branch rewritten together with all the evidence of it, is the forge's to forbid (see the
//! README's trust model).

use std::collections::BTreeMap;

use git2::{Oid, Repository};
use serde::Serialize;

use crate::git::output::{self, Metadata};
use crate::git::short;
use crate::git::source::{Ancestry, SourceRepo};
use crate::promote::error::PromotionError;
use crate::promote::gates::trailer::trailers;
use crate::promote::landing::{Noted, read_noted, untrusted_time};
use crate::promote::tree_digests::TreeDigests;

/// Something wrong with the history of a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    /// The branch whose history is wrong.
    pub(crate) branch: String,
    /// The commit it is about, when there is one.
    pub(crate) commit: Option<String>,
    pub(crate) kind: FindingKind,
    pub(crate) message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FindingKind {
    /// The branch no longer contains a commit that other branches recorded on it.
    Rewritten,
    /// A commit moved the branch to a drySha that does not contain the one before, without
    /// `--rollback`.
    MovedBack,
    /// A commit's time precedes its drySha's commit or its parent.
    Untrustworthy,
}

/// Trailers by lowercased key.
pub(crate) fn trailer_map(message: &str) -> BTreeMap<String, Vec<String>> {
    trailers(message)
        .into_iter()
        .fold(BTreeMap::new(), |mut m, (k, v)| {
            m.entry(k.to_ascii_lowercase()).or_default().push(v);
            m
        })
}

fn first<'m>(t: &'m BTreeMap<String, Vec<String>>, key: &str) -> Option<&'m str> {
    t.get(key).and_then(|v| v.first()).map(String::as_str)
}

/// Whether `branch` (a tip) contains `commit`.
fn contains(out: &Repository, tip: Oid, commit: Oid) -> bool {
    tip == commit || out.graph_descendant_of(tip, commit).unwrap_or(false)
}

/// Every `env/*` branch by name, `-next` ones included.
pub(crate) fn env_branches(out: &Repository) -> Result<Vec<String>, PromotionError> {
    let mut names = Vec::new();
    for r in out.references_glob("refs/heads/env/*")? {
        if let Ok(name) = r?.shorthand() {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// The `Seen-tip:` trailers publish writes on a `-next` commit: the tip of every `env/<x>`
/// branch (not the `-next` ones) before it wrote anything.
pub(crate) fn seen_tips(out: &Repository) -> Result<Vec<String>, PromotionError> {
    let mut lines = Vec::new();
    for name in env_branches(out)? {
        if name.ends_with("-next") {
            continue;
        }
        if let Some(tip) = output::tip(out, &name)? {
            lines.push(format!("Seen-tip: {name}@{}", tip.id()));
        }
    }
    Ok(lines)
}

/// Branches that no longer contain what the evidence on the `-next` branches names. Only the
/// newest evidence of each `-next` branch is read: it names the newest tips.
pub(crate) fn rewrites(out: &Repository) -> Result<Vec<Finding>, PromotionError> {
    let mut findings = Vec::new();
    for next in env_branches(out)?
        .into_iter()
        .filter(|b| b.ends_with("-next"))
    {
        let env_branch = next.trim_end_matches("-next").to_string();
        let Some(tip) = output::tip(out, &next)? else {
            continue;
        };
        let mut seen_done = false;
        let mut promotion_done = false;
        let mut at = Some(tip);
        while let Some(c) = at {
            if seen_done && promotion_done {
                break;
            }
            let t = trailer_map(c.message().unwrap_or(""));
            let when = output::time_of(&c);
            let here = format!("{next}@{}", short(&c.id().to_string()));
            if !seen_done && let Some(seen) = t.get("seen-tip") {
                seen_done = true;
                for value in seen {
                    let Some((branch, sha)) = value.split_once('@') else {
                        continue;
                    };
                    let Ok(oid) = Oid::from_str(sha.trim()) else {
                        continue;
                    };
                    let gone = match output::tip(out, branch)? {
                        Some(now) => !contains(out, now.id(), oid),
                        None => true,
                    };
                    if gone {
                        findings.push(Finding {
                            branch: branch.to_string(),
                            commit: Some(oid.to_string()),
                            kind: FindingKind::Rewritten,
                            message: format!(
                                "{branch} no longer contains {}, which {here} recorded as its tip when it was published ({when}): {branch} was moved back, deleted or replaced",
                                short(sha.trim())
                            ),
                        });
                    }
                }
            }
            if !promotion_done && first(&t, "sha-dry-proposed").is_some() {
                promotion_done = true;
                let gone = match output::tip(out, &env_branch)? {
                    Some(now) => !contains(out, now.id(), c.id()),
                    None => true,
                };
                if gone {
                    findings.push(Finding {
                        branch: env_branch.clone(),
                        commit: Some(c.id().to_string()),
                        kind: FindingKind::Rewritten,
                        message: format!(
                            "{env_branch} no longer contains the promotion {} of {when}, which {next} holds: {env_branch} was moved back, deleted or replaced",
                            short(&c.id().to_string())
                        ),
                    });
                }
            }
            at = c.parents().next();
        }
    }
    Ok(findings)
}

/// Moves back without `--rollback`, and times that cannot be true, along the first parents of
/// `branch`.
pub(crate) fn walk(
    source: &SourceRepo,
    out: &Repository,
    branch: &str,
) -> Result<Vec<Finding>, PromotionError> {
    let mut findings = Vec::new();
    let Some(tip) = output::tip(out, branch)? else {
        return Ok(findings);
    };
    // Each commit's metadata is read once: as the parent of the one before, then as itself.
    // The notes are read once too, not looked up for every commit.
    let mut noted: BTreeMap<Oid, Vec<Noted>> = BTreeMap::new();
    if let Ok(notes) = out.notes(Some(output::NOTES_REF)) {
        for (_, annotated) in notes.flatten() {
            noted.insert(annotated, read_noted(out, annotated));
        }
    }
    let mut meta = output::metadata_of(out, &tip)?;
    let mut at = Some(tip);
    while let Some(c) = at {
        let parent = c.parents().next();
        let before = match &parent {
            Some(p) => output::metadata_of(out, p)?,
            None => None,
        };
        let id = c.id().to_string();
        let untrustworthy = |why: String| Finding {
            branch: branch.to_string(),
            commit: Some(id.clone()),
            kind: FindingKind::Untrustworthy,
            message: format!("{why}: its date cannot be trusted"),
        };
        for n in noted.get(&c.id()).into_iter().flatten() {
            let Some(at) = n.at.as_deref().and_then(|t| t.parse().ok()) else {
                continue;
            };
            if let Some(why) = untrusted_time(source, branch, &c, at, &n.dry_sha, true) {
                findings.push(untrustworthy(format!("{why} (a note)")));
            }
        }
        if let Some(meta) = &meta {
            let t = trailer_map(c.message().unwrap_or(""));
            if let Some(why) = untrusted_time(
                source,
                branch,
                &c,
                output::time_of(&c),
                &meta.dry_sha,
                false,
            ) {
                findings.push(untrustworthy(why));
            }
            if let Some(before) = before.as_ref().filter(|b| b.dry_sha != meta.dry_sha)
                && !t.contains_key("rollback")
                && matches!(
                    source.ancestry(&meta.dry_sha, &before.dry_sha),
                    Ancestry::Older | Ancestry::Diverged
                )
            {
                findings.push(Finding {
                    branch: branch.to_string(),
                    commit: Some(id.clone()),
                    kind: FindingKind::MovedBack,
                    message: format!(
                        "{branch}@{} moved from drySha {} to {}, which does not contain it, without a Rollback: trailer",
                        short(&id),
                        short(&before.dry_sha),
                        short(&meta.dry_sha)
                    ),
                });
            }
        }
        meta = before;
        at = parent;
    }
    Ok(findings)
}

/// Everything wrong with the history of `env/<env>` and `env/<env>-next`.
pub(crate) fn findings(
    source: &SourceRepo,
    out: &Repository,
    env: &str,
) -> Result<Vec<Finding>, PromotionError> {
    let branch = format!("env/{env}");
    let next = format!("{branch}-next");
    let mut all: Vec<Finding> = rewrites(out)?
        .into_iter()
        .filter(|f| f.branch == branch || f.branch == next)
        .collect();
    all.extend(walk(source, out, &branch)?);
    all.extend(walk(source, out, &next)?);
    let mut seen = std::collections::BTreeSet::new();
    all.retain(|f| seen.insert(f.message.clone()));
    Ok(all)
}

/// The findings of each environment, worked out once however often one command asks (status
/// asks for every environment, then again through the gates of each pending promotion).
#[derive(Debug, Default)]
pub(crate) struct FindingsCache(BTreeMap<String, Vec<Finding>>);

impl FindingsCache {
    pub(crate) fn of(
        &mut self,
        source: &SourceRepo,
        out: &Repository,
        env: &str,
    ) -> Result<Vec<Finding>, PromotionError> {
        if let Some(found) = self.0.get(env) {
            return Ok(found.clone());
        }
        let found = findings(source, out, env)?;
        self.0.insert(env.to_string(), found.clone());
        Ok(found)
    }
}

/// Why a commit that claims to be a promotion of `env` (it has `Sha-dry-proposed:`) is not one
/// strata made: a promotion merges a proposal of `env/<e>-next` (its last parent, with that
/// drySha), onto what `env/<e>` ran (its first parent, with `Sha-dry-active:`), and takes the
/// proposal's tree, whose digest it records.
pub(crate) fn promotion_problems(
    out: &Repository,
    env: &str,
    commit: &git2::Commit<'_>,
    digests: &mut TreeDigests,
) -> Result<Vec<String>, PromotionError> {
    let t = trailer_map(commit.message().unwrap_or(""));
    let mut problems = Vec::new();
    let active = first(&t, "sha-dry-active").unwrap_or("none");
    let proposed = first(&t, "sha-dry-proposed").unwrap_or("");
    let wanted = if active == "none" { 1 } else { 2 };
    if commit.parent_count() != wanted {
        problems.push(format!(
            "it has {} parent(s), where a promotion has {wanted}: {}",
            commit.parent_count(),
            if wanted == 1 {
                "the proposal it promotes"
            } else {
                "what the environment ran, and the proposal it merges"
            }
        ));
    }
    let proposal = (commit.parent_count() > 0)
        .then(|| commit.parent(commit.parent_count() - 1).ok())
        .flatten();
    match &proposal {
        Some(p) => {
            let meta = output::metadata_of(out, p)?;
            let pt = trailer_map(p.message().unwrap_or(""));
            let dry = meta.as_ref().map(|m| m.dry_sha.as_str());
            if dry != Some(proposed) || first(&pt, "dry-sha") != Some(proposed) {
                problems.push(format!(
                    "its last parent {} is not a publish of the proposed drySha {}",
                    short(&p.id().to_string()),
                    short(proposed)
                ));
            }
            if p.tree_id() != commit.tree_id() {
                problems.push(format!(
                    "its tree is not the tree of the proposal {} it merges",
                    short(&p.id().to_string())
                ));
            }
        }
        None => problems.push("the proposal commit it claims to merge is missing".to_string()),
    }
    if wanted == 2 && commit.parent_count() == 2 {
        let before = output::metadata_of(out, &commit.parent(0)?)?.unwrap_or_default();
        if before.dry_sha != active {
            problems.push(format!(
                "its Sha-dry-active {} is not the drySha env/{env} ran before it ({})",
                short(active),
                if before.dry_sha.is_empty() {
                    "none"
                } else {
                    short(&before.dry_sha)
                }
            ));
        }
    }
    let digest = digests.of(out, &commit.tree()?)?;
    let recorded = first(&t, "render-digest").unwrap_or("");
    if digest != recorded {
        problems.push(format!(
            "its tree's digest {digest} differs from the Render-digest it records ({recorded})"
        ));
    }
    for entry in output::unusual_entries(out, &commit.tree()?)? {
        problems.push(format!("its tree holds what publish never writes: {entry}"));
    }
    Ok(problems)
}

/// Why a merge into `env/<e>` without strata's trailers is not a plain merge of a proposal.
pub(crate) fn forge_merge_problems(
    out: &Repository,
    commit: &git2::Commit<'_>,
) -> Result<Vec<String>, PromotionError> {
    let mut problems = Vec::new();
    let proposal = commit.parent(commit.parent_count() - 1)?;
    let meta: Option<Metadata> = output::metadata_of(out, &proposal)?;
    if meta.is_none() {
        problems.push(format!(
            "its last parent {} is not a publish of env/*-next",
            short(&proposal.id().to_string())
        ));
    }
    if proposal.tree_id() != commit.tree_id() {
        problems.push(format!(
            "its tree is not the tree of the proposal {} it merges",
            short(&proposal.id().to_string())
        ));
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fixture::promoted;

    #[test]
    fn a_promoted_branch_moved_back_past_its_promotion_is_a_rewrite() {
        let (repos, promotion) = promoted();
        assert_eq!(rewrites(&repos.out).expect("reads"), []);
        // env/prod forced back to the proposal's parent: it no longer holds the promotion that
        // env/prod-next records.
        let tip = output::tip(&repos.out, "env/prod")
            .expect("read")
            .expect("tip");
        let before = tip.parent_id(0).expect("the proposal");
        repos
            .out
            .reference("refs/heads/env/prod", before, true, "forced back")
            .expect("force");
        let found = rewrites(&repos.out).expect("reads");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].branch, "env/prod");
        assert_eq!(found[0].kind, FindingKind::Rewritten);
        assert_eq!(found[0].commit.as_deref(), Some(promotion.as_str()));
    }
}
