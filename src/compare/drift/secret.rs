//! Secret values are compared by hash and never shown.
//!
//! Before comparison, a Secret's `data` and `stringData` become one `data` map from key to
//! `sha256:<64 hex>` of the decoded bytes. So `stringData: {password: hunter2}` in git equals
//! `data: {password: aHVudGVyMg==}` on the cluster, and no value reaches a report: the report
//! shows the first 12 hex digits (`sha256:1c8bfe8f801d`), enough to tell values apart.

use serde_json::{Map, Value};

use crate::digest::{FINGERPRINT_HEX, sha256_hex};
use crate::secret::decode_base64;

const PREFIX: &str = "sha256:";

/// Replaces `data` and `stringData` of a Secret by hashes, merged as the API server merges
/// them: a `stringData` key wins over the same `data` key.
pub(crate) fn hash_secret_values(secret: &mut Value) {
    let Value::Object(fields) = secret else {
        return;
    };
    let data = fields.shift_remove("data");
    let string_data = fields.shift_remove("stringData");
    let mut hashed = Map::new();
    let mut opaque = None;
    match data {
        Some(Value::Object(entries)) => {
            for (key, value) in entries {
                let digest = match &value {
                    Value::String(text) => match decode_base64(text) {
                        Some(bytes) => hash(&bytes),
                        // Not base64: hash it apart from every decodable value.
                        None => hash(format!("invalid base64: {text}").as_bytes()),
                    },
                    other => hash_raw(other),
                };
                hashed.insert(key, Value::String(digest));
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => opaque = Some(hash(other.to_string().as_bytes())),
    }
    match string_data {
        Some(Value::Object(entries)) => {
            for (key, value) in entries {
                let digest = match &value {
                    Value::String(text) => hash(text.as_bytes()),
                    other => hash_raw(other),
                };
                hashed.insert(key, Value::String(digest));
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => opaque = Some(hash(other.to_string().as_bytes())),
    }
    if let Some(digest) = opaque {
        fields.insert("data".into(), Value::String(digest));
    } else if !hashed.is_empty() {
        fields.insert("data".into(), Value::Object(hashed));
    }
}

/// `null` is how the API server returns an empty value; anything else is hashed as JSON.
fn hash_raw(value: &Value) -> String {
    match value {
        Value::Null => hash(b""),
        other => hash(other.to_string().as_bytes()),
    }
}

fn hash(bytes: &[u8]) -> String {
    format!("{PREFIX}{}", sha256_hex(bytes))
}

/// Shortens every full hash in `value` to the form a report shows.
pub(crate) fn shorten_hashes(value: &mut Value) {
    match value {
        Value::String(text) => {
            let is_full_hash = text.len() == PREFIX.len() + 64
                && text.starts_with(PREFIX)
                && text[PREFIX.len()..].bytes().all(|b| b.is_ascii_hexdigit());
            if is_full_hash {
                text.truncate(PREFIX.len() + FINGERPRINT_HEX);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(shorten_hashes),
        Value::Object(fields) => fields.values_mut().for_each(shorten_hashes),
        _ => {}
    }
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
