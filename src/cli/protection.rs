//! `strata protection`: the branch protection to apply to env/* on a forge.

use anyhow::Result;
use clap::ValueEnum;

use super::report::Exit;

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[arg(long, value_enum)]
    forge: Forge,
    /// The identity (GitHub app/user or GitLab user) that publishes and promotes.
    #[arg(long, value_name = "WHO", default_value = "strata-bot")]
    publisher: String,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(super) enum Forge {
    Github,
    Gitlab,
}

/// Which gates the required check can hold on the forge, and which only `strata promote` holds
/// at the moment it merges: the forge keeps a check's verdict until the head changes, and time
/// moves on without one.
const GATES_ON_THE_FORGE: &str = "\
# What the required check `strata verify-promotion` enforces when the forge merges:
#   history, reproducible, four-eyes (--approvals from the pull request), change-class and
#   healthy (--argocd-status, exported in the check's job) are judged on the head the check ran
#   on; dismissing stale approvals and strict checks make the forge re-run it when that moves.
#   soaked only grows, so a soak that passed stays passed.
#   window is judged when the check runs, and a window closes: a check that passed at 11:50
#   still lets the pull request merge at 13:00. To hold the window, merge with `strata promote`,
#   which judges every gate at the moment it merges, or have a merge queue re-run the check.
";

pub(super) fn run(args: &Args) -> Result<Exit> {
    let publisher = args.publisher.as_str();
    match args.forge {
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
            // stderr, so that stdout stays the JSON to post.
            eprint!("{GATES_ON_THE_FORGE}");
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
            print!("{GATES_ON_THE_FORGE}");
        }
    }
    Ok(Exit::Clean)
}
