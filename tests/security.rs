//! Untrusted source repositories: whatever the files say, strata runs no unexpected program,
//! reads nothing outside the repository, stays within its memory and time, and never panics.
//! Every case leaves the previous output untouched.

mod common;

use common::{Platform, stderr};

fn fails(break_it: impl FnOnce(&Platform)) -> String {
    let p = Platform::minimal();
    let ok = p.strata(&["render"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let before = p.rendered();
    break_it(&p);
    let bad = p.strata(&["render"]);
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(p.rendered(), before, "the previous output changed");
    err
}

#[test]
fn an_unlisted_program_does_not_run() {
    let err = fails(|p| {
        let marker = p.path().join("ran");
        p.write(
            "components/web/component.yaml",
            &format!(
                "{}source:\n  command: [touch, {}]\n",
                common::WEB_COMPONENT,
                marker.display()
            ),
        );
    });
    assert!(
        err.contains("component `web` runs `touch`, which strata.yaml does not allow"),
        "{err}"
    );
    assert!(err.contains("sources:\n        commands: [touch]"), "{err}");
}

#[test]
fn a_command_that_floods_stdout_is_stopped() {
    let err = fails(|p| {
        p.write(
            "components/web/component.yaml",
            &format!(
                "{}source:\n  command: [sh, -c, \"yes kind: ConfigMap\"]\n",
                common::WEB_COMPONENT
            ),
        )
    });
    assert!(
        err.contains("`sh` printed more than 67108864 bytes and was stopped"),
        "{err}"
    );
}

#[test]
fn a_command_sees_only_path_home_and_the_values_file() {
    let p = Platform::minimal();
    p.write(
        "components/web/component.yaml",
        &format!(
            "{}source:\n  command: [sh, -c, \"printf 'apiVersion: v1\\\\nkind: ConfigMap\\\\nmetadata: {{name: env}}\\\\ndata:\\\\n' && env | sort | grep -v '^_=' | grep -v '^PWD=' | grep -v '^SHLVL=' | sed 's/^\\\\([A-Z_]*\\\\)=.*/  \\\\1: set/'\"]\n",
            common::WEB_COMPONENT
        ),
    );
    let o = assert_cmd::Command::cargo_bin("strata")
        .expect("bin")
        .current_dir(p.path())
        .env("AWS_SECRET_ACCESS_KEY", "leak-me")
        .env("GITHUB_TOKEN", "leak-me-too")
        .args(["render"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cm = std::fs::read_to_string(
        p.path()
            .join("rendered/dev/sto2/workload/web/configmap-env.yaml"),
    )
    .expect("rendered");
    assert!(
        cm.contains("HOME: set") && cm.contains("PATH: set") && cm.contains("STRATA_VALUES: set"),
        "{cm}"
    );
    assert!(
        !cm.contains("AWS_SECRET_ACCESS_KEY") && !cm.contains("GITHUB_TOKEN"),
        "{cm}"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_right_under_the_source_roots_are_checked_too() {
    // Each directory under components/ and environments/ is walked on its own; what sits
    // right under them is taken apart from those walks.
    let err = fails(|p| {
        std::os::unix::fs::symlink("/etc", p.path().join("components/outside")).expect("symlink");
        std::os::unix::fs::symlink("../components", p.path().join("environments/inside"))
            .expect("symlink");
    });
    assert!(
        err.contains("components/outside is a symlink to /etc, outside the source repository"),
        "{err}"
    );
    assert!(
        err.contains(
            "environments/inside is a symlink to a directory, which strata does not follow"
        ),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_repository_is_an_error_naming_the_link() {
    let err = fails(|p| {
        std::os::unix::fs::symlink(
            "/etc/hostname",
            p.path().join("components/web/templates/host.yaml"),
        )
        .expect("symlink");
    });
    assert!(err.contains("components/web/templates/host.yaml is a symlink to /etc/hostname, outside the source repository"), "{err}");
    assert!(
        err.contains("strata reads nothing outside the repository root"),
        "{err}"
    );
}

#[test]
fn an_oversized_file_is_refused() {
    let err = fails(|p| {
        let big = format!(
            "values:\n  web:\n    args: [{}]\n",
            "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\", ".repeat(170_000)
        );
        p.write("environments/prod/layer.yaml", &big);
    });
    assert!(err.contains("environments/prod/layer.yaml is"), "{err}");
    assert!(
        err.contains("bytes, over the limit of 8388608 bytes for a source file"),
        "{err}"
    );
}

#[test]
fn a_nine_level_alias_bomb_is_an_error_in_well_under_a_second() {
    let mut bomb = String::from("values:\n  web:\n    a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        bomb.push_str(&format!(
            "    a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let err = fails(|p| p.write("environments/prod/layer.yaml", &bomb));
    assert!(
        err.contains("error[yaml]: YAML aliases expand to more than 100000 nodes in this file"),
        "{err}"
    );
    assert!(err.contains("environments/prod/layer.yaml:"), "{err}");
}

#[test]
fn nesting_ten_thousand_levels_deep_is_an_error_not_a_crash() {
    let deep = format!(
        "values:\n  web:\n    args: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let err = fails(|p| p.write("environments/prod/layer.yaml", &deep));
    assert!(err.contains("YAML nested deeper than 128 levels"), "{err}");
    let json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let err = fails(|p| p.write("components/web/values.schema.json", &json));
    assert!(
        err.contains("components/web/values.schema.json is not valid JSON"),
        "{err}"
    );
}

#[test]
fn include_reaches_only_the_components_own_templates() {
    let err = fails(|p| {
        p.write(
            "components/web/templates/evil.yaml",
            "{% include \"../../strata.yaml\" %}\n",
        )
    });
    assert!(
        err.contains("error[template-include]: template not found"),
        "{err}"
    );
    assert!(err.contains("../../strata.yaml"), "{err}");
    assert!(
        err.contains(
            "`include` and `import` load only from components/web/templates/ and components/_lib/"
        ),
        "{err}"
    );
}

#[test]
fn a_runaway_template_loop_is_stopped() {
    let err = fails(|p| {
        p.write("components/web/templates/loop.yaml", "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}\n")
    });
    assert!(
        err.contains("error[template-limit]") || err.contains("error[template]"),
        "{err}"
    );
}

#[test]
fn a_template_that_renders_too_much_stops_at_the_limit() {
    // Each iteration adds 10 MB; without a cap on the output the loop would hold 300 MB
    // before its fuel ran out.
    let err = fails(|p| {
        p.write(
            "components/web/templates/flood.yaml",
            "{% for i in range(30) %}{{ \"x\" * 10000000 }}{% endfor %}\n",
        )
    });
    assert!(
        err.contains(
            "components/web/templates/flood.yaml rendered more than 16777216 bytes, the limit for one template"
        ),
        "{err}"
    );
    assert!(
        err.contains("look for a loop that runs far more often than intended"),
        "{err}"
    );
}

#[test]
fn runaway_template_recursion_is_stopped() {
    let err = fails(|p| {
        p.write(
            "components/web/templates/_self.yaml",
            "{% include \"_self.yaml\" %}\n",
        );
        p.write(
            "components/web/templates/rec.yaml",
            "{% include \"_self.yaml\" %}\n",
        );
    });
    assert!(err.contains("components/web/templates/"), "{err}");
    assert!(err.contains("recursion") || err.contains("limit"), "{err}");
}
