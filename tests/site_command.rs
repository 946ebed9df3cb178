//! `strata site` on the example platform with a scripted history on real git repositories:
//! what each page says, that hostile text stays text, that secrets stay hashed, and that the
//! directory is strata's alone.

mod site;

use site::history::{self, History, IMG, SCRIPT, SECRET};

fn page(h: &History, name: &str) -> String {
    std::fs::read_to_string(h.site_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file of the site, by name.
fn files(h: &History) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(h.site_dir())
        .expect("site dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_site_of_a_scripted_history() {
    let h = history::history();
    let report = h.drift_report();
    let o = h.site(&["--drift", &report]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "wrote the site of welkin to {}: 7 files (7 written, 0 unchanged, 0 removed); open {}\n",
            h.site_dir().display(),
            h.site_dir().join("index.html").display()
        )
    );
    // The README shows this line for `--out public`.
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README");
    let shown =
        String::from_utf8_lossy(&o.stdout).replace(&h.site_dir().display().to_string(), "public");
    assert!(
        readme.contains(&format!(
            "$ strata site --repo ../platform-rendered --out public --now 2026-11-30T09:00:00Z\n{shown}"
        )),
        "the README does not show {shown:?}"
    );
    let names: Vec<String> = files(&h).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            ".strata-site",
            "changes.html",
            "checks.html",
            "env-non-prod.html",
            "env-prod.html",
            "index.html",
            "site.js",
            "style.css"
        ]
    );

    let mut missing = Vec::new();
    let index = page(&h, "index.html");
    for expected in [
        "<h1>welkin: what runs where</h1>",
        // What waits, and the version it brings.
        r#"<td>1.11.4 <span class="pending">→ 1.11.5 <span class="muted">waiting</span></span></td>"#,
        r#"<strong class="blocked">Blocked by 2 gates</strong> (soaked, four-eyes):"#,
        r#"<a href="checks.html#policy">0 policy violations</a> that fail, 0 warnings, 4 exempted with a reason"#,
        r#"<a href="checks.html#drift">live drift of 1 cluster</a>"#,
    ] {
        if !index.contains(expected) {
            missing.push(format!("index.html lacks {expected:?}"));
        }
    }

    let prod = page(&h, "env-prod.html");
    for expected in [
        r#"<p class="verdict blocked">Promotion to prod: blocked by 2 gates.</p>"#,
        // Christmas Eve and Day are holidays of the example's policy: the soak ends after them.
        "soaked 2 of 5 working days; ready at 2026-12-30 10:05 Europe&#x2f;Stockholm",
        r#"<progress max="5" value="2" aria-label="Soaked working days">2 of 5</progress>"#,
        "<dd>Carol Coder &lt;carol@example.com&gt;, Paula Promoter &lt;paula@example.com&gt;</dd>",
        "<caption>Audit trail of prod</caption>",
        "<p><strong class=\"badge glass\">break-glass</strong> unplanned: CVE-2026-40312 in ingress-nginx is exploited in the wild; INC-4471</p>",
        "Bob Reviewer &lt;bob@example.com&gt;, Dora &quot;&gt;&lt;img src=x onerror=alert(2)&gt; &lt;dora@example.com&gt;",
        "env&#x2f;non-prod@",
        "<strong>November 2026</strong> <span class=\"badge glass\">1 break-glass</span>",
        "0 soaked at least 5 working days in non-prod before they reached prod; 1 still waits.",
    ] {
        if !prod.contains(expected) {
            missing.push(format!("env-prod.html lacks {expected:?}"));
        }
    }

    let changes = page(&h, "changes.html");
    for expected in [
        "2 added, 4 changed, 0 removed.",
        "Secret <strong>monitoring/grafana-smtp</strong>",
        r#"<span class="add">+  password: sha256:05b8fb833890</span>"#,
        r#"<span class="del">-    strata.dev&#x2f;version: &quot;1.11.4&quot;</span>"#,
    ] {
        assert!(
            changes.contains(expected),
            "changes.html lacks {expected:?}"
        );
    }

    let checks = page(&h, "checks.html");
    for expected in [
        "the mail relay takes no sealed secrets (SEC-7)",
        "prod-sto2-workload",
        "<p class=\"blocked\">1 drifted, 61 missing, 0 orphans; 0 in sync.</p>",
        "<tr><th scope=\"row\"><code>data.hsts-max-age</code></th><td>changed</td><td>&quot;31536000&quot;</td><td>&quot;60&quot;</td></tr>",
        "ConfigMap ingress-nginx&#x2f;ingress-nginx-controller",
    ] {
        if !checks.contains(expected) {
            missing.push(format!("checks.html lacks {expected:?}"));
        }
    }

    assert!(missing.is_empty(), "{}", missing.join("\n"));

    // Hostile text is text on every page, and the Secret's value is on none.
    for (name, bytes) in files(&h) {
        let text = String::from_utf8_lossy(&bytes);
        for hostile in [SCRIPT, IMG, "<img"] {
            assert!(
                !text.contains(hostile),
                "{name} holds {hostile:?} as markup"
            );
        }
        assert!(!text.contains(SECRET), "{name} shows the Secret's value");
    }
    assert!(index.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt; Ships"));
    assert!(prod.contains("ingress-nginx 1.11.4 &lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));

    // The same repositories and --now give the same bytes; a second run writes nothing.
    let before = files(&h);
    let again = h.site(&["--drift", &report]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("(0 written, 7 unchanged, 0 removed)"),
        "{}",
        text(&again)
    );
    assert_eq!(files(&h), before);
}

#[test]
fn the_site_directory_is_strata_s_alone() {
    let h = history::history();
    // A directory that holds someone's files is refused, and nothing is written in it.
    std::fs::create_dir_all(h.site_dir()).expect("mkdir");
    std::fs::write(h.site_dir().join("notes.txt"), "mine").expect("write");
    let o = h.site(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "error: refusing to write the site to {}: it is not empty and strata did not write a site there (no .strata-site file)\nhint: give --out a new or empty directory: strata deletes pages it wrote there before, so it keeps the directory to itself\n",
            h.site_dir().display()
        )
    );
    assert!(!h.site_dir().join("index.html").exists());
    // Inside the source repository's own files: refused.
    let o = h.strata(&["site", "--repo", "OUT", "--out", "components/site"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("it lies inside components/ of the source repository"),
        "{}",
        text(&o)
    );
    // A drift report that is not one names the file and what to do.
    let bad = h.file("bad.json", "{\"changed\": []}");
    let o = h.site(&["--drift", &format!("prod-sto2-workload={bad}")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "error: --drift {bad}: no `summary.in_sync`: it is not a report of `strata drift --format json`\nhint: write it with `strata drift --cluster prod-sto2-workload --live FILE --format json > {bad}`\n"
        )
    );
}

/// An export of Argo CD's Applications, as `kubectl get applications.argoproj.io -n argocd -o
/// yaml` prints it: every Application of `env`'s branch in the golden tree (the example's
/// clusters and components), synced to `revision`, Synced and Healthy except those of `odd`.
fn argocd_export(env: &str, revision: &str, odd: &[(&str, &str, &str)]) -> String {
    let apps = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(env)
        .join("argocd/apps");
    let mut names: Vec<String> = std::fs::read_dir(apps)
        .expect("golden apps")
        .map(|e| {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            format!("{env}-{}", name.trim_end_matches(".yaml"))
        })
        .collect();
    names.sort();
    let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for name in names {
        let (sync, health) = odd
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or(("Synced", "Healthy"), |(_, s, h)| (*s, *h));
        text.push_str(&format!(
            "- apiVersion: argoproj.io/v1alpha1\n  kind: Application\n  metadata: {{name: {name}, namespace: argocd}}\n  status:\n    sync: {{status: {sync}, revision: {revision}}}\n    health: {{status: {health}}}\n"
        ));
    }
    text
}

#[test]
fn the_overview_shows_argo_cd_sync_and_health_per_cluster() {
    let h = history::history();
    let out = git2::Repository::open(h.out.path()).expect("out");
    let tip = |branch: &str| {
        out.find_reference(&format!("refs/heads/{branch}"))
            .and_then(|r| r.peel_to_commit())
            .expect("tip")
            .id()
            .to_string()
    };
    let prod = h.file(
        "argocd-prod.yaml",
        &argocd_export(
            "prod",
            &tip("env/prod"),
            &[
                ("prod-sto2-workload-kured", "OutOfSync", "Healthy"),
                ("prod-sto2-workload-ingress-nginx", "Synced", "Degraded"),
            ],
        ),
    );
    let non_prod = h.file(
        "argocd-non-prod.yaml",
        &argocd_export("non-prod", &tip("env/non-prod"), &[]),
    );
    let o = h.site(&["--argocd-status", &prod, "--argocd-status", &non_prod]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let index = page(&h, "index.html");
    let mut missing = Vec::new();
    for expected in [
        r#"<h2 id="argocd">Argo CD: sync and health</h2>"#,
        r#"<caption id="argocd-1">non-prod</caption>"#,
        r#"<caption id="argocd-2">prod</caption>"#,
        // Each cluster's row: what is not Synced, what is not Healthy, by component.
        "<th scope=\"row\">prod-sto2-workload</th>\n      <td><span class=\"blocked\">kured OutOfSync</span></td>\n      <td><span class=\"blocked\">ingress-nginx Degraded</span></td>",
        "<th scope=\"row\">prod-osl2-workload</th>\n      <td><span class=\"ready\">11 Applications Synced</span></td>\n      <td><span class=\"ready\">Healthy</span></td>",
    ] {
        if !index.contains(expected) {
            missing.push(format!("index.html lacks {expected:?}"));
        }
    }
    // The export of non-prod judges the health gate of what waits for prod: the history's
    // non-prod deploys one Application more than the golden tree the export was made from.
    let prod_page = page(&h, "env-prod.html");
    for expected in [
        "<strong class=\"gate-name\">healthy</strong> 1 of 50 Applications of non-prod are not verified with",
        "<th scope=\"row\">non-prod-sto2-workload-kured</th>",
    ] {
        if !prod_page.contains(expected) {
            missing.push(format!("env-prod.html lacks {expected:?}"));
        }
    }
    let section = index
        .split_once(r#"<h2 id="argocd">"#)
        .and_then(|(_, rest)| rest.split_once("</section>"))
        .map_or("(none)", |(section, _)| section);
    let gate: Vec<&str> = prod_page
        .lines()
        .filter(|l| l.contains("gate-name"))
        .collect();
    assert!(
        missing.is_empty(),
        "{}\nthe Argo CD section:{section}\nprod's gates:\n{}",
        missing.join("\n"),
        gate.join("\n")
    );

    // Without an export the overview has no such section.
    let o = h.site(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!page(&h, "index.html").contains("id=\"argocd\""));

    // An Application in two exports: which one is right cannot be told.
    let o = h.site(&["--argocd-status", &prod, "--argocd-status", &prod]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "error[live-input]: --argocd-status: the Application prod-osl2-management-cert-manager is in both {prod} and {prod}\n  = hint: give each Argo CD's export once: one file for each environment's Argo CD\n"
        )
    );
}
