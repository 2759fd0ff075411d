//! The HTTPS listener's side of TLS: its rustls configuration, and the
//! [`Wire`] its connections are served over.

use std::fmt;
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::UnixTime;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, ServerConnection,
    SignatureScheme, StreamOwned,
};

use super::wire::Wire;

/// The CA whose certificates authenticate `mtls-client` (tls_client_auth).
pub(super) const CLIENT_CA_PEM: &[u8] = include_bytes!("../../tests/tls/client-ca.pem");
/// The certificate of `mtls-client`, signed by [`CLIENT_CA_PEM`].
pub(super) const CLIENT_CERT_PEM: &[u8] = include_bytes!("../../tests/tls/client.pem");
/// The self-signed certificate registered for `mtls-self-signed`.
pub(super) const SELF_SIGNED_PEM: &[u8] = include_bytes!("../../tests/tls/self-signed.pem");

/// The DER of the first certificate in `pem`.
pub(super) fn first_der(pem: &[u8]) -> Vec<u8> {
    CertificateDer::pem_slice_iter(pem)
        .next()
        .and_then(Result::ok)
        .map(|cert| cert.as_ref().to_vec())
        .unwrap_or_default()
}

/// The rustls configuration of the HTTPS listener, with ring as ureq has it.
pub(super) fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<Arc<ServerConfig>> {
    tls_config_with(cert_pem, key_pem, None)
}

/// The mutual-TLS listener's: a client certificate is required, either
/// issued by [`CLIENT_CA_PEM`] or the registered self-signed one (RFC 8705).
pub(super) fn mtls_config(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(CLIENT_CA_PEM).flatten() {
        roots
            .add(cert)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    }
    let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let verifier = RegisteredClients {
        webpki,
        self_signed: first_der(SELF_SIGNED_PEM),
    };
    tls_config_with(cert_pem, key_pem, Some(Arc::new(verifier)))
}

/// Client certificates of the registered clients: one the CA issued
/// (checked by webpki), or the registered self-signed one, byte for byte.
/// Either way the handshake proves the client holds the key.
#[derive(Debug)]
struct RegisteredClients {
    webpki: Arc<dyn ClientCertVerifier>,
    self_signed: Vec<u8>,
}

impl ClientCertVerifier for RegisteredClients {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.self_signed.as_slice() {
            return Ok(ClientCertVerified::assertion());
        }
        self.webpki
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

fn tls_config_with(
    cert_pem: &[u8],
    key_pem: &[u8],
    clients: Option<Arc<dyn ClientCertVerifier>>,
) -> io::Result<Arc<ServerConfig>> {
    let invalid = |what: &str, error: &dyn fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {error}"))
    };
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("the certificate PEM", &e))?;
    if certs.is_empty() {
        return Err(invalid("the certificate PEM", &"no CERTIFICATE section"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| invalid("the key PEM", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("TLS versions", &e))?;
    let builder = match clients {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| invalid("the certificate and key", &e))?;
    Ok(Arc::new(config))
}

impl Wire for StreamOwned<ServerConnection, TcpStream> {
    fn tcp(&self) -> &TcpStream {
        &self.sock
    }

    fn client_certificate(&self) -> Option<Vec<u8>> {
        Some(self.conn.peer_certificates()?.first()?.as_ref().to_vec())
    }

    fn shutdown_write(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
        let _ = self.sock.shutdown(Shutdown::Write);
    }
}
