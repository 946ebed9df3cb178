//! Secret values: how strata reads a Secret's `data`, so that drift, diff and the policies agree
//! on what a Secret holds.

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
