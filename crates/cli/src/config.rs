//! The TOML configuration file. Command-line flags and environment
//! variables win over it; it wins over the defaults.
//!
//! ```toml
//! database = "postgres://patchwatch@db.example.org/patchwatch"
//! listen = "0.0.0.0:8080"
//!
//! [server]
//! max_body_bytes = 16777216
//! max_decompressed_bytes = 134217728
//! retention_days = 400
//! token_cache_seconds = 30
//! ```

use std::path::Path;

use anyhow::Context;
use patchwatch_server::ServerConfig;
use serde::Deserialize;

pub const DEFAULT_DATABASE: &str = "sqlite:patchwatch.sqlite";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: Option<String>,
    pub listen: Option<String>,
    pub server: ServerConfig,
}

impl Config {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration file {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("in the configuration file {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_and_names_unknown_keys() {
        let c: Config =
            toml::from_str("database = \"sqlite:/tmp/x\"\n[server]\nretention_days = 30\n")
                .unwrap();
        assert_eq!(c.database.as_deref(), Some("sqlite:/tmp/x"));
        assert_eq!(c.server.retention_days, Some(30));
        assert_eq!(
            c.server.max_body_bytes,
            ServerConfig::default().max_body_bytes
        );
        let err = toml::from_str::<Config>("[server]\nmax_bodybytes = 1\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `max_bodybytes`"),
            "{err}"
        );
    }
}
