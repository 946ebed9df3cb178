//! `verify-promotion`: the gates of promoting `env/<e>-next` into `env/<e>`, judged from git
//! alone with the pure gates of [`crate::promote::gates`].

use std::collections::BTreeMap;

use git2::Repository;
use jiff::Timestamp;
use serde::Serialize;

use crate::compare::check::{TreeDrift, compare};
use crate::emit::OutputTree;
use crate::git::output::{self, METADATA_FILE};
use crate::git::source::{Ancestry, SourceRepo};
use crate::git::{pack, short};
use crate::promote::error::{PromotionError, require_history};
use crate::promote::gates::approvals::{Approval, Member, Role, four_eyes, read_approvals};
use crate::promote::gates::break_glass::{BreakGlass, required_approvers};
use crate::promote::gates::calendar::Calendar;
use crate::promote::gates::change_class::{MajorEvidence, classify};
use crate::promote::gates::gate::{Gate, GateName};
use crate::promote::gates::health::{AppStatus, HealthEvidence, Synced};
use crate::promote::gates::identity::{Identities, Identity};
use crate::promote::gates::policy::InForce;
use crate::promote::gates::window::{WindowState, Windows};
use crate::promote::history::FindingsCache;
use crate::promote::landing::landing;
use crate::promote::repos::{Compiles, policy_for, settings_at};

/// What the gates are asked.
#[derive(Clone, Debug)]
pub(crate) struct PromotionRequest {
    pub(crate) environment: String,
    pub(crate) now: Timestamp,
    /// The content of the `--approvals` file.
    pub(crate) approvals: Option<String>,
    pub(crate) promoter: Option<Identity>,
    pub(crate) emergency: Option<String>,
    /// The Argo CD Applications of the previous environment, from `--argocd-status`.
    pub(crate) argocd_status: Option<BTreeMap<String, AppStatus>>,
}

/// The verdict of the gates, with the evidence a promotion commit records.
#[derive(Debug, Serialize)]
pub(crate) struct Verification {
    pub(crate) environment: String,
    pub(crate) previous: String,
    /// The drySha proposed on `env/<e>-next`.
    pub(crate) proposed: String,
    pub(crate) proposed_subject: String,
    /// The drySha `env/<e>` has now, if any.
    pub(crate) active: Option<String>,
    /// The `-next` commit the approvals must be on.
    pub(crate) head: String,
    pub(crate) gates: Vec<Gate>,
    #[serde(skip)]
    pub(crate) soaked_in: Option<String>,
    pub(crate) approvers: Vec<String>,
    pub(crate) emergency: Option<String>,
    /// Whether the promotion is inside the maintenance window of the environment, and which:
    /// `inside Wed 07:00–12:00 Europe/Stockholm`; `None` when the environment has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) window: Option<String>,
    /// `major` or `minor`, where the policy has rules for major changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) change_class: Option<String>,
    /// The health gate's evidence: one line per Application of the previous environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) verified: Vec<String>,
    pub(crate) tree_digest: String,
    /// The reason of a proposal that rolls the environment back, from its `Rollback:` trailer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rollback: Option<String>,
    /// What the soak and four-eyes gates counted, for pages that draw it (the site); the
    /// gates' summaries say the same in words.
    #[serde(skip)]
    pub(crate) counted: Counted,
}

/// The numbers and people behind the soak and four-eyes gates.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counted {
    /// When the proposal reached the previous environment, when the soak counts from then:
    /// `None` if it has not, if it left again, or if that time cannot be true.
    pub(crate) landed: Option<Timestamp>,
    /// Whole working days soaked since `landed`.
    pub(crate) soaked: u32,
    /// `promotion.soak.workingDays` in force.
    pub(crate) working_days: u32,
    /// When the soak is complete, counted from `landed`.
    pub(crate) ready_at: Option<Timestamp>,
    /// Distinct approvers needed, one more under break-glass.
    pub(crate) required: u32,
    /// `Name <email>` of each approval that counts.
    pub(crate) approvers: Vec<String>,
    /// `Name <email>` of the author set: authors, committers and co-authors of the promoted
    /// commits, and the promoter; each once.
    pub(crate) authors: Vec<String>,
    /// Each approval that does not count, with why.
    pub(crate) rejected: Vec<String>,
}

