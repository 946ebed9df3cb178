//! Publishing rendered trees to the output repository, and promoting them between
//! environments behind the gates of `crate::promote`.
//!
//! Everything here is read from git alone: the source repository (for drySha renders, authors
//! and ancestry) and the output repository (for branches, metadata, landing times and the
//! trailers of earlier promotions). Time comes in as a value.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};
use jiff::Timestamp;
use serde::Serialize;

use super::output::{self, METADATA_FILE, Metadata, tree_digest};
use super::{GitError, resolve, world_at};
use crate::compare::check::{TreeDrift, compare};
use crate::compile::{Compiled, Selection};
use crate::diag::Failure;
use crate::emit::OutputTree;
use crate::git::history::FindingsCache;
use crate::load::Settings;
use crate::promote::approvals::{Approval, Member, Role, four_eyes, read_approvals};
use crate::promote::break_glass::{BreakGlass, required_approvers};
use crate::promote::calendar::Calendar;
use crate::promote::gate::{Gate, GateName};
use crate::promote::identity::{Identities, Identity};
use crate::promote::policy::InForce;

#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("the source at {rev} does not compile")]
    Render { rev: String, failure: Box<Failure> },
    #[error("{0}")]
    Policy(String),
    /// History the gates need is not in the clone: strata cannot judge, so it refuses.
    #[error("{0}")]
    MissingHistory(String),
    /// It ran and refused: a rollback without `--rollback`, a rewritten history.
    #[error("{0}")]
    Refused(String),
}

/// Refuses to judge from a shallow clone: the author set, ancestry and landings all need the
/// whole history, and a shallow clone would show less of it, which only ever opens gates.
pub fn require_history(source: &SourceRepo, out: &Repository) -> Result<(), PromotionError> {
    let path = |r: &Repository| {
        r.workdir()
            .unwrap_or_else(|| r.path())
            .display()
            .to_string()
    };
    if source.repo.is_shallow() {
        let at = path(&source.repo);
        return Err(PromotionError::MissingHistory(format!(
            "the source repository {at} is a shallow clone: the gates need every promoted commit and its author, which it may not have\nhint: fetch the whole history with `git -C {at} fetch --unshallow` (GitHub Actions: actions/checkout with fetch-depth: 0; GitLab CI: GIT_DEPTH: 0)"
        )));
    }
    if out.is_shallow() {
        let at = path(out);
        return Err(PromotionError::MissingHistory(format!(
            "the output repository {at} is a shallow clone: the gates and the audit need the whole history of env/*, which it may not have\nhint: fetch it with `git -C {at} fetch --unshallow origin '+refs/heads/env/*:refs/heads/env/*' '+refs/notes/*:refs/notes/*'`"
        )));
    }
    Ok(())
}

impl From<git2::Error> for PromotionError {
    fn from(e: git2::Error) -> PromotionError {
        PromotionError::Git(GitError::Git(e))
    }
}

/// The source repository: where strata.yaml lives inside it.
pub struct SourceRepo {
    pub repo: Repository,
    pub prefix: PathBuf,
}

impl SourceRepo {
    pub fn open(root: &Path) -> Result<SourceRepo, GitError> {
        let (repo, prefix) = super::discover(root)?;
        Ok(SourceRepo { repo, prefix })
    }

    /// Compiles the platform as of a commit.
    pub fn compile_at(&self, rev: &str) -> Result<Compiled, PromotionError> {
        let world = world_at(&self.repo, &self.prefix, rev)?;
        crate::compile::compile(&world, &Selection::default()).map_err(|f| PromotionError::Render {
            rev: rev.to_string(),
            failure: Box::new(f),
        })
    }

    fn settings_at(&self, rev: &str) -> Result<Settings, PromotionError> {
        let world = world_at(&self.repo, &self.prefix, rev)?;
        crate::load::load(&world)
            .map(|s| s.settings)
            .map_err(|f| PromotionError::Render {
                rev: rev.to_string(),
                failure: Box::new(f),
            })
    }

    fn url(&self) -> String {
        self.repo
            .find_remote("origin")
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string))
            .unwrap_or_else(|| {
                self.repo
                    .workdir()
                    .unwrap_or_else(|| self.repo.path())
                    .display()
                    .to_string()
            })
    }

    /// `descendant` is `ancestor` or has it in its history.
    fn contains(&self, descendant: &str, ancestor: &str) -> bool {
        let (Ok(d), Ok(a)) = (Oid::from_str(descendant), Oid::from_str(ancestor)) else {
            return false;
        };
        d == a || self.repo.graph_descendant_of(d, a).unwrap_or(false)
    }

    /// The commits in `head` that are not in `base` (all of `head` when `base` is `None`).
    fn range(
        &self,
        head: &str,
        base: Option<&str>,
    ) -> Result<Vec<git2::Commit<'_>>, PromotionError> {
        let mut walk = self.repo.revwalk()?;
        walk.push(Oid::from_str(head).map_err(GitError::Git)?)?;
        let base = base
            .and_then(|b| Oid::from_str(b).ok())
            .filter(|b| self.repo.find_commit(*b).is_ok());
        if let Some(b) = base {
            walk.hide(b)?;
        }
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
        let mut out = Vec::new();
        for oid in walk {
            out.push(self.repo.find_commit(oid?)?);
        }
        Ok(out)
    }
}

/// How a new drySha stands to the one an environment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ancestry {
    /// The same commit, or one that contains it: the environment moves forward.
    Forward,
    /// An ancestor of what runs: the environment would move back.
    Older,
    /// Neither contains the other: what runs would be lost.
    Diverged,
    /// What runs is not in the source repository.
    Unknown,
}

impl SourceRepo {
    /// How `new` stands to `running`.
    pub fn ancestry(&self, new: &str, running: &str) -> Ancestry {
        let (Ok(n), Ok(r)) = (Oid::from_str(new), Oid::from_str(running)) else {
            return Ancestry::Unknown;
        };
        if self.repo.find_commit(r).is_err() || self.repo.find_commit(n).is_err() {
            return Ancestry::Unknown;
        }
        if self.contains(new, running) {
            Ancestry::Forward
        } else if self.repo.graph_descendant_of(r, n).unwrap_or(false) {
            Ancestry::Older
        } else {
            Ancestry::Diverged
        }
    }

    fn path(&self) -> String {
        self.repo
            .workdir()
            .unwrap_or_else(|| self.repo.path())
            .display()
            .to_string()
    }

