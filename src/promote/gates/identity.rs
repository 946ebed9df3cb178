//! Who a person is: the email git records and the login a forge records, and the
//! `identities:` map of strata.yaml that joins the two.
//!
//! Emails are normalized before they are compared:
//! - trimmed, stripped of `<…>`, and lowercased (as every mail provider treats them);
//! - the `+tag` of the local part is dropped, so `alice+work@example.com` is `alice@example.com`.
//!   The four-eyes gate must never count one person twice or let an author approve under an
//!   alias. Merging aliases can only make the gate stricter, never weaker;
//! - GitHub's noreply addresses (`12345+alice@users.noreply.github.com`, `alice@users.noreply…`)
//!   name the login `alice`, which `identities:` then resolves to an email.
//!
//! - a trailing dot of the domain is dropped (`alice@example.com.` is `alice@example.com`).
//!
//! Two identities are the same person when their emails are equal or their logins are.
//!
//! Approvers are checked before they are normalized ([`plain`]): an email or login that holds a
//! control character, an invisible one (zero-width, bidi controls, soft hyphen) or letters of two
//! scripts (a Cyrillic `а` among Latin letters) is refused, because it can look exactly like
//! someone else's. The check is a short explicit list rather than a Unicode confusables table:
//! it has to catch what makes two identities look alike, not to judge every script.

use std::collections::BTreeMap;

use serde::Serialize;

const NOREPLY_DOMAIN: &str = "users.noreply.github.com";

/// A person, as a commit or a forge names them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct Identity {
    pub(crate) name: String,
    /// Normalized, see the module docs.
    pub(crate) email: String,
    /// The forge login, lowercased, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) login: Option<String>,
}

impl Identity {
    /// From a name and email as git records them.
    pub(crate) fn new(name: &str, email: &str) -> Identity {
        Identity {
            name: name.trim().to_string(),
            email: normalize_email(email),
            login: noreply_login(email),
        }
    }

    /// A forge login whose email is known: `alice` and `alice@example.com`.
    pub(crate) fn from_login(login: &str, email: &str) -> Identity {
        let login = normalize_login(login);
        Identity {
            name: login.clone(),
            email: normalize_email(email),
            login: Some(login),
        }
    }

    /// Reads `Name <email>` or a bare `email`, as in `Co-authored-by:` and `Approved-by:`.
    pub(crate) fn parse(value: &str) -> Option<Identity> {
        let value = value.trim();
        if let Some(open) = value.rfind('<') {
            let rest = &value[open + 1..];
            let close = rest.find('>')?;
            let email = rest[..close].trim();
            if !email.contains('@') {
                return None;
            }
            return Some(Identity::new(&value[..open], email));
        }
        if value.contains('@') && !value.contains(char::is_whitespace) {
            return Some(Identity::new("", value));
        }
        None
    }

    pub(crate) fn same_person(&self, other: &Identity) -> bool {
        self.email == other.email
            || matches!((&self.login, &other.login), (Some(a), Some(b)) if a == b)
    }
}

/// The `identities:` of strata.yaml: forge login → email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Identities {
    by_login: BTreeMap<String, String>,
}

impl Identities {
    pub(crate) fn new(map: &BTreeMap<String, String>) -> Identities {
        Identities {
            by_login: map
                .iter()
                .map(|(login, email)| (normalize_login(login), normalize_email(email)))
                .collect(),
        }
    }

    pub(crate) fn email_of(&self, login: &str) -> Option<&str> {
        self.by_login
            .get(&normalize_login(login))
            .map(String::as_str)
    }

    /// Completes an identity with what the map knows: the email of its login, or the login of
    /// its email (the first such login, in name order).
    pub(crate) fn resolve(&self, mut identity: Identity) -> Identity {
        match &identity.login {
            Some(login) => {
                if let Some(email) = self.by_login.get(login) {
                    identity.email = email.clone();
                }
            }
            None => {
                identity.login = self
                    .by_login
                    .iter()
                    .find(|(_, email)| **email == identity.email)
                    .map(|(login, _)| login.clone());
            }
        }
        identity
    }
}

