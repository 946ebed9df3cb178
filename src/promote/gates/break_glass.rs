//! Break-glass: `--emergency "reason"` skips the soak gate, asks for one more approver than
//! usual, and leaves an `Emergency:` trailer for `audit`.

use serde::Serialize;

/// A valid emergency: a reason that fits on one trailer line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BreakGlass {
    reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BreakGlassError {
    #[error(
        "--emergency needs a reason; say why this cannot wait for the soak, e.g. --emergency \"CVE-2026-1234 in ingress-nginx\""
    )]
    NoReason,
    #[error(
        "--emergency reason must be one line, because it becomes the `Emergency:` trailer; put details in the pull request"
    )]
    MultiLine,
}

impl BreakGlass {
    pub(crate) fn new(reason: &str) -> Result<BreakGlass, BreakGlassError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(BreakGlassError::NoReason);
        }
        if reason.contains(['\n', '\r']) {
            return Err(BreakGlassError::MultiLine);
        }
        Ok(BreakGlass {
            reason: reason.to_string(),
        })
    }

    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }
}

/// A one-line reason given with a flag that bypasses a rule on purpose, such as
/// `--rollback "reason"`; it becomes a trailer, so the audit shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reason {
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReasonError {
    #[error("{flag} needs a reason; say why, e.g. {flag} \"{example}\"")]
    Empty {
        flag: &'static str,
        example: &'static str,
    },
    #[error("{flag} reason must be one line, because it becomes a trailer")]
    MultiLine { flag: &'static str },
}

impl Reason {
    /// `flag` names the option in messages; `example` shows a good reason.
    pub(crate) fn new(
        flag: &'static str,
        example: &'static str,
        text: &str,
    ) -> Result<Reason, ReasonError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ReasonError::Empty { flag, example });
        }
        if text.contains(['\n', '\r']) {
            return Err(ReasonError::MultiLine { flag });
        }
        Ok(Reason {
            text: text.to_string(),
        })
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

/// The distinct approvers the four-eyes gate needs: one more in an emergency.
pub(crate) fn required_approvers(distinct: u32, emergency: Option<&BreakGlass>) -> u32 {
    match emergency {
        Some(_) => distinct.saturating_add(1),
        None => distinct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_table() {
        let cases = [
            (
                "  CVE-2026-1234 in ingress-nginx ",
                Ok("CVE-2026-1234 in ingress-nginx"),
            ),
            (
                "",
                Err(
                    "--emergency needs a reason; say why this cannot wait for the soak, e.g. --emergency \"CVE-2026-1234 in ingress-nginx\"",
                ),
            ),
            (
                " \t ",
                Err(
                    "--emergency needs a reason; say why this cannot wait for the soak, e.g. --emergency \"CVE-2026-1234 in ingress-nginx\"",
                ),
            ),
            (
                "one\ntwo",
                Err(
                    "--emergency reason must be one line, because it becomes the `Emergency:` trailer; put details in the pull request",
                ),
            ),
        ];
        for (reason, want) in cases {
            let got = BreakGlass::new(reason);
            match want {
                Ok(r) => assert_eq!(got.as_ref().map(BreakGlass::reason), Ok(r)),
                Err(message) => {
                    assert_eq!(got.map_err(|e| e.to_string()), Err(message.to_string()))
                }
            }
        }
    }

    #[test]
    fn a_rollback_reason_is_one_line() {
        let new =
            |t| Reason::new("--rollback", "web 1.1 breaks logins", t).map(|r| r.text().to_string());
        assert_eq!(new(" bad release "), Ok("bad release".to_string()));
        assert_eq!(
            new(" ").map_err(|e| e.to_string()),
            Err(
                "--rollback needs a reason; say why, e.g. --rollback \"web 1.1 breaks logins\""
                    .to_string()
            )
        );
        assert_eq!(
            new("a\nb").map_err(|e| e.to_string()),
            Err("--rollback reason must be one line, because it becomes a trailer".to_string())
        );
    }

    #[test]
    fn an_emergency_needs_one_more_approver() {
        let emergency = BreakGlass::new("outage").expect("valid");
        assert_eq!(required_approvers(1, None), 1);
        assert_eq!(required_approvers(1, Some(&emergency)), 2);
        assert_eq!(required_approvers(u32::MAX, Some(&emergency)), u32::MAX);
    }
}