    /// The files under strata's root that differ from `HEAD`: what publish leaves out.
    pub fn uncommitted(&self) -> Vec<String> {
        let mut options = git2::StatusOptions::new();
        options.include_untracked(true).recurse_untracked_dirs(true);
        let prefix = self.prefix.to_string_lossy().replace('\\', "/");
        let Ok(statuses) = self.repo.statuses(Some(&mut options)) else {
            return Vec::new();
        };
        statuses
            .iter()
            .filter(|e| !e.status().is_ignored())
            .filter_map(|e| e.path().ok().map(str::to_string))
            .filter(|p| prefix.is_empty() || p.starts_with(&format!("{prefix}/")))
            .collect()
    }
}

/// The drySha `branch` records now, if the branch exists and was written by strata.
fn dry_sha_of(out: &Repository, branch: &str) -> Result<Option<String>, PromotionError> {
    Ok(match output::tip(out, branch)? {
        Some(c) => output::metadata_of(out, &c)?.map(|m| m.dry_sha),
        None => None,
    })
}

/// The policy in force for `env` (see [`crate::promote::policy`]), and the settings whose
/// `identities:` apply: those at the drySha `env/<e>` runs, else `proposed`.
pub fn policy_for(
    source: &SourceRepo,
    out: &Repository,
    env: &str,
    proposed: &Settings,
) -> Result<(InForce, Settings), PromotionError> {
    let branch = format!("env/{env}");
    let running = match dry_sha_of(out, &branch)? {
        Some(sha) => {
            if resolve(&source.repo, &sha).is_err() {
                return Err(PromotionError::MissingHistory(format!(
                    "{branch} runs drySha {}, which the source repository {} does not have, so strata cannot read the promotion policy in force\nhint: fetch it (`git -C {} fetch origin`), or pass the source repository {branch} was published from",
                    short(&sha),
                    source.path(),
                    source.path()
                )));
            }
            Some(source.settings_at(&sha)?)
        }
        None => None,
    };
    let has_next = output::tip(out, &format!("{branch}-next"))?.is_some();
    let in_force = crate::promote::policy::in_force(
        env,
        running.as_ref().and_then(|s| s.promotion.as_ref()),
        proposed.promotion.as_ref(),
        has_next,
    );
    Ok((in_force, running.unwrap_or_else(|| proposed.clone())))
}

/// Which branch publish writes an environment to under the policy in force.
pub fn publish_branch(policy: &InForce, environment: &str) -> String {
    if policy.gated {
        format!("env/{environment}-next")
    } else {
        format!("env/{environment}")
    }
}

/// Who commits to the output repository.
#[derive(Clone, Debug)]
pub struct Committer {
    pub name: String,
    pub email: String,
    pub at: Timestamp,
}

#[derive(Debug, Serialize)]
pub struct Published {
    pub environment: String,
    pub branch: String,
    /// The new commit, or `None` when nothing changed (a note records the drySha instead).
    pub commit: Option<String>,
    pub dry_sha: String,
    pub tree_digest: String,
    /// The drySha this publish moved the branch back from, with `--rollback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back_from: Option<String>,
}

