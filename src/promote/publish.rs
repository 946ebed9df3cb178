//! `publish`: each environment's rendered tree committed to its branch of the output
//! repository, `env/<e>-next` where the environment is gated.

use std::collections::BTreeMap;

use git2::Repository;
use jiff::Timestamp;
use serde::Serialize;

use crate::compile::{Options, Selection};
use crate::git::output::{self, METADATA_FILE, Metadata};
use crate::git::pack;
use crate::git::source::{Ancestry, SourceRepo};
use crate::git::{resolve, short};
use crate::promote::error::{PromotionError, require_history};
use crate::promote::landing::noted;
use crate::promote::repos::{dry_sha_of, policy_for, publish_branch};
use crate::promote::reuse::{self, Last};

/// Who commits to the output repository.
#[derive(Clone, Debug)]
pub(crate) struct Committer {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) at: Timestamp,
}

#[derive(Debug, Serialize)]
pub(crate) struct Published {
    pub(crate) environment: String,
    pub(crate) branch: String,
    /// The new commit, or `None` when nothing changed (a note records the drySha instead).
    pub(crate) commit: Option<String>,
    pub(crate) dry_sha: String,
    pub(crate) tree_digest: String,
    /// The drySha this publish moved the branch back from, with `--rollback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rolled_back_from: Option<String>,
}

