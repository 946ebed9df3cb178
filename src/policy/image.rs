//! Container image references: are they pinned, and do they come from an allowed registry?
//!
//! A reference is `[registry/]path[:tag][@digest]`, as Docker and containerd read it: the first
//! path component is a registry when it contains `.` or `:` or is `localhost`; otherwise the
//! image is on Docker Hub (`nginx` is `docker.io/library/nginx`).

/// How an image is pinned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pin<'a> {
    Digest,
    Tag(&'a str),
    Latest,
    Unpinned,
}

pub(crate) fn pin(image: &str) -> Pin<'_> {
    if image.contains('@') {
        return Pin::Digest;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, "latest")) => Pin::Latest,
        Some((_, tag)) if !tag.is_empty() => Pin::Tag(tag),
        _ => Pin::Unpinned,
    }
}

/// The image's repository with its registry spelled out, lowercase, without tag or digest:
/// `docker.io/library/nginx`, `harbor.example.com/platform/grafana`.
pub(crate) fn repository(image: &str) -> String {
    let name = image.split('@').next().unwrap_or(image);
    let name = match name.rsplit_once(':') {
        // A colon after the last slash starts the tag; one before it is a registry port.
        Some((before, tag)) if !tag.contains('/') => before,
        _ => name,
    };
    let name = name.to_ascii_lowercase();
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            name
        }
        Some(_) => format!("docker.io/{name}"),
        None => format!("docker.io/library/{name}"),
    }
}

/// Whether `image` lives under one of `registries`. An entry is a registry host
/// (`harbor.example.com`) or a host and path prefix (`harbor.example.com/platform`); it matches
/// whole path components only, so `harbor.example.com` does not allow `harbor.example.com.evil.io`.
pub(crate) fn from_registry(image: &str, registries: &[String]) -> bool {
    let repository = repository(image);
    registries.iter().any(|entry| {
        let entry = entry.trim();
        let entry = entry
            .strip_prefix("https://")
            .or_else(|| entry.strip_prefix("http://"))
            .unwrap_or(entry)
            .trim_end_matches('/')
            .to_ascii_lowercase();
        !entry.is_empty()
            && repository
                .strip_prefix(&entry)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning() {
        assert_eq!(pin("nginx"), Pin::Unpinned);
        assert_eq!(pin("nginx:latest"), Pin::Latest);
        assert_eq!(pin("nginx:1.27"), Pin::Tag("1.27"));
        assert_eq!(pin("registry:5000/nginx"), Pin::Unpinned);
        assert_eq!(pin("registry:5000/team/nginx:2"), Pin::Tag("2"));
        assert_eq!(pin("nginx:latest@sha256:abcd"), Pin::Digest);
        assert_eq!(pin("nginx:"), Pin::Unpinned);
    }

    #[test]
    fn repositories_spell_out_docker_hub() {
        assert_eq!(repository("nginx:1.27"), "docker.io/library/nginx");
        assert_eq!(repository("bitnami/redis"), "docker.io/bitnami/redis");
        assert_eq!(
            repository("registry:5000/team/app@sha256:ab"),
            "registry:5000/team/app"
        );
        assert_eq!(
            repository("Harbor.Example.com/p/app:1"),
            "harbor.example.com/p/app"
        );
    }

    #[test]
    fn registries_match_whole_components() {
        let allowed = vec![
            "harbor.example.com".to_string(),
            "ghcr.io/welkin/".to_string(),
        ];
        assert!(from_registry("harbor.example.com/platform/app:1", &allowed));
        assert!(from_registry("ghcr.io/welkin/app:1", &allowed));
        assert!(!from_registry("ghcr.io/welkinx/app:1", &allowed));
        assert!(!from_registry("harbor.example.com.evil.io/app:1", &allowed));
        assert!(!from_registry("nginx:1.27", &allowed));
        assert!(from_registry(
            "nginx:1.27",
            &["docker.io/library".to_string()]
        ));
    }
}
