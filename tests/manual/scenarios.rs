//! The states the README's examples run in, each made once per test run and copied for every
//! block that names it.
//!
//! A fixture is a directory that the README shows as `/home/alice`: the source repository is
//! `platform/` in it, the output repository (bare) `platform-rendered/`. Every git and strata
//! step runs with fixed names and times, so every commit hash is the same on every run.
//!
//! | scenario | state |
//! |---|---|
//! | `platform` | the example platform (strata.yaml, components/, environments/) |
//! | `platform/broken` | `replicas: three` for ingress-nginx in environments/prod/layer.yaml |
//! | `platform/old-render` | golden/, and ../old-render: golden/ with a file changed, one missing, one extra |
//! | `platform/output-dot` | `output: {dir: .}` in strata.yaml |
//! | `platform/policy-levels` | no `policies.registries`; `image-pinned` warns in non-prod |
//! | `git/change` | the platform committed by Alice; ingress-nginx 1.11.4 in the working tree |
//! | `promotion/first` | the platform committed on 2026-10-01; an empty output repository |
//! | `promotion/proposed` | published, promoted into prod on 2026-11-04; ingress-nginx 1.11.4 committed, published on 2026-11-25, waiting on env/prod-next; argocd-non-prod.yaml: non-prod's Applications, healthy on it |
//! | `promotion/uncommitted` | `promotion/proposed` with an uncommitted change in environments/layer.yaml |
//! | `promotion/promoted` | 1.11.4 promoted into prod on 2026-12-02 |
//! | `promotion/next` | then "HSTS for two years" committed and published on 2026-12-07 |
//! | `platform/privileged` | ingress-nginx's controller runs privileged |
//! | `platform/helm-flag` | network-policies runs `kubectl kustomize --enable-helm …` |
//! | `platform/argocd-cluster` | a cluster file under environments/non-prod/argocd/ |
//! | `platform/left-file` | rendered, a rendered file of kured edited, kured disabled on prod-sto2-workload |
//! | `drift/live` | live.yaml: prod-sto2-workload as its cluster has it, changed by hand |
//! | `drift/scaled` | live.yaml: prod-sto2-workload with ingress-nginx scaled to 7 |
//! | `drift/scaled-ignored` | that, and ingress-nginx ignores `/spec/replicas` |
//! | `promotion/emergency` | `promotion/next`, then promoted by break-glass on 2026-12-08 |
//! | `promotion/soak-zero` | `promotion/promoted`, then a commit that sets `workingDays: 0`, published |
//! | `promotion/moved-back` | `promotion/emergency`, a next change published, env/prod moved back a promotion |
//! | `promotion/next-edited` | `promotion/next`, then env/prod-next edited by hand |
//! | `promotion/direct-push` | `promotion/next`, then a commit pushed straight to env/prod |
//! | `promotion/tampered` | `promotion/next`, then env/non-prod edited by hand and a source commit left unpublished |
//!
//! A `platform/…` or `drift/…` scenario starts from `platform`; a `promotion/…` one from the one
//! before it (see `parent`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The author and committer time of git commands an example runs itself.
pub const EXAMPLE_TIME: &str = "2026-12-01T09:00:00Z";

const ALICE: (&str, &str) = ("Alice Author", "alice@example.com");
const BOT: &str = "strata-bot <strata-bot@example.com>";

/// A copy of a scenario, removed when dropped.
pub struct Fixture {
    _dir: tempfile::TempDir,
    home: PathBuf,
}

impl Fixture {
    /// The directory shown as `/home/alice`.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The source repository, where examples run.
    pub fn source(&self) -> PathBuf {
        self.home.join("platform")
    }
}

/// Fixed names, dates and configuration for a git or strata process, so that nothing of the
/// machine's reaches the output.
pub fn fixed_env(command: &mut Command, home: &Path, when: &str) {
    command
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", ALICE.0)
        .env("GIT_AUTHOR_EMAIL", ALICE.1)
        .env("GIT_COMMITTER_NAME", ALICE.0)
        .env("GIT_COMMITTER_EMAIL", ALICE.1)
        .env("GIT_AUTHOR_DATE", when)
        .env("GIT_COMMITTER_DATE", when)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
}