/// Renders the source's committed `HEAD` and commits each environment's tree to its branch.
/// A branch moves only forward in the source's history; `rollback` (a reason) lets it move to
/// an older or unrelated drySha, and the commit records it.
pub fn publish(
    source: &SourceRepo,
    out: &Repository,
    environment: Option<&str>,
    committer: &Committer,
    rollback: Option<&str>,
) -> Result<Vec<Published>, PromotionError> {
    let rollback = match rollback {
        Some(reason) => Some(
            crate::promote::break_glass::Reason::new("--rollback", "web 1.1 breaks logins", reason)
                .map_err(|e| PromotionError::Policy(e.to_string()))?,
        ),
        None => None,
    };
    require_history(source, out)?;
    let head = resolve(&source.repo, "HEAD")?;
    let dry_sha = head.id().to_string();
    let compiled = source.compile_at(&dry_sha)?;
    let settings = &compiled.source.settings;
    let envs: Vec<String> = compiled
        .tree
        .environments()
        .into_iter()
        .filter(|e| environment.is_none_or(|x| x == e))
        .collect();
    if let Some(e) = environment.filter(|_| envs.is_empty()) {
        return Err(PromotionError::Policy(format!(
            "there is no environment `{e}` in the source at HEAD"
        )));
    }
    if let Some(p) = &settings.promotion {
        for e in &envs {
            if !p.order.is_empty() && !p.order.contains(e) {
                return Err(PromotionError::Policy(format!(
                    "environment `{e}` is not in promotion.order of strata.yaml; add it there so strata knows whether it is gated"
                )));
            }
        }
    }
    let sig = output::signature(&committer.name, &committer.email, committer.at)?;
    let author = head.author();
    let message = head.message().unwrap_or("");
    let subject = message.lines().next().unwrap_or("").to_string();
    let body = message
        .split_once('\n')
        .map_or("", |(_, b)| b)
        .trim()
        .to_string();
    let date = Timestamp::from_second(head.time().seconds())
        .map(|t| t.to_string())
        .unwrap_or_default();
    // A branch that no longer holds what the others recorded on it was moved back or replaced;
    // publishing on top would bury the evidence.
    let rewritten = super::history::rewrites(out)?;
    if let (Some(f), None) = (rewritten.first(), &rollback) {
        return Err(PromotionError::Refused(format!(
            "{}; nothing was written\nhint: restore {} from the forge (its push log shows the old tip), or accept the history as it is with --rollback \"reason\", which the commit and the audit record",
            f.message, f.branch
        )));
    }
    let seen = super::history::seen_tips(out)?;
    // Decide every branch before writing any: a refusal leaves the output repository as it was.
    let mut plan = Vec::new();
    for env in envs {
        let (policy, _) = policy_for(source, out, &env, settings)?;
        let branch = publish_branch(&policy, &env);
        let running = dry_sha_of(out, &branch)?;
        let moved_back = match &running {
            Some(r) => match source.ancestry(&dry_sha, r) {
                Ancestry::Forward => None,
                how => Some((r.clone(), how)),
            },
            None => None,
        };
        if let (Some((r, how)), None) = (&moved_back, &rollback) {
            let what = match how {
                Ancestry::Older => format!("is older than {} that {branch} runs", short(r)),
                Ancestry::Unknown => format!(
                    "may be older than {} that {branch} runs, which the source repository does not have",
                    short(r)
                ),
                _ => format!(
                    "does not contain {} that {branch} runs: publishing it would drop what is not in {}",
                    short(r),
                    short(&dry_sha)
                ),
            };
            return Err(PromotionError::Refused(format!(
                "HEAD {} {what}; nothing was written\nhint: publish from the branch that has {} (git pull), or roll back on purpose with --rollback \"reason\", which the commit and the audit record",
                short(&dry_sha),
                short(r)
            )));
        }
        plan.push((env, branch, moved_back.map(|(r, _)| r)));
    }
    let mut results = Vec::new();
    for (env, branch, rolled_back_from) in plan {
        let mut files = compiled.tree.environment(&env);
        let digest = tree_digest(&files);
        let mut components: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for c in compiled.all.iter().filter(|c| c.environment == env) {
            let versions = c
                .enabled()
                .filter_map(|(n, _)| {
                    compiled
                        .source
                        .components
                        .get(n)
                        .map(|comp| (n.clone(), comp.version.clone()))
                })
                .collect();
            components.insert(c.name.clone(), versions);
        }
        let current = output::tip(out, &branch)?;
        if let Some(tip) = &current {
            let old = output::files_of(out, &tip.tree()?)?;
            if tree_digest(&old) == digest {
                output::note(
                    out,
                    tip.id(),
                    &noted(out, tip.id(), &dry_sha, committer.at),
                    &sig,
                )?;
                results.push(Published {
                    environment: env,
                    branch,
                    commit: None,
                    dry_sha: dry_sha.clone(),
                    tree_digest: digest,
                    rolled_back_from,
                });
                continue;
            }
        }
        let metadata = Metadata {
            dry_sha: dry_sha.clone(),
            repo_url: source.url(),
            author: output::who(&author),
            date: date.clone(),
            subject: subject.clone(),
            body: body.clone(),
            renderer: format!("strata {}", env!("CARGO_PKG_VERSION")),
            tree_digest: digest.clone(),
            environment: env.clone(),
            components,
        };
        let mut json = serde_json::to_string_pretty(&metadata)
            .map_err(|e| PromotionError::Policy(e.to_string()))?;
        json.push('\n');
        files.insert(METADATA_FILE.to_string(), json.into_bytes());
        let tree = output::write_tree(out, &files)?;
        // A new -next branch starts from the environment's own branch, so the pull request
        // env/<e>-next → env/<e> shows only the change.
        let parent = match current {
            Some(c) => Some(c.id()),
            None => match branch.strip_suffix("-next") {
                Some(base) => output::tip(out, base)?.map(|c| c.id()),
                None => None,
            },
        };
        let mut msg = format!(
            "{}: {subject}\n\n{}{}Dry-sha: {dry_sha}\nRender-digest: {digest}\nEnvironment: {env}\nCo-authored-by: {}\n",
            &dry_sha[..7],
            body,
            if body.is_empty() { "" } else { "\n\n" },
            output::who(&author)
        );
        if let (Some(from), Some(reason)) = (&rolled_back_from, &rollback) {
            msg.push_str(&format!(
                "Rollback: {}\nRolled-back-from: {from}\n",
                reason.text()
            ));
        } else if let (Some(reason), false) = (&rollback, rewritten.is_empty()) {
            msg.push_str(&format!("Rollback: {}\n", reason.text()));
        }
        if branch.ends_with("-next") {
            for line in &seen {
                msg.push_str(line);
                msg.push('\n');
            }
        }
        let oid = output::commit(
            out,
            &branch,
            tree,
            &parent.into_iter().collect::<Vec<_>>(),
            &msg,
            &sig,
            &sig,
        )?;
        results.push(Published {
            environment: env,
            branch,
            commit: Some(oid.to_string()),
            dry_sha: dry_sha.clone(),
            tree_digest: digest,
            rolled_back_from,
        });
    }
    Ok(results)
}

/// What the gates are asked.
#[derive(Clone, Debug)]
pub struct PromotionRequest {
    pub environment: String,
    pub now: Timestamp,
    /// The content of the `--approvals` file.
    pub approvals: Option<String>,
    pub promoter: Option<Identity>,
    pub emergency: Option<String>,
}

/// The verdict of the gates, with the evidence a promotion commit records.
#[derive(Debug, Serialize)]
pub struct Verification {
    pub environment: String,
    pub previous: String,
    /// The drySha proposed on `env/<e>-next`.
    pub proposed: String,
    pub proposed_subject: String,
    /// The drySha `env/<e>` has now, if any.
    pub active: Option<String>,
    /// The `-next` commit the approvals must be on.
    pub head: String,
    pub gates: Vec<Gate>,
    #[serde(skip)]
    pub soaked_in: Option<String>,
    pub approvers: Vec<String>,
    pub emergency: Option<String>,
    pub tree_digest: String,
    /// The reason of a proposal that rolls the environment back, from its `Rollback:` trailer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<String>,
}

impl Verification {
    pub fn open(&self) -> bool {
        self.gates.iter().all(|g| g.open)
    }
}

/// Checks every gate of promoting `env/<e>-next` into `env/<e>`.
pub fn verify(
    source: &SourceRepo,
    out: &Repository,
    req: &PromotionRequest,
) -> Result<Verification, PromotionError> {
    verify_with(source, out, req, &mut FindingsCache::default())
}