impl Verification {
    pub(crate) fn open(&self) -> bool {
        self.gates.iter().all(|g| g.open)
    }
}

/// Checks every gate of promoting `env/<e>-next` into `env/<e>`.
pub(crate) fn verify(
    source: &SourceRepo,
    out: &Repository,
    req: &PromotionRequest,
) -> Result<Verification, PromotionError> {
    verify_with(
        source,
        out,
        req,
        &mut FindingsCache::default(),
        &mut Compiles::default(),
    )
}

pub(crate) fn verify_with(
    source: &SourceRepo,
    out: &Repository,
    req: &PromotionRequest,
    history: &mut FindingsCache,
    compiles: &mut Compiles,
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
    // rules it is judged by (see `crate::promote::gates::policy`).
    let proposed_settings = settings_at(source, &proposed)?;
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
    let rollback = crate::promote::history::trailer_map(next.message().unwrap_or(""))
        .get("rollback")
        .and_then(|v| v.first().cloned());
    let step = Step {
        env,
        previous: &previous,
        proposed: &proposed,
        active: active.as_deref(),
        rollback,
    };
    let (history_gate, rollback) = history_gate(source, out, history, step)?;
    gates.push(history_gate);

    // 1. Reproducible.
    let compiled = compiles.at(source, &proposed)?;
    let expected = OutputTree {
        files: compiled.tree.environment(env),
    };
    drop(compiled);
    gates.push(reproducible(
        out,
        &next,
        &expected,
        &proposed,
        &next_branch,
    )?);

    // 2. Soaked.
    let emergency = match &req.emergency {
        Some(reason) => {
            Some(BreakGlass::new(reason).map_err(|e| PromotionError::Policy(e.to_string()))?)
        }
        None => None,
    };
    let soak = policy.soak.clone();
    let holidays = holidays(&policy.soak.holidays)?;
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
    let mut counted = Counted {
        working_days: soak.working_days,
        ..Counted::default()
    };
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
            counted.landed = Some(l.at);
            counted.soaked = calendar.soaked(l.at, req.now);
            counted.ready_at = Some(calendar.ready_at(l.at, soak.working_days).timestamp());
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
    let mut customer_action = None;
    let mut announced = None;
    for c in source.range(&proposed, active.as_deref())? {
        let trailers = crate::promote::history::trailer_map(c.message().unwrap_or(""));
        let last = |key: &str| trailers.get(key).and_then(|v| v.last()).cloned();
        customer_action = customer_action.or_else(|| last("customer-action"));
        announced = announced.or_else(|| last("announced"));
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
    approvals.extend(crate::promote::gates::approvals::approved_by(
        next.message().unwrap_or(""),
        &identities,
    ));
    let distinct = policy.distinct;
    let result = four_eyes(
        &members,
        &approvals,
        required_approvers(distinct, emergency.as_ref()),
    );
    let approvers: Vec<String> = result
        .approvers
        .iter()
        .map(|a| format!("{} <{}>", a.identity.name, a.identity.email))
        .collect();
    counted.required = result.required;
    counted.approvers = approvers.clone();
    for m in &members {
        let who = format!("{} <{}>", m.identity.name, m.identity.email);
        if !counted.authors.contains(&who) {
            counted.authors.push(who);
        }
    }
    counted.rejected = result
        .rejected
        .iter()
        .map(|r| format!("{}: {}", r.by, r.reason.explain()))
        .collect();
    gates.push(Gate::four_eyes(&result));

    // 5. Window: planned changes only in the maintenance window, outside freezes.
    let windows = windows_of(&policy, env, &holidays)?;
    let mut window = None;
    if let Some(w) = &windows {
        let gate = Gate::window(w, req.now, emergency.as_ref());
        let inside = matches!(w.state(req.now), WindowState::Open { .. });
        window = Some(format!(
            "{} {}{}",
            if inside { "inside" } else { "outside" },
            w.describe(),
            if inside { "" } else { ", by break-glass" }
        ));
        gates.push(gate);
    }

    // 5b. Change class: what a major change may do.
    let mut change_class = None;
    if let Some(rules) = &policy.major {
        let old = match &active_commit {
            Some(c) => output::metadata_of(out, c)?.unwrap_or_default().components,
            None => Default::default(),
        };
        let classified = classify(&old, &meta.components, &rules.classes);
        let earlier = match &active_commit {
            Some(c) => planned_majors(c, req.now)?,
            None => Vec::new(),
        };
        let tz = calendar_tz(&soak.timezone);
        let evidence = MajorEvidence {
            environment: env,
            rules,
            tz: &tz,
            windows: windows.as_ref(),
            earlier: &earlier,
            customer_action: customer_action.as_deref(),
            announced: announced.as_deref(),
            now: req.now,
            emergency: emergency.is_some(),
        };
        gates.push(Gate::change_class(&classified, &evidence));
        change_class = Some(classified.class.as_str().to_string());
    }

    // 6. Healthy: the previous environment ran the change, synced and healthy.
    let mut verified = Vec::new();
    match &req.argocd_status {
        Some(apps) => {
            let expected = applications_of(out, &prev_branch)?;
            let mut synced = BTreeMap::new();
            for (name, app) in apps {
                let s = match &app.revision {
                    Some(rev) => synced_revision(source, out, rev, &proposed)?,
                    None => Synced::Unknown,
                };
                synced.insert(name.clone(), s);
            }
            let evidence = HealthEvidence {
                previous: &previous,
                proposed: short(&proposed),
                expected: &expected,
                apps,
                synced: &synced,
            };
            let (gate, lines) = Gate::healthy(&evidence, emergency.as_ref());
            if gate.open && emergency.is_none() {
                verified.push(format!("{prev_branch}: {}", gate.summary));
                verified.extend(lines);
            }
            gates.push(gate);
        }
        None if policy.health_required => {
            gates.push(Gate::healthy_missing(env, &previous, emergency.as_ref()));
        }
        None => {}
    }

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
        window,
        change_class,
        verified,
        tree_digest: meta.tree_digest.clone(),
        rollback,
        counted,
    })
}

