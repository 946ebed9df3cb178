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
    crate::promote::error::refuse_checked_out(
        out,
        [format!("env/{env}"), format!("env/{env}-next")]
            .iter()
            .map(String::as_str),
    )?;
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
        msg.push_str("Planned: no\n");
    }
    if let Some(w) = &v.window {
        msg.push_str(&format!("Window: {w}\n"));
    }
    if let Some(c) = &v.change_class {
        msg.push_str(&format!("Change-class: {c}\n"));
    }
    if let Some((summary, apps)) = v.verified.split_first() {
        msg.push_str(&format!("Verified-in: {summary}\n"));
        for app in apps {
            msg.push_str(&format!("Verified-app: {app}\n"));
        }
    }
    if let Some(r) = &v.rollback {
        msg.push_str(&format!("Rollback: {r}\n"));
    }
    msg.push_str(&format!(
        "Render-digest: {}\nEnvironment: {env}\n",
        v.tree_digest
    ));
    let sig = output::signature(&committer.name, &committer.email, committer.at)?;
    let oid = output::commit_onto(
        out,
        &format!("env/{env}"),
        current.as_ref().map(git2::Commit::id),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fixture::{Repos, promoted, request};
    use crate::promote::publish::publish;
    use crate::promote::verify::verify;

    #[test]
    fn a_promotion_merges_the_proposal_and_records_the_evidence() {
        let (repos, commit) = promoted();
        let prod = output::tip(&repos.out, "env/prod")
            .expect("read")
            .expect("env/prod");
        let next = output::tip(&repos.out, "env/prod-next")
            .expect("read")
            .expect("next");
        assert_eq!(prod.id().to_string(), commit);
        assert_eq!(next.id(), prod.id(), "env/prod-next moves to the merge");
        // The first promotion: env/prod did not exist, so its one parent is the proposal.
        assert_eq!(prod.parent_count(), 1);
        let proposal = prod.parent(0).expect("the proposal");
        assert_eq!(proposal.tree_id(), prod.tree_id());
        assert!(
            proposal
                .message()
                .unwrap_or_default()
                .contains("Environment: prod"),
            "{:?}",
            proposal.message()
        );
        let message = prod.message().unwrap_or_default();
        for trailer in [
            "Sha-dry-proposed: ",
            "Soaked-in: ",
            "Approved-by: Bob Reviewer <bob@example.com>",
        ] {
            assert!(message.contains(trailer), "{trailer} in {message}");
        }
        assert_eq!(
            repos.files("env/prod").keys().collect::<Vec<_>>(),
            repos.files("env/prod-next").keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_closed_gate_writes_nothing() {
        let repos = Repos::published();
        let v = verify(
            &repos.source,
            &repos.out,
            &request("2026-11-03T09:00:00Z", None),
        )
        .expect("verify");
        let refused = promote(&repos.out, &v, &repos.committer("2026-11-03T09:00:00Z"));
        assert!(
            matches!(refused, Err(PromotionError::Policy(_))),
            "{refused:?}"
        );
        assert!(output::tip(&repos.out, "env/prod").expect("read").is_none());
    }

    #[test]
    fn a_later_promotion_merges_what_runs_with_the_new_proposal() {
        let (repos, first) = promoted();
        repos.change_web("2026-11-11T09:00:00Z");
        let when = "2026-11-11T10:00:00Z";
        publish(
            &repos.source,
            &repos.out,
            None,
            &repos.committer(when),
            None,
        )
        .expect("publish");
        let later = "2026-11-19T09:00:00Z";
        let v = verify(
            &repos.source,
            &repos.out,
            &request(later, Some(crate::promote::fixture::BOB_APPROVES)),
        )
        .expect("verify");
        assert!(v.open(), "{:#?}", v.gates);
        assert_eq!(
            v.active.as_deref().map(|a| a.len()),
            Some(40),
            "what runs: the first drySha"
        );
        let second = promote(&repos.out, &v, &repos.committer(later)).expect("promote");
        let prod = output::tip(&repos.out, "env/prod")
            .expect("read")
            .expect("env/prod");
        assert_eq!(prod.id().to_string(), second);
        assert_eq!(prod.parent_count(), 2);
        assert_eq!(prod.parent_id(0).expect("parent").to_string(), first);
        let files = repos.files("env/prod");
        let deployment =
            String::from_utf8_lossy(&files["sto2/workload/web/deployment-web.yaml"]).into_owned();
        assert!(deployment.contains("nginx:1.28"), "{deployment}");
    }
}