/// See the module docs.
pub(crate) fn normalize_email(email: &str) -> String {
    let email = email
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .trim_end_matches('.')
        .to_lowercase();
    if let Some(login) = noreply_login(&email) {
        return format!("{login}@{NOREPLY_DOMAIN}");
    }
    match email.rsplit_once('@') {
        Some((local, domain)) => match local.split_once('+') {
            Some((base, _tag)) if !base.is_empty() => format!("{base}@{domain}"),
            _ => email.clone(),
        },
        None => email.clone(),
    }
}

/// The GitHub login of a noreply address: `12345+alice@users.noreply.github.com` → `alice`.
pub(crate) fn noreply_login(email: &str) -> Option<String> {
    let email = email
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase();
    let (local, domain) = email.rsplit_once('@')?;
    if domain != NOREPLY_DOMAIN {
        return None;
    }
    let login = match local.split_once('+') {
        Some((id, login)) if id.chars().all(|c| c.is_ascii_digit()) => login,
        _ => local,
    };
    (!login.is_empty()).then(|| login.to_string())
}

/// Logins are case-insensitive on GitHub and GitLab; `@alice` is `alice`.
pub(crate) fn normalize_login(login: &str) -> String {
    login.trim().trim_start_matches('@').to_lowercase()
}

/// Why an email or login cannot name an approver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IdentityError {
    #[error("{value:?} holds the control character {code}; an identity is plain text")]
    Control { value: String, code: String },
    #[error("{value:?} holds the invisible character {code} ({name}); remove it")]
    Invisible {
        value: String,
        code: String,
        name: &'static str,
    },
    #[error(
        "{value:?} mixes {first} and {second} letters, so it can look like another person's; write it in one script"
    )]
    MixedScript {
        value: String,
        first: &'static str,
        second: &'static str,
    },
}

/// Refuses an email, login or name that could pass for someone else's (see the module docs).
pub(crate) fn plain(value: &str) -> Result<(), IdentityError> {
    let code = |c: char| format!("U+{:04X}", u32::from(c));
    let mut script: Option<&'static str> = None;
    for c in value.chars() {
        if c.is_control() {
            return Err(IdentityError::Control {
                value: value.to_string(),
                code: code(c),
            });
        }
        if let Some(name) = invisible(c) {
            return Err(IdentityError::Invisible {
                value: value.to_string(),
                code: code(c),
                name,
            });
        }
        let Some(this) = script_of(c) else {
            continue;
        };
        match script {
            Some(first) if first != this => {
                return Err(IdentityError::MixedScript {
                    value: value.to_string(),
                    first,
                    second: this,
                });
            }
            _ => script = Some(this),
        }
    }
    Ok(())
}

/// Characters that print as nothing, or that reorder what prints around them.
fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00AD}' => "soft hyphen",
        '\u{034F}' => "combining grapheme joiner",
        '\u{061C}' => "Arabic letter mark, a bidi control",
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => "Hangul filler",
        '\u{180E}' => "Mongolian vowel separator",
        '\u{200B}' => "zero width space",
        '\u{200C}' => "zero width non-joiner",
        '\u{200D}' => "zero width joiner",
        '\u{200E}' | '\u{200F}' => "a bidi mark",
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "a bidi control",
        '\u{2060}'..='\u{2064}' => "an invisible operator or word joiner",
        '\u{FE00}'..='\u{FE0F}' => "a variation selector",
        '\u{FEFF}' => "zero width no-break space",
        '\u{E0000}'..='\u{E007F}' => "a tag character",
        _ => return None,
    })
}