/// The dates of `promotion.soak.holidays`, which the windows skip too.
pub(crate) fn holidays(list: &[String]) -> Result<Vec<jiff::civil::Date>, PromotionError> {
    list.iter()
        .map(|h| {
            h.parse().map_err(|e| {
                PromotionError::Policy(format!(
                    "promotion.soak.holidays: `{h}` is not a date ({e}); write dates like 2026-12-24"
                ))
            })
        })
        .collect()
}

/// The promotion step the history gate judges: `env/<env>-next` proposes `proposed` where
/// `env/<env>` runs `active`, and `previous` is the environment it soaks in.
struct Step<'a> {
    env: &'a str,
    previous: &'a str,
    proposed: &'a str,
    active: Option<&'a str>,
    /// The `Rollback:` reason the proposal was published with, if any.
    rollback: Option<String>,
}

/// The history gate: `env/<e>`, `env/<e>-next` and the previous environment's branch hold
/// everything recorded on them and their tips moved forward, and the proposal contains what
/// `env/<e>` runs unless it was published as a rollback. Returns the rollback reason that
/// applies.
fn history_gate(
    source: &SourceRepo,
    out: &Repository,
    history: &mut FindingsCache,
    step: Step<'_>,
) -> Result<(Gate, Option<String>), PromotionError> {
    let Step {
        env,
        previous,
        proposed,
        active,
        rollback,
    } = step;
    use crate::promote::history::FindingKind;
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

/// The maintenance windows in force for `env`; `None` when it has none.
fn windows_of(
    policy: &InForce,
    env: &str,
    holidays: &[jiff::civil::Date],
) -> Result<Option<Windows>, PromotionError> {
    Windows::new(
        env,
        &policy.soak.timezone,
        &policy.windows,
        &policy.freezes,
        holidays,
    )
    .map_err(PromotionError::Policy)
}

/// The window gate of `env` at `now` without break-glass, for `status`; `None` when the policy
/// in force gives `env` no window.
pub(crate) fn window_now(
    policy: &InForce,
    env: &str,
    now: Timestamp,
) -> Result<Option<Gate>, PromotionError> {
    let holidays = holidays(&policy.soak.holidays)?;
    Ok(windows_of(policy, env, &holidays)?.map(|w| Gate::window(&w, now, None)))
}

/// The names of the Argo CD Applications on `branch` of the output repository: what runs in
/// that environment.
fn applications_of(out: &Repository, branch: &str) -> Result<Vec<String>, PromotionError> {
    let Some(tip) = output::tip(out, branch)? else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for (path, bytes) in output::files_of(out, &tip.tree()?)? {
        if !crate::emit::layout::is_argocd_file(&path) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        let Ok(object) = yaml_serde::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if object.get("kind").and_then(serde_json::Value::as_str) == Some("Application")
            && let Some(name) = object
                .pointer("/metadata/name")
                .and_then(serde_json::Value::as_str)
        {
            names.push(name.to_string());
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// How the output commit `revision` an Application synced stands to the proposed drySha.
/// Only a full commit id is looked up: the export is input, not a revision expression.
fn synced_revision(
    source: &SourceRepo,
    out: &Repository,
    revision: &str,
    proposed: &str,
) -> Result<Synced, PromotionError> {
    let full = revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit());
    let commit = match git2::Oid::from_str(revision) {
        Ok(oid) if full => out.find_commit(oid).ok(),
        _ => None,
    };
    let Some(commit) = commit else {
        return Ok(Synced::Unknown);
    };
    let Some(meta) = output::metadata_of(out, &commit)? else {
        return Ok(Synced::Unknown);
    };
    Ok(match source.ancestry(&meta.dry_sha, proposed) {
        Ancestry::Forward => Synced::Contains {
            dry_sha: meta.dry_sha,
        },
        Ancestry::Unknown => Synced::Unknown,
        _ => Synced::Predates {
            dry_sha: meta.dry_sha,
        },
    })
}

/// The planned major promotions on `env/<e>` (first parents from `tip`) in the 62 days before
/// `now`: enough for the calendar month of `now` in any time zone. A promotion by break-glass
/// is unplanned and does not count.
fn planned_majors(
    tip: &git2::Commit<'_>,
    now: Timestamp,
) -> Result<Vec<(Timestamp, String)>, PromotionError> {
    let since = now
        .checked_sub(jiff::SignedDuration::from_hours(62 * 24))
        .unwrap_or(Timestamp::MIN);
    let mut majors = Vec::new();
    let mut at = Some(tip.clone());
    while let Some(c) = at {
        let when = output::time_of(&c);
        if when < since {
            break;
        }
        let trailers = crate::promote::history::trailer_map(c.message().unwrap_or(""));
        let is = |key: &str, value: &str| {
            trailers
                .get(key)
                .is_some_and(|v| v.iter().any(|x| x == value))
        };
        if is("change-class", "major") && !trailers.contains_key("emergency") && when <= now {
            majors.push((when, c.id().to_string()));
        }
        at = c.parents().next();
    }
    Ok(majors)
}

fn calendar_tz(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The reproducible gate of `next` against the `expected` render of `proposed`. The tree ids
/// are compared first: equal ids (the metadata left out) and a regular metadata file are the
/// same bytes at the same paths with the modes publish writes, found without reading a blob.
/// Otherwise every file is read and compared, to say which differ.
fn reproducible(
    out: &Repository,
    next: &git2::Commit<'_>,
    expected: &OutputTree,
    proposed: &str,
    branch: &str,
) -> Result<Gate, PromotionError> {
    let tree = next.tree()?;
    let regular_metadata = tree
        .get_name(METADATA_FILE)
        .is_none_or(|e| e.filemode() == 0o100644);
    if regular_metadata
        && pack::id_without(&tree, METADATA_FILE)? == pack::hash_tree(&expected.files)?.root
    {
        return Ok(reproducible_gate(
            &TreeDrift::default(),
            &[],
            proposed,
            branch,
        ));
    }
    let mut actual = OutputTree {
        files: output::files_of(out, &tree)?,
    };
    actual.files.remove(METADATA_FILE);
    let drift = compare(expected, &actual);
    let unusual = output::unusual_entries(out, &tree)?;
    Ok(reproducible_gate(&drift, &unusual, proposed, branch))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fixture::{Repos, at};

    /// The platform published at [`START`], and the request to promote it to prod at `now`.
    fn published(approvals: Option<&str>, now: &str) -> (Repos, PromotionRequest) {
        let repos = Repos::published();
        let request = PromotionRequest {
            environment: "prod".into(),
            now: at(now),
            approvals: approvals.map(str::to_string),
            promoter: Some(Identity::new("Paula Promoter", "paula@example.com")),
            emergency: None,
            argocd_status: None,
        };
        (repos, request)
    }

    fn gates(v: &Verification) -> Vec<(GateName, bool)> {
        v.gates.iter().map(|g| (g.name, g.open)).collect()
    }

    /// The reproducible gate of a branch holding `files` (and a metadata file) against the
    /// render `expected`.
    fn reproducible_of(
        expected: &BTreeMap<String, Vec<u8>>,
        files: &BTreeMap<String, Vec<u8>>,
    ) -> Gate {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init_bare(dir.path()).expect("init");
        let mut held = files.clone();
        held.insert(METADATA_FILE.into(), b"{}".to_vec());
        let tree = repo
            .find_tree(output::write_tree(&repo, &held).expect("tree"))
            .expect("find");
        let who = git2::Signature::new("t", "t@example.com", &git2::Time::new(0, 0)).expect("sig");
        let id = repo
            .commit(None, &who, &who, "proposal", &tree, &[])
            .expect("commit");
        let next = repo.find_commit(id).expect("commit");
        let expected = OutputTree {
            files: expected.clone(),
        };
        reproducible(&repo, &next, &expected, "abc1234", "env/prod-next").expect("gate")
    }

    #[test]
    fn one_byte_changed_in_one_file_of_a_thousand_closes_the_reproducible_gate() {
        let expected: BTreeMap<String, Vec<u8>> = (0..1000)
            .map(|i| {
                (
                    format!("dc{:02}/w{i:04}/web/deployment-web.yaml", i % 10),
                    format!("kind: Deployment\nmetadata:\n  name: web-{i}\n").into_bytes(),
                )
            })
            .collect();
        assert!(reproducible_of(&expected, &expected).open);
        let mut changed = expected.clone();
        let file = changed
            .get_mut("dc07/w0517/web/deployment-web.yaml")
            .expect("there");
        let last = file.len() - 2;
        file[last] = b'8';
        let gate = reproducible_of(&expected, &changed);
        assert!(!gate.open);
        assert_eq!(
            gate.details,
            ["changed by hand: dc07/w0517/web/deployment-web.yaml"]
        );
        let mut extra = expected.clone();
        extra.insert(
            "dc00/w0000/web/extra.yaml".into(),
            b"kind: Secret\n".to_vec(),
        );
        let gate = reproducible_of(&expected, &extra);
        assert_eq!(
            gate.details,
            ["not rendered by strata: dc00/w0000/web/extra.yaml"]
        );
        let mut missing = expected.clone();
        missing.remove("dc09/w0999/web/deployment-web.yaml");
        let gate = reproducible_of(&expected, &missing);
        assert_eq!(
            gate.details,
            ["missing: dc09/w0999/web/deployment-web.yaml"]
        );
    }

    #[test]
    fn a_fresh_proposal_is_reproducible_but_neither_soaked_nor_approved() {
        let (repos, request) = published(None, "2026-11-03T09:00:00Z");
        let v = verify(&repos.source, &repos.out, &request).expect("verifies");
        assert!(!v.open());
        assert_eq!(
            gates(&v),
            [
                (GateName::History, true),
                (GateName::Reproducible, true),
                (GateName::Soaked, false),
                (GateName::FourEyes, false),
            ]
        );
        let soaked = &v.gates[2];
        assert!(
            soaked.summary.contains("of 5 working days"),
            "{}",
            soaked.summary
        );
        assert_eq!(v.previous, "dev");
        assert_eq!(v.active, None);
    }

    #[test]
    fn after_five_working_days_and_an_approval_from_someone_else_every_gate_is_open() {
        let approvals = r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}]"#;
        let (repos, request) = published(Some(approvals), "2026-11-10T09:00:00Z");
        let v = verify(&repos.source, &repos.out, &request).expect("verifies");
        assert!(v.open(), "{:#?}", v.gates);
        assert_eq!(v.approvers, ["Bob Reviewer <bob@example.com>"]);
    }

    #[test]
    fn the_author_of_a_change_does_not_count_as_its_approver() {
        let approvals = r#"[{"name": "Alice Author", "email": "alice@example.com"}]"#;
        let (repos, request) = published(Some(approvals), "2026-11-10T09:00:00Z");
        let v = verify(&repos.source, &repos.out, &request).expect("verifies");
        assert_eq!(
            gates(&v)
                .into_iter()
                .find(|(name, _)| *name == GateName::FourEyes),
            Some((GateName::FourEyes, false))
        );
    }
}
