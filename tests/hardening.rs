//! What strata promises when runs overlap, a command misbehaves or the disk fails: one render or
//! publish at a time, no run held by a command's children, no report of a commit that no branch
//! holds (README, "Reliability").

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::promotion::Setup;
use common::{Platform, stderr, stdout};

/// The minimal platform with `web` rendered by `script` (a shell script).
fn with_command(p: &Platform, script: &str, timeout: &str) {
    p.write(
        "components/web/component.yaml",
        &format!(
            "{}source:\n  command: [sh, -c, {}]\n  timeout: {timeout}\n",
            common::WEB_COMPONENT,
            serde_json::to_string(script).expect("json")
        ),
    );
}

/// A command that takes 1.5 s: long enough for a second run to start while it runs.
const SLOW: &str =
    "sleep 1.5; printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: slow}\\n'";

/// Whether a process with `pid` is still alive two seconds on (a zombie counts as gone): a
/// SIGKILL is delivered asynchronously, and a loaded machine may take a moment.
fn alive(pid: &str) -> bool {
    let running = || {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim().starts_with('Z'))
    };
    let started = Instant::now();
    while running() {
        if started.elapsed() > Duration::from_secs(2) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn strata_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
    cmd.current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits for `child` for at most `limit`; kills it and fails past that.
fn finish(mut child: Child, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "strata did not finish within {limit:?}\nstdout: {}\nstderr: {}",
                stdout(&o),
                stderr(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Issue 28, point 6: the timeout guarded the command, not the read of its output, which a
/// background child held open: the render never returned, and the child outlived it.
#[test]
fn a_command_whose_background_child_holds_its_output_neither_hangs_the_render_nor_outlives_it() {
    let p = Platform::minimal();
    let pid_file = p.path().join("background.pid");
    with_command(
        &p,
        &format!(
            "sleep 1001 & echo $! > {}; printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {{name: ok}}\\n'",
            pid_file.display()
        ),
        "3s",
    );
    let o = finish(
        strata_in(p.path(), &["render"]).spawn().expect("spawn"),
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        p.rendered()
            .iter()
            .any(|(path, _)| path.ends_with("configmap-ok.yaml")),
        "{}",
        stdout(&o)
    );
    let pid = std::fs::read_to_string(&pid_file).expect("pid");
    assert!(
        !alive(&pid),
        "the command's background child {pid} still runs"
    );
}

/// Issue 28, point 1: two renders into one output directory at once each trusted a cache the
/// other rewrote, and a later render found nothing to do while files still differed.
#[test]
fn a_second_render_into_the_same_output_waits_for_the_first_and_says_so() {
    let p = Platform::minimal();
    with_command(&p, SLOW, "30s");
    let first = strata_in(p.path(), &["render"]).spawn().expect("spawn");
    // The first takes the lock before it reads anything, and holds it through the command.
    std::thread::sleep(Duration::from_millis(300));
    let second = strata_in(p.path(), &["render"]).spawn().expect("spawn");
    let first = finish(first, Duration::from_secs(60));
    let second = finish(second, Duration::from_secs(60));
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let waited = stderr(&second);
    let out = p.path().join("rendered");
    assert!(
        waited.starts_with("waiting: another strata (pid ")
            && waited.contains(&format!(
                ") is working in {}; this render goes on when it ends\n  = hint: if it is stuck, stop it (kill ",
                out.display()
            )),
        "{waited}"
    );
    // The second found the first's output whole: nothing left to write.
    assert!(stdout(&second).contains("0 written"), "{}", stdout(&second));
    let again = p.strata(&["check", "--against", "rendered"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

/// `strata publish` of the source of `s` into its output repository, not yet started.
fn publish_in(s: &Setup) -> Command {
    let out = s.out().to_str().expect("utf8");
    strata_in(
        s.platform.path(),
        &[
            "publish",
            "--repo",
            out,
            "--now",
            "2026-11-02T10:00:00Z",
            "--committer",
            "strata bot <bot@example.com>",
        ],
    )
}

/// The branches of the output repository and where they point.
fn branches(s: &Setup) -> Vec<(String, String)> {
    let out = s.output_repo();
    let mut all: Vec<(String, String)> = out
        .branches(Some(git2::BranchType::Local))
        .expect("branches")
        .map(|b| {
            let (b, _) = b.expect("branch");
            (
                b.name().expect("name").expect("utf8").to_string(),
                b.get().target().expect("target").to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

/// Issue 28, point 1: two publishes at once both said "committed X", and one X was on no
/// branch.
#[test]
fn concurrent_publishes_take_turns_and_report_only_commits_a_branch_holds() {
    let s = Setup::new();
    with_command(&s.platform, SLOW, "30s");
    s.commit(
        "web from a command",
        "Alice Author <alice@example.com>",
        "2026-11-02T09:30:00Z",
    );
    let publish = || publish_in(&s).spawn().expect("spawn");
    let first = publish();
    std::thread::sleep(Duration::from_millis(300));
    let second = publish();
    let outputs = [
        finish(first, Duration::from_secs(60)),
        finish(second, Duration::from_secs(60)),
    ];
    let held = branches(&s);
    for o in &outputs {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
        for line in stdout(o).lines() {
            let Some((branch, rest)) = line.split_once(": committed ") else {
                continue;
            };
            let short = rest.split_whitespace().next().expect("commit");
            let tip = held
                .iter()
                .find(|(b, _)| b == branch)
                .map(|(_, tip)| tip.as_str())
                .unwrap_or("");
            assert!(
                tip.starts_with(short),
                "{branch} is at {tip}, not at the reported {short}: {}",
                stdout(o)
            );
        }
    }
    assert!(
        stdout(&outputs[1]).contains("env/dev: unchanged"),
        "the second publish found the first's commit: {}",
        stdout(&outputs[1])
    );
    assert!(
        stderr(&outputs[1]).starts_with("waiting: another strata (pid "),
        "{}",
        stderr(&outputs[1])
    );
}

/// Issue 28, point 1: in a non-bare output repository with `env/dev` checked out, publish moved
/// the branch under the work tree.
#[test]
fn publish_refuses_to_move_the_branch_checked_out_in_the_output_work_tree() {
    let s = Setup::new();
    s.publish("2026-11-02T10:00:00Z");
    common::promotion::git(s.out(), &["checkout", "-q", "env/dev"], &[]);
    s.platform.write(
        "environments/dev/layer.yaml",
        "values:\n  web: {replicas: 4}\n",
    );
    s.commit(
        "Four replicas in dev",
        "Alice Author <alice@example.com>",
        "2026-11-02T11:00:00Z",
    );
    let before = branches(&s);
    let o = s.strata(&["publish", "--repo", "OUT", "--now", "2026-11-02T12:00:00Z"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let at = s.out().display();
    assert_eq!(
        stderr(&o),
        format!(
            "error: env/dev is checked out in the work tree of the output repository {at}: strata would move the branch under the work tree; nothing was written\nhint: write to a bare clone of the output repository (git clone --bare), or leave the branch there (git -C {at} switch --detach)\n"
        )
    );
    assert_eq!(branches(&s), before, "nothing moved");
    assert_eq!(
        common::promotion::git(s.out(), &["status", "--porcelain"], &[]),
        "",
        "the work tree still matches its branch"
    );
}

/// Every file under `rendered/` but the render cache, which a failed render may leave marked
/// unfinished; the record of what strata wrote is kept, as it decides what strata deletes.
fn output_files(p: &Platform) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    p.rendered()
        .into_iter()
        .filter(|(path, _)| {
            !path.starts_with(".strata-cache") || path.ends_with(".strata-cache/written")
        })
        .collect()
}

/// The minimal platform's web ConfigMap with a `padding` from the layers.
const PADDED: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: padded\ndata:\n  domain: {{ global.domain }}\n  padding: {{ global.padding | default('') | tojson }}\n";

/// After a failed render and the source put back: `check --against` finds the output current,
/// and a render writes nothing.
fn the_output_passes_check_and_a_render_has_nothing_to_do(p: &Platform) {
    let o = p.strata(&["check", "--against", "rendered"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(" 0 written"), "{}", stdout(&o));
}

/// Issue 28, points 8 and 11: a render that ran out of room (here: a file over the process's
/// RLIMIT_FSIZE, EFBIG, as ENOSPC would) left some files new and some old, and the old source
/// could not even be rendered back.
#[test]
fn a_render_that_cannot_write_a_file_leaves_the_previous_output_as_it_was() {
    let p = Platform::minimal();
    p.write("components/web/templates/padded.yaml", PADDED);
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = output_files(&p);

    // The next source changes every cluster's files, adds files, and makes one file too large.
    let layer = std::fs::read_to_string(p.path().join("environments/layer.yaml")).expect("read");
    p.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.org}\n",
    );
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        &format!(
            "cluster: {{role: workload, server: https://prod-sto2.example.com:6443}}\nvalues:\n  web: {{replicas: 3}}\n  global: {{padding: {}}}\n",
            "x".repeat(256 * 1024)
        ),
    );
    p.write(
        "components/web/templates/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {a: b}\n",
    );
    let mut render = strata_in(p.path(), &["render"]);
    // SAFETY: between fork and exec, only async-signal-safe calls: the child may write no file
    // over 64 KiB, and gets EFBIG instead of SIGXFSZ past it.
    unsafe {
        use std::os::unix::process::CommandExt as _;
        render.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 64 * 1024,
                rlim_max: 64 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = finish(render.spawn().expect("spawn"), Duration::from_secs(60));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let big = p
        .path()
        .join("rendered/prod/sto2/workload/web/configmap-padded.yaml");
    assert_eq!(
        err,
        format!(
            "error: cannot write {}: File too large (os error 27)\nhint: the output directory is as it was before this render; make room (or make it writable) and render again\n",
            big.display()
        )
    );
    assert!(
        output_files(&p) == before,
        "the output changed: {:?}",
        output_files(&p).iter().map(|(p, _)| p).collect::<Vec<_>>()
    );

    // The old source renders back to it, and the output passes `check`.
    p.write("environments/layer.yaml", &layer);
    p.write(
        "environments/prod/sto2/workload.cluster.yaml",
        "cluster: {role: workload, server: https://prod-sto2.example.com:6443}\nvalues:\n  web: {replicas: 3}\n",
    );
    p.remove("components/web/templates/extra.yaml");
    the_output_passes_check_and_a_render_has_nothing_to_do(&p);
}

/// Makes every directory and file under `dir` read-only (`writable: false`) or writable again.
fn set_writable(dir: &Path, writable: bool) {
    use std::os::unix::fs::PermissionsExt as _;
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.expect("walk");
        let mode = match (entry.file_type().is_dir(), writable) {
            (true, true) => 0o755,
            (true, false) => 0o555,
            (false, true) => 0o644,
            (false, false) => 0o444,
        };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    }
}

/// Issue 28, point 11: a render into an output directory it may not write. Permissions do not
/// stop root, so when the test runs as root strata runs as `nobody` (which may read the
/// platform but write nothing of root's); otherwise the output tree is made read-only.
#[test]
fn a_render_into_a_read_only_output_directory_says_so_and_leaves_it_as_it_was() {
    use std::os::unix::fs::PermissionsExt as _;
    let p = Platform::minimal();
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = output_files(&p);

    // A source that changes every cluster's files, and adds some.
    p.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.org}\n",
    );
    p.write(
        "components/web/templates/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {a: b}\n",
    );
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let mut render = strata_in(p.path(), &["render"]);
    if root {
        // nobody reads the platform (tempdir makes it 0700) and runs strata from target/.
        std::fs::set_permissions(p.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        use std::os::unix::process::CommandExt as _;
        render.uid(65534).gid(65534);
    } else {
        set_writable(&p.path().join("rendered"), false);
    }
    let o = finish(render.spawn().expect("spawn"), Duration::from_secs(60));
    if !root {
        set_writable(&p.path().join("rendered"), true);
    }
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // The first thing this render writes: where it keeps the old bytes until it is done.
    assert_eq!(
        err,
        format!(
            "error: cannot write {}: Permission denied (os error 13)\nhint: the output directory is as it was before this render; make room (or make it writable) and render again\n",
            p.path().join("rendered/.strata-cache").display()
        )
    );
    assert!(
        output_files(&p) == before,
        "the output changed: {:?}",
        output_files(&p).iter().map(|(p, _)| p).collect::<Vec<_>>()
    );

    // Back to the old source: the output passes `check`, and a render has nothing to do.
    p.write(
        "environments/layer.yaml",
        "values:\n  global: {domain: example.com}\n",
    );
    p.remove("components/web/templates/extra.yaml");
    the_output_passes_check_and_a_render_has_nothing_to_do(&p);
}

/// Issue 28, point 7: a component inside a git submodule was rendered by `render`, left out by
/// `publish` without a word, and invisible to `diff --base/--head`. One rule now: strata refuses
/// a submodule in the source, in every command.
#[test]
fn a_component_in_a_git_submodule_is_refused_by_every_command() {
    use common::promotion::git;
    let s = Setup::new();
    // The component's own repository.
    let upstream = tempfile::tempdir().expect("tmp");
    let files = [
        (
            "component.yaml",
            "name: sub\nversion: \"1.0\"\nnamespace: sub\nroles: [workload]\n",
        ),
        ("values.yaml", "{}\n"),
        ("values.schema.json", "{\"type\": \"object\"}\n"),
        (
            "templates/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n",
        ),
    ];
    for (path, text) in files {
        let path = upstream.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    git(upstream.path(), &["init", "-q"], &[]);
    git(upstream.path(), &["add", "-A"], &[]);
    git(upstream.path(), &["commit", "-q", "-m", "sub"], &[]);
    let source = s.platform.path();
    let before = git(source, &["rev-parse", "HEAD"], &[]);
    git(
        source,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            upstream.path().to_str().expect("utf8"),
            "components/sub",
        ],
        &[],
    );
    git(
        source,
        &["commit", "-q", "-m", "a component in a submodule"],
        &[],
    );

    let o = s.platform.strata(&["render"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "render: {err}");
    assert!(
        err.starts_with("error[submodule]: components/sub in the working tree is a git submodule or another repository: strata does not read submodules"),
        "{err}"
    );
    assert!(!source.join("rendered").exists(), "render wrote nothing");

    let o = s.strata(&["publish", "--repo", "OUT", "--now", "2026-11-02T10:00:00Z"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "publish: {}{err}", stdout(&o));
    let head = git(source, &["rev-parse", "--short=7", "HEAD"], &[]);
    assert!(
        err.starts_with(&format!(
            "error: components/sub in commit {head} is a git submodule or another repository"
        )),
        "{err}"
    );
    assert!(
        branches(&s).is_empty(),
        "publish wrote nothing: {:?}",
        branches(&s)
    );

    let o = s.platform.strata(&[
        "diff", "--base", &before, "--head", "HEAD", "--color", "never",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "diff: {}{err}", stdout(&o));
    assert!(
        err.starts_with(&format!("error: components/sub in commit {head}")),
        "{err}"
    );
}

/// A small random number generator, so that a failing round can be replayed from its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

fn seed() -> u64 {
    std::env::var("STRATA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

/// The minimal platform with `clusters` more clusters in dev, and a domain that each round
/// changes, so that every render rewrites every cluster's files.
fn many_clusters(p: &Platform, clusters: usize) {
    for i in 0..clusters {
        p.write(
            &format!("environments/dev/dc{i}/workload.cluster.yaml"),
            &format!("cluster: {{role: workload, server: https://dev-dc{i}.example.com:6443}}\n"),
        );
    }
}

fn set_domain(p: &Platform, round: usize) {
    p.write(
        "environments/layer.yaml",
        &format!("values:\n  global: {{domain: round{round}.example.com}}\n"),
    );
}

/// Kills `cmd` after `delay` (it may have finished by then).
fn kill_after(mut cmd: Command, delay: Duration) {
    let mut child = cmd.spawn().expect("spawn");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// Issue 28, point 9: `render` killed (SIGKILL) at random points, between file writes, during
/// the cache write and the record's, many times; then a render gives, byte for byte, what a
/// clean render gives. Set STRATA_CRASH_SEED to replay a failing run.
#[test]
fn a_render_killed_at_random_points_is_repaired_by_the_next_render() {
    let p = Platform::minimal();
    many_clusters(&p, 40);
    let seed = seed();
    let mut rng = Lcg(seed);
    // How long a render that rewrites everything takes here, to spread the kills over it.
    set_domain(&p, 0);
    let started = Instant::now();
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let full = started.elapsed().as_micros() as u64;
    for round in 1..=20 {
        set_domain(&p, round);
        kill_after(
            strata_in(p.path(), &["render"]),
            Duration::from_micros(rng.next(full + full / 4)),
        );
    }
    let o = p.strata(&["render"]);
    assert_eq!(o.status.code(), Some(0), "seed {seed}: {}", stderr(&o));
    let clean = p.path().join("clean");
    let o = p.strata(&["render", "--out", clean.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tree = |dir: &Path| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .map(|e| e.expect("walk"))
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().strip_prefix(dir).expect("rel").to_path_buf())
            .filter(|rel| !rel.starts_with(".strata-cache"))
            .map(|rel| {
                let bytes = std::fs::read(dir.join(&rel)).expect("read");
                (rel, bytes)
            })
            .collect()
    };
    let (after, expected) = (tree(&p.path().join("rendered")), tree(&clean));
    let names =
        |t: &[(std::path::PathBuf, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(&expected), "seed {seed}");
    assert!(after == expected, "seed {seed}: the bytes differ");
    // And the render after that has nothing left to do.
    let o = p.strata(&["render"]);
    assert!(
        stdout(&o).contains(" 0 written, "),
        "seed {seed}: {}",
        stdout(&o)
    );
}

/// Issue 28, point 9: `publish` killed at random points leaves an output repository that `git
/// fsck` accepts, with no branch at a partial tree: the next publish completes it and `check
/// --repo` finds every branch as the source renders it.
#[test]
fn a_publish_killed_at_random_points_leaves_a_valid_repository() {
    let s = Setup::new();
    many_clusters(&s.platform, 20);
    let seed = seed();
    let mut rng = Lcg(seed);
    let publish = publish_in;
    set_domain(&s.platform, 0);
    s.commit(
        "round 0",
        "Alice Author <alice@example.com>",
        "2026-11-02T09:00:00Z",
    );
    let started = Instant::now();
    let o = publish(&s).output().expect("publish");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let full = started.elapsed().as_micros() as u64;
    for round in 1..=10 {
        set_domain(&s.platform, round);
        s.commit(
            &format!("round {round}"),
            "Alice Author <alice@example.com>",
            "2026-11-02T09:00:00Z",
        );
        kill_after(
            publish(&s),
            Duration::from_micros(rng.next(full + full / 4)),
        );
        common::promotion::git(s.out(), &["fsck", "--no-progress"], &[]);
    }
    let o = publish(&s).output().expect("publish");
    assert_eq!(o.status.code(), Some(0), "seed {seed}: {}", stderr(&o));
    common::promotion::git(s.out(), &["fsck", "--no-progress"], &[]);
    let o = s.strata(&["check", "--repo", "OUT"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "seed {seed}: {}{}",
        stdout(&o),
        stderr(&o)
    );
}

// Issue 28, point 5: the memory of a runaway template.

/// The least address space (RLIMIT_AS) in which strata renders the minimal platform, on one
/// thread, to the nearest 4 MiB: what a runaway template may add to is measured from here.
fn plain_render_address_space() -> u64 {
    static FOUND: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        let p = Platform::minimal();
        let fits = |limit: u64| {
            std::fs::remove_dir_all(p.path().join("rendered")).ok();
            let o = finish(
                in_address_space(strata_in(p.path(), &["render"]), limit)
                    .spawn()
                    .expect("spawn"),
                Duration::from_secs(60),
            );
            o.status.code() == Some(0)
        };
        let (mut low, mut high) = (0u64, 4096 * MIB);
        assert!(
            fits(high),
            "strata does not render in 4 GiB of address space"
        );
        while high - low > 4 * MIB {
            let mid = (low + high) / 2;
            if fits(mid) { high = mid } else { low = mid }
        }
        high
    })
}

const MIB: u64 = 1024 * 1024;

/// `cmd` on one thread, in at most `limit` bytes of address space: an allocation past it fails
/// (and aborts strata) instead of succeeding.
fn in_address_space(mut cmd: Command, limit: u64) -> Command {
    // One render thread and one malloc arena: the address space then grows with what the
    // render allocates, not with how many threads the machine has.
    cmd.env("RAYON_NUM_THREADS", "1")
        .env("MALLOC_ARENA_MAX", "1");
    // SAFETY: between fork and exec, only setrlimit, which is async-signal-safe.
    unsafe {
        use std::os::unix::process::CommandExt as _;
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// What a runaway template may take beyond a plain render: its fuel's 32 MB, and the spare
/// capacity of the strings and lists it grows.
const TEMPLATE_HEADROOM: u64 = 80 * MIB;

/// Renders the minimal platform with `template` added to `web` as `runaway.yaml`, in the
/// address space of a plain render plus [`TEMPLATE_HEADROOM`]; checks that it fails (exit 1)
/// with a diagnostic that names the template's `line` and the limit (`limit`), and returns
/// stderr.
fn runaway(template: &str, line: u32, limit: &str) -> String {
    let p = Platform::minimal();
    p.write("components/web/templates/runaway.yaml", template);
    let space = plain_render_address_space() + TEMPLATE_HEADROOM;
    let o = finish(
        in_address_space(strata_in(p.path(), &["render"]), space)
            .spawn()
            .expect("spawn"),
        Duration::from_secs(120),
    );
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "in {} MiB of address space: {:?}\n{err}",
        space / MIB,
        o.status
    );
    assert!(err.contains("error[template-limit]: "), "{err}");
    assert!(err.contains(limit), "{limit} in\n{err}");
    assert!(
        err.contains(&format!("components/web/templates/runaway.yaml:{line}:")),
        "line {line} in\n{err}"
    );
    assert!(
        !p.path().join("rendered").exists(),
        "the failed render wrote output"
    );
    err
}

/// What the out-of-fuel diagnostic says of the limit.
const FUEL: &str = "the template ran out of fuel: its budget of 500000 pays for one instruction or 64 bytes of text and lists each";
/// What the diagnostic of a strata filter past its limit says.
fn too_large(filter: &str) -> String {
    format!(
        "the template built a value too large: {filter} would make more than 16777216 bytes, the limit of one value"
    )
}

#[test]
fn a_template_that_repeats_a_string_past_its_budget_stops_before_it_allocates() {
    let err = runaway(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n{% for i in range(10) %}\n  k{{ i }}: {{ \"x\" * 100000000 }}\n{% endfor %}\n",
        6,
        FUEL,
    );
    // As the README's Limits show it.
    assert!(
        err.starts_with(&format!(
            "error[template-limit]: {FUEL}\n  ┌─ components/web/templates/runaway.yaml:6:16\n  │\n6 │   k{{{{ i }}}}: {{{{ \"x\" * 100000000 }}}}\n  │                ^^^\n"
        )),
        "{err}"
    );
}

#[test]
fn a_template_that_doubles_a_string_with_tilde_in_a_loop_stops_at_its_budget() {
    runaway(
        "{% set ns = namespace(s=\"x\" * 1000000) %}\n{% for i in range(20) %}\n{% set ns.s = ns.s ~ ns.s %}\n{% endfor %}\n{{ ns.s | length }}\n",
        3,
        FUEL,
    );
}

#[test]
fn a_template_that_joins_a_long_list_stops_at_its_budget() {
    runaway(
        "{% set big = \"x\" * 1000000 %}\n{{ ([big] * 1000) | join(\",\") | length }}\n",
        2,
        FUEL,
    );
}

#[test]
fn a_template_whose_replace_would_grow_a_string_past_its_budget_stops_before_it_allocates() {
    runaway(
        &format!(
            "{{% set s = \"x\" * 1000000 %}}\n{{{{ s | replace(\"x\", \"{}\") | length }}}}\n",
            "y".repeat(100)
        ),
        2,
        FUEL,
    );
}

#[test]
fn a_template_whose_indent_would_grow_a_string_past_its_budget_stops_before_it_allocates() {
    runaway(
        "{% set s = \"x\\n\" * 1000000 %}\n{{ s | indent(100) | length }}\n",
        2,
        FUEL,
    );
}

#[test]
fn a_template_that_builds_a_long_list_stops_at_its_budget() {
    runaway(
        "{% set l = ([\"x\"] * 50000000) | list %}\n{{ l | length }}\n",
        1,
        FUEL,
    );
}

#[test]
fn tojson_of_a_value_larger_than_a_template_may_render_stops_at_the_limit() {
    runaway(
        "{% set big = \"x\" * 1000000 %}\n{% set l = [big] * 1000 %}\n{{ l | tojson | length }}\n",
        3,
        &too_large("tojson"),
    );
}

#[test]
fn toyaml_of_a_value_larger_than_a_template_may_render_stops_at_the_limit() {
    runaway(
        "{% set big = \"x\" * 1000000 %}\n{% set l = [big] * 1000 %}\n{{ l | toyaml | length }}\n",
        3,
        &too_large("toyaml"),
    );
}

#[test]
fn string_of_a_list_larger_than_a_template_may_render_stops_at_the_limit() {
    runaway(
        "{% set big = \"x\" * 1000000 %}\n{% set l = [big] * 1000 %}\n{{ l | string | length }}\n",
        3,
        &too_large("string"),
    );
}

/// The first two lines of the templates below: a list (`l`) whose text is 1,000 times a
/// 1 MB string, a gigabyte, built lazily for almost no fuel.
const LAZY_GIGABYTE: &str = "{% set big = \"x\" * 1000000 %}\n{% set l = [big] * 1000 %}\n";

/// minijinja wrote a list or map into a `{% set %}` block, a macro, a `{% filter %}` or a `{% call
/// %}` body in full (a string in memory it charged for afterwards): strata aborted.
#[test]
fn a_list_printed_into_a_set_block_macro_filter_or_call_body_stops_at_the_limit() {
    for body in [
        "{% set x %}{{ l }}{% endset %}{{ x | length }}",
        "{% macro m() %}{{ l }}{% endmacro %}{{ m() | length }}",
        "{% filter upper %}{{ l }}{% endfilter %}",
        "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}{{ l }}{% endcall %}",
    ] {
        runaway(
            &format!("{LAZY_GIGABYTE}{body}\n"),
            3,
            &too_large("printing a list or map"),
        );
    }
}

/// Each of minijinja's filters and tests that take a string converted a list given to it into
/// text in full, before any fuel was charged: strata aborted.
#[test]
fn a_list_given_to_a_filter_or_test_that_takes_a_string_stops_at_the_limit() {
    for (filter, expr) in [
        ("upper", "l | upper"),
        ("lower", "l | lower"),
        ("title", "l | title"),
        ("capitalize", "l | capitalize"),
        ("trim", "\"a\" | trim(l)"),
        ("safe", "l | safe"),
        ("escape", "l | escape"),
        ("replace", "\"a\" | replace(\"a\", l)"),
        ("indent", "l | indent(2)"),
        ("join", "[\"a\", \"b\"] | join(l)"),
        ("join", "[l] | join(\",\")"),
        ("format", "\"%s\" | format(l)"),
        ("pprint", "l | pprint"),
        ("selectattr", "[{\"a\": 1}] | selectattr(l) | list"),
        ("startingwith", "\"a\" is startingwith(l)"),
        ("endingwith", "l is endingwith(\"a\")"),
        ("debug", "debug(l)"),
        ("fail", "fail(l)"),
        ("required", "\"\" | required(l)"),
    ] {
        runaway(
            &format!("{LAZY_GIGABYTE}{{{{ ({expr}) | length }}}}\n"),
            3,
            &too_large(filter),
        );
    }
}

/// `~` with a list or map as an operand printed the container in full before minijinja charged
/// for it, and minijinja has no hook for the operator: strata aborted.
#[test]
fn tilde_with_a_list_or_map_as_an_operand_stops_at_the_limit() {
    for expr in [
        "\"\" ~ l",
        "l ~ \"\"",
        "\"a\" ~ {\"k\": l}",
        "\"a\" ~ (l, l)",
        "l\n  ~ \"b\" ~ \"c\"",
    ] {
        let err = runaway(
            &format!("{LAZY_GIGABYTE}{{{{ ({expr}) | length }}}}\n"),
            3,
            &too_large("`~`"),
        );
        assert!(
            !err.contains("__strata"),
            "the diagnostic shows what the user wrote: {err}"
        );
    }
    // The error points at the operand, in the template as written.
    let err = runaway(
        &format!("{LAZY_GIGABYTE}{{{{ (\"\" ~ l) | length }}}}\n"),
        3,
        &too_large("`~`"),
    );
    // As the README's Limits show it.
    assert!(
        err.starts_with(&format!(
            "error[template-limit]: {}\n  ┌─ components/web/templates/runaway.yaml:3:11\n",
            too_large("`~`")
        )) && err.contains("3 │ {{ (\"\" ~ l) | length }}\n  │           ^"),
        "{err}"
    );
}

/// `x in "text"` printed a list or map `x` in full to search the text for it: strata aborted.
#[test]
fn in_of_a_list_in_a_string_stops_at_the_limit() {
    runaway(
        &format!("{LAZY_GIGABYTE}{{{{ l in \"abc\" }}}}\n"),
        3,
        &too_large("`in`"),
    );
    runaway(
        &format!("{LAZY_GIGABYTE}{{{{ l not in \"abc\" }}}}\n"),
        3,
        &too_large("`in`"),
    );
}