/// Renders the source's committed `HEAD` and commits each environment's tree to its branch.
/// A branch moves only forward in the source's history; `rollback` (a reason) lets it move to
/// an older or unrelated drySha, and the commit records it.
pub(crate) fn publish(
    source: &SourceRepo,
    out: &Repository,
    environment: Option<&str>,
    committer: &Committer,
    rollback: Option<&str>,
) -> Result<Vec<Published>, PromotionError> {
    let rollback = match rollback {
        Some(reason) => Some(
            crate::promote::gates::break_glass::Reason::new(
                "--rollback",
                "web 1.1 breaks logins",
                reason,
            )
            .map_err(|e| PromotionError::Policy(e.to_string()))?,
        ),
        None => None,
    };
    require_history(source, out)?;
    let head = resolve(&source.repo, "HEAD")?;
    let dry_sha = head.id().to_string();
    // What the last publish left lets this one render only the clusters that changed; a
    // publish of one environment renders all of them.
    let world = crate::git::world_at(&source.repo, &source.prefix, &dry_sha)?;
    let build = crate::cache::build_id(crate::render::helm::version_for(&world).as_deref());
    let mut last = environment
        .is_none()
        .then(|| reuse::last(out, &build))
        .flatten();
    let compile = |last: Option<&Last>| {
        let load_cache = || last.map(Last::cache);
        let objects = |cluster: &str| last?.objects(cluster);
        let options = Options {
            build: build.clone(),
            cache: Some(&load_cache),
            cached_objects: Some(&objects),
            ..Options::default()
        };
        crate::compile::compile_with(&world, &Selection::default(), &options).map_err(|f| {
            PromotionError::Render {
                rev: dry_sha.clone(),
                failure: Box::new(f),
            }
        })
    };
    let mut compiled = compile(last.as_ref())?;
    // What each environment keeps of its branch; a record that does not hold up is dropped and
    // every cluster rendered, as if there were none.
    let mut keeps = BTreeMap::new();
    for env in compiled.tree.environments() {
        match reuse::keep(out, &env, &compiled, last.as_ref())? {
            Some(keep) => {
                keeps.insert(env, keep);
            }
            None => {
                last = None;
                break;
            }
        }
    }
    if last.is_none() && !compiled.reused.is_empty() {
        compiled = compile(None)?;
        keeps.clear();
    }
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
    super::error::refuse_checked_out(out, plan.iter().map(|(_, b, _)| b.as_str()))?;
    let mut results = Vec::new();
    let mut written = BTreeMap::new();
    for (env, branch, rolled_back_from) in plan {
        let keep = keeps.remove(&env).unwrap_or_default();
        let files = compiled.tree.environment(&env);
        let digests = reuse::Digests::of(&files, &keep.digests);
        let digest = digests.tree_digest();
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
        let was = current.as_ref().map(git2::Commit::id);
        let hashed = pack::hash_tree_keeping(&files, &keep.kept)?;
        written.insert(
            env.clone(),
            reuse::Written {
                branch: branch.clone(),
                tree: hashed.root.to_string(),
                digests,
            },
        );
        if let Some(tip) = &current {
            // The same files at the same paths: the same tree, but for the metadata.
            if pack::id_without(&tip.tree()?, METADATA_FILE)? == hashed.root {
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
        let tree = hashed
            .with_root_file(METADATA_FILE, json.as_bytes())?
            .write(out)?;
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
        let oid = output::commit_onto(
            out,
            &branch,
            was,
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
    if environment.is_none() {
        reuse::save(out, &compiled, written);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fixture::{self, Repos, START};

    #[test]
    fn publish_commits_each_environment_to_its_branch_and_a_gated_one_to_its_next_branch() {
        let repos = Repos::new();
        let head = repos.source.repo.head().expect("head");
        let head = head.peel_to_commit().expect("commit").id().to_string();
        let published = publish(
            &repos.source,
            &repos.out,
            None,
            &repos.committer(START),
            None,
        )
        .expect("publishes");
        let branches: Vec<(&str, &str, bool)> = published
            .iter()
            .map(|p| {
                (
                    p.environment.as_str(),
                    p.branch.as_str(),
                    p.commit.is_some(),
                )
            })
            .collect();
        assert_eq!(
            branches,
            [("dev", "env/dev", true), ("prod", "env/prod-next", true)]
        );
        assert!(published.iter().all(|p| p.dry_sha == head));
        let files = repos.files("env/prod-next");
        assert!(
            files.contains_key("sto2/workload/web/deployment-web.yaml"),
            "{files:?}"
        );
        let meta: Metadata =
            serde_json::from_slice(&files[METADATA_FILE]).expect("hydrator.metadata");
        assert_eq!(
            (meta.dry_sha.as_str(), meta.environment.as_str()),
            (head.as_str(), "prod")
        );

        // Nothing changed: no commit, a note records the drySha.
        let again = publish(
            &repos.source,
            &repos.out,
            None,
            &repos.committer(START),
            None,
        )
        .expect("publishes");
        assert!(again.iter().all(|p| p.commit.is_none()), "{again:?}");
    }

    #[test]
    fn publish_refuses_to_move_a_branch_back_unless_a_rollback_says_why() {
        let repos = Repos::new();
        let first = repos
            .source
            .repo
            .head()
            .expect("head")
            .peel_to_commit()
            .expect("c")
            .id();
        repos.write(
            "environments/layer.yaml",
            "values:\n  global: {domain: example.org}\n",
        );
        repos.commit(
            "Move the domain",
            "Alice Author",
            "alice@example.com",
            "2026-11-03T09:00:00Z",
        );
        let committer = repos.committer("2026-11-03T10:00:00Z");
        publish(&repos.source, &repos.out, Some("dev"), &committer, None).expect("publishes");

        repos
            .source
            .repo
            .set_head_detached(first)
            .expect("back to the first commit");
        let refused = publish(&repos.source, &repos.out, Some("dev"), &committer, None);
        let Err(PromotionError::Refused(why)) = refused else {
            panic!("not refused: {refused:?}")
        };
        assert!(why.contains("is older than"), "{why}");
        assert!(why.contains("--rollback"), "{why}");

        let rolled = publish(
            &repos.source,
            &repos.out,
            Some("dev"),
            &committer,
            Some("the new domain is not ready"),
        )
        .expect("rolls back");
        assert_eq!(rolled.len(), 1);
        assert!(rolled[0].rolled_back_from.is_some());
        let tip = output::tip(&repos.out, "env/dev")
            .expect("read")
            .expect("tip");
        assert!(
            tip.message()
                .unwrap_or_default()
                .contains("Rollback: the new domain is not ready"),
            "{:?}",
            tip.message()
        );
    }

    /// Publishes HEAD of `repos`' source into a fresh output repository: the trees a publish
    /// without a record writes.
    fn fresh_trees(repos: &Repos) -> Vec<(String, Option<String>, String)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let fresh = Repository::init(dir.path()).expect("init");
        let published =
            publish(&repos.source, &fresh, None, &repos.committer(START), None).expect("publishes");
        trees(&fresh, &published)
    }

    /// Each branch published, its tree without the metadata and its digest.
    fn trees(out: &Repository, published: &[Published]) -> Vec<(String, Option<String>, String)> {
        published
            .iter()
            .map(|p| {
                let tip = output::tip(out, &p.branch).expect("read").expect("tip");
                let tree = pack::id_without(&tip.tree().expect("tree"), METADATA_FILE)
                    .expect("id")
                    .to_string();
                (p.branch.clone(), Some(tree), p.tree_digest.clone())
            })
            .collect()
    }

    #[test]
    fn a_publish_after_a_change_renders_only_it_and_writes_what_a_fresh_publish_writes() {
        let repos = Repos::new();
        let osl2 = "cluster: {role: workload, server: https://prod-osl2.example.com:6443}\n";
        std::fs::create_dir_all(
            repos
                .source
                .repo
                .workdir()
                .expect("workdir")
                .join("environments/prod/osl2"),
        )
        .expect("mkdir");
        repos.write("environments/prod/osl2/workload.cluster.yaml", osl2);
        repos.commit("osl2", "Alice Author", "alice@example.com", START);
        publish_all(&repos);
        let last = reuse::last(&repos.out, &crate::cache::build_id(None)).expect("a record");
        assert_eq!(last.cache().clusters.len(), 3);
        drop(last);

        change_prod_sto2(&repos);
        let again = publish_all(&repos);
        let commits: Vec<(&str, bool)> = again
            .iter()
            .map(|p| (p.branch.as_str(), p.commit.is_some()))
            .collect();
        assert_eq!(commits, [("env/dev", false), ("env/prod-next", true)]);
        assert_eq!(trees(&repos.out, &again), fresh_trees(&repos));
        let files = repos.files("env/prod-next");
        assert!(
            String::from_utf8_lossy(&files["sto2/workload/web/deployment-web.yaml"])
                .contains("replicas: 5")
        );
        assert!(files.contains_key("osl2/workload/web/deployment-web.yaml"));
    }

    /// The sto2 cluster of prod changed and committed after a publish.
    fn change_prod_sto2(repos: &Repos) {
        repos.write(
            "environments/prod/sto2/workload.cluster.yaml",
            "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 5}\n",
        );
        repos.commit("sto2", "Alice Author", "alice@example.com", START);
    }

    fn publish_all(repos: &Repos) -> Vec<Published> {
        publish(
            &repos.source,
            &repos.out,
            None,
            &repos.committer(START),
            None,
        )
        .expect("publishes")
    }

    #[test]
    fn a_record_whose_digests_do_not_add_up_to_the_kept_clusters_files_is_dropped() {
        let short: fn(&mut Vec<(String, Vec<u8>)>) =
            |d| d.retain(|(path, _)| path != "sto2/workload/web/deployment-web.yaml");
        let planted: fn(&mut Vec<(String, Vec<u8>)>) =
            |d| d.push(("zz/planted.yaml".to_string(), vec![7; 32]));
        for edit in [short, planted] {
            let repos = Repos::published();
            change_prod_sto2(&repos);
            reuse::edit_digests(&repos.out, |env, digests| {
                if env == "dev" {
                    edit(digests);
                }
            });
            let again = publish_all(&repos);
            assert_eq!(trees(&repos.out, &again), fresh_trees(&repos));
        }
    }

    #[test]
    fn a_record_that_does_not_read_and_one_of_an_older_strata_are_ignored() {
        let repos = Repos::published();
        change_prod_sto2(&repos);
        let git_dir = repos.out.path().to_path_buf();
        std::fs::write(
            git_dir.join("strata-publish"),
            b"strata publish record 2\n\xff",
        )
        .expect("write");
        std::fs::write(git_dir.join("strata-publish.json"), b"{\"cache\": {}}").expect("write");
        let again = publish_all(&repos);
        assert_eq!(trees(&repos.out, &again), fresh_trees(&repos));
        assert!(!git_dir.join("strata-publish.json").exists());
        let last = reuse::last(&repos.out, &crate::cache::build_id(None)).expect("a record");
        assert_eq!(last.cache().clusters.len(), 2);
    }

    #[test]
    fn a_branch_moved_since_the_last_publish_has_its_clusters_rendered_again() {
        let repos = Repos::published();
        // Someone replaces env/dev's tree by hand.
        let tip = output::tip(&repos.out, "env/dev")
            .expect("read")
            .expect("tip");
        let mut files = output::files_of(&repos.out, &tip.tree().expect("tree")).expect("files");
        files.remove("sto2/workload/web/deployment-web.yaml");
        let tree = output::write_tree(&repos.out, &files).expect("tree");
        let sig = output::signature("x", "x@example.com", fixture::at(START)).expect("sig");
        output::commit(
            &repos.out,
            "env/dev",
            tree,
            &[tip.id()],
            "by hand",
            &sig,
            &sig,
        )
        .expect("commit");
        let last = reuse::last(&repos.out, &crate::cache::build_id(None)).expect("a record");
        let kept: Vec<&String> = last.cache().clusters.keys().collect();
        assert_eq!(kept, ["prod-sto2-workload"]);
        drop(last);

        let again = publish(
            &repos.source,
            &repos.out,
            None,
            &repos.committer(START),
            None,
        )
        .expect("publishes");
        assert!(again[0].commit.is_some(), "{again:?}");
        assert!(
            repos
                .files("env/dev")
                .contains_key("sto2/workload/web/deployment-web.yaml")
        );
        assert_eq!(trees(&repos.out, &again), fresh_trees(&repos));
    }
}
