//! What the site's integration tests share: the scripted year, a Chromium driven over the
//! DevTools protocol, and a PNG reader to judge screenshots.
#![allow(dead_code)]

pub mod cdp;
pub mod history;
pub mod png;
pub mod sample;
