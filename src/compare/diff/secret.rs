//! Secret values are shown as short hashes, never as text.
//!
//! Before a Secret is compared or printed, every value of its `data` and `stringData` becomes
//! `sha256:<first 12 hex digits>` of the value's bytes: the decoded bytes for `data` (so a
//! value moved between `data` and `stringData` keeps its hash), the text for `stringData`.
//! A changed value therefore shows as a changed hash line, and the plaintext or its base64
//! never reaches a `Diff`, let alone an output. The hashes match the ones `strata drift` shows.
//!
//! A `data` or `stringData` that is not a map is hashed whole. The
//! `kubectl.kubernetes.io/last-applied-configuration` annotation, which would hold the values
//! again, is hashed too.

use serde_json::Value;

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
    match value {
        Value::String(text) if base64 => match decode_base64(text) {
            Some(bytes) => hash(&bytes),
            None => hash(text.as_bytes()),
        },
        Value::String(text) => hash(text.as_bytes()),
        Value::Null => hash(b""),
        other => hash(other.to_string().as_bytes()),
    }
}

use crate::digest::fingerprint as hash;
use crate::secret::decode_base64;

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
}
