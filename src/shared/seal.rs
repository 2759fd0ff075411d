//! Secrecy at rest: what a shared store holds is useless without the
//! credentials that made it.
//!
//! Two keys come from the client's credential (its secret, or the refresh
//! token it was configured with) by HKDF-SHA256. An entry's name is an
//! HMAC, under the first, of the request's [`CacheKey`]: it shows neither
//! the client id nor a hash of the secret that could be brute-forced. Its
//! value is sealed with ChaCha20-Poly1305 under the second, with the name as
//! associated data, so only a process holding the same credentials reads the
//! token and no entry can be moved to another name. The expiry stays in
//! clear in front, for the store's own expiry and for `bearer cache list`.
//!
//! Layout of a value: `b"bt1"`, expiry (unix seconds, u64 big-endian; 0 for
//! none), a 12-byte nonce, then the sealed token JSON and its tag.

use ring::aead::{self, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, KeyType, Salt};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::cache::CacheKey;
use crate::config::Config;

const MAGIC: &[u8; 3] = b"bt1";
const HEADER: usize = MAGIC.len() + 8 + aead::NONCE_LEN;
const SALT: &[u8] = b"bearer shared cache v1";

/// The keys of one credential: names and seals, never stored.
pub struct Sealer {
    names: hmac::Key,
    values: LessSafeKey,
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl Sealer {
    /// The keys for a configuration's credential; None when it has none to
    /// derive them from (such a client cannot share, and does not).
    pub fn for_config(config: &Config) -> Option<Sealer> {
        let secret = config
            .client_secret
            .as_ref()
            .or(config.refresh_token.as_ref());
        let credential = match (secret, &config.signing_key, &config.client_identity) {
            (Some(secret), _, _) => secret.expose().as_bytes(),
            (None, Some(key), _) => key.expose_der(),
            (None, None, Some(identity)) => identity.expose_key_der(),
            (None, None, None) => return None,
        };
        let prk = Salt::new(HKDF_SHA256, SALT).extract(credential);
        let expand = |info: &[u8], len: usize| -> Option<zeroize::Zeroizing<Vec<u8>>> {
            let mut out = zeroize::Zeroizing::new(vec![0; len]);
            prk.expand(&[info], Len(len)).ok()?.fill(&mut out).ok()?;
            Some(out)
        };
        let names = expand(b"entry names", 32)?;
        let values = expand(b"entry values", CHACHA20_POLY1305.key_len())?;
        Some(Sealer {
            names: hmac::Key::new(hmac::HMAC_SHA256, &names),
            values: LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &values).ok()?),
        })
    }

    /// The entry's name: hex of an HMAC of the request's key.
    pub fn entry_name(&self, key: &CacheKey, purpose: &str) -> String {
        let mut context = hmac::Context::with_key(&self.names);
        context.update(purpose.as_bytes());
        context.update(&[0]);
        context.update(key.as_bytes());
        context
            .sign()
            .as_ref()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Seals `plain` for `name`, with its expiry in clear in front.
    pub fn seal(&self, name: &str, expires_at: Option<u64>, plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; aead::NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut sealed = Vec::with_capacity(HEADER + plain.len() + CHACHA20_POLY1305.tag_len());
        sealed.extend_from_slice(MAGIC);
        sealed.extend_from_slice(&expires_at.unwrap_or(0).to_be_bytes());
        sealed.extend_from_slice(&nonce);
        let mut body = zeroize::Zeroizing::new(plain.to_vec());
        self.values
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut *body,
            )
            .ok()?;
        sealed.extend_from_slice(&body);
        Some(sealed)
    }

    /// The plain bytes, if `sealed` is a value this credential sealed for
    /// `name`; anything else (truncated, foreign, moved) is None.
    pub fn open(&self, name: &str, sealed: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        expires_at(sealed)?;
        let nonce: [u8; aead::NONCE_LEN] = sealed[MAGIC.len() + 8..HEADER].try_into().ok()?;
        let mut body = zeroize::Zeroizing::new(sealed[HEADER..].to_vec());
        let plain_len = self
            .values
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut body,
            )
            .ok()?
            .len();
        body.truncate(plain_len);
        Some(body)
    }
}

/// The expiry in front of a sealed value (unix seconds), readable without
/// the keys; `Some(None)` for a value without one, None for no value at all.
pub fn expires_at(sealed: &[u8]) -> Option<Option<u64>> {
    if sealed.len() < HEADER + CHACHA20_POLY1305.tag_len() || !sealed.starts_with(MAGIC) {
        return None;
    }
    let seconds = u64::from_be_bytes(sealed[MAGIC.len()..MAGIC.len() + 8].try_into().ok()?);
    Some((seconds != 0).then_some(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_for(secret: &str) -> (Sealer, CacheKey) {
        let config = Config::from_json(&format!(
            r#"{{"client_id":"id","client_secret":"{secret}"}}"#
        ))
        .unwrap();
        (
            Sealer::for_config(&config).unwrap(),
            CacheKey::for_config(&config),
        )
    }

    #[test]
    fn only_the_same_credential_opens_a_value_and_only_under_its_name() {
        let (sealer, key) = keys_for("right");
        let name = sealer.entry_name(&key, "token");
        let sealed = sealer
            .seal(&name, Some(1_900_000_000), b"the token")
            .unwrap();
        assert_eq!(&**sealer.open(&name, &sealed).unwrap(), b"the token");
        assert_eq!(expires_at(&sealed), Some(Some(1_900_000_000)));
        assert!(!sealed.windows(9).any(|w| w == b"the token"));

        let (wrong, wrong_key) = keys_for("wrong");
        assert!(wrong.open(&name, &sealed).is_none(), "another secret");
        assert_ne!(wrong.entry_name(&wrong_key, "token"), name);
        let other_name = sealer.entry_name(&key, "other");
        assert!(sealer.open(&other_name, &sealed).is_none(), "moved");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(sealer.open(&name, &tampered).is_none(), "tampered");
        assert!(
            sealer.open(&name, &sealed[..sealed.len() - 1]).is_none(),
            "truncated"
        );
        assert!(sealer.open(&name, b"bt1").is_none(), "too short");
    }

    #[test]
    fn names_show_neither_the_id_nor_the_secret() {
        let (sealer, key) = keys_for("s3cret");
        let name = sealer.entry_name(&key, "token");
        assert_eq!(name.len(), 64);
        assert!(!name.contains(&key.to_hex()), "not the plain key hash");
    }
}
