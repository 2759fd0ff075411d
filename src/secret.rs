//! A string that must never be printed: redacted `Debug`, no `Display`, wiped on drop.

use std::fmt;
use std::hash::{Hash, Hasher};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// A client secret (or any credential-bearing string, such as a proxy URL
/// with a password). Read it only with [`Secret::expose`], at the moment it is
/// put on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(Zeroizing::new(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Hash for Secret {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.expose().hash(state);
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))`, as RFC 6749 §2.3.1 asks.
pub fn basic_credential(client_id: &str, secret: &str) -> Zeroizing<String> {
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let pair = Zeroizing::new(format!("{}:{}", encode(client_id), encode(secret)));
    Zeroizing::new(format!("Basic {}", STANDARD.encode(pair.as_bytes())))
}

/// Compares without an early exit, so the time taken does not tell an
/// attacker how much of a guessed `state` or secret was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// The most a key, certificate or CA file may hold: PEM files are a few KiB,
/// and a setting that names `/dev/zero` or a pipe must not hang the caller.
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a key, certificate or CA file, at most [`MAX_KEY_FILE_BYTES`],
/// into memory that is wiped on drop.
pub fn read_key_file(path: &std::path::Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let mut content = Zeroizing::new(Vec::new());
    std::fs::File::open(path)?
        .take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut content)?;
    if content.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it is larger than 1 MiB",
        ));
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2-canary".into());
        assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
        assert_eq!(
            format!("{:#?}", Some(&secret)),
            "Some(\n    Secret([REDACTED]),\n)"
        );
        assert_eq!(secret.expose(), "hunter2-canary");
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        // RFC 6749 2.3.1: "a:b" becomes "a%3Ab" before base64.
        assert_eq!(
            *basic_credential("id", "a:b"),
            format!("Basic {}", STANDARD.encode("id:a%3Ab"))
        );
    }
}
