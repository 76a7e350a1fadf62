//! One module per page.

pub mod admin;
pub mod cves;
pub mod dashboard;
pub mod exceptions;
pub mod feeds;
pub mod host;
pub mod hosts;
pub mod login;
pub mod packages;
pub mod sites;
pub mod tags;
