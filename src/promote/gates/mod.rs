//! The promotion gates' judgement, without git or a clock: everything here takes times,
//! commits and approvals as values, so `verify-promotion`, `promote` and `audit` compute the
//! same verdict from the same evidence (tests/architecture.rs keeps git2 and the clock out).
//!
//! - [`calendar`]: working days in the policy's time zone, for the soak gate.
//! - [`identity`], [`trailer`]: who people are, from commits and the forge.
//! - [`approvals`]: approvals from a forge export or trailers, and the four-eyes gate.
//! - [`break_glass`]: the emergency path.
//! - [`gate`]: the gate results and how they print.
//! - [`policy`]: which promotion policy is in force for an environment.
//! - [`change_class`]: major or minor, and what a major change may do.
//! - [`health`]: the Argo CD Applications of the previous environment (the health gate).
//! - [`window`]: the maintenance windows and freezes of an environment (the window gate).

pub(crate) mod approvals;
pub(crate) mod break_glass;
pub mod calendar;
pub(crate) mod change_class;
pub(crate) mod gate;
pub(crate) mod health;
pub(crate) mod identity;
pub(crate) mod policy;
pub(crate) mod trailer;
pub(crate) mod window;
