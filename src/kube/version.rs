//! Which Kubernetes a cluster runs, as far as its API is concerned: the minor version.

use std::fmt;

/// A Kubernetes version, `1.<minor>`. Patch releases do not change the API, so they are not
/// kept: `v1.31.4-eks-1` is `1.31`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    minor: u32,
}

/// The oldest and newest versions whose schemas strata embeds (src/kube/schemas.json.gz).
pub const OLDEST: KubeVersion = KubeVersion { minor: 25 };
pub const NEWEST: KubeVersion = KubeVersion { minor: 37 };

/// A `kubernetesVersion` that is not of the form `1.31`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a Kubernetes version: write it as `1.31` (major.minor)")]
pub struct BadVersion {
    pub text: String,
}

impl KubeVersion {
    pub const fn new(minor: u32) -> KubeVersion {
        KubeVersion { minor }
    }

    pub const fn minor(self) -> u32 {
        self.minor
    }

    /// Reads `1.31`, `v1.31`, `1.31.4` and `v1.31.4-eks-1` (what `kubectl version` prints).
    pub fn parse(text: &str) -> Result<KubeVersion, BadVersion> {
        let bad = || BadVersion {
            text: text.to_string(),
        };
        let rest = text.strip_prefix('v').unwrap_or(text);
        let rest = rest.strip_prefix("1.").ok_or_else(bad)?;
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest, |end| &rest[..end]);
        let tail = &rest[digits.len()..];
        let tail_ok = tail.is_empty()
            || tail.starts_with('.') && {
                let patch = &tail[1..];
                let end = patch
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(patch.len());
                end > 0 && (end == patch.len() || matches!(patch.as_bytes()[end], b'-' | b'+'))
            };
        if digits.is_empty() || digits.len() > 3 || !tail_ok {
            return Err(bad());
        }
        digits.parse().map(KubeVersion::new).map_err(|_| bad())
    }

    /// Whether strata has the schemas of this version.
    pub fn is_supported(self) -> bool {
        OLDEST <= self && self <= NEWEST
    }

    /// Every version strata has schemas for, oldest first.
    pub fn supported() -> impl Iterator<Item = KubeVersion> {
        (OLDEST.minor..=NEWEST.minor).map(KubeVersion::new)
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_people_and_kubectl_write() {
        for (text, minor) in [
            ("1.31", Some(31)),
            ("v1.31", Some(31)),
            ("1.31.4", Some(31)),
            ("v1.31.4-eks-1", Some(31)),
            ("v1.30.2+k3s1", Some(30)),
            ("1.9", Some(9)),
            ("1", None),
            ("2.1", None),
            ("1.", None),
            ("1.31.", None),
            ("1.31x", None),
            ("1.31.4x", None),
            (" 1.31", None),
            ("1.3100", None),
        ] {
            assert_eq!(
                KubeVersion::parse(text).ok().map(KubeVersion::minor),
                minor,
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_bad_version_message_shows_the_form() {
        assert_eq!(
            KubeVersion::parse("latest").unwrap_err().to_string(),
            "`latest` is not a Kubernetes version: write it as `1.31` (major.minor)"
        );
    }
}
