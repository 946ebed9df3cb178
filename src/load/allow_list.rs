//! `sources.commands` in strata.yaml: what a command source may run.
//!
//! An entry is a program, optionally followed by the first arguments it must be given:
//! `kubectl kustomize`, `helm template`, `sh`. A command runs only when its words start with the
//! words of an entry. For the programs strata knows ([`KNOWN`]) an entry permits less than its
//! words say: only the subcommand that renders offline, only the flags listed for it, and only
//! positional arguments that name something of the component. So `kubectl` (alone, as older
//! strata.yaml files have it) permits `kubectl kustomize DIR` and nothing else: not
//! `kubectl get`, which talks to a cluster, nor `--enable-helm --helm-command ./script`, which
//! runs a program of the repository. Any other program is run with whatever arguments the
//! component gives it: allowing `sh` allows every command.

use crate::world::World;

/// A program strata knows how to run safely.
struct Known {
    program: &'static str,
    /// The one subcommand that renders without a cluster or a network.
    subcommand: &'static str,
    /// The flags it may be given, with whether each takes a value.
    flags: &'static [(&'static str, bool)],
    /// What each positional argument must name.
    positional: Positional,
}

#[derive(Clone, Copy)]
enum Positional {
    /// A directory of the component holding a kustomization.
    Kustomization,
    /// A relative path or name inside the component: a release name, a chart directory.
    Inside,
}

/// kustomize's flags that run programs (`--enable-helm`, `--helm-command`, `--enable-exec`,
/// `--enable-alpha-plugins`), reach a network (`--network`), read outside the kustomization
/// (`--load-restrictor`, `--mount`) or write files (`--output`) are not listed, and so refused,
/// as are kubectl's global flags (`--kubeconfig`, `--server`, ...).
const KNOWN: &[Known] = &[
    Known {
        program: "kubectl",
        subcommand: "kustomize",
        flags: &[],
        positional: Positional::Kustomization,
    },
    Known {
        program: "kustomize",
        subcommand: "build",
        flags: &[],
        positional: Positional::Kustomization,
    },
    // Without --post-renderer (runs a program), --repo, --verify and the registry and TLS
    // flags (reach a network or read files elsewhere), --kubeconfig and --validate (talk to a
    // cluster), --output-dir (writes files).
    Known {
        program: "helm",
        subcommand: "template",
        flags: &[
            ("--namespace", true),
            ("-n", true),
            ("--values", true),
            ("-f", true),
            ("--set", true),
            ("--set-string", true),
            ("--kube-version", true),
            ("--api-versions", true),
            ("-a", true),
            ("--include-crds", false),
            ("--skip-crds", false),
            ("--skip-tests", false),
            ("--no-hooks", false),
            ("--is-upgrade", false),
            ("--release-name", false),
        ],
        positional: Positional::Inside,
    },
];

fn known(program: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.program == program)
}

/// What `sources.commands` lets run.
#[derive(Clone, Debug, Default)]
pub(crate) struct AllowList {
    entries: Vec<Vec<String>>,
}

/// Why a command may not run: what to say, and the entry that came closest.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) message: String,
    /// The entry of `sources.commands` that names the program, if one does.
    pub(crate) entry: Option<String>,
    pub(crate) hint: String,
}

impl AllowList {
    pub(crate) fn new(entries: &[String]) -> AllowList {
        AllowList {
            entries: entries
                .iter()
                .map(|e| e.split_whitespace().map(str::to_string).collect())
                .collect(),
        }
    }

    /// What is wrong with the entries themselves: each as (entry, why).
    pub(crate) fn mistakes(entries: &[String]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for entry in entries {
            let words: Vec<&str> = entry.split_whitespace().collect();
            let Some(program) = words.first() else {
                out.push((entry.clone(), "an entry names a program".into()));
                continue;
            };
            if program.contains('/') && !program.starts_with('/') {
                out.push((
                    entry.clone(),
                    format!("`{program}` is a path inside the repository, which a pull request can change; name a program installed on the machine (`sh` with the script as its argument, if you trust every script)"),
                ));
            }
            if let Some(k) = known(program) {
                let fits = match words.get(1) {
                    None => words.len() == 1,
                    Some(sub) => *sub == k.subcommand && words.len() == 2,
                };
                if !fits {
                    out.push((
                        entry.clone(),
                        format!(
                            "strata runs {program} only as `{program} {}`, which renders without a cluster or a network; write `{program} {}`",
                            k.subcommand, k.subcommand
                        ),
                    ));
                }
            }
        }
        out
    }

