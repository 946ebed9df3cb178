//! Times the Kubernetes check on the objects of the example platform (golden/), repeated to a
//! few thousand, and, given the JSON Schemas of kubernetes-validate, the `jsonschema` crate on
//! the same objects for comparison.
//!
//! cargo bench --bench kube                       # the walker alone
//! KUBE_JSON_SCHEMAS=DIR cargo bench --bench kube # DIR: kubernetes-validate's
//!     kubernetes_validate/kubernetes-json-schema/v1.31.0-local-strict (pip download it)

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use strata::kube::{Crds, KubeVersion, Validator};

const COPIES: usize = 8;
const ROUNDS: usize = 5;

fn objects() -> Vec<Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let Ok(entry) = entry else { continue };
        if entry.path().extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for doc in text.split("\n---") {
            if let Ok(v) = yaml_serde::from_str::<Value>(doc)
                && v.get("kind").is_some()
            {
                out.push(v);
            }
        }
    }
    out
}

fn best(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        found = f();
        times.push(start.elapsed());
    }
    times.sort();
    (times[ROUNDS / 2], found)
}

fn main() {
    let base = objects();
    let objects: Vec<&Value> = (0..COPIES).flat_map(|_| base.iter()).collect();
    let n = objects.len();
    println!("{n} objects ({} distinct, from golden/)", base.len());

    // The Argo CD CRDs, so that Applications are checked too, as they will be in a render.
    let mut crds = Crds::new();
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/argocd");
    for file in ["application-crd.yaml", "appproject-crd.yaml"] {
        if let Ok(text) = std::fs::read_to_string(shared.join(file))
            && let Ok(crd) = yaml_serde::from_str::<Value>(&text)
        {
            crds.add(&crd);
        }
    }
    println!("{} CRDs (Argo CD, from ../shared/argocd)", crds.len());
    let start = Instant::now();
    let validator = Validator::new(KubeVersion::new(31), &crds).expect("1.31");
    println!(
        "first use (inflate, parse, compile 1.31): {:?}",
        start.elapsed()
    );
    let start = Instant::now();
    let _ = Validator::new(KubeVersion::new(37), &crds).expect("1.37");
    println!("compile one more version (1.37): {:?}", start.elapsed());

    let (t, found) = best(|| objects.iter().map(|o| validator.check(o).len()).sum());
    println!(
        "walker: {:?} for {n} objects, {:.2} µs/object, {found} findings (unknown-kind: cert-manager and external-secrets)",
        t,
        t.as_secs_f64() * 1e6 / n as f64
    );

    let Some(dir) = std::env::var_os("KUBE_JSON_SCHEMAS") else {
        println!("set KUBE_JSON_SCHEMAS to compare with the jsonschema crate");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let defs: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("_definitions.json")).expect("_definitions.json"),
    )
    .expect("JSON");
    let defs = defs["$defs"].clone();
    // The definition of each kind, from its x-kubernetes-group-version-kind.
    let mut name_of: BTreeMap<(String, String), String> = BTreeMap::new();
    for (name, def) in defs.as_object().expect("defs") {
        if let Some([gvk]) = def["x-kubernetes-group-version-kind"]
            .as_array()
            .map(Vec::as_slice)
        {
            let group = gvk["group"].as_str().unwrap_or("");
            let version = gvk["version"].as_str().unwrap_or("");
            let api = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            name_of.insert(
                (api, gvk["kind"].as_str().unwrap_or("").to_string()),
                name.clone(),
            );
        }
    }
    let start = Instant::now();
    let mut validators: BTreeMap<(String, String), jsonschema::Validator> = BTreeMap::new();
    for o in &base {
        let key = (
            o["apiVersion"].as_str().unwrap_or("").to_string(),
            o["kind"].as_str().unwrap_or("").to_string(),
        );
        if validators.contains_key(&key) {
            continue;
        }
        let Some(name) = name_of.get(&key) else {
            continue;
        };
        let schema = serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/$defs/{name}"),
            "$defs": defs,
        });
        match jsonschema::validator_for(&schema) {
            Ok(v) => {
                validators.insert(key, v);
            }
            Err(e) => println!("{name} does not compile: {e}"),
        }
    }
    println!(
        "jsonschema: compiled {} kinds in {:?}",
        validators.len(),
        start.elapsed()
    );
    let (t, found) = best(|| {
        objects
            .iter()
            .map(|o| {
                let key = (
                    o["apiVersion"].as_str().unwrap_or("").to_string(),
                    o["kind"].as_str().unwrap_or("").to_string(),
                );
                validators.get(&key).map_or(0, |v| v.iter_errors(o).count())
            })
            .sum()
    });
    let same: Vec<&Value> = objects
        .iter()
        .copied()
        .filter(|o| {
            validators.contains_key(&(
                o["apiVersion"].as_str().unwrap_or("").to_string(),
                o["kind"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect();
    let m = same.len();
    println!(
        "jsonschema: {:?} for the {m} objects of built-in kinds, {:.2} µs/object, {found} errors",
        t,
        t.as_secs_f64() * 1e6 / m as f64
    );
    let (t, found) = best(|| same.iter().map(|o| validator.check(o).len()).sum());
    println!(
        "walker: {:?} for the same {m} objects, {:.2} µs/object, {found} findings",
        t,
        t.as_secs_f64() * 1e6 / m as f64
    );
}
