//! Commands on the output repository: publish, verify-promotion, promote, audit, status, and
//! the branch protection to put around them.

use std::path::Path;

use anyhow::{Context as _, Result};
use jiff::Timestamp;

use crate::git::output;
use crate::git::promotion::{self, Committer, PromotionError, PromotionRequest, SourceRepo};
use crate::promote::gate::render_human;
use crate::promote::identity::Identity;

use super::commands::{print_json, report};
use super::{AuditFormat, Exit, Forge, Format, GateArgs};

pub fn now(given: Option<&str>) -> Result<Timestamp> {
    match given {
        None => Ok(Timestamp::now()),
        Some(s) => s
            .parse::<Timestamp>()
            .with_context(|| format!("--now {s:?} is not an RFC 3339 time\nhint: write it like 2026-12-01T14:00:00+01:00 or 2026-12-01T13:00:00Z")),
    }
}

fn committer(out: &git2::Repository, given: Option<&str>, at: Timestamp) -> Result<Committer> {
    if let Some(g) = given {
        let id = Identity::parse(g)
            .with_context(|| format!("--committer {g:?} is not \"Name <email>\""))?;
        return Ok(Committer {
            name: id.name,
            email: id.email,
            at,
        });
    }
    let cfg = out.config().ok();
    let get = |k: &str| cfg.as_ref().and_then(|c| c.get_string(k).ok());
    Ok(Committer {
        name: get("user.name").unwrap_or_else(|| "strata".into()),
        email: get("user.email").unwrap_or_else(|| "strata@localhost".into()),
        at,
    })
}

/// Prints a promotion error and picks the exit code: a source that does not compile is
/// found (1); everything else means strata could not run (2).
fn failed(e: PromotionError) -> Exit {
    match e {
        PromotionError::Render { rev, failure } => {
            eprintln!("error: the source at {rev} does not compile:");
            report(&failure.diagnostics, &failure.texts)
        }
        PromotionError::Policy(msg) => {
            eprintln!("error: {msg}");
            Exit::Failed
        }
        PromotionError::Git(g) => {
            eprintln!("error: {g}");
            Exit::Failed
        }
        PromotionError::MissingHistory(msg) => {
            eprintln!("error: {msg}");
            Exit::Failed
        }
        PromotionError::Refused(msg) => {
            eprintln!("error: {msg}");
            Exit::Found
        }
    }
}

fn source_repo(root: &Path, given: Option<&Path>) -> Result<SourceRepo> {
    let path = given.unwrap_or(root);
    SourceRepo::open(path).with_context(|| format!("{} is not in a git repository\nhint: publish and promotion read the source from git; commit it first", path.display()))
}

fn output_repo(path: &Path) -> Result<git2::Repository> {
    output::open(path).with_context(|| {
        format!("{} is not a git repository\nhint: --repo is a local clone of the output repository (git init or git clone it first)", path.display())
    })
}

