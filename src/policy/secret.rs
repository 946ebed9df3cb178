//! Secrets in clear: Secret objects with plaintext data, and `x-strata-secret` values that a
//! template wrote into any object.

use serde_json::Value;

use super::finding::Finding;
use super::input::SecretValue;
use super::rule::{NO_PLAINTEXT_SECRETS, SECRET_VALUE_LEAK};
use super::text::Texts;
use crate::object::{ObjectId, is_core};

/// Secret values this long or longer are also found inside longer strings; shorter ones only as
/// a whole value, so that a secret `admin` does not match every `administrator`.
pub(crate) const SUBSTRING_MIN: usize = 8;

/// A core Secret with data, and no SOPS envelope. ExternalSecret, SealedSecret and the like are
/// other kinds and pass.
pub(crate) fn plaintext(resource: &ObjectId, object: &Value) -> Option<Finding> {
    if !is_core(object, "Secret") || object.get("sops").is_some_and(|s| !s.is_null()) {
        return None;
    }
    let mut keys = Vec::new();
    let mut field = None;
    for name in ["data", "stringData"] {
        if let Some(map) = object.get(name).and_then(Value::as_object)
            && !map.is_empty()
        {
            field.get_or_insert(name);
            keys.extend(map.keys().map(|k| format!("`{k}`")));
        }
    }
    let field = field?;
    let what = if keys.len() == 1 { "key" } else { "keys" };
    Some(Finding::new(
        NO_PLAINTEXT_SECRETS,
        field,
        format!(
            "Secret `{}` holds {} {what} in plaintext ({}) and is not SOPS-encrypted",
            resource.name,
            keys.len(),
            keys.join(", ")
        ),
    ))
}

/// Every place where a secret value of the cluster appears in `texts`.
pub(crate) fn value_leaks(texts: &Texts, secrets: &[SecretValue], out: &mut Vec<Finding>) {
    for secret in secrets {
        if secret.value.trim().is_empty() {
            continue;
        }
        let long = secret.value.chars().count() >= SUBSTRING_MIN;
        for text in texts.iter() {
            let found = if long {
                text.value.contains(&secret.value)
            } else {
                text.value == secret.value
            };
            if !found {
                continue;
            }
            out.push(
                Finding::new(
                    SECRET_VALUE_LEAK,
                    texts.field(text),
                    format!(
                        "the secret value of `{}` ({}) appears in clear",
                        secret.path,
                        fingerprint(&secret.value)
                    ),
                )
                .hint(format!(
                    "`{}` is marked `x-strata-secret`: do not template it into this object; \
                     reference a SOPS-encrypted Secret or an ExternalSecret that holds it",
                    secret.path
                ))
                .origin(secret.set_in.clone(), secret.line),
            );
        }
    }
}

/// `sha256:<first 12 hex digits>`: how reports name a value they must not show
/// ([`crate::secret::fingerprint`]).
pub(crate) fn fingerprint(value: &str) -> String {
    crate::secret::fingerprint(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_short_sha256() {
        // sha256("hunter2") = f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7
        assert_eq!(fingerprint("hunter2"), "sha256:f52fbd32b2b3");
    }
}
