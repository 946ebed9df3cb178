//! `status`: what runs where, what waits for promotion, and what is wrong with the history.

use std::collections::BTreeMap;

use git2::Repository;
use jiff::Timestamp;
use serde::Serialize;

use crate::git::output::{self, Metadata};
use crate::git::short;
use crate::git::source::SourceRepo;
use crate::promote::error::{PromotionError, require_history};
use crate::promote::gates::gate::{Gate, GateName};
use crate::promote::history::FindingsCache;
use crate::promote::repos::{Compiles, policy_for, settings_at};
use crate::promote::verify::{PromotionRequest, verify_with, window_now};

/// What runs where, and what waits.
#[derive(Debug, Serialize)]
pub(crate) struct Status {
    pub(crate) environments: Vec<EnvironmentStatus>,
    /// component → environment → version; `a (cluster-x), b (cluster-y)` where clusters differ.
    pub(crate) versions: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EnvironmentStatus {
    pub(crate) environment: String,
    pub(crate) branch: String,
    pub(crate) dry_sha: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) since: Option<String>,
    /// The maintenance window of the environment now, as the window gate says it, where the
    /// policy in force gives it one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) window: Option<String>,
    /// The proposal on `env/<e>-next` that is not promoted yet, with its gates.
    pub(crate) pending: Option<Pending>,
    /// What is wrong with the history of `env/<e>` and `env/<e>-next`: moved back, replaced,
    /// dates that cannot be true.
    pub(crate) problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Pending {
    pub(crate) branch: String,
    pub(crate) proposed: String,
    pub(crate) subject: String,
    pub(crate) gates: Vec<Gate>,
    pub(crate) versions: BTreeMap<String, String>,
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

/// The environments in the order `status` shows them: `promotion.order` of `settings`, then
/// every other environment with an `env/*` branch in the output repository.
pub(crate) fn environments(
    out: &Repository,
    settings: &crate::load::Settings,
) -> Result<Vec<String>, PromotionError> {
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
    Ok(envs)
}

/// Whether the proposal `next` of `env/<e>-next` waits: it renders other than what `env/<e>`
/// (`running`) runs.
pub(crate) fn is_pending(running: Option<&Metadata>, next: &Metadata) -> bool {
    running.is_none_or(|m| m.tree_digest != next.tree_digest)
}

/// Versions per environment from the output branches, and the gates of every pending promotion.
pub(crate) fn status(
    source: &SourceRepo,
    out: &Repository,
    now: Timestamp,
) -> Result<Status, PromotionError> {
    require_history(source, out)?;
    let mut history = FindingsCache::default();
    let mut compiles = Compiles::default();
    let settings = settings_at(source, "HEAD")?;
    let envs = environments(out, &settings)?;
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
                    Some(nm) if is_pending(meta.as_ref(), &nm) => {
                        let req = PromotionRequest {
                            environment: env.clone(),
                            now,
                            approvals: None,
                            promoter: None,
                            emergency: None,
                            argocd_status: None,
                        };
                        let gates =
                            match verify_with(source, out, &req, &mut history, &mut compiles) {
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
        // A policy strata cannot read shows as the pending proposal's gates; the window line
        // is only a view of it.
        let window = policy_for(source, out, &env, &settings)
            .ok()
            .and_then(|(policy, _)| window_now(&policy, &env, now).ok().flatten())
            .map(|gate| gate.summary);
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
            window,
            pending,
            problems,
        });
    }
    Ok(status)
}

pub(crate) fn status_human(s: &Status) -> String {
    let mut out = String::new();
    let envs: Vec<&str> = s
        .environments
        .iter()
        .map(|e| e.environment.as_str())
        .collect();
    let width = s.versions.keys().map(String::len).max().unwrap_or(9).max(9);
    let mut header = format!("{:width$}", "component");
    for e in &envs {
        header.push_str(&format!("  {e:<14}"));
    }
    out.push_str(header.trim_end());
    out.push('\n');
    for (comp, by_env) in &s.versions {
        let mut row = format!("{comp:width$}");
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
            row.push_str(&format!("  {cell:<14}"));
        }
        // The last cell is padded like the others; the line ends where its text does.
        out.push_str(row.trim_end());
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
        if let Some(w) = &e.window {
            out.push_str(&format!("  window: {w}\n"));
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

impl Status {
    /// Whether the history of any environment has a problem.
    pub(crate) fn has_problems(&self) -> bool {
        self.environments.iter().any(|e| !e.problems.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fixture::{Repos, at, promoted};

    #[test]
    fn status_shows_what_runs_and_the_gates_of_what_waits() {
        let repos = Repos::published();
        let s = status(&repos.source, &repos.out, at("2026-11-03T09:00:00Z")).expect("status");
        let envs: Vec<(&str, &str, bool, bool)> = s
            .environments
            .iter()
            .map(|e| {
                (
                    e.environment.as_str(),
                    e.branch.as_str(),
                    e.dry_sha.is_some(),
                    e.pending.is_some(),
                )
            })
            .collect();
        assert_eq!(
            envs,
            [
                ("dev", "env/dev", true, false),
                ("prod", "env/prod", false, true)
            ]
        );
        let pending = s.environments[1].pending.as_ref().expect("pending");
        assert_eq!(pending.branch, "env/prod-next");
        assert!(
            pending.gates.iter().any(|g| !g.open),
            "{:#?}",
            pending.gates
        );
        assert!(!s.has_problems());
        assert_eq!(s.versions["web"]["dev"], "1.0");
        let text = status_human(&s);
        assert!(text.starts_with("component  dev"), "{text}");
        // The table pads its cells, but no line ends in spaces (they show in diffs and logs).
        let padded: Vec<&str> = text.lines().filter(|l| l.ends_with(' ')).collect();
        assert!(padded.is_empty(), "lines that end in spaces: {padded:?}");
    }

    #[test]
    fn after_a_promotion_nothing_waits() {
        let (repos, _) = promoted();
        let s = status(&repos.source, &repos.out, at("2026-11-11T09:00:00Z")).expect("status");
        assert!(
            s.environments.iter().all(|e| e.pending.is_none()),
            "{:#?}",
            s.environments
        );
        assert!(s.environments.iter().all(|e| e.dry_sha.is_some()));
    }
}
