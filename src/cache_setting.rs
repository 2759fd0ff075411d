//! The `cache` setting: where tokens are kept beyond this process (the
//! stores themselves are in `shared/`).

use std::path::PathBuf;

use crate::problem::Problem;
use crate::secret::Secret;

/// Where tokens are kept beyond this process: the `cache` key, else the
/// `BEARER_CACHE` environment variable, else memory only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum CacheSetting {
    /// This process's memory only (the library's default).
    Memory,
    /// The host tier: files under this folder.
    File(PathBuf),
    /// The fleet tier: `redis://` or `rediss://`, which may carry a password.
    Redis(Secret),
}

/// The environment variable an operator sets to share tokens without
/// touching code; the configuration's `cache` key wins over it.
pub const CACHE_ENV: &str = "BEARER_CACHE";

impl CacheSetting {
    /// Reads a `cache` value: `memory`, `file`, `file:/some/dir`,
    /// `redis://...` or `rediss://...`. `source` names where it came from.
    pub fn parse(value: &str, source: &str) -> Result<CacheSetting, Problem> {
        let invalid = |detail: String| Problem::config_key("cache", detail);
        match value {
            "memory" => Ok(CacheSetting::Memory),
            "file" => default_folder()
                .map(CacheSetting::File)
                .ok_or_else(|| invalid(format!("{source} is \"file\", but neither XDG_CACHE_HOME nor HOME is set: name a folder with \"file:/some/dir\""))),
            _ if value.starts_with("file:") => {
                let folder = PathBuf::from(&value["file:".len()..]);
                if !folder.is_absolute() {
                    return Err(invalid(format!(
                        "{source} names a folder that is not an absolute path: use \"file:/some/dir\""
                    )));
                }
                Ok(CacheSetting::File(folder))
            }
            _ if value.starts_with("redis://") || value.starts_with("rediss://") => {
                Ok(CacheSetting::Redis(Secret::new(value.to_owned())))
            }
            _ => Err(invalid(format!(
                "{source} must be \"memory\", \"file\", \"file:/some/dir\", \"redis://...\" or \"rediss://...\""
            ))),
        }
    }

    /// The setting when the configuration names none: `BEARER_CACHE`, else memory.
    pub fn from_env() -> Result<CacheSetting, Problem> {
        match std::env::var(CACHE_ENV) {
            Ok(value) if !value.is_empty() => Self::parse(&value, CACHE_ENV),
            _ => Ok(CacheSetting::Memory),
        }
    }

    /// For problems and `bearer cache list`: never a password.
    pub fn describe(&self) -> String {
        match self {
            CacheSetting::Memory => "memory".into(),
            CacheSetting::File(folder) => format!("file:{}", folder.display()),
            CacheSetting::Redis(url) => crate::endpoint::endpoint_for_display(url.expose()),
        }
    }
}

impl std::fmt::Debug for CacheSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// `$XDG_CACHE_HOME/bearer`, else `$HOME/.cache/bearer`.
pub fn default_folder() -> Option<PathBuf> {
    let non_empty = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|base| base.join("bearer"))
}