/// A fresh copy of the named scenario.
pub fn instantiate(name: &str) -> Result<Fixture, String> {
    let template = template(name)?;
    let dir = tempfile::Builder::new()
        .prefix("manual-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .map_err(|e| e.to_string())?;
    let home = dir.path().canonicalize().map_err(|e| e.to_string())?;
    copy_dir(&template, &home)?;
    Ok(Fixture { _dir: dir, home })
}

/// The scenario's template directory, made on first use.
fn template(name: &str) -> Result<PathBuf, String> {
    static MADE: OnceLock<Mutex<BTreeMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let made = MADE.get_or_init(|| {
        let _ = std::fs::remove_dir_all(templates_dir());
        Mutex::new(BTreeMap::new())
    });
    let mut made = made.lock().unwrap_or_else(|e| e.into_inner());
    template_in(&mut made, name)
}

fn template_in(
    made: &mut BTreeMap<String, Result<PathBuf, String>>,
    name: &str,
) -> Result<PathBuf, String> {
    if let Some(done) = made.get(name) {
        return done.clone();
    }
    let dir = templates_dir().join(name.replace('/', "--"));
    let result = (|| {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let home = dir.canonicalize().map_err(|e| e.to_string())?;
        // A scenario that continues another starts from a copy of it.
        if let Some(parent) = parent(name) {
            copy_dir(&template_in(made, parent)?, &home)?;
        }
        build(name, &Steps { home: &home })?;
        Ok(home)
    })();
    made.insert(name.to_string(), result.clone());
    result
}

/// Where this process keeps its templates: its own directory, so that two test runs at once do
/// not build into each other's.
fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("manual-scenarios-{}", std::process::id()))
}

/// Removes the templates this process made.
pub fn clean_up() {
    let _ = std::fs::remove_dir_all(templates_dir());
}

/// The scenario a scenario continues.
fn parent(name: &str) -> Option<&'static str> {
    Some(match name {
        "platform" | "promotion/first" => return None,
        "git/change" | "promotion/proposed" => "promotion/first",
        "promotion/promoted" | "promotion/uncommitted" => "promotion/proposed",
        "promotion/next" => "promotion/promoted",
        "promotion/tampered"
        | "promotion/emergency"
        | "promotion/next-edited"
        | "promotion/direct-push" => "promotion/next",
        "promotion/soak-zero" => "promotion/promoted",
        "promotion/moved-back" => "promotion/emergency",
        _ => "platform",
    })
}

