//! Server settings: the `[server]` part of the TOML configuration file.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Largest request body accepted, as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Largest body after decompression: a small gzip bomb must not
    /// exhaust memory.
    pub max_decompressed_bytes: usize,
    /// Keep reports this many days (a host's latest report is always kept);
    /// unset keeps everything.
    pub retention_days: Option<u32>,
    /// How long a token lookup is trusted before the database is asked
    /// again (a revoked token stops working within this time).
    pub token_cache_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 16 << 20,
            max_decompressed_bytes: 128 << 20,
            retention_days: None,
            token_cache_seconds: 30,
        }
    }
}