fn verify_with(
    source: &SourceRepo,
    out: &Repository,
    req: &PromotionRequest,
    history: &mut FindingsCache,
) -> Result<Verification, PromotionError> {
    require_history(source, out)?;
    let env = &req.environment;
    let next_branch = format!("env/{env}-next");
    let Some(next) = output::tip(out, &next_branch)? else {
        return Err(PromotionError::Policy(format!(
            "there is no branch {next_branch} in the output repository: nothing is proposed for {env}; run `strata publish` first"
        )));
    };
    let Some(meta) = output::metadata_of(out, &next)? else {
        return Err(PromotionError::Policy(format!(
            "{next_branch} has no {METADATA_FILE}; it was not written by strata publish"
        )));
    };
    let proposed = meta.dry_sha.clone();
    let active_commit = output::tip(out, &format!("env/{env}"))?;
    let active = match &active_commit {
        Some(c) => output::metadata_of(out, c)?.map(|m| m.dry_sha),
        None => None,
    };
    // The policy that guards a change is the one already in force: a change cannot relax the
    // rules it is judged by (see `crate::promote::policy`).
    let proposed_settings = source.settings_at(&proposed)?;
    let (policy, settings) = policy_for(source, out, env, &proposed_settings)?;
    let Some(previous) = policy.previous.clone() else {
        return Err(PromotionError::Policy(format!(
            "{next_branch} exists, so `{env}` is gated, but no promotion policy in force names the environment it is promoted from: strata.yaml has no `promotion:` section, or `{env}` is first or missing in promotion.order, both in the drySha {} runs and in {}\nhint: put `{env}` back after the environment it soaks in (promotion.order in strata.yaml), commit and publish",
            format_args!("env/{env}"),
            short(&proposed)
        )));
    };

    let mut gates = Vec::new();

    // 0. History: the branches the gates read moved only forward, and so does the environment.
    let rollback = crate::git::history::trailer_map(next.message().unwrap_or(""))
        .get("rollback")
        .and_then(|v| v.first().cloned());
    let (history_gate, rollback) = history_gate(
        source,
        out,
        history,
        env,
        &previous,
        &proposed,
        active.as_deref(),
        rollback,
    )?;
    gates.push(history_gate);

    // 1. Reproducible.
    let compiled = source.compile_at(&proposed)?;
    let expected = OutputTree {
        files: compiled.tree.environment(env),
    };
    let mut actual = OutputTree {
        files: output::files_of(out, &next.tree()?)?,
    };
    actual.files.remove(METADATA_FILE);
    let drift = compare(&expected, &actual);
    let unusual = output::unusual_entries(out, &next.tree()?)?;
    gates.push(reproducible_gate(&drift, &unusual, &proposed, &next_branch));

    // 2. Soaked.
    let emergency = match &req.emergency {
        Some(reason) => {
            Some(BreakGlass::new(reason).map_err(|e| PromotionError::Policy(e.to_string()))?)
        }
        None => None,
    };
    let soak = policy.soak.clone();
    let mut holidays: Vec<jiff::civil::Date> = Vec::new();
    for h in &soak.holidays {
        match h.parse() {
            Ok(d) => holidays.push(d),
            Err(e) => {
                return Err(PromotionError::Policy(format!(
                    "promotion.soak.holidays: `{h}` is not a date ({e}); write dates like 2026-12-24"
                )));
            }
        }
    }
    let calendar = Calendar::new(&soak.timezone, soak.workdays.as_deref(), &holidays)
        .map_err(|e| PromotionError::Policy(e.to_string()))?;
    let prev_branch = format!("env/{previous}");
    let landing = landing(source, out, &prev_branch, &proposed)?;
    let mut soak_gate = Gate::soaked(
        &calendar,
        landing.as_ref().map(|l| l.at),
        req.now,
        soak.working_days,
        emergency.as_ref(),
    );
    let mut soaked_in = None;
    match &landing {
        Some(l) if !l.still_there => {
            soak_gate.open = emergency.is_some();
            soak_gate.summary = format!(
                "{prev_branch} no longer contains {}: it now runs {}, which does not descend from it (a revert?)",
                short(&proposed),
                short(&l.current)
            );
        }
        Some(l) if l.untrusted.is_some() => {
            soak_gate.open = emergency.is_some();
            soak_gate.summary = format!(
                "{}; the soak is not counted from a time that cannot be true. Find out who rewrote {prev_branch}, and publish again (the soak starts then), or promote with --emergency",
                l.untrusted.as_deref().unwrap_or_default()
            );
        }
        Some(l) => {
            soaked_in = Some(format!(
                "{prev_branch}@{} since {} ({} working days)",
                short(&l.commit),
                l.at.to_zoned_datetime(calendar_tz(&soak.timezone))
                    .strftime(&format!("%Y-%m-%d %H:%M {}", soak.timezone)),
                calendar.soaked(l.at, req.now)
            ));
        }
        None => {
            if out.find_reference(output::NOTES_REF).is_err() {
                soak_gate.summary = format!(
                    "{} is not on {prev_branch} yet, and this clone has no {}: if a publish left {prev_branch} as it was, the arrival is recorded there; fetch it: git fetch origin '+refs/notes/*:refs/notes/*'; soaked 0 of {} working days",
                    short(&proposed),
                    output::NOTES_REF,
                    soak.working_days
                );
            }
        }
    }
    gates.push(soak_gate);

    // 3. Four eyes.
    let identities = Identities::new(&settings.identities);
    let mut members: Vec<Member> = Vec::new();
    for c in source.range(&proposed, active.as_deref())? {
        let author = Identity::new(
            c.author().name().unwrap_or(""),
            c.author().email().unwrap_or(""),
        );
        let committer = Identity::new(
            c.committer().name().unwrap_or(""),
            c.committer().email().unwrap_or(""),
        );
        members.extend(Member::of_commit(
            author,
            committer,
            c.message().unwrap_or(""),
        ));
    }
    let promoter = req.promoter.clone().or_else(|| {
        let cfg = source.repo.config().ok()?;
        let email = cfg.get_string("user.email").ok()?;
        let name = cfg.get_string("user.name").unwrap_or_default();
        Some(Identity::new(&name, &email))
    });
    if let Some(p) = promoter {
        members.push(Member {
            role: Role::Promoter,
            identity: identities.resolve(p),
        });
    }
    let head = next.id().to_string();
    let approvals: Vec<Approval> = match &req.approvals {
        Some(text) => read_approvals(text, &head, &identities)
            .map_err(|e| PromotionError::Policy(format!("--approvals: {e}")))?,
        None => Vec::new(),
    };
    // `Approved-by:` trailers on the proposed commit count as well, for forges that record
    // reviews in git.
    let mut approvals = approvals;
    approvals.extend(crate::promote::approvals::approved_by(
        next.message().unwrap_or(""),
        &identities,
    ));
    let distinct = policy.distinct;
    let result = four_eyes(
        &members,
        &approvals,
        required_approvers(distinct, emergency.as_ref()),
    );
    let approvers = result
        .approvers
        .iter()
        .map(|a| format!("{} <{}>", a.identity.name, a.identity.email))
        .collect();
    gates.push(Gate::four_eyes(&result));

    // 4. Break-glass.
    if let Some(e) = &emergency {
        gates.push(Gate::break_glass(e, distinct));
    }

    Ok(Verification {
        environment: env.clone(),
        previous,
        proposed,
        proposed_subject: meta.subject.clone(),
        active,
        head,
        gates,
        soaked_in,
        approvers,
        emergency: emergency.map(|e| e.reason().to_string()),
        tree_digest: meta.tree_digest.clone(),
        rollback,
    })
}

