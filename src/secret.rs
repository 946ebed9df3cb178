//! Secret values: how strata reads what a Secret holds, and the one fingerprint under which
//! every report (diff, drift, the policies) names a value it must not show, so that one value
//! has one name everywhere.

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::digest::hex;

/// The hex digits a fingerprint shows: enough to tell values apart, too few to guess one.
const FINGERPRINT_HEX: usize = 12;
const PREFIX: &str = "sha256:";

/// `sha256:<first 12 hex digits>` of `bytes`: how a report names a value it must not show.
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    shorten(&digest(bytes))
}

/// `sha256:<64 hex digits>` of `bytes`: what a comparison of secret values compares. Reports
/// show it [`shorten`]ed, as the [`fingerprint`].
pub(crate) fn digest(bytes: &[u8]) -> String {
    format!("{PREFIX}{}", hex(&Sha256::digest(bytes)))
}

/// The digest of one value of a Secret: of the bytes a `data` value decodes to (`base64`), or
/// of the text of a `stringData` one, so that a value moved between them keeps its name. A
/// `data` value that is not base64 is hashed apart from every value that is; `null` (how the
/// API server returns an empty value) holds nothing; any other value is hashed as its JSON.
pub(crate) fn value_digest(value: &Value, base64: bool) -> String {
    match value {
        Value::String(text) if base64 => match decode_base64(text) {
            Some(bytes) => digest(&bytes),
            None => digest(format!("invalid base64: {text}").as_bytes()),
        },
        Value::String(text) => digest(text.as_bytes()),
        Value::Null => digest(b""),
        other => digest(other.to_string().as_bytes()),
    }
}

/// A [`digest`] as reports show it, the [`fingerprint`]: `sha256:` and its first 12 hex
/// digits. Any other text is returned as it is.
pub(crate) fn shorten(text: &str) -> String {
    let is_digest = text.len() == PREFIX.len() + 64
        && text.starts_with(PREFIX)
        && text[PREFIX.len()..].bytes().all(|b| b.is_ascii_hexdigit());
    if is_digest {
        text[..PREFIX.len() + FINGERPRINT_HEX].to_string()
    } else {
        text.to_string()
    }
}

/// Every [`digest`] in `value`, [`shorten`]ed.
pub(crate) fn shorten_all(value: &mut Value) {
    match value {
        Value::String(text) => *text = shorten(text),
        Value::Array(items) => items.iter_mut().for_each(shorten_all),
        Value::Object(fields) => fields.values_mut().for_each(shorten_all),
        _ => {}
    }
}

/// Decodes Secret `data` as Kubernetes writes it: standard base64, padding optional.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_value_has_one_fingerprint_whether_base64_or_text() {
        // sha256("hunter2") = f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7
        assert_eq!(fingerprint(b"hunter2"), "sha256:f52fbd32b2b3");
        assert_eq!(fingerprint(b""), "sha256:e3b0c44298fc");
        let from_data = value_digest(&json!("aHVudGVyMg=="), true);
        let from_text = value_digest(&json!("hunter2"), false);
        assert_eq!(from_data, from_text);
        assert_eq!(shorten(&from_data), fingerprint(b"hunter2"));
        assert_eq!(value_digest(&json!(null), true), digest(b""));
        // Not base64: not the fingerprint of the same text given as stringData.
        assert_ne!(
            value_digest(&json!("not base64!"), true),
            value_digest(&json!("not base64!"), false)
        );
        assert_eq!(shorten("sha256:abc"), "sha256:abc");
        let mut v = json!({"a": [digest(b"x")], "b": "plain"});
        shorten_all(&mut v);
        assert_eq!(v, json!({"a": [fingerprint(b"x")], "b": "plain"}));
    }

    #[test]
    fn base64_decodes_as_kubernetes_encodes() {
        let cases: [(&str, Option<&[u8]>); 8] = [
            ("", Some(b"")),
            ("aHVudGVyMg==", Some(b"hunter2")),
            ("aHVudGVyMg", Some(b"hunter2")),
            ("Zm9vYg==", Some(b"foob")),
            ("Zm9vYmE=", Some(b"fooba")),
            ("Zm9vYmFy", Some(b"foobar")),
            ("not base64!", None),
            ("Zm9vY===", None),
        ];
        for (text, bytes) in cases {
            assert_eq!(super::decode_base64(text).as_deref(), bytes, "{text:?}");
        }
    }
}