/// The script of a letter, for the scripts whose letters pass for each other; other letters
/// count as one script of their own, digits and punctuation as none.
fn script_of(c: char) -> Option<&'static str> {
    if !c.is_alphabetic() {
        return None;
    }
    Some(match u32::from(c) {
        0x0041..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF | 0xFF21..=0xFF5A => {
            "Latin"
        }
        0x0370..=0x03FF | 0x1F00..=0x1FFF => "Greek",
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => "Cyrillic",
        _ => "non-Latin",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_email_table() {
        let cases = [
            ("  Alice@Example.COM ", "alice@example.com"),
            ("<bob@example.com>", "bob@example.com"),
            ("alice+work@example.com", "alice@example.com"),
            ("+only@example.com", "+only@example.com"),
            (
                "12345+Alice@users.noreply.github.com",
                "alice@users.noreply.github.com",
            ),
            (
                "alice@users.noreply.github.com",
                "alice@users.noreply.github.com",
            ),
            ("not-an-email", "not-an-email"),
            ("alice@example.com.", "alice@example.com"),
            (" Alice@Example.COM.. ", "alice@example.com"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_email(raw), want, "{raw}");
        }
    }

    #[test]
    fn plain_refuses_what_passes_for_someone_else() {
        let cases = [
            ("alice@example.com", None),
            ("Åsa Öberg <åsa@example.se>", None),
            ("андрей@пример.рф", None),
            ("alice-2@example.com", None),
            (
                "alice@example.com\u{0}",
                Some(
                    "\"alice@example.com\\0\" holds the control character U+0000; an identity is plain text",
                ),
            ),
            (
                "alice@example.com\u{200b}",
                Some(
                    "\"alice@example.com\\u{200b}\" holds the invisible character U+200B (zero width space); remove it",
                ),
            ),
            (
                "al\u{202e}ice@example.com",
                Some(
                    "\"al\\u{202e}ice@example.com\" holds the invisible character U+202E (a bidi control); remove it",
                ),
            ),
            (
                "\u{430}lice@example.com",
                Some(
                    "\"аlice@example.com\" mixes Cyrillic and Latin letters, so it can look like another person's; write it in one script",
                ),
            ),
            (
                "alice@ex\u{3b1}mple.com",
                Some(
                    "\"alice@exαmple.com\" mixes Latin and Greek letters, so it can look like another person's; write it in one script",
                ),
            ),
        ];
        for (value, want) in cases {
            assert_eq!(
                plain(value).err().map(|e| e.to_string()).as_deref(),
                want,
                "{value:?}"
            );
        }
    }

    #[test]
    fn noreply_login_table() {
        let cases = [
            ("12345+Alice@users.noreply.github.com", Some("alice")),
            ("alice@users.noreply.github.com", Some("alice")),
            ("12345+alice@example.com", None),
            ("abc+alice@users.noreply.github.com", Some("abc+alice")),
        ];
        for (raw, want) in cases {
            assert_eq!(noreply_login(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn parse_table() {
        let cases = [
            (
                "Alice Liddell <Alice@Example.com>",
                Some(("Alice Liddell", "alice@example.com")),
            ),
            ("bob@example.com", Some(("", "bob@example.com"))),
            ("Bob", None),
            ("Bob <bob>", None),
            ("Bob <bob@example.com", None),
        ];
        for (value, want) in cases {
            let got = Identity::parse(value);
            assert_eq!(
                got.as_ref().map(|i| (i.name.as_str(), i.email.as_str())),
                want,
                "{value}"
            );
        }
    }

    #[test]
    fn resolve_fills_the_email_of_a_login_and_the_login_of_an_email() {
        let map = BTreeMap::from([
            ("Alice".to_string(), "alice@example.com".to_string()),
            ("bob".to_string(), "Bob@Example.com".to_string()),
        ]);
        let identities = Identities::new(&map);
        let noreply = identities.resolve(Identity::new(
            "Alice",
            "12345+alice@users.noreply.github.com",
        ));
        assert_eq!(noreply.email, "alice@example.com");
        let bob = identities.resolve(Identity::new("Bob", "bob+ci@example.com"));
        assert_eq!(bob.login.as_deref(), Some("bob"));
        assert_eq!(identities.email_of("@BOB"), Some("bob@example.com"));
    }

    #[test]
    fn same_person_by_email_or_login() {
        let noreply = Identity::new("A", "1+alice@users.noreply.github.com");
        let login = Identity::from_login("alice", "alice@example.com");
        let email = Identity::new("Alice", "ALICE@example.com");
        assert!(noreply.same_person(&login));
        assert!(login.same_person(&email));
        assert!(!noreply.same_person(&email));
    }
}
