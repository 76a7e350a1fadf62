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

use std::path::{Path, PathBuf};

use anyhow::Context;
use patchwatch_server::ServerConfig;
use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The system-wide configuration file, read when no other is given.
pub const SYSTEM_CONFIG: &str = "/etc/patchwatch/patchwatch.toml";
/// Root's (and the packaged service's) database.
pub const SYSTEM_DATA_DIR: &str = "/var/lib/patchwatch";
const DATABASE_FILE: &str = "patchwatch.sqlite";

/// What the defaults depend on, gathered once so the rules can be tested
/// without touching the real environment.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub is_root: bool,
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub xdg_data_home: Option<PathBuf>,
}

impl Environment {
    pub fn current() -> Environment {
        use std::os::unix::fs::MetadataExt;
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        Environment {
            // /proc/self belongs to the effective user: no unsafe geteuid.
            is_root: std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0),
            home: var("HOME"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            xdg_data_home: var("XDG_DATA_HOME"),
        }
    }

    /// Configuration files looked for when none is named, in order: the
    /// user's (`$XDG_CONFIG_HOME/patchwatch/patchwatch.toml`, root only
    /// when XDG_CONFIG_HOME is set), then the system's.
    pub fn config_candidates(&self) -> Vec<PathBuf> {
        let user = match (&self.xdg_config_home, &self.home) {
            (Some(x), _) => Some(x.clone()),
            (None, Some(h)) if !self.is_root => Some(h.join(".config")),
            _ => None,
        };
        user.map(|d| d.join("patchwatch/patchwatch.toml"))
            .into_iter()
            .chain([PathBuf::from(SYSTEM_CONFIG)])
            .collect()
    }

    /// The one default database: `$XDG_DATA_HOME/patchwatch/patchwatch.sqlite`
    /// when XDG_DATA_HOME is set, `/var/lib/patchwatch/patchwatch.sqlite` for
    /// root, `~/.local/share/patchwatch/patchwatch.sqlite` for anyone else.
    pub fn default_database(&self) -> anyhow::Result<PathBuf> {
        let dir = match (&self.xdg_data_home, self.is_root, &self.home) {
            (Some(x), _, _) => x.join("patchwatch"),
            (None, true, _) => PathBuf::from(SYSTEM_DATA_DIR),
            (None, false, Some(h)) => h.join(".local/share/patchwatch"),
            (None, false, None) => anyhow::bail!(
                "neither HOME nor XDG_DATA_HOME is set, so there is no default database; \
                 pass --database sqlite:PATH"
            ),
        };
        Ok(dir.join(DATABASE_FILE))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: Option<String>,
    pub listen: Option<String>,
    pub server: ServerConfig,
}

impl Config {
    /// The named file, or else the first default candidate that exists
    /// (with its path), or the defaults.
    pub fn find(
        named: Option<&Path>,
        env: &Environment,
    ) -> anyhow::Result<(Config, Option<PathBuf>)> {
        if let Some(path) = named {
            return Ok((Config::load(Some(path))?, Some(path.to_owned())));
        }
        for path in env.config_candidates() {
            if path.exists() {
                return Ok((Config::load(Some(&path))?, Some(path)));
            }
        }
        Ok((Config::default(), None))
    }

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
    fn one_default_database_per_user() {
        let user = Environment {
            is_root: false,
            home: Some("/home/ana".into()),
            ..Environment::default()
        };
        assert_eq!(
            user.default_database().unwrap(),
            Path::new("/home/ana/.local/share/patchwatch/patchwatch.sqlite")
        );
        assert_eq!(
            user.config_candidates(),
            [
                PathBuf::from("/home/ana/.config/patchwatch/patchwatch.toml"),
                PathBuf::from(SYSTEM_CONFIG)
            ]
        );
        let root = Environment {
            is_root: true,
            home: Some("/root".into()),
            ..Environment::default()
        };
        assert_eq!(
            root.default_database().unwrap(),
            Path::new("/var/lib/patchwatch/patchwatch.sqlite")
        );
        assert_eq!(root.config_candidates(), [PathBuf::from(SYSTEM_CONFIG)]);
        let xdg = Environment {
            xdg_data_home: Some("/data".into()),
            ..root
        };
        assert_eq!(
            xdg.default_database().unwrap(),
            Path::new("/data/patchwatch/patchwatch.sqlite")
        );
        let nobody = Environment::default();
        assert!(nobody.default_database().is_err());
    }

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
