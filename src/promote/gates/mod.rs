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

pub(crate) mod approvals;
pub(crate) mod break_glass;
pub mod calendar;
pub(crate) mod gate;
pub(crate) mod identity;
pub(crate) mod policy;
pub(crate) mod trailer;
