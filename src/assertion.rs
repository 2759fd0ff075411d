//! `private_key_jwt` (RFC 7523 2.2, OpenID Connect Core 9): the client
//! proves who it is with a JWT signed by its own key, made fresh for every
//! token request, instead of sending a shared secret.
//!
//! The key is read once, when the configuration is, and held as DER in
//! memory that is wiped on drop; ring parses it for each signature (a
//! token request is rare), so no parsed key outlives a request.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::problem::Problem;

/// `client_assertion_type` for a JWT (RFC 7523 2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: well under the 5 minutes providers allow.
const LIFETIME_SECS: u64 = 120;

/// The JWS algorithms bearer signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssertionAlg {
    Rs256,
    Ps256,
    Es256,
}

impl AssertionAlg {
    pub fn parse(name: &str) -> Option<AssertionAlg> {
        Some(match name {
            "RS256" => AssertionAlg::Rs256,
            "PS256" => AssertionAlg::Ps256,
            "ES256" => AssertionAlg::Es256,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            AssertionAlg::Rs256 => "RS256",
            AssertionAlg::Ps256 => "PS256",
            AssertionAlg::Es256 => "ES256",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
}

/// The client's private key: PKCS#8 DER (an RSA key may stay PKCS#1),
/// wiped on drop. `Debug` shows the algorithm and key id only.
#[derive(Clone)]
pub struct SigningKey {
    der: Zeroizing<Vec<u8>>,
    pkcs1: bool,
    pub alg: AssertionAlg,
    pub key_id: Option<String>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key the configuration names: `private_key_file`, with its
    /// `assertion_alg` and `key_id`, for client_auth `private_key_jwt`
    /// (`wanted`); those keys without it are a mistake worth naming.
    pub fn from_settings(
        path: Option<String>,
        alg: Option<String>,
        key_id: Option<String>,
        wanted: bool,
    ) -> Result<Option<Arc<SigningKey>>, Problem> {
        if !wanted {
            let given = [
                ("private_key_file", path.is_some()),
                ("assertion_alg", alg.is_some()),
                ("key_id", key_id.is_some()),
            ];
            return match given
                .into_iter()
                .find_map(|(key, given)| given.then_some(key))
            {
                Some(key) => Err(Problem::config_key(
                    key,
                    format!("\"{key}\" is for client_auth \"private_key_jwt\""),
                )),
                None => Ok(None),
            };
        }
        let Some(path) = path else {
            return Err(Problem::config_key(
                "private_key_file",
                "client_auth \"private_key_jwt\" needs \"private_key_file\", a PEM private key (RSA or P-256)",
            ));
        };
        let alg = match alg {
            None => None,
            Some(name) => Some(AssertionAlg::parse(&name).ok_or_else(|| {
                Problem::config_key(
                    "assertion_alg",
                    format!(
                        "assertion_alg must be \"RS256\", \"PS256\" or \"ES256\", not \"{name}\""
                    ),
                )
            })?),
        };
        SigningKey::load(Path::new(&path), alg, key_id).map(|key| Some(Arc::new(key)))
    }

    /// Reads a PEM private key (PKCS#8 RSA or P-256, PKCS#1 RSA, SEC1
    /// P-256). `alg` must suit the key; without it the key decides (RS256
    /// for RSA, ES256 for P-256). A problem names the file, never its content.
    pub fn load(
        path: &Path,
        alg: Option<AssertionAlg>,
        key_id: Option<String>,
    ) -> Result<SigningKey, Problem> {
        let bad = |why: &str| {
            Problem::config_key(
                "private_key_file",
                format!("the private key file \"{}\" {why}", path.display()),
            )
        };
        let pem = crate::secret::read_key_file(path)
            .map_err(|error| bad(&format!("cannot be read: {error}")))?;
        if pem
            .windows(b"ENCRYPTED PRIVATE KEY".len())
            .any(|window| window == b"ENCRYPTED PRIVATE KEY")
        {
            return Err(bad(
                "is encrypted; bearer takes no passphrase: decrypt it (openssl pkcs8 -in KEY -out PLAIN) and keep the plain file as private as the secret it replaces",
            ));
        }
        let mut parsed = PrivateKeyDer::from_pem_slice(&pem)
            .map_err(|_| bad("holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"))?;
        let (der, pkcs1) = match &parsed {
            PrivateKeyDer::Pkcs8(key) => (Zeroizing::new(key.secret_pkcs8_der().to_vec()), false),
            PrivateKeyDer::Pkcs1(key) => (Zeroizing::new(key.secret_pkcs1_der().to_vec()), true),
            PrivateKeyDer::Sec1(key) => (p256_pkcs8_from_sec1(key.secret_sec1_der()), false),
            _ => return Err(bad("holds a key of a kind bearer cannot sign with")),
        };
        zeroize::Zeroize::zeroize(&mut parsed);
        let kind = if pkcs1 || RsaKeyPair::from_pkcs8(&der).is_ok() {
            KeyKind::Rsa
        } else {
            KeyKind::P256
        };
        let alg = alg.unwrap_or(match kind {
            KeyKind::Rsa => AssertionAlg::Rs256,
            KeyKind::P256 => AssertionAlg::Es256,
        });
        let suits = matches!(
            (kind, alg),
            (KeyKind::Rsa, AssertionAlg::Rs256 | AssertionAlg::Ps256)
                | (KeyKind::P256, AssertionAlg::Es256)
        );
        if !suits {
            return Err(Problem::config_key(
                "assertion_alg",
                format!(
                    "assertion_alg {} does not suit the key in \"{}\" (RS256 and PS256 take an RSA key, ES256 a P-256 key)",
                    alg.name(),
                    path.display()
                ),
            ));
        }
        let key = SigningKey {
            der,
            pkcs1,
            alg,
            key_id,
        };
        // Sign once now, so a key ring refuses is a configuration problem
        // and not a failed token request later.
        key.sign(b"bearer: is this key usable?").map_err(|_| {
            bad("holds a key ring cannot sign with (RSA of 2048 to 8192 bits, or P-256)")
        })?;
        Ok(key)
    }

    /// A fresh assertion for `client_id` at `audience`: `iss` = `sub` =
    /// the client id, a random `jti`, `iat` now and `exp` 2 minutes later.
    pub fn assertion(&self, client_id: &str, audience: &str) -> Result<Zeroizing<String>, Problem> {
        let now = crate::token::unix_now();
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti)
            .map_err(|_| internal("no random bytes for the assertion's jti"))?;
        let mut claims = Map::new();
        claims.insert("iss".into(), client_id.into());
        claims.insert("sub".into(), client_id.into());
        claims.insert("aud".into(), audience.into());
        claims.insert("jti".into(), URL_SAFE_NO_PAD.encode(jti).into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + LIFETIME_SECS).into());
        self.signed_jwt(&claims)
    }

    /// A JWS of `claims` (compact serialization) with this key: `alg`,
    /// `typ` and the `kid` in its header.
    pub fn signed_jwt(&self, claims: &Map<String, Value>) -> Result<Zeroizing<String>, Problem> {
        let mut header = Map::new();
        header.insert("alg".into(), self.alg.name().into());
        header.insert("typ".into(), "JWT".into());
        if let Some(key_id) = &self.key_id {
            header.insert("kid".into(), key_id.clone().into());
        }
        let mut jwt = Zeroizing::new(String::with_capacity(1024));
        URL_SAFE_NO_PAD.encode_string(Value::Object(header).to_string(), &mut jwt);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(Value::Object(claims.clone()).to_string(), &mut jwt);
        let signature = self
            .sign(jwt.as_bytes())
            .map_err(|_| internal("the client assertion could not be signed"))?;
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jwt);
        Ok(jwt)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified> {
        let rng = SystemRandom::new();
        match self.alg {
            AssertionAlg::Rs256 | AssertionAlg::Ps256 => {
                let pair = if self.pkcs1 {
                    RsaKeyPair::from_der(&self.der)
                } else {
                    RsaKeyPair::from_pkcs8(&self.der)
                }
                .map_err(|_| ring::error::Unspecified)?;
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    AssertionAlg::Ps256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, message, &mut signature)?;
                Ok(signature)
            }
            AssertionAlg::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &self.der,
                    &rng,
                )
                .map_err(|_| ring::error::Unspecified)?;
                Ok(pair.sign(&rng, message)?.as_ref().to_vec())
            }
        }
    }

    /// The DER, for keys derived from the credential (cache key, sealing).
    pub fn expose_der(&self) -> &[u8] {
        &self.der
    }
}