/// The history gate: `env/<e>`, `env/<e>-next` and the previous environment's branch hold
/// everything recorded on them and their tips moved forward, and the proposal contains what
/// `env/<e>` runs unless it was published as a rollback. Returns the rollback reason that
/// applies.
#[allow(clippy::too_many_arguments)]
fn history_gate(
    source: &SourceRepo,
    out: &Repository,
    history: &mut FindingsCache,
    env: &str,
    previous: &str,
    proposed: &str,
    active: Option<&str>,
    rollback: Option<String>,
) -> Result<(Gate, Option<String>), PromotionError> {
    use crate::git::history::FindingKind;
    let branches = [
        format!("env/{env}"),
        format!("env/{env}-next"),
        format!("env/{previous}"),
    ];
    let tips: Vec<String> = branches
        .iter()
        .filter_map(|b| output::tip(out, b).ok().flatten())
        .map(|c| c.id().to_string())
        .collect();
    let mut details = Vec::new();
    for e in [env, previous] {
        for f in history.of(source, out, e)? {
            let at_tip = f.commit.as_ref().is_some_and(|c| tips.contains(c));
            let counts = match f.kind {
                FindingKind::Rewritten => true,
                FindingKind::MovedBack => at_tip,
                FindingKind::Untrustworthy => false,
            };
            if counts && branches.contains(&f.branch) && !details.contains(&f.message) {
                details.push(f.message);
            }
        }
    }
    let mut applies = None;
    if let Some(active) = active {
        match source.ancestry(proposed, active) {
            Ancestry::Forward => {}
            _ if rollback.is_some() => applies = rollback,
            how => details.push(format!(
                "env/{env}-next proposes {}, which {} {} that env/{env} runs: promoting it would roll env/{env} back; publish it with --rollback \"reason\" to do that on purpose",
                short(proposed),
                if how == Ancestry::Older {
                    "is older than"
                } else {
                    "does not contain"
                },
                short(active)
            )),
        }
    }
    let names = branches.join(", ");
    let gate = if details.is_empty() {
        Gate {
            name: GateName::History,
            open: true,
            summary: match &applies {
                Some(reason) => {
                    format!("{names} moved only forward; this proposal is a rollback: {reason}")
                }
                None => format!("{names} moved only forward"),
            },
            details: Vec::new(),
        }
    } else {
        Gate {
            name: GateName::History,
            open: false,
            summary: format!(
                "{} problem(s) in the history of {names}; find out who rewrote it, and restore it from the forge before promoting",
                details.len()
            ),
            details,
        }
    };
    Ok((gate, applies))
}

fn calendar_tz(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC)
}

pub fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Whole trees are compared: the bytes of every file, and the mode and type of every entry.
fn reproducible_gate(drift: &TreeDrift, unusual: &[String], proposed: &str, branch: &str) -> Gate {
    if drift.is_clean() && unusual.is_empty() {
        return Gate {
            name: GateName::Reproducible,
            open: true,
            summary: format!("re-rendering {} gives exactly {branch}", short(proposed)),
            details: Vec::new(),
        };
    }
    let mut details = Vec::new();
    details.extend(
        drift
            .changed
            .iter()
            .map(|p| format!("changed by hand: {p}")),
    );
    details.extend(drift.missing.iter().map(|p| format!("missing: {p}")));
    details.extend(
        drift
            .extra
            .iter()
            .map(|p| format!("not rendered by strata: {p}")),
    );
    details.extend(unusual.iter().cloned());
    let modes = if unusual.is_empty() {
        String::new()
    } else {
        format!(
            ", {} with a mode or type publish never writes",
            unusual.len()
        )
    };
    Gate {
        name: GateName::Reproducible,
        open: false,
        summary: format!(
            "{branch} differs from a re-render of {}: {} changed, {} missing, {} extra{modes}; re-publish from source instead of editing the branch",
            short(proposed),
            drift.changed.len(),
            drift.missing.len(),
            drift.extra.len()
        ),
        details,
    }
}

