//! One module per verb; each takes the built `App` and its parsed arguments.

pub mod alerts;
pub mod audit;
pub mod check;
pub mod config;
pub mod data;
pub mod demo;
pub mod deploy;
pub mod drift;
pub mod evaluate;
pub mod features;
pub mod init;
pub mod iterate;
pub mod labels;
pub mod models;
pub mod monitor;
pub mod predict;
pub mod server;
pub mod split;
pub mod train;
