//! The site in a real browser: Debian's Chromium, headless, loads every page from `file://`.
//!
//! For each page, at 1280 and at 390 pixels wide: no console error or warning, no failed
//! request, no request that leaves the site; a screenshot that is not blank; the key facts in
//! the rendered DOM; no horizontal scrolling of the page at phone width. The overview and
//! prod are also taken in dark mode, prod is printed to PDF, and the print stylesheet is
//! checked to show what readers collapsed. Hostile text in the model stays text: no dialog,
//! no image, one script.
//!
//! Screenshots go to `$STRATA_SITE_SCREENSHOTS`, or `target/tmp/site-browser/`.
//!
//! Without Chromium the tests pass with a loud message, except in CI (`CI=true`), where
//! `.ci/run` installs it and its absence is a failure.

mod site;

use std::path::{Path, PathBuf};

use site::cdp::{self, Browser};
use site::png::Image;
use site::sample;

fn chromium() -> Option<PathBuf> {
    match cdp::find() {
        Some(path) => Some(path),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "chromium is not installed, and CI must run the browser tests; .ci/run installs it with apt-get"
            )
        }
        None => {
            eprintln!(
                "\n\
                 ************************************************************************\n\
                 *  SKIPPED: chromium is not installed, so the site was not tested in   *\n\
                 *  a browser. Install it (apt-get install chromium) or set             *\n\
                 *  STRATA_CHROMIUM to its path. CI installs it and fails without it.   *\n\
                 ************************************************************************\n"
            );
            None
        }
    }
}

fn screenshots() -> PathBuf {
    let dir = std::env::var_os("STRATA_SITE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("site-browser"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

fn write_site(site: &strata::site::Site) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, bytes) in strata::site::render(site).expect("site") {
        std::fs::write(dir.path().join(path), bytes).expect("write page");
    }
    dir
}

fn url(dir: &Path, page: &str) -> String {
    format!("file://{}", dir.join(page).display())
}

/// Takes a screenshot, saves it and checks that it shows something.
fn shot(browser: &mut Browser, name: &str) -> Image {
    let png = browser.screenshot().expect("screenshot");
    let path = screenshots().join(format!("{name}.png"));
    std::fs::write(&path, &png).expect("save screenshot");
    let image = Image::decode(&png).expect("decode screenshot");
    let (colours, ink) = image.ink();
    assert!(
        colours >= 16 && ink > 0.03,
        "{} looks blank: {colours} colours, {:.1}% not background",
        path.display(),
        ink * 100.0
    );
    image
}

/// What each page must show, as text of the rendered DOM.
const FACTS: [(&str, &[&str]); 5] = [
    (
        "index.html",
        &[
            "welkin: what runs where",
            "Blocked by 2 gates (soaked, four-eyes)",
            "ingress-nginx",
            "0 policy violations that fail, 2 warnings, 3 exempted with a reason",
        ],
    ),
    (
        "env-non-prod.html",
        &[
            "non-prod",
            "Promotion timeline",
            "Audit trail of non-prod",
            "non-prod-sto2-workload",
        ],
    ),
    (
        "env-prod.html",
        &[
            "Promotion to prod: blocked by 2 gates.",
            "0 of 5 working days",
            "ready at 2026-12-28 11:06",
            "CVE-2026-40312 in ingress-nginx is exploited in the wild; INC-4471",
            "Audit trail of prod",
        ],
    ),
    (
        "changes.html",
        &[
            "Pending changes",
            "ingress-nginx-controller",
            "sha256:a665a45920422",
            "sto2/workload",
        ],
    ),
    (
        "checks.html",
        &[
            "Policy findings",
            "falco reads kernel events through its driver; accepted in CHG-2026-118",
            "autoscaling/v2beta2 HorizontalPodAutoscaler",
            "1 drifted, 1 missing, 1 orphan; 212 in sync.",
        ],
    ),
];