/// The step that makes `name` from its parent.
fn build(name: &str, s: &Steps) -> Result<(), String> {
    match name {
        "platform" => s.platform(),
        "platform/broken" => s.edit(
            "environments/prod/layer.yaml",
            "without dropping traffic.\n      replicas: 2",
            "without dropping traffic.\n      replicas: three",
        ),
        "platform/old-render" => s.old_render(),
        "platform/output-dot" => s.edit("strata.yaml", "dir: rendered", "dir: ."),
        "platform/policy-levels" => s.edit(
            "strata.yaml",
            "  registries:\n    # Images come only from the environment's own Harbor (global.registry of each cluster).\n    non-prod: [\"{{ global.registry }}\"]\n    prod: [\"{{ global.registry }}\"]\n",
            "  rules:\n    image-pinned: {non-prod: warn, prod: deny}\n",
        ),
        "platform/privileged" => s.edit(
            "components/ingress-nginx/templates/deployment.yaml",
            "privileged: false",
            "privileged: true",
        ),
        "platform/helm-flag" => s.edit(
            "components/network-policies/component.yaml",
            "command: [kubectl, kustomize, kustomize/]",
            "command: [kubectl, kustomize, --enable-helm, --helm-command, ./kz/helm.sh, kustomize/]",
        ),
        "platform/argocd-cluster" => {
            std::fs::create_dir_all(s.source().join("environments/non-prod/argocd"))
                .map_err(|e| e.to_string())?;
            s.write(
                "environments/non-prod/argocd/apps.cluster.yaml",
                "cluster: {role: workload, server: https://apps.example.com:6443}\n",
            )
        }
        "platform/left-file" => {
            s.strata(&["render"])?;
            s.edit(
                "rendered/prod/sto2/workload/kured/daemonset-kured.yaml",
                "kind: DaemonSet\n",
                "kind: DaemonSet\n# patched by hand during an incident\n",
            )?;
            s.edit(
                "environments/prod/sto2/workload.cluster.yaml",
                "values:\n",
                "components:\n  kured: false\nvalues:\n",
            )
        }
        "drift/live" => s.live(Tampering::All),
        "drift/scaled" => s.live(Tampering::Scaled),
        "drift/scaled-ignored" => {
            s.live(Tampering::Scaled)?;
            s.edit(
                "components/ingress-nginx/component.yaml",
                "syncWave: 2\n",
                "syncWave: 2\nignoreDifferences: [{group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}]\n",
            )
        }
        "promotion/first" => s.platform_repo(),
        "git/change" => s.ingress_nginx_1_11_4(),
        "promotion/proposed" => s.proposed(),
        "promotion/promoted" => s.promoted(),
        "promotion/next" => s.next(),
        "promotion/tampered" => s.tampered(),
        "promotion/emergency" => s.emergency(),
        "promotion/uncommitted" => s.edit(
            "environments/layer.yaml",
            "values:\n",
            "# TODO: move to the new registry\nvalues:\n",
        ),
        "promotion/soak-zero" => s.soak_zero(),
        "promotion/moved-back" => s.moved_back(),
        "promotion/next-edited" => s.hand_edit(
            "env/prod-next",
            "2026-12-08T08:00:00Z",
            &[(DEPLOYMENT, Some(("  replicas: 3\n", "  replicas: 4\n")))],
        ),
        "promotion/direct-push" => s.hand_edit(
            "env/prod",
            "2026-12-09T10:00:00Z",
            &[(DEPLOYMENT, Some(("  replicas: 3\n", "  replicas: 4\n")))],
        ),
        other => Err(format!(
            "no scenario `{other}` (see tests/manual/scenarios.rs)"
        )),
    }
}

/// The export of non-prod's Argo CD Applications that the healthy gate reads, in the source
/// repository (git ignores it).
const ARGOCD_STATUS: &str = "argocd-non-prod.yaml";

/// ingress-nginx's Deployment on a workload cluster, in an environment's branch.
const DEPLOYMENT: &str = "sto2/workload/ingress-nginx/deployment-ingress-nginx-controller.yaml";

/// What someone did to the live cluster.
enum Tampering {
    /// Scaled ingress-nginx to 7 replicas, as an HPA would.
    Scaled,
    /// Scaled it and swapped its image; deleted fluentd's ConfigMap; left an orphan.
    All,
}

struct Steps<'a> {
    home: &'a Path,
}

