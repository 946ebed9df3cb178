//! `audit`: the evidence of every change to an environment, rebuilt from git history alone.

use std::collections::{BTreeMap, BTreeSet};

use git2::Repository;
use jiff::Timestamp;
use serde::Serialize;

use crate::git::output::{self, Metadata};
use crate::git::short;
use crate::git::source::SourceRepo;
use crate::promote::error::{PromotionError, require_history};
use crate::promote::repos::{policy_for, settings_at};
use crate::promote::tree_digests::TreeDigests;

/// One entry of the audit trail of an environment.
#[derive(Debug, Default, Serialize)]
pub(crate) struct AuditEntry {
    pub(crate) commit: String,
    pub(crate) at: String,
    /// `promotion` (a strata merge), `forge-merge` (a merge without strata's trailers), `direct-push`
    /// (a gated branch changed around the gates, or a commit that claims a promotion it is
    /// not), `publish` (a direct render) or `rewritten` (the branch lost what other branches
    /// recorded on it).
    pub(crate) kind: &'static str,
    pub(crate) active: Option<String>,
    pub(crate) proposed: String,
    pub(crate) source_commits: Vec<SourceCommit>,
    pub(crate) version_changes: Vec<VersionChange>,
    pub(crate) soaked_in: Option<String>,
    pub(crate) approvers: Vec<String>,
    pub(crate) emergency: Option<String>,
    /// A promotion by break-glass: outside the planned schedule (window, soak), for a critical
    /// fix or a recovery. Its reason is `emergency`.
    pub(crate) unplanned: bool,
    /// The maintenance window it was promoted in or outside of, from its `Window:` trailer.
    pub(crate) window: Option<String>,
    /// `major` or `minor`, from its `Change-class:` trailer.
    pub(crate) change_class: Option<String>,
    /// The Argo CD evidence that the previous environment ran it healthy, from its
    /// `Verified-in:` and `Verified-app:` trailers.
    pub(crate) verified: Vec<String>,
    /// The reason of a rollback (`publish --rollback`), from its `Rollback:` trailer.
    pub(crate) rollback: Option<String>,
    pub(crate) render_digest: String,
    /// What is wrong with this entry: why it is not the promotion it claims, a date that
    /// cannot be true, a move back without `--rollback`.
    pub(crate) problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SourceCommit {
    pub(crate) sha: String,
    pub(crate) subject: String,
    pub(crate) author: String,
}

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct VersionChange {
    pub(crate) cluster: String,
    pub(crate) component: String,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}

/// The evidence of every change to `env/<e>`, newest first, rebuilt from git history alone.
///
/// Every entry is checked, not taken at its word: a commit whose message claims a promotion
/// must have a promotion's shape and tree (see [`crate::promote::history::promotion_problems`]),
/// or it is listed as a direct push with why. What is wrong with the branches' history itself
/// (moved back, replaced) comes first, as entries of kind `rewritten`.
pub(crate) fn audit(
    source: &SourceRepo,
    out: &Repository,
    env: &str,
    since: Option<Timestamp>,
) -> Result<Vec<AuditEntry>, PromotionError> {
    audit_with(source, out, env, since, &mut TreeDigests::default())
}

/// [`audit`], with the tree digests worked out by earlier audits of the same repository.
pub(crate) fn audit_with(
    source: &SourceRepo,
    out: &Repository,
    env: &str,
    since: Option<Timestamp>,
    digests: &mut TreeDigests,
) -> Result<Vec<AuditEntry>, PromotionError> {
    use crate::promote::history::{
        FindingKind, findings, forge_merge_problems, promotion_problems,
    };
    require_history(source, out)?;
    let branch = format!("env/{env}");
    let Some(tip) = output::tip(out, &branch)? else {
        return Err(PromotionError::Policy(format!(
            "there is no branch {branch} in the output repository"
        )));
    };
    let head_settings = settings_at(source, "HEAD")?;
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
        let t = crate::promote::history::trailer_map(c.message().unwrap_or(""));
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
            problems = promotion_problems(out, env, &c, digests)?;
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
            unplanned: promotion && first("emergency").is_some(),
            window: first("window"),
            change_class: first("change-class"),
            verified: first("verified-in")
                .into_iter()
                .chain(t.get("verified-app").cloned().unwrap_or_default())
                .collect(),
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

pub(crate) fn version_changes(old: &Metadata, new: &Metadata) -> Vec<VersionChange> {
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
pub(crate) fn audit_markdown(env: &str, entries: &[AuditEntry]) -> String {
    let unplanned = entries.iter().filter(|e| e.unplanned).count();
    let mut s = format!(
        "# Audit trail of `{env}`\n\n{} change(s), newest first{}. Rebuilt from the git history of `env/{env}`.\n",
        entries.iter().filter(|e| e.kind != "rewritten").count(),
        match unplanned {
            0 => String::new(),
            n => format!(", {n} of them unplanned (break-glass)"),
        }
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
        if e.unplanned {
            s.push_str("- **Unplanned:** yes, by break-glass\n");
        }
        if let Some(w) = &e.window {
            s.push_str(&format!("- **Window:** {w}\n"));
        }
        if let Some(c) = &e.change_class {
            s.push_str(&format!("- **Change class:** {c}\n"));
        }
        if let Some((first, apps)) = e.verified.split_first() {
            s.push_str(&format!("- **Verified in:** {first}\n"));
            for app in apps {
                s.push_str(&format!("  - {app}\n"));
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fixture::promoted;

    #[test]
    fn the_audit_of_a_promotion_names_its_source_commits_approvers_and_soak() {
        let (repos, commit) = promoted();
        let entries = audit(&repos.source, &repos.out, "prod", None).expect("audits");
        assert_eq!(entries.len(), 1, "{entries:#?}");
        let e = &entries[0];
        assert_eq!((e.kind, e.commit.as_str()), ("promotion", commit.as_str()));
        assert_eq!(e.approvers, ["Bob Reviewer <bob@example.com>"]);
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        assert!(e.soaked_in.is_some());
        let authors: Vec<&str> = e
            .source_commits
            .iter()
            .map(|c| c.subject.as_str())
            .collect();
        assert_eq!(authors, ["Add the platform"]);
        let text = audit_markdown("prod", &entries);
        assert!(
            text.starts_with("# Audit trail of `prod`\n\n1 change(s), newest first."),
            "{text}"
        );
        assert!(text.contains("## Promotion 2026-11-10T09:00:00Z"), "{text}");
    }

    #[test]
    fn the_audit_of_an_environment_without_gates_lists_its_publishes() {
        let (repos, _) = promoted();
        let entries = audit(&repos.source, &repos.out, "dev", None).expect("audits");
        let kinds: Vec<&str> = entries.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["publish"]);
    }
}