    /// The entries of `entries` that permit something no entry of `trusted` permits: an entry
    /// is covered by a trusted one with the same first words (`sh` covers `sh -c`), and, for a
    /// program strata knows, by any trusted entry of that program, since each permits the same.
    pub(crate) fn widening<'e>(entries: &'e [String], trusted: &[String]) -> Vec<&'e String> {
        let trusted: Vec<Vec<&str>> = trusted
            .iter()
            .map(|t| t.split_whitespace().collect())
            .collect();
        entries
            .iter()
            .filter(|entry| {
                let words: Vec<&str> = entry.split_whitespace().collect();
                !trusted.iter().any(|t| {
                    words.starts_with(t)
                        || (words.first() == t.first()
                            && words.first().is_some_and(|p| known(p).is_some()))
                })
            })
            .collect()
    }

    /// Whether a Helm source (`source.helm`) may run: an entry `helm template` or `helm`.
    /// strata builds that command itself, with only the flags of `helm template` a render needs
    /// (README, "Security"), so the entry permits exactly those.
    pub(crate) fn check_helm(&self) -> Result<(), Refusal> {
        if self
            .entries
            .iter()
            .any(|e| e.first().is_some_and(|p| p == "helm") && e.len() <= 2)
        {
            return Ok(());
        }
        Err(Refusal {
            message: "renders a Helm chart, but strata.yaml does not allow `helm template`".into(),
            entry: None,
            hint: "if you trust the charts of this repository, add to strata.yaml:\n  sources:\n    commands: [helm template]".into(),
        })
    }

    /// Whether the component in `component_dir` may run `argv`.
    pub(crate) fn check(
        &self,
        argv: &[String],
        component_dir: &str,
        world: &dyn World,
    ) -> Result<(), Refusal> {
        let program = argv.first().map(String::as_str).unwrap_or_default();
        let naming: Vec<&Vec<String>> = self
            .entries
            .iter()
            .filter(|e| e.first().is_some_and(|p| p == program))
            .collect();
        let Some(first) = naming.first() else {
            return Err(Refusal {
                message: format!("runs `{program}`, which strata.yaml does not allow"),
                entry: None,
                hint: format!(
                    "if you trust it, add it to strata.yaml:\n  sources:\n    commands: [{}]",
                    known(program).map_or(program.to_string(), |k| format!(
                        "{} {}",
                        k.program, k.subcommand
                    ))
                ),
            });
        };
        let mut refusal = None;
        for entry in &naming {
            match permits(entry, argv, component_dir, world) {
                Ok(()) => return Ok(()),
                Err(r) => {
                    refusal.get_or_insert(r);
                }
            }
        }
        let (what, hint) = refusal.unwrap_or_default();
        Err(Refusal {
            message: format!(
                "runs `{}` with {what}, which the allow-list entry `{}` does not permit",
                shown(argv),
                first.join(" ")
            ),
            entry: Some(first.join(" ")),
            hint,
        })
    }
}

/// The command as a person would type it, cut short.
fn shown(argv: &[String]) -> String {
    let text = argv.join(" ");
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{} …", &text[..i]),
        None => text,
    }
}

