//! Secret values are shown as short hashes, never as text.
//!
//! Before a Secret is compared or printed, every value of its `data` and `stringData` becomes
//! its fingerprint ([`crate::secret::value_digest`], shortened): of the decoded bytes for `data`
//! (so a value moved between `data` and `stringData` keeps its hash), of the text for
//! `stringData`.
//! A changed value therefore shows as a changed hash line, and the plaintext or its base64
//! never reaches a `Diff`, let alone an output. The hashes match the ones `strata drift` shows.
//!
//! A `data` or `stringData` that is not a map is hashed whole. The
//! `kubectl.kubernetes.io/last-applied-configuration` annotation, which would hold the values
//! again, is hashed too.

use serde_json::Value;

use crate::secret;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Replaces the values of a Secret by their hashes.
pub(crate) fn hash_values(secret: &mut Value) {
    let Value::Object(fields) = secret else {
        return;
    };
    for (field, base64) in [("data", true), ("stringData", false)] {
        match fields.get_mut(field) {
            Some(Value::Object(entries)) => {
                for value in entries.values_mut() {
                    *value = Value::String(hash_value(value, base64));
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => *other = Value::String(hash(other.to_string().as_bytes())),
        }
    }
    if let Some(Value::Object(annotations)) = fields
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        && let Some(applied) = annotations.get_mut(LAST_APPLIED)
    {
        *applied = Value::String(hash(applied.to_string().as_bytes()));
    }
}

fn hash_value(value: &Value, base64: bool) -> String {
    secret::shorten(&secret::value_digest(value, base64))
}

fn hash(bytes: &[u8]) -> String {
    secret::fingerprint(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::hash_values;

    #[test]
    fn data_and_string_data_hash_the_same_bytes() {
        let mut secret = json!({
            "kind": "Secret",
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"password": "hunter2", "empty": null},
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
        });
        hash_values(&mut secret);
        assert_eq!(secret["data"]["password"], json!("sha256:f52fbd32b2b3"));
        assert_eq!(
            secret["stringData"]["password"],
            json!("sha256:f52fbd32b2b3")
        );
        assert_eq!(secret["stringData"]["empty"], json!("sha256:e3b0c44298fc"));
        let text = secret.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("aHVudGVyMg"),
            "{text}"
        );
    }

    #[test]
    fn a_data_value_that_is_not_base64_has_the_fingerprint_drift_gives_it() {
        let mut secret = json!({
            "kind": "Secret",
            "data": {"key": "not base64!"},
            "stringData": {"key": "not base64!"},
        });
        hash_values(&mut secret);
        let shown =
            crate::secret::shorten(&crate::secret::value_digest(&json!("not base64!"), true));
        assert_eq!(secret["data"]["key"], json!(shown));
        assert_ne!(
            secret["data"]["key"], secret["stringData"]["key"],
            "text that is not base64 is not what the same text in stringData holds"
        );
    }
}
