//! The site of the example platform with a scripted year of history: what each page says.

mod site;

use site::sample;

fn page(files: &strata::site::SiteFiles, path: &str) -> String {
    String::from_utf8(files.get(path).cloned().unwrap_or_default()).expect("utf-8")
}

#[test]
fn a_year_gives_the_same_bytes_every_time() {
    let a = strata::site::render(&sample::year()).expect("site");
    let b = strata::site::render(&sample::year()).expect("site");
    assert_eq!(a, b);
}

#[test]
fn a_year_of_history_has_the_size_the_script_promises() {
    let site = sample::year();
    let non_prod = &site.environments[0];
    let prod = &site.environments[1];
    let promotions = prod.audit.len();
    assert_eq!((non_prod.audit.len(), promotions), (204, 48));
    assert_eq!(non_prod.landings.len() + promotions, 252);
    assert_eq!(
        prod.audit.iter().filter(|a| a.emergency.is_some()).count(),
        1
    );
}

/// Every month of prod's timeline: the rule held (no landing inside its soak window) except
/// the emergency, which is flagged as break-glass.
#[test]
fn the_prod_timeline_shows_the_rule_held() {
    let files = strata::site::render(&sample::year()).expect("site");
    let prod = page(&files, "env-prod.html");
    let months = prod
        .matches(r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline""#)
        .count();
    assert_eq!(months, 12);
    assert_eq!(prod.matches(r#"<g class="tl-row tl-early">"#).count(), 0);
    // The emergency, and the five commits of the week before it that it carried unsoaked.
    assert_eq!(prod.matches(r#"<g class="tl-row tl-glass">"#).count(), 6);
    assert!(
        prod.contains(">break-glass after 0 of 5</text>"),
        "the emergency row"
    );
    assert!(prod.contains(
        "<strong>September 2026</strong> <span class=\"badge glass\">6 break-glass</span></summary>"
    ));
    // The newest month is open, with the commits that still wait.
    assert!(
        prod.contains("<figcaption id=\"tl-2-2026-12-caption\"><strong>December 2026</strong>: ")
    );
    assert!(prod.contains("still wait.</figcaption>"));
    // The holidays are marked in their months.
    for holiday in [
        "Fri 2026-04-03",
        "Mon 2026-04-06",
        "Thu 2026-05-14",
        "Fri 2026-06-19",
    ] {
        assert!(
            prod.contains(&format!(
                "<title>{holiday}: holiday, not a working day</title>"
            )),
            "{holiday}"
        );
    }
}

#[test]
fn the_prod_page_shows_the_pending_gates_and_the_audit() {
    let files = strata::site::render(&sample::year()).expect("site");
    let prod = page(&files, "env-prod.html");
    for expected in [
        r#"<p class="verdict blocked">Promotion to prod: blocked by 2 gates.</p>"#,
        r#"<progress max="5" value="0" aria-label="Soaked working days">0 of 5</progress>"#,
        // Christmas Eve and Christmas Day are holidays.
        "soaked 0 of 5 working days; ready at 2026-12-28 11:06 Europe&#x2f;Stockholm",
        "<caption>Audit trail of prod</caption>",
        "<p><strong class=\"badge glass\">break-glass</strong> unplanned: CVE-2026-40312 in ingress-nginx is exploited in the wild; INC-4471</p>",
        "<p>48 changes of <code>env&#x2f;prod</code>, newest first, rebuilt from its git history.</p>",
    ] {
        assert!(prod.contains(expected), "{expected}");
    }
}
