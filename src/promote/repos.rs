//! What the repositories say that every workflow asks: the source compiled at a commit, its
//! settings there, the drySha a branch records, and the promotion policy in force.

use std::collections::BTreeMap;
use std::rc::Rc;

use git2::{Oid, Repository};

use crate::compile::{Compiled, Options, Selection};
use crate::git::output::{self};
use crate::git::source::SourceRepo;
use crate::git::{resolve, settings_world_at, short, world_at};
use crate::load::Settings;
use crate::promote::error::PromotionError;
use crate::promote::gates::policy::InForce;

/// Compiles the platform as of a commit of the source repository.
pub(crate) fn compile_at(source: &SourceRepo, rev: &str) -> Result<Compiled, PromotionError> {
    compile_at_with(source, rev, &Options::default())
}

/// [`compile_at`] with what `options` gives: the cache of an earlier compile.
pub(crate) fn compile_at_with(
    source: &SourceRepo,
    rev: &str,
    options: &Options<'_>,
) -> Result<Compiled, PromotionError> {
    let world = world_at(&source.repo, &source.prefix, rev)?;
    crate::compile::compile_with(&world, &Selection::default(), options).map_err(|f| {
        PromotionError::Render {
            rev: rev.to_string(),
            failure: Box::new(f),
        }
    })
}

/// The platform compiled at each source commit one command asks for, compiled once: the
/// site compiles `HEAD` for its checks, and the reproducible gate compiles the proposal, which
/// is most often `HEAD` too.
#[derive(Default)]
pub(crate) struct Compiles(BTreeMap<Oid, Rc<Compiled>>);

impl Compiles {
    /// [`compile_at`], or the compile of the same commit done before. A compile that fails is
    /// not kept: its error is returned each time.
    pub(crate) fn at(
        &mut self,
        source: &SourceRepo,
        rev: &str,
    ) -> Result<Rc<Compiled>, PromotionError> {
        let id = resolve(&source.repo, rev)?.id();
        if let Some(compiled) = self.0.get(&id) {
            return Ok(Rc::clone(compiled));
        }
        let compiled = Rc::new(compile_at(source, rev)?);
        self.0.insert(id, Rc::clone(&compiled));
        Ok(compiled)
    }
}

/// The settings (strata.yaml) as of a commit of the source repository, read and checked alone:
/// the gates, the audit and the site ask for them several times per run, and the rest of the
/// source is read by the compile that needs it.
pub(crate) fn settings_at(source: &SourceRepo, rev: &str) -> Result<Settings, PromotionError> {
    let world = settings_world_at(&source.repo, &source.prefix, rev)?;
    crate::load::settings(&world).map_err(|f| PromotionError::Render {
        rev: rev.to_string(),
        failure: Box::new(f),
    })
}

/// The drySha `branch` records now, if the branch exists and was written by strata.
pub(crate) fn dry_sha_of(out: &Repository, branch: &str) -> Result<Option<String>, PromotionError> {
    Ok(match output::tip(out, branch)? {
        Some(c) => output::metadata_of(out, &c)?.map(|m| m.dry_sha),
        None => None,
    })
}

/// The policy in force for `env` (see [`crate::promote::gates::policy`]), and the settings whose
/// `identities:` apply: those at the drySha `env/<e>` runs, else `proposed`.
pub(crate) fn policy_for(
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
            Some(settings_at(source, &sha)?)
        }
        None => None,
    };
    let has_next = output::tip(out, &format!("{branch}-next"))?.is_some();
    let in_force = crate::promote::gates::policy::in_force(
        env,
        running.as_ref().and_then(|s| s.promotion.as_ref()),
        proposed.promotion.as_ref(),
        has_next,
    );
    Ok((in_force, running.unwrap_or_else(|| proposed.clone())))
}

/// Which branch publish writes an environment to under the policy in force.
pub(crate) fn publish_branch(policy: &InForce, environment: &str) -> String {
    if policy.gated {
        format!("env/{environment}-next")
    } else {
        format!("env/{environment}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fixture::{Repos, START};

    #[test]
    fn the_settings_of_a_commit_are_read_from_strata_yaml_alone() {
        let repos = Repos::new();
        repos.write("components/web/values.yaml", "replicas: [unclosed\n");
        repos.commit("a broken value", "Alice Author", "alice@example.com", START);
        let settings = settings_at(&repos.source, "HEAD").expect("strata.yaml reads");
        assert!(settings.promotion.is_some());
        assert!(
            matches!(
                compile_at(&repos.source, "HEAD"),
                Err(PromotionError::Render { .. })
            ),
            "where the commit is compiled, the broken component still fails it"
        );
    }
}
