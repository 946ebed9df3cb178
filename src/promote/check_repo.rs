//! `check --repo`: every `env/*` branch against a re-render of the drySha it records, and the
//! published branches against the source's `HEAD`.

use std::collections::BTreeMap;

use git2::Repository;
use serde::Serialize;

use crate::compare::check::{TreeDrift, compare};
use crate::compile::Compiled;
use crate::emit::OutputTree;
use crate::git::output::{self, METADATA_FILE, tree_digest};
use crate::git::source::SourceRepo;
use crate::git::{resolve, short};
use crate::load::Settings;
use crate::promote::audit::SourceCommit;
use crate::promote::error::{PromotionError, require_history};
use crate::promote::history::FindingsCache;
use crate::promote::repos::{compile_at, policy_for};

/// How one output branch compares with a re-render of the drySha it records.
#[derive(Debug, Serialize)]
pub(crate) struct BranchCheck {
    pub(crate) branch: String,
    pub(crate) dry_sha: Option<String>,
    pub(crate) drift: TreeDrift,
    /// The source's `HEAD` renders to something this branch does not have yet.
    pub(crate) stale: Option<Staleness>,
    /// Why the branch could not be checked, if it could not.
    pub(crate) problem: Option<String>,
    /// Entries with a mode or type publish never writes: executable bits, symlinks, gitlinks.
    pub(crate) unusual: Vec<String>,
    /// What is wrong with the branch's history: moved back, replaced, a tip on a gated
    /// environment that is not a promotion, dates that cannot be true.
    pub(crate) history: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Staleness {
    pub(crate) head: String,
    pub(crate) unpublished: Vec<SourceCommit>,
}

impl BranchCheck {
    pub(crate) fn is_clean(&self) -> bool {
        self.drift.is_clean()
            && self.stale.is_none()
            && self.problem.is_none()
            && self.unusual.is_empty()
            && self.history.is_empty()
    }
}

/// Output-repository drift: every `env/*` branch against a re-render of its recorded drySha,
/// and the branches `publish` writes against the source's `HEAD`.
pub(crate) fn check_repo(
    source: &SourceRepo,
    out: &Repository,
    environment: Option<&str>,
) -> Result<Vec<BranchCheck>, PromotionError> {
    require_history(source, out)?;
    let mut findings = FindingsCache::default();
    let head = resolve(&source.repo, "HEAD")?.id().to_string();
    let head_compiled = compile_at(source, &head)?;
    let mut renders: BTreeMap<String, Result<OutputTree, String>> = BTreeMap::new();
    let mut checks = Vec::new();
    let mut branches = Vec::new();
    for r in out.references_glob("refs/heads/env/*")? {
        let r = r?;
        if let Ok(name) = r.shorthand() {
            branches.push(name.to_string());
        }
    }
    branches.sort();
    for branch in branches {
        let env = branch
            .trim_start_matches("env/")
            .trim_end_matches("-next")
            .to_string();
        if environment.is_some_and(|e| e != env) {
            continue;
        }
        let Some(tip) = output::tip(out, &branch)? else {
            continue;
        };
        let mut actual = OutputTree {
            files: output::files_of(out, &tip.tree()?)?,
        };
        actual.files.remove(METADATA_FILE);
        let unusual = output::unusual_entries(out, &tip.tree()?)?;
        let history = branch_history(
            source,
            out,
            &mut findings,
            &env,
            &branch,
            &tip,
            &head_compiled,
        )?;
        let Some(meta) = output::metadata_of(out, &tip)? else {
            checks.push(BranchCheck {
                history,
                unusual,
                branch,
                dry_sha: None,
                drift: TreeDrift::default(),
                stale: None,
                problem: Some(format!(
                    "no {METADATA_FILE}: this branch was not written by strata publish"
                )),
            });
            continue;
        };
        let rendered = renders.entry(meta.dry_sha.clone()).or_insert_with(|| {
            match compile_at(source, &meta.dry_sha) {
                Ok(c) => Ok(c.tree),
                Err(PromotionError::Git(e)) => Err(format!(
                    "cannot read drySha {} from the source repository: {e}",
                    short(&meta.dry_sha)
                )),
                Err(e) => Err(format!(
                    "drySha {} does not render: {e}",
                    short(&meta.dry_sha)
                )),
            }
        });
        let (drift, problem) = match rendered {
            Ok(tree) => (
                compare(
                    &OutputTree {
                        files: tree.environment(&env),
                    },
                    &actual,
                ),
                None,
            ),
            Err(p) => (TreeDrift::default(), Some(p.clone())),
        };
        let gated = gated_here(source, out, &env, &head_compiled.source.settings)?;
        let publishes_here = (branch.ends_with("-next") == gated) && branch.starts_with("env/");
        let head_files = head_compiled.tree.environment(&env);
        let stale = if publishes_here && tree_digest(&head_files) != tree_digest(&actual.files) {
            let unpublished = source
                .range(&head, Some(&meta.dry_sha))?
                .iter()
                .map(|s| SourceCommit {
                    sha: s.id().to_string(),
                    subject: s.summary().ok().flatten().unwrap_or("").to_string(),
                    author: output::who(&s.author()),
                })
                .collect();
            Some(Staleness {
                head: head.clone(),
                unpublished,
            })
        } else {
            None
        };
        checks.push(BranchCheck {
            history,
            unusual,
            branch,
            dry_sha: Some(meta.dry_sha.clone()),
            drift,
            stale,
            problem,
        });
    }
    Ok(checks)
}

/// Whether `env` is gated, for `check --repo`: where the drySha it runs is not in the source
/// repository (a `problem` of its own there), an `env/<e>-next` branch still says it is.
fn gated_here(
    source: &SourceRepo,
    out: &Repository,
    env: &str,
    head: &Settings,
) -> Result<bool, PromotionError> {
    match policy_for(source, out, env, head) {
        Ok((policy, _)) => Ok(policy.gated),
        Err(PromotionError::MissingHistory(_)) => {
            Ok(output::tip(out, &format!("env/{env}-next"))?.is_some())
        }
        Err(e) => Err(e),
    }
}

/// The history problems of one branch, and for a gated `env/<e>`, whether its tip is a
/// promotion that is what it claims.
fn branch_history(
    source: &SourceRepo,
    out: &Repository,
    cache: &mut FindingsCache,
    env: &str,
    branch: &str,
    tip: &git2::Commit<'_>,
    head: &Compiled,
) -> Result<Vec<String>, PromotionError> {
    use crate::promote::history::{forge_merge_problems, promotion_problems, trailer_map};
    use crate::promote::tree_digests::TreeDigests;
    let mut problems: Vec<String> = cache
        .of(source, out, env)?
        .into_iter()
        .filter(|f| f.branch == branch)
        .map(|f| f.message)
        .collect();
    if gated_here(source, out, env, &head.source.settings)? && !branch.ends_with("-next") {
        let t = trailer_map(tip.message().unwrap_or(""));
        let why = if t.contains_key("sha-dry-proposed") {
            promotion_problems(out, env, tip, &mut TreeDigests::default())?
        } else if tip.parent_count() > 1 {
            forge_merge_problems(out, tip)?
        } else {
            vec!["it is not a promotion: it reached this gated branch around the gates (a direct push)".to_string()]
        };
        problems.extend(
            why.into_iter()
                .map(|w| format!("its tip {}: {w}", short(&tip.id().to_string()))),
        );
    }
    Ok(problems)
}

pub(crate) fn check_repo_human(checks: &[BranchCheck]) -> String {
    let mut s = String::new();
    for c in checks {
        let sha = c.dry_sha.as_deref().map_or("?", short);
        if c.is_clean() {
            s.push_str(&format!(
                "✔ {}  matches a re-render of {sha} and is up to date\n",
                c.branch
            ));
            continue;
        }
        s.push_str(&format!("✘ {}  (drySha {sha})\n", c.branch));
        if let Some(p) = &c.problem {
            s.push_str(&format!("    {p}\n"));
        }
        for p in &c.drift.changed {
            s.push_str(&format!("    edited by hand: {p}\n"));
        }
        for p in &c.drift.missing {
            s.push_str(&format!("    missing: {p}\n"));
        }
        for p in &c.drift.extra {
            s.push_str(&format!("    extra, not rendered by strata: {p}\n"));
        }
        for p in &c.unusual {
            s.push_str(&format!("    not written by strata: {p}\n"));
        }
        for p in &c.history {
            s.push_str(&format!("    ⚠ {p}\n"));
        }
        if let Some(st) = &c.stale {
            s.push_str(&format!(
                "    stale: HEAD {} renders differently; {} source commit(s) not published:\n",
                short(&st.head),
                st.unpublished.len()
            ));
            for u in &st.unpublished {
                s.push_str(&format!(
                    "      {} {} ({})\n",
                    short(&u.sha),
                    u.subject,
                    u.author
                ));
            }
        }
    }
    let bad = checks.iter().filter(|c| !c.is_clean()).count();
    if bad == 0 {
        s.push_str(&format!("in sync: {} branch(es)\n", checks.len()));
    } else {
        s.push_str(&format!("drift: {bad} of {} branch(es); re-publish from source with `strata publish`, and find out who edited the output\n", checks.len()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fixture::Repos;

    #[test]
    fn freshly_published_branches_are_clean_and_a_hand_edit_is_drift() {
        let repos = Repos::published();
        let checks = check_repo(&repos.source, &repos.out, None).expect("checks");
        let branches: Vec<(&str, bool)> = checks
            .iter()
            .map(|c| (c.branch.as_str(), c.is_clean()))
            .collect();
        assert_eq!(branches, [("env/dev", true), ("env/prod-next", true)]);

        // A hand edit on env/dev, committed around strata.
        let mut files = repos.files("env/dev");
        let edited = "sto2/workload/web/deployment-web.yaml";
        files.insert(edited.into(), b"edited by hand\n".to_vec());
        let tree = output::write_tree(&repos.out, &files).expect("tree");
        let tip = output::tip(&repos.out, "env/dev")
            .expect("read")
            .expect("tip");
        let sig = git2::Signature::now("Mallory", "mallory@example.com").expect("sig");
        output::commit(
            &repos.out,
            "env/dev",
            tree,
            &[tip.id()],
            "hotfix",
            &sig,
            &sig,
        )
        .expect("commit");

        let checks = check_repo(&repos.source, &repos.out, Some("dev")).expect("checks");
        assert_eq!(checks.len(), 1);
        assert!(!checks[0].is_clean());
        assert_eq!(checks[0].drift.changed, [edited]);
        let text = check_repo_human(&checks);
        assert!(text.contains(edited), "{text}");
    }

    #[test]
    fn a_source_commit_not_yet_published_makes_the_branches_stale() {
        let repos = Repos::published();
        repos.change_web("2026-11-03T09:00:00Z");
        let checks = check_repo(&repos.source, &repos.out, None).expect("checks");
        let stale: Vec<(&str, Vec<&str>)> = checks
            .iter()
            .map(|c| {
                (
                    c.branch.as_str(),
                    c.stale
                        .iter()
                        .flat_map(|s| s.unpublished.iter().map(|u| u.subject.as_str()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            stale,
            [
                ("env/dev", vec!["web 1.28"]),
                ("env/prod-next", vec!["web 1.28"])
            ]
        );
    }
}
