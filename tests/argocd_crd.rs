//! Every emitted Application and AppProject validates against Argo CD's own CRD schemas, which
//! live in ../shared/argocd/. A missing ../shared is a failure, never a silent pass.

mod common;

use std::path::PathBuf;

use strata::world::FsWorld;
use strata::{Selection, compile};

fn shared_argocd() -> PathBuf {
    let dir = common::repo_root().join("../shared/argocd");
    assert!(
        dir.join("application-crd.yaml").is_file(),
        "../shared/argocd/application-crd.yaml is missing: this test needs the shared directory beside the checkout ({})",
        dir.display()
    );
    dir
}

/// The openAPIV3Schema of the CRD's served version, as a JSON Schema validator.
fn crd_validator(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(shared_argocd().join(file)).expect("read CRD");
    let crd: serde_json::Value = yaml_serde::from_str(&text).expect("CRD is YAML");
    let versions = crd["spec"]["versions"].as_array().expect("versions");
    let version = versions
        .iter()
        .find(|v| v["name"] == "v1alpha1")
        .expect("v1alpha1");
    let schema = version["schema"]["openAPIV3Schema"].clone();
    assert!(schema.is_object(), "{file} has no openAPIV3Schema");
    jsonschema::validator_for(&schema).expect("the CRD schema compiles")
}

#[test]
fn applications_and_projects_match_the_argo_cd_crds() {
    common::helm_in_process();
    let application = crd_validator("application-crd.yaml");
    let project = crd_validator("appproject-crd.yaml");
    let world = FsWorld::open(&common::repo_root()).expect("open");
    let tree = compile(&world, &Selection::default())
        .map_err(|f| format!("{:?}", f.diagnostics))
        .expect("compile")
        .tree;
    let (mut apps, mut projects) = (0, 0);
    for (path, bytes) in &tree.files {
        let object: serde_json::Value = yaml_serde::from_slice(bytes).expect("yaml");
        let validator = match object["kind"].as_str() {
            Some("Application") if object["apiVersion"] == "argoproj.io/v1alpha1" => {
                apps += 1;
                &application
            }
            Some("AppProject") => {
                projects += 1;
                &project
            }
            _ => continue,
        };
        let errors: Vec<String> = validator
            .iter_errors(&object)
            .map(|e| format!("{} at {}", e, e.instance_path().as_str()))
            .collect();
        assert!(
            errors.is_empty(),
            "{path} does not match the CRD:\n{}",
            errors.join("\n")
        );
    }
    assert!(apps >= 100, "only {apps} Applications checked");
    assert_eq!(projects, 2);
}

#[test]
fn a_project_may_not_deploy_to_another_environments_clusters() {
    common::helm_in_process();
    let world = FsWorld::open(&common::repo_root()).expect("open");
    let compiled = compile(&world, &Selection::default())
        .map_err(|f| format!("{:?}", f.diagnostics))
        .expect("compile");
    for env in ["non-prod", "prod"] {
        let text = &compiled.tree.files[&format!("{env}/argocd/project.yaml")];
        let project: serde_json::Value = yaml_serde::from_slice(text).expect("yaml");
        let servers: Vec<&str> = project["spec"]["destinations"]
            .as_array()
            .expect("destinations")
            .iter()
            .filter_map(|d| d["server"].as_str())
            .collect();
        for c in &compiled.all {
            let listed = servers.contains(&c.server.as_str());
            assert_eq!(
                listed,
                c.environment == env,
                "{env} project and cluster {} ({})",
                c.name,
                c.server
            );
        }
    }
}
