//! `promote`: the merge commit of `env/<e>-next` into `env/<e>`, when every gate is open.

use git2::{Oid, Repository};

use crate::git::output::{self};
use crate::git::short;
use crate::promote::error::PromotionError;
use crate::promote::publish::Committer;
use crate::promote::verify::Verification;

/// Merges `env/<e>-next` into `env/<e>` when every gate is open. Returns the merge commit.
pub(crate) fn promote(
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
    // later move of env/<e> back past it shows (see `crate::promote::history`).
    out.reference(
        &format!("refs/heads/env/{env}-next"),
        oid,
        true,
        &format!("strata: promoted as {}", short(&oid.to_string())),
    )?;
    Ok(oid.to_string())
}
