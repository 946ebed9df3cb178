//! For the workflows' tests: a source repository holding the test platform with a promotion
//! policy (dev, then prod after 5 working days and one approval), and an empty output
//! repository, both real git repositories in temp dirs.

use git2::{Repository, Signature, Time};
use jiff::Timestamp;

use crate::git::source::SourceRepo;
use crate::promote::publish::Committer;
use crate::world::World as _;

/// The promotion policy of the test platform.
pub(crate) const POLICY: &str = "promotion:\n  order: [dev, prod]\n  soak: {workingDays: 5, timezone: Europe/Stockholm}\n  approvals: {distinct: 1}\n";

/// When the platform's first commit is made: a Monday.
pub(crate) const START: &str = "2026-11-02T09:00:00Z";

pub(crate) struct Repos {
    source_dir: tempfile::TempDir,
    /// Kept for as long as the repositories are used.
    _out_dir: tempfile::TempDir,
    pub(crate) source: SourceRepo,
    pub(crate) out: Repository,
}

pub(crate) fn at(rfc3339: &str) -> Timestamp {
    rfc3339.parse().expect("an RFC 3339 time")
}

impl Repos {
    /// The platform committed by Alice at [`START`].
    pub(crate) fn new() -> Repos {
        let source_dir = tempfile::tempdir().expect("tempdir");
        let out_dir = tempfile::tempdir().expect("tempdir");
        let platform = crate::testing::platform();
        for (path, bytes) in platform.files() {
            let to = source_dir.path().join(path);
            std::fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&to, bytes).expect("write");
        }
        let settings = source_dir.path().join("strata.yaml");
        let text = std::fs::read_to_string(&settings).expect("read");
        std::fs::write(&settings, format!("{text}{POLICY}")).expect("write");
        Repository::init(source_dir.path()).expect("init source");
        Repository::init(out_dir.path()).expect("init output");
        let repos = Repos {
            source: SourceRepo::open(source_dir.path()).expect("open source"),
            out: Repository::open(out_dir.path()).expect("open output"),
            source_dir,
            _out_dir: out_dir,
        };
        repos.commit(
            "Add the platform",
            "Alice Author",
            "alice@example.com",
            START,
        );
        repos
    }

    /// [`Repos::new`], published by strata-bot at [`START`].
    pub(crate) fn published() -> Repos {
        let repos = Repos::new();
        crate::promote::publish::publish(
            &repos.source,
            &repos.out,
            None,
            &repos.committer(START),
            None,
        )
        .expect("publish");
        repos
    }

    /// A second change of the source, by Alice at `when`: web runs nginx 1.28.
    pub(crate) fn change_web(&self, when: &str) -> String {
        self.write(
            "components/web/values.yaml",
            "replicas: 2\nimage: nginx:1.28\n",
        );
        self.commit("web 1.28", "Alice Author", "alice@example.com", when)
    }

    /// Writes `text` to `path` of the source.
    pub(crate) fn write(&self, path: &str, text: &str) {
        std::fs::write(self.source_dir.path().join(path), text).expect("write");
    }

    /// Commits the whole source working tree, by `name <email>` at `when`: the commit's id.
    pub(crate) fn commit(&self, subject: &str, name: &str, email: &str, when: &str) -> String {
        let repo = &self.source.repo;
        let sig = Signature::new(name, email, &Time::new(at(when).as_second(), 0)).expect("sig");
        let mut index = repo.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        index.write().expect("write index");
        let tree = repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("tree");
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, subject, &tree, &parents)
            .expect("commit")
            .to_string()
    }

    /// Who publishes and promotes, at `when`.
    pub(crate) fn committer(&self, when: &str) -> Committer {
        Committer {
            name: "strata-bot".into(),
            email: "bot@example.com".into(),
            at: at(when),
        }
    }

    /// The files of `branch` of the output repository.
    pub(crate) fn files(&self, branch: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
        let tip = crate::git::output::tip(&self.out, branch)
            .expect("read")
            .expect("the branch");
        crate::git::output::files_of(&self.out, &tip.tree().expect("tree")).expect("files")
    }
}

/// Bob's approval, in the format of `--approvals`.
pub(crate) const BOB_APPROVES: &str = r#"[{"name": "Bob Reviewer", "email": "bob@example.com"}]"#;

/// The request to promote to prod at `now`, by Paula, with `approvals`.
pub(crate) fn request(
    now: &str,
    approvals: Option<&str>,
) -> crate::promote::verify::PromotionRequest {
    crate::promote::verify::PromotionRequest {
        environment: "prod".into(),
        now: at(now),
        approvals: approvals.map(str::to_string),
        promoter: Some(crate::promote::gates::identity::Identity::new(
            "Paula Promoter",
            "paula@example.com",
        )),
        emergency: None,
        argocd_status: None,
    }
}

/// The platform published at [`START`] and promoted to prod a week later with Bob's approval:
/// the repositories and the merge commit.
pub(crate) fn promoted() -> (Repos, String) {
    let repos = Repos::published();
    let when = "2026-11-10T09:00:00Z";
    let v = crate::promote::verify::verify(
        &repos.source,
        &repos.out,
        &request(when, Some(BOB_APPROVES)),
    )
    .expect("verify");
    let commit = crate::promote::promotion::promote(&repos.out, &v, &repos.committer(when))
        .expect("promote");
    (repos, commit)
}