pub fn publish(
    root: &Path,
    repo: &Path,
    env: Option<&str>,
    who: Option<&str>,
    rollback: Option<&str>,
    now: Timestamp,
    format: Format,
) -> Result<Exit> {
    let source = source_repo(root, None)?;
    let out = output_repo(repo)?;
    let committer = committer(&out, who, now)?;
    let uncommitted = source.uncommitted();
    let published = match promotion::publish(&source, &out, env, &committer, rollback) {
        Ok(p) => p,
        Err(e) => return Ok(failed(e)),
    };
    if let (false, Some(p)) = (uncommitted.is_empty(), published.first()) {
        let shown: Vec<&str> = uncommitted.iter().take(5).map(String::as_str).collect();
        let more = uncommitted.len().saturating_sub(shown.len());
        eprintln!(
            "warning: published HEAD {}; {} uncommitted change(s) in the source are not in it: {}{}\nhint: commit them and publish again to publish them",
            promotion::short(&p.dry_sha),
            uncommitted.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    match format {
        Format::Json => print_json(&published)?,
        Format::Human => {
            for p in &published {
                match &p.commit {
                    Some(c) => println!(
                        "{}: committed {} ({} from {}){}",
                        p.branch,
                        promotion::short(c),
                        p.tree_digest,
                        promotion::short(&p.dry_sha),
                        p.rolled_back_from
                            .as_deref()
                            .map(|r| format!(", rolled back from {}", promotion::short(r)))
                            .unwrap_or_default()
                    ),
                    None => println!(
                        "{}: unchanged; noted drySha {} on refs/notes/hydrator.metadata",
                        p.branch,
                        promotion::short(&p.dry_sha)
                    ),
                }
            }
        }
    }
    Ok(Exit::Clean)
}

fn request(env: &str, gates: &GateArgs, now: Timestamp) -> Result<PromotionRequest> {
    let approvals = match &gates.approvals {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the approvals file {}", p.display()))?,
        ),
        None => None,
    };
    let promoter = match &gates.promoter {
        Some(p) => Some({
            p.split(['<', '>'])
                .try_for_each(crate::promote::identity::plain)
                .with_context(|| format!("--promoter {p:?} cannot name a person"))?;
            Identity::parse(p)
                .or_else(|| p.contains('@').then(|| Identity::new("", p)))
                .with_context(|| format!("--promoter {p:?} is not \"Name <email>\" or an email"))?
        }),
        None => None,
    };
    Ok(PromotionRequest {
        environment: env.to_string(),
        now,
        approvals,
        promoter,
        emergency: gates.emergency.clone(),
    })
}

pub fn verify(
    root: &Path,
    repo: &Path,
    env: &str,
    gates: &GateArgs,
    now: Timestamp,
    format: Format,
) -> Result<Exit> {
    let source = source_repo(root, gates.source.as_deref())?;
    let out = output_repo(repo)?;
    let v = match promotion::verify(&source, &out, &request(env, gates, now)?) {
        Ok(v) => v,
        Err(e) => return Ok(failed(e)),
    };
    match format {
        Format::Json => print_json(&v)?,
        Format::Human => {
            println!(
                "promoting {} \"{}\" to {env} (from env/{env}-next)",
                promotion::short(&v.proposed),
                v.proposed_subject
            );
            print!("{}", render_human(env, &v.gates));
        }
    }
    Ok(if v.open() { Exit::Clean } else { Exit::Found })
}

pub fn promote(
    root: &Path,
    repo: &Path,
    env: &str,
    gates: &GateArgs,
    who: Option<&str>,
    now: Timestamp,
    format: Format,
) -> Result<Exit> {
    let source = source_repo(root, gates.source.as_deref())?;
    let out = output_repo(repo)?;
    let v = match promotion::verify(&source, &out, &request(env, gates, now)?) {
        Ok(v) => v,
        Err(e) => return Ok(failed(e)),
    };
    if !v.open() {
        match format {
            Format::Json => print_json(&serde_json::json!({"promoted": false, "verification": v}))?,
            Format::Human => {
                print!("{}", render_human(env, &v.gates));
                eprintln!("nothing was written: every gate must be open to promote");
            }
        }
        return Ok(Exit::Found);
    }
    let committer = committer(&out, who, now)?;
    let commit = match promotion::promote(&out, &v, &committer) {
        Ok(c) => c,
        Err(e) => return Ok(failed(e)),
    };
    match format {
        Format::Json => {
            print_json(&serde_json::json!({"promoted": true, "commit": commit, "verification": v}))?
        }
        Format::Human => {
            print!("{}", render_human(env, &v.gates));
            println!(
                "env/{env}: merged env/{env}-next as {}",
                promotion::short(&commit)
            );
            println!("push it: git push origin env/{env} env/{env}-next");
        }
    }
    Ok(Exit::Clean)
}

pub fn audit(
    root: &Path,
    repo: &Path,
    env: &str,
    since: Option<&str>,
    format: AuditFormat,
) -> Result<Exit> {
    let source = source_repo(root, None)?;
    let out = output_repo(repo)?;
    let since = match since {
        None => None,
        Some(s) => Some(
            s.parse::<Timestamp>()
                .ok()
                .or_else(|| {
                    let d = s.parse::<jiff::civil::Date>().ok()?;
                    let z = d
                        .to_datetime(jiff::civil::Time::midnight())
                        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                        .ok()?;
                    Some(z.timestamp())
                })
                .with_context(|| {
                    format!("--since {s:?} is neither a date (2026-01-31) nor an RFC 3339 time")
                })?,
        ),
    };
    let entries = match promotion::audit(&source, &out, env, since) {
        Ok(e) => e,
        Err(e) => return Ok(failed(e)),
    };
    match format {
        AuditFormat::Json => print_json(&entries)?,
        AuditFormat::Markdown => print!("{}", promotion::audit_markdown(env, &entries)),
    }
    Ok(Exit::Clean)
}

pub fn status(root: &Path, repo: &Path, now: Timestamp, format: Format) -> Result<Exit> {
    let source = source_repo(root, None)?;
    let out = output_repo(repo)?;
    let s = match promotion::status(&source, &out, now) {
        Ok(s) => s,
        Err(e) => return Ok(failed(e)),
    };
    match format {
        Format::Json => print_json(&s)?,
        Format::Human => print!("{}", promotion::status_human(&s)),
    }
    Ok(if s.has_problems() {
        Exit::Found
    } else {
        Exit::Clean
    })
}

pub fn protection(forge: Forge, publisher: &str) -> Result<Exit> {
    match forge {
        Forge::Github => {
            let ruleset = serde_json::json!({
                "name": "strata environments",
                "target": "branch",
                "enforcement": "active",
                "conditions": {"ref_name": {"include": ["refs/heads/env/*"], "exclude": []}},
                "bypass_actors": [{"actor_type": "Integration", "actor_id": 0, "bypass_mode": "always",
                    "_comment": format!("replace actor_id with the id of the GitHub App or user `{publisher}` that runs strata publish/promote; only it may push")}],
                "rules": [
                    {"type": "creation"},
                    {"type": "deletion"},
                    {"type": "non_fast_forward"},
                    {"type": "update", "parameters": {"update_allows_fetch_and_merge": false}},
                    {"type": "pull_request", "parameters": {
                        "required_approving_review_count": 1,
                        "dismiss_stale_reviews_on_push": true,
                        "require_last_push_approval": true,
                        "require_code_owner_review": false,
                        "required_review_thread_resolution": false
                    }},
                    {"type": "required_status_checks", "parameters": {
                        "strict_required_status_checks_policy": true,
                        "required_status_checks": [{"context": "strata verify-promotion"}]
                    }}
                ]
            });
            println!("{}", serde_json::to_string_pretty(&ruleset)?);
        }
        Forge::Gitlab => {
            println!(
                "# GitLab: protect env/* so that only {publisher} pushes, and gate merges.\n\
# 1. Protected branch (Settings → Repository → Protected branches, or the API):\n\
curl --request POST --header \"PRIVATE-TOKEN: $TOKEN\" \\\n\
  \"$CI_API_V4_URL/projects/$PROJECT_ID/protected_branches\" \\\n\
  --data-urlencode 'name=env/*' --data 'push_access_level=0' --data 'merge_access_level=40' \\\n\
  --data 'allow_force_push=false' --data-urlencode 'allowed_to_push[][user_id]=<id of {publisher}>'\n\
# 2. Approval rule: one approval from someone other than the author and the last pusher:\n\
curl --request PUT --header \"PRIVATE-TOKEN: $TOKEN\" \"$CI_API_V4_URL/projects/$PROJECT_ID/approvals\" \\\n\
  --data 'merge_requests_author_approval=false' --data 'merge_requests_disable_committers_approval=true' \\\n\
  --data 'reset_approvals_on_push=true'\n\
curl --request POST --header \"PRIVATE-TOKEN: $TOKEN\" \"$CI_API_V4_URL/projects/$PROJECT_ID/approval_rules\" \\\n\
  --data 'name=strata promotion' --data 'approvals_required=1' --data-urlencode 'protected_branch_ids[]=<id of env/*>'\n\
# 3. Pipelines must succeed: the MR pipeline runs `strata verify-promotion`:\n\
curl --request PUT --header \"PRIVATE-TOKEN: $TOKEN\" \"$CI_API_V4_URL/projects/$PROJECT_ID\" \\\n\
  --data 'only_allow_merge_if_pipeline_succeeds=true'"
            );
        }
    }
    Ok(Exit::Clean)
}

pub fn check(root: &Path, repo: &Path, env: Option<&str>, format: Format) -> Result<Exit> {
    let source = source_repo(root, None)?;
    let out = output_repo(repo)?;
    let checks = match promotion::check_repo(&source, &out, env) {
        Ok(c) => c,
        Err(e) => return Ok(failed(e)),
    };
    if checks.is_empty() {
        anyhow::bail!(
            "{} has no env/* branches{}\nhint: run `strata publish --repo {}` first",
            repo.display(),
            env.map(|e| format!(" for {e}")).unwrap_or_default(),
            repo.display()
        );
    }
    match format {
        Format::Json => print_json(&checks)?,
        Format::Human => print!("{}", promotion::check_repo_human(&checks)),
    }
    Ok(if checks.iter().all(|c| c.is_clean()) {
        Exit::Clean
    } else {
        Exit::Found
    })
}