fn internal(detail: &str) -> Problem {
    Problem::new(crate::problem::ProblemKind::Internal, detail)
}

/// A SEC1 `ECPrivateKey` inside the PKCS#8 wrapper ring reads (RFC 5915,
/// 5208): the algorithm is id-ecPublicKey on P-256; ring checks the rest.
fn p256_pkcs8_from_sec1(sec1: &[u8]) -> Zeroizing<Vec<u8>> {
    /// SEQUENCE { OID id-ecPublicKey, OID prime256v1 }
    const P256_ALGORITHM: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    const VERSION_0: &[u8] = &[0x02, 0x01, 0x00];
    fn tagged(tag: u8, content: &[u8], out: &mut Vec<u8>) {
        out.push(tag);
        let length = content.len();
        match length {
            0..=0x7f => out.push(length as u8),
            0x80..=0xff => out.extend_from_slice(&[0x81, length as u8]),
            _ => out.extend_from_slice(&[0x82, (length >> 8) as u8, length as u8]),
        }
        out.extend_from_slice(content);
    }
    let mut inner = Zeroizing::new(Vec::with_capacity(sec1.len() + 32));
    inner.extend_from_slice(VERSION_0);
    inner.extend_from_slice(P256_ALGORITHM);
    tagged(0x04, sec1, &mut inner);
    let mut pkcs8 = Zeroizing::new(Vec::with_capacity(inner.len() + 4));
    tagged(0x30, &inner, &mut pkcs8);
    pkcs8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(name)
    }

    #[test]
    fn every_key_form_loads_and_signs() {
        for (file, alg) in [
            ("rsa.key", AssertionAlg::Rs256),
            ("rsa-pkcs1.key", AssertionAlg::Rs256),
            ("ec.key", AssertionAlg::Es256),
            ("ec-sec1.key", AssertionAlg::Es256),
        ] {
            let loaded = SigningKey::load(&key(file), None, None).unwrap();
            assert_eq!(loaded.alg, alg, "{file}");
            let jwt = loaded.assertion("id", "https://a/oauth/token").unwrap();
            assert_eq!(jwt.split('.').count(), 3);
        }
        let pss = SigningKey::load(&key("rsa.key"), Some(AssertionAlg::Ps256), None).unwrap();
        assert_eq!(pss.alg, AssertionAlg::Ps256);
    }

    #[test]
    fn a_bad_key_file_is_named_and_its_content_never_shown() {
        let detail = |file: &str, alg| {
            SigningKey::load(&key(file), alg, None)
                .unwrap_err()
                .detail()
                .to_owned()
        };
        assert!(detail("encrypted.key", None).contains("encrypted"));
        assert!(detail("missing.key", None).contains("cannot be read"));
        assert!(detail("ec.pub", None).contains("no PEM private key"));
        assert!(detail("ec.key", Some(AssertionAlg::Rs256)).contains("does not suit"));
        let pem = std::fs::read_to_string(key("rsa.key")).unwrap();
        let body = pem.lines().nth(1).unwrap();
        assert!(!detail("rsa.key", Some(AssertionAlg::Es256)).contains(body));
        assert!(
            !format!(
                "{:?}",
                SigningKey::load(&key("rsa.key"), None, None).unwrap()
            )
            .contains(body)
        );
    }
}
