//! Times `site::render` on the example platform with a scripted year of history
//! (tests/site/sample.rs), as it is and with 1,000 clusters.
//!
//! cargo bench --bench site

use std::time::{Duration, Instant};

#[path = "../tests/site/sample.rs"]
#[allow(dead_code)]
mod sample;

const ROUNDS: usize = 15;

/// The year, with `n` clusters split over the environments, each running every component.
fn scaled(n: usize) -> strata::site::Site {
    let mut site = sample::year();
    let per_env = n / site.environments.len();
    for env in &mut site.environments {
        let template = env.clusters[0].clone();
        env.clusters = (0..per_env)
            .map(|i| {
                let mut c = template.clone();
                c.name = format!("{}-dc{}-c{i:04}", env.name, i / 50);
                c.path = format!("dc{}/c{i:04}", i / 50);
                c.datacenter = Some(format!("dc{}", i / 50));
                c
            })
            .collect();
        if !env.changes.is_empty() {
            let change = env.changes[0].clone();
            env.changes = env
                .clusters
                .iter()
                .map(|c| {
                    let mut ch = change.clone();
                    ch.cluster = c.path.clone();
                    ch.cluster_name = Some(c.name.clone());
                    ch
                })
                .collect();
        }
    }
    site
}

fn time(name: &str, site: &strata::site::Site) {
    let mut times: Vec<Duration> = Vec::new();
    let mut bytes = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let files = strata::site::render(site).expect("site");
        times.push(start.elapsed());
        bytes = files.values().map(Vec::len).sum();
    }
    times.sort();
    println!(
        "{name}: min {:.1} ms, median {:.1} ms, max {:.1} ms over {ROUNDS} renders; {:.1} MB of pages",
        times[0].as_secs_f64() * 1e3,
        times[ROUNDS / 2].as_secs_f64() * 1e3,
        times[ROUNDS - 1].as_secs_f64() * 1e3,
        bytes as f64 / 1e6
    );
}

fn main() {
    let year = sample::year();
    let landings: usize = year.environments.iter().map(|e| e.landings.len()).sum();
    let audit: usize = year.environments.iter().map(|e| e.audit.len()).sum();
    println!(
        "the example platform, a year: {landings} landings, {audit} audit entries, 8 clusters"
    );
    time("year, 8 clusters", &year);
    time("year, 1000 clusters", &scaled(1000));
}
