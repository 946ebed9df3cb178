//! The pages of the site, their paths, and the minijinja environment that renders them.
//!
//! Templates are embedded in the binary and end in `.html`, so minijinja escapes every value
//! as HTML unless it is marked safe; the only safe values are the timeline SVGs, which
//! [`super::timeline`] escapes itself. The page layout is flat (every page next to
//! `style.css`), so links are the same from every page and from `file://`.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, merge_maps};
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::Serialize;

use super::model::{Environment as Env, Site};
use super::timeline::Timeline;
use super::{SiteError, SiteFiles};
use crate::compare::diff::Status;
use crate::promote::gates::calendar::Calendar;

const TEMPLATES: [(&str, &str); 6] = [
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("index.html", include_str!("templates/index.html")),
    (
        "environment.html",
        include_str!("templates/environment.html"),
    ),
    ("changes.html", include_str!("templates/changes.html")),
    ("checks.html", include_str!("templates/checks.html")),
];

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/site.js");

/// One link of the navigation.
#[derive(Serialize)]
struct NavLink {
    title: String,
    href: String,
    current: bool,
}

/// One row of the versions table: a component and what each environment runs.
#[derive(Serialize)]
struct VersionRow<'a> {
    component: &'a str,
    description: Option<&'a str>,
    /// `version` of component.yaml at the source commit.
    source: Option<&'a str>,
    /// One cell per environment, in the site's order.
    cells: Vec<VersionCell>,
}

#[derive(Serialize)]
struct VersionCell {
    /// `1.2.3`, or `1.2.3 (a, b); 1.2.4 (c)` when clusters differ; `None` where not deployed.
    running: Option<String>,
    /// What the pending proposal changes it to.
    pending: Option<String>,
}

/// The counts of a pending change, for its heading.
#[derive(Serialize)]
struct ChangeCounts {
    added: usize,
    changed: usize,
    removed: usize,
    clusters: usize,
}

/// A drawn month of a timeline.
#[derive(Serialize)]
struct ChartView {
    title: String,
    id: String,
    summary: String,
    early: usize,
    break_glass: usize,
    svg: Value,
}

pub(super) fn render(site: &Site) -> Result<SiteFiles, SiteError> {
    let calendar = Calendar::new(
        &site.calendar.timezone,
        site.calendar.workdays.as_deref(),
        &site.calendar.holidays,
    )
    .map_err(|e| SiteError::Calendar(e.to_string()))?;
    // The calendar accepted the name, so the zone exists; UTC is never reached.
    let tz = TimeZone::get(calendar.tz_name()).unwrap_or(TimeZone::UTC);
    let env = environment(&tz)?;
    let hrefs = environment_pages(site);

    let mut pages: Vec<(String, String)> = vec![("index.html".into(), "Overview".into())];
    for e in &site.environments {
        pages.push((hrefs[&e.name].clone(), e.name.clone()));
    }
    pages.push(("changes.html".into(), "Pending changes".into()));
    pages.push(("checks.html".into(), "Checks".into()));
    let nav = |current: &str| -> Vec<NavLink> {
        pages
            .iter()
            .map(|(href, title)| NavLink {
                title: title.clone(),
                href: href.clone(),
                current: href == current,
            })
            .collect()
    };

    let site_value = Value::from(Serde(site));
    let common = context! {
        site => site_value,
        hrefs => Value::from(Serde(&hrefs)),
        timezone => calendar.tz_name(),
    };
    let mut files = SiteFiles::new();
    let mut page = |path: &str, template: &str, extra: Value| -> Result<(), SiteError> {
        let own = context! { nav => Value::from(Serde(nav(path))), path => path };
        let ctx = merge_maps([own, extra, common.clone()]);
        let html = env
            .get_template(template)
            .and_then(|t| t.render(ctx))
            .map_err(|e| template_error(template, &e))?;
        files.insert(path.to_string(), html.into_bytes());
        Ok(())
    };

    page(
        "index.html",
        "index.html",
        context! {
            versions => Value::from(Serde(versions(site))),
            counts => Value::from(Serde(site.environments.iter().map(|e| (&e.name, change_counts(e))).collect::<BTreeMap<_, _>>())),
        },
    )?;
    for (i, e) in site.environments.iter().enumerate() {
        let href = &hrefs[&e.name];
        let timeline = Timeline {
            environment: &e.name,
            previous: e.previous.as_deref(),
            landings: &e.landings,
            calendar: &calendar,
            tz: &tz,
            holidays: &site.calendar.holidays,
            working_days: site.calendar.working_days,
            now: site.now,
            id: &format!("tl-{}", i + 1),
        };
        let charts: Vec<ChartView> = timeline
            .charts()
            .into_iter()
            .map(|c| ChartView {
                title: c.title,
                id: c.id,
                summary: c.summary,
                early: c.counts.early,
                break_glass: c.counts.break_glass,
                svg: Value::from_safe_string(c.svg),
            })
            .collect();
        page(
            href,
            "environment.html",
            context! {
                env => Value::from(Serde(e)),
                env_index => i + 1,
                charts => Value::from(Serde(charts)),
                counts => Value::from(Serde(change_counts(e))),
            },
        )?;
    }
    page(
        "changes.html",
        "changes.html",
        context! {
            counts => Value::from(Serde(site.environments.iter().map(|e| (&e.name, change_counts(e))).collect::<BTreeMap<_, _>>())),
        },
    )?;
    page("checks.html", "checks.html", context! {})?;
    files.insert("style.css".into(), STYLE.as_bytes().to_vec());
    files.insert("site.js".into(), SCRIPT.as_bytes().to_vec());
    Ok(files)
}

