//! Secret values are compared by hash and never shown.
//!
//! Before comparison, a Secret's `data` and `stringData` become one `data` map from key to the
//! full digest of what each value holds ([`crate::secret::value_digest`]). So
//! `stringData: {password: hunter2}` in git equals `data: {password: aHVudGVyMg==}` on the
//! cluster, and no value reaches a report: the report shows the fingerprint, the first 12 hex
//! digits (`sha256:1c8bfe8f801d`), as diff and the policies do.

use serde_json::{Map, Value};

use crate::secret::{digest, shorten_all, value_digest};

/// Replaces `data` and `stringData` of a Secret by their [`value_digest`]s, merged as the API
/// server merges them: a `stringData` key wins over the same `data` key.
pub(crate) fn hash_secret_values(secret: &mut Value) {
    let Value::Object(fields) = secret else {
        return;
    };
    let data = fields.shift_remove("data");
    let string_data = fields.shift_remove("stringData");
    let mut hashed = Map::new();
    let mut opaque = None;
    for (field, base64) in [(data, true), (string_data, false)] {
        match field {
            Some(Value::Object(entries)) => {
                for (key, value) in entries {
                    hashed.insert(key, Value::String(value_digest(&value, base64)));
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => opaque = Some(digest(other.to_string().as_bytes())),
        }
    }
    if let Some(digest) = opaque {
        fields.insert("data".into(), Value::String(digest));
    } else if !hashed.is_empty() {
        fields.insert("data".into(), Value::Object(hashed));
    }
}

/// Shortens every digest in `value` to the fingerprint a report shows.
pub(crate) fn shorten_hashes(value: &mut Value) {
    shorten_all(value);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{hash_secret_values, shorten_hashes};

    #[test]
    fn string_data_equals_base64_data() {
        let mut desired = json!({"stringData": {"password": "hunter2"}, "data": {"user": "YWRt"}});
        let mut live = json!({"data": {"password": "aHVudGVyMg==", "user": "YWRt"}});
        hash_secret_values(&mut desired);
        hash_secret_values(&mut live);
        assert_eq!(desired, live);
        let mut shown = live["data"]["password"].clone();
        shorten_hashes(&mut shown);
        assert_eq!(shown, json!("sha256:f52fbd32b2b3"));
    }

    #[test]
    fn null_is_the_empty_value() {
        let mut desired = json!({"data": {"smtp-password": ""}});
        let mut live = json!({"data": {"smtp-password": null}});
        hash_secret_values(&mut desired);
        hash_secret_values(&mut live);
        assert_eq!(desired, live);
    }
}