/// When the proposed drySha reached the previous environment.
struct Landing {
    /// The output commit where it first arrived.
    commit: String,
    at: Timestamp,
    /// Whether the previous environment still runs it (or a descendant).
    still_there: bool,
    /// The drySha the previous environment runs now.
    current: String,
    /// Why the landing time cannot be true, when it cannot: it precedes its drySha's commit,
    /// its parent's landing, or (for a note) the commit the note is on.
    untrusted: Option<String>,
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
fn noted(out: &Repository, commit: Oid, dry_sha: &str, at: Timestamp) -> String {
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
fn dry_shas(
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

fn landing(
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
pub fn untrusted_time(
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

/// Merges `env/<e>-next` into `env/<e>` when every gate is open. Returns the merge commit.
pub fn promote(
    out: &Repository,
    v: &Verification,
    committer: &Committer,
) -> Result<String, PromotionError> {
    if !v.open() {
        return Err(PromotionError::Policy(
            "a gate is closed; nothing was written".into(),
        ));
    }
    let env = &v.environment;
    let next = output::tip(out, &format!("env/{env}-next"))?
        .ok_or_else(|| PromotionError::Policy(format!("env/{env}-next vanished")))?;
    let current = output::tip(out, &format!("env/{env}"))?;
    let mut parents: Vec<Oid> = current.iter().map(|c| c.id()).collect();
    parents.push(next.id());
    let mut msg = format!(
        "Promote {} to {env}: {}\n\n",
        short(&v.proposed),
        v.proposed_subject
    );
    msg.push_str(&format!(
        "Sha-dry-active: {}\n",
        v.active.as_deref().unwrap_or("none")
    ));
    msg.push_str(&format!("Sha-dry-proposed: {}\n", v.proposed));
    match &v.soaked_in {
        Some(s) => msg.push_str(&format!("Soaked-in: {s}\n")),
        None => msg.push_str(&format!(
            "Soaked-in: none (env/{} does not have it)\n",
            v.previous
        )),
    }
    for a in &v.approvers {
        msg.push_str(&format!("Approved-by: {a}\n"));
    }
    if let Some(e) = &v.emergency {
        msg.push_str(&format!("Emergency: {e}\n"));
    }
    if let Some(r) = &v.rollback {
        msg.push_str(&format!("Rollback: {r}\n"));
    }
    msg.push_str(&format!(
        "Render-digest: {}\nEnvironment: {env}\n",
        v.tree_digest
    ));
    let sig = output::signature(&committer.name, &committer.email, committer.at)?;
    let oid = output::commit(
        out,
        &format!("env/{env}"),
        next.tree_id(),
        &parents,
        &msg,
        &sig,
        &sig,
    )?;
    // env/<e>-next follows to the merge (a fast-forward): it then holds the promotion, so a
    // later move of env/<e> back past it shows (see `crate::git::history`).
    out.reference(
        &format!("refs/heads/env/{env}-next"),
        oid,
        true,
        &format!("strata: promoted as {}", short(&oid.to_string())),
    )?;
    Ok(oid.to_string())
}

/// One entry of the audit trail of an environment.
#[derive(Debug, Default, Serialize)]
pub struct AuditEntry {
    pub commit: String,
    pub at: String,
    /// `promotion` (a strata merge), `forge-merge` (a merge without strata's trailers), `direct-push`
    /// (a gated branch changed around the gates, or a commit that claims a promotion it is
    /// not), `publish` (a direct render) or `rewritten` (the branch lost what other branches
    /// recorded on it).
    pub kind: &'static str,
    pub active: Option<String>,
    pub proposed: String,
    pub source_commits: Vec<SourceCommit>,
    pub version_changes: Vec<VersionChange>,
    pub soaked_in: Option<String>,
    pub approvers: Vec<String>,
    pub emergency: Option<String>,
    /// The reason of a rollback (`publish --rollback`), from its `Rollback:` trailer.
    pub rollback: Option<String>,
    pub render_digest: String,
    /// What is wrong with this entry: why it is not the promotion it claims, a date that
    /// cannot be true, a move back without `--rollback`.
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SourceCommit {
    pub sha: String,
    pub subject: String,
    pub author: String,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionChange {
    pub cluster: String,
    pub component: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The evidence of every change to `env/<e>`, newest first, rebuilt from git history alone.
///
/// Every entry is checked, not taken at its word: a commit whose message claims a promotion
/// must have a promotion's shape and tree (see [`crate::git::history::promotion_problems`]),
/// or it is listed as a direct push with why. What is wrong with the branches' history itself
/// (moved back, replaced) comes first, as entries of kind `rewritten`.
pub fn audit(
    source: &SourceRepo,
    out: &Repository,
    env: &str,
    since: Option<Timestamp>,
) -> Result<Vec<AuditEntry>, PromotionError> {
    use crate::git::history::{FindingKind, findings, forge_merge_problems, promotion_problems};
    require_history(source, out)?;
    let branch = format!("env/{env}");
    let Some(tip) = output::tip(out, &branch)? else {
        return Err(PromotionError::Policy(format!(
            "there is no branch {branch} in the output repository"
        )));
    };
    let head_settings = source.settings_at("HEAD")?;
    let (policy, _) = policy_for(source, out, env, &head_settings)?;
    let gated = policy.gated;
    let mut entries = Vec::new();
    let history = findings(source, out, env)?;
    for f in history.iter().filter(|f| f.kind == FindingKind::Rewritten) {
        entries.push(AuditEntry {
            commit: f.commit.clone().unwrap_or_default(),
            at: String::new(),
            kind: "rewritten",
            problems: vec![f.message.clone()],
            ..AuditEntry::default()
        });
    }
    let mut at = Some(tip);
    while let Some(c) = at {
        let when = output::time_of(&c);
        if since.is_some_and(|s| when < s) {
            break;
        }
        let parent = c.parents().next();
        let t = crate::git::history::trailer_map(c.message().unwrap_or(""));
        let first = |k: &str| t.get(k).and_then(|v| v.first()).cloned();
        let meta = output::metadata_of(out, &c)?.unwrap_or_default();
        let promotion = first("sha-dry-proposed").is_some();
        // The first promotion has no earlier state of the environment to compare with, and
        // below it lies the history of the -next branch it promoted: proposals, not changes.
        let first_promotion = promotion && c.parent_count() == 1;
        let old = match &parent {
            Some(p) if !first_promotion => output::metadata_of(out, p)?.unwrap_or_default(),
            _ => Metadata::default(),
        };
        let merge = c.parent_count() > 1;
        let mut problems = Vec::new();
        let (mut kind, active, proposed) = if promotion {
            problems = promotion_problems(out, env, &c)?;
            (
                "promotion",
                first("sha-dry-active").filter(|a| a != "none"),
                first("sha-dry-proposed").unwrap_or_default(),
            )
        } else if gated && merge {
            // A merge into a gated environment that strata did not write: promoted on the
            // forge. Its approvals live there; the entry says so rather than hiding the change.
            problems = forge_merge_problems(out, &c)?;
            (
                "forge-merge",
                (!old.dry_sha.is_empty()).then(|| old.dry_sha.clone()),
                meta.dry_sha.clone(),
            )
        } else {
            (
                if gated { "direct-push" } else { "publish" },
                (!old.dry_sha.is_empty()).then(|| old.dry_sha.clone()),
                meta.dry_sha.clone(),
            )
        };
        if !problems.is_empty() {
            kind = "direct-push";
        }
        if !gated && proposed.is_empty() {
            at = parent;
            continue;
        }
        let trusted = kind != "direct-push";
        let source_commits = if proposed.is_empty() {
            Vec::new()
        } else {
            source
                .range(&proposed, active.as_deref())
                .map(|cs| {
                    cs.iter()
                        .map(|s| SourceCommit {
                            sha: s.id().to_string(),
                            subject: s.summary().ok().flatten().unwrap_or("").to_string(),
                            author: output::who(&s.author()),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut notes: Vec<String> = history
            .iter()
            .filter(|f| f.kind != FindingKind::Rewritten)
            .filter(|f| f.commit.as_deref() == Some(&c.id().to_string()))
            .map(|f| f.message.clone())
            .collect();
        notes.dedup();
        problems.extend(notes);
        entries.push(AuditEntry {
            commit: c.id().to_string(),
            at: when.to_string(),
            kind,
            active,
            proposed,
            source_commits,
            version_changes: version_changes(&old, &meta),
            soaked_in: first("soaked-in").filter(|_| trusted),
            approvers: if trusted {
                t.get("approved-by").cloned().unwrap_or_default()
            } else {
                Vec::new()
            },
            emergency: first("emergency"),
            rollback: first("rollback"),
            render_digest: first("render-digest").unwrap_or(meta.tree_digest.clone()),
            problems,
        });
        if first_promotion && trusted {
            break;
        }
        at = parent;
    }
    Ok(entries)
}

fn version_changes(old: &Metadata, new: &Metadata) -> Vec<VersionChange> {
    let mut out = BTreeSet::new();
    let clusters: BTreeSet<&String> = old.components.keys().chain(new.components.keys()).collect();
    for cluster in clusters {
        let empty = BTreeMap::new();
        let a = old.components.get(cluster).unwrap_or(&empty);
        let b = new.components.get(cluster).unwrap_or(&empty);
        for comp in a.keys().chain(b.keys()) {
            if a.get(comp) != b.get(comp) {
                out.insert(VersionChange {
                    cluster: cluster.clone(),
                    component: comp.clone(),
                    from: a.get(comp).cloned(),
                    to: b.get(comp).cloned(),
                });
            }
        }
    }
    out.into_iter().collect()
}

/// The audit trail as Markdown, for an auditor.
pub fn audit_markdown(env: &str, entries: &[AuditEntry]) -> String {
    let mut s = format!(
        "# Audit trail of `{env}`\n\n{} change(s), newest first. Rebuilt from the git history of `env/{env}`.\n",
        entries.iter().filter(|e| e.kind != "rewritten").count()
    );
    for e in entries {
        if e.kind == "rewritten" {
            s.push_str(&format!(
                "\n## ⚠ History rewritten — `{}`\n\n",
                short(&e.commit)
            ));
            for p in &e.problems {
                s.push_str(&format!("- {p}\n"));
            }
            continue;
        }
        let title = match (e.kind, &e.rollback) {
            ("promotion", None) => "Promotion",
            ("promotion", Some(_)) => "Promotion of a rollback",
            ("forge-merge", _) => "Promotion merged outside strata",
            ("direct-push", _) => "⚠ Direct push, not through a promotion",
            (_, Some(_)) => "Rollback",
            _ => "Publish",
        };
        s.push_str(&format!(
            "\n## {title} {} — `{}`\n\n",
            e.at,
            short(&e.commit)
        ));
        for p in &e.problems {
            s.push_str(&format!("- **⚠ Problem:** {p}\n"));
        }
        if let Some(r) = &e.rollback {
            s.push_str(&format!("- **Rollback:** {r}\n"));
        }
        if e.kind == "forge-merge" {
            s.push_str("- **Note:** no strata promotion trailers; its approvals and checks are on the forge's pull request\n");
        }
        s.push_str(&format!(
            "- **Source:** `{}` → `{}`\n",
            e.active.as_deref().map_or("(none)", short),
            short(&e.proposed)
        ));
        if let Some(soak) = &e.soaked_in {
            s.push_str(&format!("- **Soaked in:** {soak}\n"));
        }
        if e.kind != "publish" {
            s.push_str(&format!(
                "- **Approved by:** {}\n",
                if e.approvers.is_empty() {
                    "(nobody)".to_string()
                } else {
                    e.approvers.join(", ")
                }
            ));
        }
        if let Some(em) = &e.emergency {
            s.push_str(&format!("- **Break-glass:** {em}\n"));
        }
        s.push_str(&format!("- **Render digest:** `{}`\n", e.render_digest));
        let authors: BTreeSet<&str> = e.source_commits.iter().map(|c| c.author.as_str()).collect();
        s.push_str(&format!(
            "- **Authors:** {}\n",
            authors.into_iter().collect::<Vec<_>>().join(", ")
        ));
        if !e.source_commits.is_empty() {
            s.push_str("\n| source commit | subject | author |\n|---|---|---|\n");
            for c in &e.source_commits {
                s.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    short(&c.sha),
                    c.subject.replace('|', "\\|"),
                    c.author
                ));
            }
        }
        if !e.version_changes.is_empty() {
            s.push_str("\n| cluster | component | from | to |\n|---|---|---|---|\n");
            for v in &e.version_changes {
                s.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    v.cluster,
                    v.component,
                    v.from.as_deref().unwrap_or("—"),
                    v.to.as_deref().unwrap_or("—")
                ));
            }
        }
    }
    s
}

/// What runs where, and what waits.
#[derive(Debug, Serialize)]
pub struct Status {
    pub environments: Vec<EnvironmentStatus>,
    /// component → environment → version; `a (cluster-x), b (cluster-y)` where clusters differ.
    pub versions: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Serialize)]
pub struct EnvironmentStatus {
    pub environment: String,
    pub branch: String,
    pub dry_sha: Option<String>,
    pub subject: Option<String>,
    pub since: Option<String>,
    /// The proposal on `env/<e>-next` that is not promoted yet, with its gates.
    pub pending: Option<Pending>,
    /// What is wrong with the history of `env/<e>` and `env/<e>-next`: moved back, replaced,
    /// dates that cannot be true.
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Pending {
    pub branch: String,
    pub proposed: String,
    pub subject: String,
    pub gates: Vec<Gate>,
    pub versions: BTreeMap<String, String>,
}

fn summarize_versions(meta: &Metadata) -> BTreeMap<String, String> {
    let mut by_component: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (cluster, comps) in &meta.components {
        for (comp, version) in comps {
            by_component
                .entry(comp.clone())
                .or_default()
                .entry(version.clone())
                .or_default()
                .push(cluster.clone());
        }
    }
    by_component
        .into_iter()
        .map(|(comp, versions)| {
            let text = if versions.len() == 1 {
                versions.into_keys().next().unwrap_or_default()
            } else {
                versions
                    .iter()
                    .map(|(v, cs)| format!("{v} ({})", cs.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            (comp, text)
        })
        .collect()
}

/// Versions per environment from the output branches, and the gates of every pending promotion.
pub fn status(
    source: &SourceRepo,
    out: &Repository,
    now: Timestamp,
) -> Result<Status, PromotionError> {
    require_history(source, out)?;
    let mut history = FindingsCache::default();
    let settings = source.settings_at("HEAD")?;
    let mut envs: Vec<String> = settings
        .promotion
        .as_ref()
        .map(|p| p.order.clone())
        .unwrap_or_default();
    for r in out.references_glob("refs/heads/env/*")? {
        let r = r?;
        if let Some(name) = r.shorthand().ok().and_then(|s| s.strip_prefix("env/")) {
            let env = name.strip_suffix("-next").unwrap_or(name).to_string();
            if !envs.contains(&env) {
                envs.push(env);
            }
        }
    }
    let mut status = Status {
        environments: Vec::new(),
        versions: BTreeMap::new(),
    };
    for env in envs {
        let branch = format!("env/{env}");
        let tip = output::tip(out, &branch)?;
        let meta = match &tip {
            Some(c) => output::metadata_of(out, c)?,
            None => None,
        };
        if let Some(m) = &meta {
            for (comp, v) in summarize_versions(m) {
                status
                    .versions
                    .entry(comp)
                    .or_default()
                    .insert(env.clone(), v);
            }
        }
        let next = output::tip(out, &format!("{branch}-next"))?;
        let pending = match next {
            Some(n) => {
                let next_meta = output::metadata_of(out, &n)?;
                match next_meta {
                    Some(nm)
                        if meta
                            .as_ref()
                            .is_none_or(|m| m.tree_digest != nm.tree_digest) =>
                    {
                        let req = PromotionRequest {
                            environment: env.clone(),
                            now,
                            approvals: None,
                            promoter: None,
                            emergency: None,
                        };
                        let gates = match verify_with(source, out, &req, &mut history) {
                            Ok(v) => v
                                .gates
                                .into_iter()
                                .filter(|g| g.name != GateName::FourEyes)
                                .collect(),
                            Err(e) => vec![Gate {
                                name: GateName::Reproducible,
                                open: false,
                                summary: e.to_string(),
                                details: Vec::new(),
                            }],
                        };
                        Some(Pending {
                            branch: format!("{branch}-next"),
                            proposed: nm.dry_sha.clone(),
                            subject: nm.subject.clone(),
                            gates,
                            versions: summarize_versions(&nm),
                        })
                    }
                    _ => None,
                }
            }
            None => None,
        };
        let problems = history
            .of(source, out, &env)?
            .into_iter()
            .map(|f| f.message)
            .collect();
        status.environments.push(EnvironmentStatus {
            environment: env,
            branch,
            dry_sha: meta.as_ref().map(|m| m.dry_sha.clone()),
            subject: meta.as_ref().map(|m| m.subject.clone()),
            since: tip.as_ref().map(|c| output::time_of(c).to_string()),
            pending,
            problems,
        });
    }
    Ok(status)
}

pub fn status_human(s: &Status) -> String {
    let mut out = String::new();
    let envs: Vec<&str> = s
        .environments
        .iter()
        .map(|e| e.environment.as_str())
        .collect();
    let width = s.versions.keys().map(String::len).max().unwrap_or(9).max(9);
    out.push_str(&format!("{:width$}", "component"));
    for e in &envs {
        out.push_str(&format!("  {e:<14}"));
    }
    out.push('\n');
    for (comp, by_env) in &s.versions {
        out.push_str(&format!("{comp:width$}"));
        for e in &envs {
            let v = by_env.get(*e).map_or("—", String::as_str);
            let pending = s
                .environments
                .iter()
                .find(|x| x.environment == *e)
                .and_then(|x| x.pending.as_ref())
                .and_then(|p| p.versions.get(comp))
                .filter(|pv| Some(*pv) != by_env.get(*e));
            let cell = match pending {
                Some(p) => format!("{v} → {p}"),
                None => v.to_string(),
            };
            out.push_str(&format!("  {cell:<14}"));
        }
        out.push('\n');
    }
    for e in &s.environments {
        out.push('\n');
        match (&e.dry_sha, &e.subject) {
            (Some(sha), Some(subject)) => out.push_str(&format!(
                "{}: {} runs {} \"{subject}\" since {}\n",
                e.environment,
                e.branch,
                short(sha),
                e.since.as_deref().unwrap_or("?")
            )),
            _ => out.push_str(&format!(
                "{}: {} does not exist yet\n",
                e.environment, e.branch
            )),
        }
        for p in &e.problems {
            out.push_str(&format!("  ⚠ {p}\n"));
        }
        if let Some(p) = &e.pending {
            out.push_str(&format!(
                "  waiting on {}: {} \"{}\"\n",
                p.branch,
                short(&p.proposed),
                p.subject
            ));
            for g in &p.gates {
                out.push_str(&format!(
                    "    {} {}  {}\n",
                    if g.open { '✔' } else { '✘' },
                    g.name,
                    g.summary
                ));
            }
            out.push_str("    four-eyes  checked on the pull request with `strata verify-promotion --approvals`\n");
        }
    }
    out
}

/// How one output branch compares with a re-render of the drySha it records.
#[derive(Debug, Serialize)]
pub struct BranchCheck {
    pub branch: String,
    pub dry_sha: Option<String>,
    pub drift: TreeDrift,
    /// The source's `HEAD` renders to something this branch does not have yet.
    pub stale: Option<Staleness>,
    /// Why the branch could not be checked, if it could not.
    pub problem: Option<String>,
    /// Entries with a mode or type publish never writes: executable bits, symlinks, gitlinks.
    pub unusual: Vec<String>,
    /// What is wrong with the branch's history: moved back, replaced, a tip on a gated
    /// environment that is not a promotion, dates that cannot be true.
    pub history: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Staleness {
    pub head: String,
    pub unpublished: Vec<SourceCommit>,
}

impl Status {
    /// Whether the history of any environment has a problem.
    pub fn has_problems(&self) -> bool {
        self.environments.iter().any(|e| !e.problems.is_empty())
    }
}

impl BranchCheck {
    pub fn is_clean(&self) -> bool {
        self.drift.is_clean()
            && self.stale.is_none()
            && self.problem.is_none()
            && self.unusual.is_empty()
            && self.history.is_empty()
    }
}

/// Output-repository drift: every `env/*` branch against a re-render of its recorded drySha,
/// and the branches `publish` writes against the source's `HEAD`.
pub fn check_repo(
    source: &SourceRepo,
    out: &Repository,
    environment: Option<&str>,
) -> Result<Vec<BranchCheck>, PromotionError> {
    require_history(source, out)?;
    let mut findings = FindingsCache::default();
    let head = resolve(&source.repo, "HEAD")?.id().to_string();
    let head_compiled = source.compile_at(&head)?;
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
            match source.compile_at(&meta.dry_sha) {
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
    use crate::git::history::{forge_merge_problems, promotion_problems, trailer_map};
    let mut problems: Vec<String> = cache
        .of(source, out, env)?
        .into_iter()
        .filter(|f| f.branch == branch)
        .map(|f| f.message)
        .collect();
    if gated_here(source, out, env, &head.source.settings)? && !branch.ends_with("-next") {
        let t = trailer_map(tip.message().unwrap_or(""));
        let why = if t.contains_key("sha-dry-proposed") {
            promotion_problems(out, env, tip)?
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

pub fn check_repo_human(checks: &[BranchCheck]) -> String {
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