fn template_error(name: &str, e: &minijinja::Error) -> SiteError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    SiteError::Template {
        name: name.to_string(),
        message,
    }
}

/// The minijinja environment: the templates, strict about undefined values, and the filters
/// that show times in the platform's time zone.
fn environment(tz: &TimeZone) -> Result<Environment<'static>, SiteError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|e| template_error("syntax", &e))?;
    env.set_syntax(syntax);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| template_error(name, &e))?;
    }
    let zone = tz.clone();
    env.add_filter("at", move |value: &str| {
        local(value, &zone, "%Y-%m-%d %H:%M")
    });
    let zone = tz.clone();
    env.add_filter("day", move |value: &str| local(value, &zone, "%Y-%m-%d"));
    env.add_filter("short", |value: &str| -> String {
        value.chars().take(7).collect()
    });
    env.add_filter("name", |value: &str| -> String {
        value
            .split_once(" <")
            .map_or(value, |(name, _)| name)
            .to_string()
    });
    env.add_filter("by_version", by_version);
    env.add_function("diff_class", |line: &str| -> &'static str {
        match line.as_bytes().first() {
            Some(b'+') => "add",
            Some(b'-') => "del",
            Some(b'@') => "hunk",
            _ => "ctx",
        }
    });
    Ok(env)
}

/// Version changes grouped by what changed: `[{component, from, to, clusters}]`, so that a
/// bump on every cluster reads as one line.
fn by_version(changes: Value) -> Result<Value, minijinja::Error> {
    let text = |v: &Value, key: &str| -> Result<Option<String>, minijinja::Error> {
        let field = v.get_attr(key)?;
        Ok((!field.is_none() && !field.is_undefined()).then(|| field.to_string()))
    };
    // (component, from, to) → clusters, in the order first seen.
    type Move = (String, Option<String>, Option<String>);
    let mut groups: Vec<(Move, Vec<String>)> = Vec::new();
    for change in changes.try_iter()? {
        let key = (
            text(&change, "component")?.unwrap_or_default(),
            text(&change, "from")?,
            text(&change, "to")?,
        );
        let cluster = text(&change, "cluster")?.unwrap_or_default();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, clusters)) => clusters.push(cluster),
            None => groups.push((key, vec![cluster])),
        }
    }
    Ok(groups
        .into_iter()
        .map(|((component, from, to), clusters)| {
            context! { component, from, to, clusters }
        })
        .collect())
}

/// An RFC 3339 instant as local time in the platform's zone; anything else as it is.
fn local(value: &str, tz: &TimeZone, format: &str) -> String {
    match value.parse::<Timestamp>() {
        Ok(at) => at
            .to_zoned_datetime(tz.clone())
            .strftime(format)
            .to_string(),
        Err(_) => value.to_string(),
    }
}

/// The page of each environment: `env-<name>.html`, with any character that is not safe in
/// a file name replaced, and a number added where two names would meet.
fn environment_pages(site: &Site) -> BTreeMap<String, String> {
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    for e in &site.environments {
        let mut slug: String = e
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        if slug.is_empty() {
            slug.push_str("environment");
        }
        let mut href = format!("env-{slug}.html");
        let mut n = 2;
        while taken.contains(&href) {
            href = format!("env-{slug}-{n}.html");
            n += 1;
        }
        taken.insert(href.clone());
        out.insert(e.name.clone(), href);
    }
    out
}

/// The versions table: every component, what each environment runs and what waits.
fn versions(site: &Site) -> Vec<VersionRow<'_>> {
    let mut names: Vec<&str> = site.components.iter().map(|c| c.name.as_str()).collect();
    let known: BTreeSet<&str> = names.iter().copied().collect();
    let deployed: BTreeSet<&str> = site
        .environments
        .iter()
        .flat_map(|e| &e.clusters)
        .flat_map(|c| c.components.keys())
        .map(String::as_str)
        .filter(|n| !known.contains(n))
        .collect();
    names.extend(deployed);
    names
        .into_iter()
        .map(|name| {
            let component = site.components.iter().find(|c| c.name == name);
            VersionRow {
                component: name,
                description: component.and_then(|c| c.description.as_deref()),
                source: component.map(|c| c.version.as_str()),
                cells: site
                    .environments
                    .iter()
                    .map(|e| VersionCell {
                        running: running_version(e, name),
                        pending: pending_version(e, name),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn running_version(e: &Env, component: &str) -> Option<String> {
    let mut by_version: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &e.clusters {
        if let Some(v) = c.components.get(component) {
            by_version.entry(v).or_default().push(&c.name);
        }
    }
    match by_version.len() {
        0 => None,
        1 => by_version.into_keys().next().map(str::to_string),
        _ => Some(
            by_version
                .iter()
                .map(|(v, clusters)| format!("{v} ({})", clusters.join(", ")))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    }
}

fn pending_version(e: &Env, component: &str) -> Option<String> {
    let changes = &e.pending.as_ref()?.version_changes;
    let to: BTreeSet<&str> = changes
        .iter()
        .filter(|v| v.component == component)
        .map(|v| v.to.as_deref().unwrap_or("removed"))
        .collect();
    (!to.is_empty()).then(|| to.into_iter().collect::<Vec<_>>().join(", "))
}

fn change_counts(e: &Env) -> ChangeCounts {
    let resources = e.changes.iter().flat_map(|c| &c.resources);
    let count = |s: Status| resources.clone().filter(|r| r.status == s).count();
    ChangeCounts {
        added: count(Status::Added),
        changed: count(Status::Changed),
        removed: count(Status::Removed),
        clusters: e.changes.len(),
    }
}