fn assert_no_problems(browser: &mut Browser, what: &str) {
    let problems = browser.problems();
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

#[test]
fn every_page_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = write_site(&sample::year());
    let mut browser = Browser::launch(&chromium).expect("start chromium");
    for (page, facts) in FACTS {
        let name = page.trim_end_matches(".html");
        for (width, height) in [(1280, 900), (390, 844)] {
            browser
                .emulate(width, height, false, false)
                .expect("emulate");
            browser.navigate(&url(dir.path(), page)).expect("load");
            assert_no_problems(&mut browser, &format!("{page} at {width} px"));
            // The DOM's text: what collapsed sections hold counts too.
            let text = browser
                .evaluate("document.body.textContent.replace(/\\s+/g, ' ')")
                .expect("text");
            let text = text.as_str().unwrap_or("");
            for fact in facts {
                assert!(
                    text.contains(fact),
                    "{page} at {width} px does not show {fact:?}"
                );
            }
            let overflow = browser
                .evaluate("document.documentElement.scrollWidth - window.innerWidth")
                .expect("scroll width");
            assert!(
                overflow.as_i64().unwrap_or(i64::MAX) <= 0,
                "{page} scrolls sideways at {width} px by {overflow} px"
            );
            shot(&mut browser, &format!("{name}-{width}"));
            // The page from its top, for people to look at.
            let page_png = browser.screenshot_page(5000).expect("page screenshot");
            std::fs::write(
                screenshots().join(format!("{name}-{width}-page.png")),
                page_png,
            )
            .expect("save screenshot");
            if page == "env-prod.html" {
                let png = browser
                    .screenshot_element("figure.chart")
                    .expect("timeline screenshot");
                std::fs::write(screenshots().join(format!("timeline-{width}.png")), png)
                    .expect("save screenshot");
                // The month of the emergency, opened as a reader would.
                browser
                    .evaluate("document.querySelector('details.chart .badge.glass').closest('details').open = true")
                    .expect("open the month");
                let png = browser
                    .screenshot_element("details.chart[open]")
                    .expect("timeline screenshot");
                std::fs::write(
                    screenshots().join(format!("timeline-break-glass-{width}.png")),
                    png,
                )
                .expect("save screenshot");
            }
        }
    }
    // Dark mode: the page's own background turns dark.
    for page in ["index.html", "env-prod.html"] {
        let name = page.trim_end_matches(".html");
        for (width, height) in [(1280, 900), (390, 844)] {
            browser
                .emulate(width, height, true, false)
                .expect("emulate");
            browser.navigate(&url(dir.path(), page)).expect("load");
            assert_no_problems(&mut browser, &format!("{page} dark at {width} px"));
            let image = shot(&mut browser, &format!("{name}-{width}-dark"));
            if page == "env-prod.html" {
                let png = browser
                    .screenshot_element("figure.chart")
                    .expect("timeline screenshot");
                std::fs::write(
                    screenshots().join(format!("timeline-{width}-dark.png")),
                    png,
                )
                .expect("save screenshot");
            }
            let [r, g, b] = image.at(image.width - 2, image.height - 2);
            assert!(
                u32::from(r) + u32::from(g) + u32::from(b) < 150,
                "{page} in dark mode has a light background: {r},{g},{b}"
            );
        }
    }
}

