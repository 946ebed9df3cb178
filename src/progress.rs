//! Progress of a long run, for a progress line. A render goes through phases, each counting its
//! own things: rendering (cluster, component) pairs, then writing files. The stages report it;
//! the command line shows it.

/// Told of each phase and of each thing done.
pub(crate) trait Progress: Sync {
    /// A phase begins: `total` things to count, e.g. `("rendering", "(cluster, component)
    /// pairs", 160)`.
    fn start(&self, doing: &'static str, things: &'static str, total: usize);
    /// One more thing of the phase is done.
    fn advance(&self);
}