/// Whether `entry` permits `argv`; if not, what it does not permit and a hint.
fn permits(
    entry: &[String],
    argv: &[String],
    component_dir: &str,
    world: &dyn World,
) -> Result<(), (String, String)> {
    if argv.len() < entry.len() || argv[..entry.len()] != *entry {
        return Err((
            format!("arguments that do not start with `{}`", entry.join(" ")),
            format!(
                "run `{} ...`, or add the command to sources.commands in strata.yaml if you trust it",
                entry.join(" ")
            ),
        ));
    }
    let Some(k) = known(&entry[0]) else {
        return Ok(());
    };
    let usage = format!(
        "`{}` permits `{} {} {}` only{}: flags that run other programs, reach a network, talk to a cluster or read outside the component are refused",
        entry.join(" "),
        k.program,
        k.subcommand,
        match k.positional {
            Positional::Kustomization => "DIR",
            Positional::Inside => "[NAME] CHART",
        },
        if k.flags.is_empty() {
            ", with no flags, DIR a directory of the component that holds a kustomization"
                .to_string()
        } else {
            format!(
                ", with the flags {}",
                k.flags
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    if argv.get(1).map(String::as_str) != Some(k.subcommand) {
        return Err((
            format!(
                "the subcommand `{}`",
                argv.get(1).map_or("", String::as_str)
            ),
            usage,
        ));
    }
    let mut args = argv[2..].iter();
    let mut flags_done = false;
    while let Some(arg) = args.next() {
        if !flags_done && arg == "--" {
            flags_done = true;
            continue;
        }
        if !flags_done && arg.starts_with('-') {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (arg.as_str(), None),
            };
            let Some((_, takes_value)) = k.flags.iter().find(|(f, _)| *f == name) else {
                return Err((format!("`{name}`"), usage));
            };
            if *takes_value {
                let value = match inline {
                    Some(v) => Some(v.to_string()),
                    None => args.next().cloned(),
                };
                let Some(value) = value else {
                    return Err((format!("`{name}` without its value"), usage));
                };
                if matches!(name, "--values" | "-f") && !is_inside(&value) {
                    return Err((format!("`{name} {value}`"), usage));
                }
            } else if inline.is_some() {
                return Err((format!("`{arg}`"), usage));
            }
            continue;
        }
        let ok = match k.positional {
            Positional::Inside => is_inside(arg),
            Positional::Kustomization => {
                is_inside(arg) && has_kustomization(world, component_dir, arg)
            }
        };
        if !ok {
            return Err((format!("`{arg}`"), usage));
        }
    }
    Ok(())
}

/// A relative path that stays inside the directory it is read from, and that no program takes
/// for a URL.
fn is_inside(arg: &str) -> bool {
    !arg.is_empty()
        && !arg.starts_with('/')
        && !arg.contains([':', '@', '?', '\\', '\0'])
        && arg.split('/').all(|s| s != "..")
}

fn has_kustomization(world: &dyn World, component_dir: &str, arg: &str) -> bool {
    let dir = arg
        .trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/");
    let dir = if dir.is_empty() {
        component_dir.to_string()
    } else {
        format!("{component_dir}/{dir}")
    };
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|f| world.read(&format!("{dir}/{f}")).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn world() -> crate::world::MemWorld {
        crate::world::MemWorld::new("test")
            .with("components/c/kz/kustomization.yaml", "resources: []\n")
            .with("components/c/kustomization.yaml", "resources: []\n")
    }

    #[test]
    fn what_an_entry_permits() {
        let w = world();
        let cases: [(&[&str], &str, bool); 20] = [
            (&["kubectl"], "kubectl kustomize kz/", true),
            (&["kubectl"], "kubectl kustomize kz", true),
            (&["kubectl"], "kubectl kustomize .", true),
            (&["kubectl kustomize"], "kubectl kustomize ./kz/", true),
            (
                &["kubectl"],
                "kubectl kustomize --enable-helm --helm-command ./kz/helm.sh kz/",
                false,
            ),
            (
                &["kubectl"],
                "kubectl kustomize --enable-alpha-plugins --enable-exec kz/",
                false,
            ),
            (&["kubectl"], "kubectl kustomize --network kz/", false),
            (
                &["kubectl"],
                "kubectl kustomize --load-restrictor=LoadRestrictionsNone kz/",
                false,
            ),
            (&["kubectl"], "kubectl kustomize -o /tmp/x kz/", false),
            (
                &["kubectl"],
                "kubectl kustomize --kubeconfig=/etc/k kz/",
                false,
            ),
            (&["kubectl"], "kubectl kustomize ../other/", false),
            (
                &["kubectl"],
                "kubectl kustomize https://github.com/x/y",
                false,
            ),
            (&["kubectl"], "kubectl kustomize github.com/x/y", false),
            (&["kubectl"], "kubectl get --raw /api/v1/secrets", false),
            (&["kubectl"], "kubectl apply -f kz/", false),
            (
                &["helm template"],
                "helm template web charts/web -n web --include-crds",
                true,
            ),
            (
                &["helm template"],
                "helm template web charts/web --post-renderer ./x.sh",
                false,
            ),
            (
                &["helm template"],
                "helm template web oci://registry/chart",
                false,
            ),
            (&["sh"], "sh -c anything", true),
            (&["kubectl", "sh"], "sh -c anything", true),
        ];
        for (entries, command, allowed) in cases {
            let list = AllowList::new(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>());
            let got = list.check(&words(command), "components/c", &w);
            assert_eq!(got.is_ok(), allowed, "{entries:?} {command}: {got:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_entry_and_what_it_does_not_permit() {
        let list = AllowList::new(&["kubectl".to_string()]);
        let e = list
            .check(&words("kubectl get --raw /api"), "components/c", &world())
            .unwrap_err();
        assert_eq!(
            e.message,
            "runs `kubectl get --raw /api` with the subcommand `get`, which the allow-list entry `kubectl` does not permit"
        );
        assert_eq!(e.entry.as_deref(), Some("kubectl"));
        let e = list
            .check(&words("python x"), "components/c", &world())
            .unwrap_err();
        assert_eq!(e.message, "runs `python`, which strata.yaml does not allow");
    }

    #[test]
    fn an_entry_widens_what_no_trusted_entry_covers() {
        let entries = |list: &[&str]| list.iter().map(|e| e.to_string()).collect::<Vec<_>>();
        let head = entries(&["kubectl kustomize", "helm template", "sh -c", "python3"]);
        assert_eq!(
            AllowList::widening(&head, &entries(&["kubectl", "sh"])),
            ["helm template", "python3"]
        );
        assert_eq!(
            AllowList::widening(&entries(&["kubectl"]), &entries(&["kubectl kustomize"])),
            Vec::<&String>::new()
        );
        assert_eq!(
            AllowList::widening(&entries(&["sh"]), &entries(&["sh -c"])),
            ["sh"]
        );
        assert_eq!(AllowList::widening(&entries(&["sh"]), &[]), ["sh"]);
    }

    #[test]
    fn entries_that_cannot_be_kept_are_named() {
        let entries: Vec<String> = [
            "kubectl",
            "kubectl kustomize",
            "kubectl get",
            "helm",
            "./render.sh",
            "sh",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let bad: Vec<String> = AllowList::mistakes(&entries)
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        assert_eq!(bad, ["kubectl get", "./render.sh"]);
    }
}