#[test]
fn printing_gives_a_clean_document() {
    let Some(chromium) = chromium() else { return };
    let dir = write_site(&sample::year());
    let mut browser = Browser::launch(&chromium).expect("start chromium");
    browser
        .emulate(1280, 900, false, true)
        .expect("emulate print");
    browser
        .navigate(&url(dir.path(), "env-prod.html"))
        .expect("load");
    assert_no_problems(&mut browser, "env-prod.html for print");
    let hidden = browser
        .evaluate("getComputedStyle(document.querySelector('nav')).display")
        .expect("nav");
    assert_eq!(hidden, "none", "the navigation is printed");
    // Collapsed months and commit lists are printed too.
    let collapsed = browser
        .evaluate(
            "[...document.querySelectorAll('details:not([open]) > :not(summary)')]\
             .filter(e => !e.checkVisibility()).length",
        )
        .expect("collapsed");
    assert_eq!(collapsed, 0, "collapsed content is not printed");
    let closed = browser
        .evaluate("document.querySelectorAll('details:not([open])').length")
        .expect("closed");
    assert!(
        closed.as_u64().unwrap_or(0) > 10,
        "the page has collapsed sections: {closed}"
    );
    browser
        .emulate(1280, 900, false, false)
        .expect("emulate screen");
    let pdf = browser.pdf().expect("print");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    std::fs::write(screenshots().join("env-prod.pdf"), &pdf).expect("save pdf");
    assert_no_problems(&mut browser, "printing env-prod.html");
}

#[test]
fn the_keyboard_reaches_the_content_first() {
    let Some(chromium) = chromium() else { return };
    let dir = write_site(&sample::year());
    let mut browser = Browser::launch(&chromium).expect("start chromium");
    browser.emulate(1280, 900, false, false).expect("emulate");
    browser
        .navigate(&url(dir.path(), "env-prod.html"))
        .expect("load");
    browser.key("Tab", "Tab", 9).expect("tab");
    let focused = browser
        .evaluate("document.activeElement.textContent")
        .expect("focus");
    assert_eq!(focused, "Skip to content");
    browser.key("Enter", "Enter", 13).expect("enter");
    let hash = browser.evaluate("location.hash").expect("hash");
    assert_eq!(hash, "#main");
    // Every collapsed section opens from the keyboard: summaries are focusable.
    let unreachable = browser
        .evaluate("[...document.querySelectorAll('summary')].filter(s => s.tabIndex < 0).length")
        .expect("summaries");
    assert_eq!(unreachable, 0);
    assert_no_problems(&mut browser, "keyboard on env-prod.html");
}

#[test]
fn hostile_text_stays_text_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = write_site(&sample::hostile());
    let mut browser = Browser::launch(&chromium).expect("start chromium");
    browser.emulate(1280, 900, false, false).expect("emulate");
    let text = format!("{}{}", sample::SCRIPT, sample::IMG);
    for (page, _) in FACTS {
        browser.navigate(&url(dir.path(), page)).expect("load");
        assert_no_problems(&mut browser, page);
        let counts = browser
            .evaluate("[document.images.length, document.scripts.length]")
            .expect("counts");
        assert_eq!(counts, serde_json::json!([0, 1]), "{page}");
        let shown = browser
            .evaluate(&format!(
                "document.body.innerText.includes({})",
                serde_json::to_string(&text).expect("json")
            ))
            .expect("text");
        assert_eq!(shown, true, "{page} does not show the hostile text as text");
    }
}

/// The harness itself: a page that does everything the site must not is caught.
#[test]
fn the_browser_test_sees_what_goes_wrong() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("bad.html"),
        r#"<!doctype html><title>bad</title><link rel="stylesheet" href="missing.css">
<img src="x"><script>console.error("broken"); alert(1); undefined_function();</script>"#,
    )
    .expect("write");
    let mut browser = Browser::launch(&chromium).expect("start chromium");
    browser.emulate(1280, 900, false, false).expect("emulate");
    browser
        .navigate(&url(dir.path(), "bad.html"))
        .expect("load");
    let problems = browser.problems().join("\n");
    for expected in [
        "console.error: broken",
        "a JavaScript alert opened: 1",
        "uncaught exception: ReferenceError: undefined_function is not defined",
        "missing.css: net::ERR_FILE_NOT_FOUND",
        "/x: net::ERR_FILE_NOT_FOUND",
    ] {
        assert!(
            problems.contains(expected),
            "{expected:?} not in:\n{problems}"
        );
    }
    let png = browser.screenshot().expect("screenshot");
    let (colours, ink) = Image::decode(&png).expect("png").ink();
    assert!(
        colours < 16 || ink < 0.03,
        "a near-empty page passes as not blank"
    );
}

