//! What a rule reports about one object, before the object's context, level and exemption are
//! added to make it a [`Violation`](super::Violation).

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) rule: &'static str,
    pub(crate) field: String,
    pub(crate) message: String,
    /// `None`: the rule's own hint.
    pub(crate) hint: Option<String>,
    pub(crate) origin: Option<(String, u32)>,
}

impl Finding {
    pub(crate) fn new(
        rule: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            field: field.into(),
            message: message.into(),
            hint: None,
            origin: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn origin(mut self, file: impl Into<String>, line: u32) -> Finding {
        self.origin = Some((file.into(), line));
        self
    }
}
