//! The YAML a diff shows of each side, in the canonical order ([`crate::yaml::canonical`]),
//! so that key order never shows as a change.

use serde_json::Value;

/// The YAML text of a canonical value, ending in a newline.
pub(crate) fn to_yaml(value: &Value) -> Result<String, yaml_serde::Error> {
    let mut text = yaml_serde::to_string(value)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::to_yaml;
    use crate::yaml::canonical;

    #[test]
    fn head_keys_first_then_sorted() {
        let v = json!({"spec": {"b": 1, "a": 2}, "metadata": {"name": "x"}, "kind": "K",
            "apiVersion": "v1", "data": {}});
        assert_eq!(
            to_yaml(&canonical(&v)).ok().as_deref(),
            Some(
                "apiVersion: v1\nkind: K\nmetadata:\n  name: x\ndata: {}\nspec:\n  a: 2\n  b: 1\n"
            )
        );
    }
}