/// What each page that `strata site` wrote for the scripted history of the example platform
/// (tests/site/history.rs) must show, as text of the rendered DOM.
const COMMAND_FACTS: [(&str, &[&str]); 5] = [
    (
        "index.html",
        &[
            "welkin: what runs where",
            "Blocked by 2 gates (soaked, four-eyes)",
            "1.11.4 → 1.11.5 waiting",
        ],
    ),
    (
        "env-non-prod.html",
        &["Audit trail of non-prod", "Carol Coder"],
    ),
    (
        "env-prod.html",
        &[
            "Promotion to prod: blocked by 2 gates.",
            "2 of 5 working days since 2026-12-21 10:05; ready at 2026-12-30 10:05",
            "CVE-2026-40312 in ingress-nginx is exploited in the wild; INC-4471",
            "Dora \"><img src=x onerror=alert(2)> <dora@example.com>",
        ],
    ),
    (
        "changes.html",
        &["monitoring/grafana-smtp", "password: sha256:05b8fb833890"],
    ),
    (
        "checks.html",
        &[
            "the mail relay takes no sealed secrets (SEC-7)",
            "1 drifted, 61 missing, 0 orphans; 0 in sync.",
        ],
    ),
];

/// The pages `strata site` writes, in Chromium: every page at both widths without a console
/// error or failed request, not blank, with its facts, hostile text as text. With
/// `STRATA_UPDATE_SCREENSHOTS=1` the README's screenshots (docs/site/) are taken again.
#[test]
fn the_pages_strata_site_writes_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let h = site::history::history();
    let report = h.drift_report();
    let o = h.site(&["--drift", &report]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = h.site_dir();
    let mut browser = Browser::launch(&chromium).expect("start chromium");
    for (page, facts) in COMMAND_FACTS {
        let name = page.trim_end_matches(".html");
        for (width, height) in [(1280, 900), (390, 844)] {
            browser
                .emulate(width, height, false, false)
                .expect("emulate");
            browser.navigate(&url(&dir, page)).expect("load");
            assert_no_problems(
                &mut browser,
                &format!("{page} of strata site at {width} px"),
            );
            let text = browser
                .evaluate("document.body.textContent.replace(/\\s+/g, ' ')")
                .expect("text");
            let text = text.as_str().unwrap_or("");
            for fact in facts {
                assert!(
                    text.contains(fact),
                    "{page} of strata site at {width} px does not show {fact:?}"
                );
            }
            let counts = browser
                .evaluate("[document.images.length, document.scripts.length]")
                .expect("counts");
            assert_eq!(counts, serde_json::json!([0, 1]), "{page}");
            shot(&mut browser, &format!("command-{name}-{width}"));
        }
    }
    if std::env::var("STRATA_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/site");
        std::fs::create_dir_all(&docs).expect("docs/site");
        browser.emulate(1280, 900, false, false).expect("emulate");
        browser.navigate(&url(&dir, "index.html")).expect("load");
        let png = browser.screenshot().expect("screenshot");
        std::fs::write(docs.join("overview.png"), png).expect("save");
        browser.navigate(&url(&dir, "env-prod.html")).expect("load");
        let png = browser
            .screenshot_element("section[aria-labelledby=pending]")
            .expect("gates");
        std::fs::write(docs.join("gates.png"), png).expect("save");
        browser
            .evaluate("document.querySelector('details.chart .badge.glass').closest('details').open = true")
            .expect("open the month");
        let png = browser
            .screenshot_element("details.chart[open]")
            .expect("timeline screenshot");
        std::fs::write(docs.join("timeline.png"), png).expect("save");
    }
}
