//! The client's certificate for mutual TLS (RFC 8705): `client_cert_file`
//! and `client_key_file`, read once when the configuration is. With
//! `tls_client_auth` or `self_signed_tls_client_auth` the certificate is
//! how the client authenticates; the key is held like a secret.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey};

use crate::problem::Problem;

/// A certificate chain and its private key, ready for the TLS handshake.
/// `Debug` and comparisons go by a SHA-256 fingerprint of both, so agents
/// are keyed by it and nothing of the key is ever shown.
#[derive(Clone)]
pub struct ClientIdentity {
    cert: ClientCert,
    fingerprint: [u8; 32],
}

impl ClientIdentity {
    /// The certificate and key the configuration names: both or neither,
    /// and required for the mutual-TLS client_auth values (`required`);
    /// with any other they only secure the connection.
    pub fn from_settings(
        cert: Option<String>,
        key: Option<String>,
        required: bool,
    ) -> Result<Option<Arc<ClientIdentity>>, Problem> {
        match (cert, key) {
            (Some(cert), Some(key)) => ClientIdentity::load(Path::new(&cert), Path::new(&key))
                .map(|identity| Some(Arc::new(identity))),
            (None, None) if required => Err(Problem::config_key(
                "client_cert_file",
                "client_auth \"tls_client_auth\" and \"self_signed_tls_client_auth\" need \"client_cert_file\" and \"client_key_file\"",
            )),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Problem::config_key(
                "client_key_file",
                "\"client_cert_file\" needs \"client_key_file\", its private key",
            )),
            (None, Some(_)) => Err(Problem::config_key(
                "client_cert_file",
                "\"client_key_file\" needs \"client_cert_file\", its certificate",
            )),
        }
    }

    /// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1
    /// or SEC1). Problems name the files, never their content.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<ClientIdentity, Problem> {
        let read = |path: &Path, key: &str| {
            crate::secret::read_key_file(path).map_err(|error| {
                Problem::config_key(
                    key,
                    format!("\"{}\" cannot be read: {error}", path.display()),
                )
            })
        };
        let certs: Vec<Certificate<'static>> =
            ureq::tls::parse_pem(&read(cert_file, "client_cert_file")?)
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(cert)) => Some(cert),
                    _ => None,
                })
                .collect();
        if certs.is_empty() {
            return Err(Problem::config_key(
                "client_cert_file",
                format!("\"{}\" holds no PEM certificate", cert_file.display()),
            ));
        }
        let pem = read(key_file, "client_key_file")?;
        let key: PrivateKey<'static> = ureq::tls::parse_pem(&pem)
            .find_map(|item| match item {
                Ok(PemItem::PrivateKey(key)) => Some(key),
                _ => None,
            })
            .ok_or_else(|| {
                Problem::config_key(
                    "client_key_file",
                    format!(
                        "\"{}\" holds no PEM private key (an encrypted one cannot be used)",
                        key_file.display()
                    ),
                )
            })?;
        let mut hasher = Sha256::new();
        hasher.update(b"bearer-client-identity-v1");
        for cert in &certs {
            hasher.update(cert.der());
        }
        hasher.update(key.der());
        Ok(ClientIdentity {
            cert: ClientCert::new_with_certs(&certs, key),
            fingerprint: hasher.finalize().into(),
        })
    }

    pub fn client_cert(&self) -> &ClientCert {
        &self.cert
    }

    /// Stands for the certificate and key where a key must differ per
    /// identity (the cache key, the agents).
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The private key's DER: the secret the shared entry's keys come from.
    pub fn expose_key_der(&self) -> &[u8] {
        self.cert.private_key().der()
    }
}

impl PartialEq for ClientIdentity {
    fn eq(&self, other: &ClientIdentity) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Eq for ClientIdentity {}

impl std::hash::Hash for ClientIdentity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.fingerprint.hash(state);
    }
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIdentity([REDACTED])")
    }
}