impl Steps<'_> {
    fn source(&self) -> PathBuf {
        self.home.join("platform")
    }

    /// The example platform, copied from this repository.
    fn platform(&self) -> Result<(), String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let source = self.source();
        std::fs::create_dir_all(&source).map_err(|e| e.to_string())?;
        for entry in ["components", "environments"] {
            let to = source.join(entry);
            std::fs::create_dir_all(&to).map_err(|e| e.to_string())?;
            copy_dir(&root.join(entry), &to)?;
        }
        std::fs::copy(root.join("strata.yaml"), source.join("strata.yaml"))
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    fn edit(&self, rel: &str, from: &str, to: &str) -> Result<(), String> {
        let path = self.source().join(rel);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
        if !text.contains(from) {
            return Err(format!("{rel} no longer holds `{from}`"));
        }
        std::fs::write(&path, text.replacen(from, to, 1)).map_err(|e| e.to_string())
    }

    fn write(&self, rel: &str, text: &str) -> Result<(), String> {
        std::fs::write(self.source().join(rel), text).map_err(|e| format!("{rel}: {e}"))
    }

    /// The platform as the first commit of a source repository, golden/ left out, and an
    /// empty bare output repository.
    fn platform_repo(&self) -> Result<(), String> {
        self.platform()?;
        self.git(&self.source(), &["init", "-q", "-b", "main"], EXAMPLE_TIME)?;
        self.git(
            &self.source(),
            &["config", "user.name", "Paula Promoter"],
            EXAMPLE_TIME,
        )?;
        self.git(
            &self.source(),
            &["config", "user.email", "paula@example.com"],
            EXAMPLE_TIME,
        )?;
        // hydrator.metadata records the origin's URL, else the repository's path.
        self.git(
            &self.source(),
            &[
                "remote",
                "add",
                "origin",
                "https://git.example.com/welkin/platform.git",
            ],
            EXAMPLE_TIME,
        )?;
        // What examples leave in the working tree is not the source's.
        std::fs::write(
            self.source().join(".git/info/exclude"),
            "/rendered/\n/*.json\n/live.yaml\n/argocd-non-prod.yaml\n",
        )
        .map_err(|e| e.to_string())?;
        self.commit("Add the Welkin platform", "2026-10-01T08:00:00Z")?;
        let out = self.home.join("platform-rendered");
        self.git(
            self.home,
            &["init", "-q", "--bare", "-b", "main", "platform-rendered"],
            EXAMPLE_TIME,
        )?;
        self.git(&out, &["config", "user.name", "strata-bot"], EXAMPLE_TIME)?;
        self.git(
            &out,
            &["config", "user.email", "strata-bot@example.com"],
            EXAMPLE_TIME,
        )?;
        self.write(
            "alice.json",
            "[{\"name\": \"Alice Author\", \"email\": \"alice+review@example.com\"}]\n",
        )?;
        self.write(
            "invisible.json",
            "[{\"name\": \"Alice\", \"email\": \"alice@example.com\u{200b}\"}]\n",
        )?;
        self.write(
            "bob-dora.json",
            "[{\"name\": \"Bob Reviewer\", \"email\": \"bob@example.com\"}, {\"name\": \"Dora Duty\", \"email\": \"dora@example.com\"}]\n",
        )?;
        self.write(
            "bob.json",
            "[{\"name\": \"Bob Reviewer\", \"email\": \"bob@example.com\"}]\n",
        )
    }

    fn ingress_nginx_1_11_4(&self) -> Result<(), String> {
        self.edit(
            "components/ingress-nginx/component.yaml",
            "version: 1.11.3",
            "version: 1.11.4",
        )?;
        self.edit(
            "components/ingress-nginx/values.yaml",
            "tag: v1.11.3",
            "tag: v1.11.4",
        )
    }

    /// The platform published on Thursday 2026-10-01 and promoted into prod in the first window
    /// of November, Wednesday 2026-11-04; ingress-nginx 1.11.4 committed and published on
    /// Wednesday 2026-11-25 at 07:05 in Stockholm, verified by Argo CD of non-prod minutes later.
    fn proposed(&self) -> Result<(), String> {
        self.strata(&[
            "publish",
            "--repo",
            "../platform-rendered",
            "--now",
            "2026-10-01T08:05:00Z",
        ])?;
        self.argocd_status("2026-10-01T08:08:00Z", "2026-10-01T08:10:00Z")?;
        self.strata(&[
            "promote",
            "--repo",
            "../platform-rendered",
            "--to",
            "prod",
            "--approvals",
            "bob.json",
            "--argocd-status",
            ARGOCD_STATUS,
            "--now",
            "2026-11-04T08:00:00Z",
        ])?;
        self.ingress_nginx_1_11_4()?;
        self.commit("ingress-nginx 1.11.4", "2026-11-25T06:00:00Z")?;
        self.strata(&[
            "publish",
            "--repo",
            "../platform-rendered",
            "--now",
            "2026-11-25T06:05:00Z",
        ])?;
        self.argocd_status("2026-11-25T06:08:00Z", "2026-11-25T06:10:00Z")
    }

    /// 1.11.4 promoted into prod by Paula, approved by Bob, once soaked, in the window of
    /// Wednesday 2026-12-02.
    fn promoted(&self) -> Result<(), String> {
        self.strata(&[
            "promote",
            "--repo",
            "../platform-rendered",
            "--to",
            "prod",
            "--approvals",
            "bob.json",
            "--argocd-status",
            ARGOCD_STATUS,
            "--now",
            "2026-12-02T08:10:00Z",
        ])
    }

    /// ARGOCD_STATUS: what `kubectl get applications.argoproj.io -n argocd -o yaml` prints on
    /// non-prod's Argo CD once it has synced the tip of env/non-prod: every Application under
    /// argocd/ there, Synced and Healthy at that commit, deployed at `deployed`, assessed at
    /// `reconciled`.
    fn argocd_status(&self, deployed: &str, reconciled: &str) -> Result<(), String> {
        let out = self.home.join("platform-rendered");
        let tip = self.git_out(&out, &["rev-parse", "env/non-prod"])?;
        let tip = tip.trim();
        let files = self.git_out(
            &out,
            &[
                "ls-tree",
                "-r",
                "--name-only",
                "env/non-prod",
                "--",
                "argocd/",
            ],
        )?;
        let mut names = Vec::new();
        for path in files.lines() {
            let text = self.git_out(&out, &["show", &format!("env/non-prod:{path}")])?;
            let object: serde_json::Value =
                yaml_serde::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            if object.get("kind").and_then(serde_json::Value::as_str) == Some("Application")
                && let Some(name) = object
                    .pointer("/metadata/name")
                    .and_then(serde_json::Value::as_str)
            {
                names.push(name.to_string());
            }
        }
        names.sort();
        let mut text = String::from(
            "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n",
        );
        for name in names {
            text.push_str(&format!(
                "- apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  metadata:\n    name: {name}\n    namespace: argocd\n  status:\n    health: {{status: Healthy}}\n    history:\n    - deployedAt: \"{deployed}\"\n      revision: \"{tip}\"\n    operationState: {{finishedAt: \"{deployed}\", phase: Succeeded}}\n    reconciledAt: \"{reconciled}\"\n    sync: {{revision: \"{tip}\", status: Synced}}\n"
            ));
        }
        self.write(ARGOCD_STATUS, &text)
    }

    /// HSTS for two years, committed and published on Monday 2026-12-07.
    fn next(&self) -> Result<(), String> {
        self.edit(
            "components/ingress-nginx/values.yaml",
            "hsts-max-age: \"31536000\"",
            "hsts-max-age: \"63072000\"",
        )?;
        self.commit("HSTS for two years", "2026-12-07T10:00:00Z")?;
        self.strata(&[
            "publish",
            "--repo",
            "../platform-rendered",
            "--now",
            "2026-12-07T10:05:00Z",
        ])
    }

    /// "HSTS for two years" promoted the next day, by break-glass, approved by Bob and Dora.
    fn emergency(&self) -> Result<(), String> {
        self.strata(&[
            "promote",
            "--repo",
            "../platform-rendered",
            "--to",
            "prod",
            "--approvals",
            "bob-dora.json",
            "--emergency",
            "CVE-2026-1234 in ingress-nginx",
            "--now",
            "2026-12-08T10:00:00Z",
        ])
    }

    /// live.yaml: what `kubectl get -o yaml` would print for prod-sto2-workload after someone
    /// scaled ingress-nginx by hand, swapped its image and labelled it; fluentd's ConfigMap
    /// deleted; an old ConfigMap strata no longer renders still there.
    fn live(&self, tampering: Tampering) -> Result<(), String> {
        let all = matches!(tampering, Tampering::All);
        let dir = repo_root().join("golden/prod/sto2/workload");
        let mut docs = Vec::new();
        for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
            let entry = entry.map_err(|e| e.to_string())?;
            if !entry.file_type().is_file() {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
            let rel = entry.path().strip_prefix(&dir).map_err(|e| e.to_string())?;
            let rel = rel.to_string_lossy();
            if all && rel == "fluentd/configmap-fluentd-config.yaml" {
                continue;
            }
            let text = if rel != "ingress-nginx/deployment-ingress-nginx-controller.yaml" {
                text
            } else if !all {
                text.replacen("  replicas: 3\n", "  replicas: 7\n", 1)
            } else {
                text.replacen("  replicas: 3\n", "  replicas: 7\n", 1)
                    .replacen(
                        "harbor.prod.welkin.example.com/platform/ingress-nginx-controller:v1.11.3",
                        "docker.io/evil/nginx:latest",
                        1,
                    )
            };
            docs.push(text);
        }
        if all {
            docs.push(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old-config\n  namespace: ingress-nginx\n  labels:\n    app.kubernetes.io/managed-by: strata\n    strata.dev/component: ingress-nginx\ndata: {}\n"
                .to_string(),
        );
        }
        self.write("live.yaml", &docs.join("---\n"))
    }

    /// old-render/: golden/ as a render of some days ago, then edited by hand.
    fn old_render(&self) -> Result<(), String> {
        let old = self.home.join("old-render");
        std::fs::create_dir_all(&old).map_err(|e| e.to_string())?;
        copy_dir(&repo_root().join("golden"), &old)?;
        let golden = self.source().join("golden");
        std::fs::create_dir_all(&golden).map_err(|e| e.to_string())?;
        copy_dir(&repo_root().join("golden"), &golden)?;
        let deployment =
            old.join("prod/sto2/workload/ingress-nginx/deployment-ingress-nginx-controller.yaml");
        let text = std::fs::read_to_string(&deployment).map_err(|e| e.to_string())?;
        std::fs::write(
            &deployment,
            text.replacen("  replicas: 3\n", "  replicas: 4\n", 1),
        )
        .map_err(|e| e.to_string())?;
        std::fs::remove_file(old.join("non-prod/argocd/root.yaml")).map_err(|e| e.to_string())?;
        std::fs::write(old.join("prod/extra.yaml"), "kind: ConfigMap\n").map_err(|e| e.to_string())
    }

    /// Someone edits env/non-prod by hand (a replica count and a hotfix file), and a source
    /// commit lands that nobody publishes.
    fn tampered(&self) -> Result<(), String> {
        self.hand_edit(
            "env/non-prod",
            "2026-12-08T08:00:00Z",
            &[
                (DEPLOYMENT, Some(("  replicas: 1\n", "  replicas: 5\n"))),
                ("sto2/workload/ingress-nginx/hotfix.yaml", None),
            ],
        )?;
        self.hsts_back_to_one_year("2026-12-08T09:00:00Z")
    }

    fn hsts_back_to_one_year(&self, when: &str) -> Result<(), String> {
        self.edit(
            "components/ingress-nginx/values.yaml",
            "hsts-max-age: \"63072000\"",
            "hsts-max-age: \"31536000\"",
        )?;
        self.commit("HSTS back to one year", when)
    }

    /// Someone commits to `branch` of the output repository by hand, around strata: each file
    /// is edited (`from` → `to`) or, without an edit, added as a small ConfigMap.
    fn hand_edit(
        &self,
        branch: &str,
        when: &str,
        files: &[(&str, Option<(&str, &str)>)],
    ) -> Result<(), String> {
        let hand = self.home.join("hand");
        self.git(
            self.home,
            &["clone", "-q", "-b", branch, "platform-rendered", "hand"],
            when,
        )?;
        for (rel, edit) in files {
            let path = hand.join(rel);
            let text = match edit {
                Some((from, to)) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| format!("{rel}: {e}"))?;
                    if !text.contains(from) {
                        return Err(format!("{rel} on {branch} no longer holds `{from}`"));
                    }
                    text.replacen(from, to, 1)
                }
                None => "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hotfix\n".to_string(),
            };
            std::fs::write(&path, text).map_err(|e| e.to_string())?;
        }
        self.git(&hand, &["add", "-A"], when)?;
        self.git(&hand, &["commit", "-q", "-m", "hotfix"], when)?;
        self.git(&hand, &["push", "-q", "origin", branch], when)?;
        std::fs::remove_dir_all(&hand).map_err(|e| e.to_string())
    }

    /// A commit that sets the soak to 0 working days, with a change to prod's output, published
    /// on Tuesday 2026-12-08.
    fn soak_zero(&self) -> Result<(), String> {
        self.edit("strata.yaml", "workingDays: 5", "workingDays: 0")?;
        self.edit(
            "components/ingress-nginx/values.yaml",
            "hsts-max-age: \"31536000\"",
            "hsts-max-age: \"15768000\"",
        )?;
        self.commit("Soak 0 days, HSTS half a year", "2026-12-08T10:00:00Z")?;
        self.strata(&[
            "publish",
            "--repo",
            "../platform-rendered",
            "--now",
            "2026-12-08T10:05:00Z",
        ])
    }

    /// After the break-glass promotion, env/prod is moved back to the promotion before it, and
    /// the next change waits on env/prod-next.
    fn moved_back(&self) -> Result<(), String> {
        self.hsts_back_to_one_year("2026-12-09T09:00:00Z")?;
        self.strata(&[
            "publish",
            "--repo",
            "../platform-rendered",
            "--now",
            "2026-12-09T09:05:00Z",
        ])?;
        let out = self.home.join("platform-rendered");
        self.git(
            &out,
            &["update-ref", "refs/heads/env/prod", "env/prod^1"],
            "2026-12-09T09:30:00Z",
        )
    }

    fn commit(&self, subject: &str, when: &str) -> Result<(), String> {
        let source = self.source();
        self.git(&source, &["add", "-A"], when)?;
        self.git(&source, &["commit", "-q", "-m", subject], when)
    }

    /// What a git command that only reads prints.
    fn git_out(&self, dir: &Path, args: &[&str]) -> Result<String, String> {
        let mut command = Command::new("git");
        fixed_env(&mut command, self.home, EXAMPLE_TIME);
        let o = command
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("git: {e}"))?;
        if o.status.success() {
            Ok(String::from_utf8_lossy(&o.stdout).into_owned())
        } else {
            Err(format!(
                "git {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            ))
        }
    }

    fn git(&self, dir: &Path, args: &[&str], when: &str) -> Result<(), String> {
        let mut command = Command::new("git");
        fixed_env(&mut command, self.home, when);
        let o = command
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("git: {e}"))?;
        if o.status.success() {
            Ok(())
        } else {
            Err(format!(
                "git {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            ))
        }
    }

    /// Runs strata in the source repository as the bot that publishes and promotes.
    fn strata(&self, args: &[&str]) -> Result<(), String> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
        fixed_env(&mut command, self.home, EXAMPLE_TIME);
        let o = command
            .args(args)
            .args(match args.first() {
                Some(&"publish") | Some(&"promote") => vec!["--committer", BOT],
                _ => vec![],
            })
            .current_dir(self.source())
            .output()
            .map_err(|e| format!("strata: {e}"))?;
        if o.status.success() {
            Ok(())
        } else {
            Err(format!(
                "strata {args:?}: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ))
        }
    }
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the contents of `from` into `to`, which exists.
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let o = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .output()
        .map_err(|e| format!("cp: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("cp: {}", String::from_utf8_lossy(&o.stderr)))
    }
}
