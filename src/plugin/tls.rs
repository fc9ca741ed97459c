//! AutoMTLS as go-plugin does it: both sides make a throwaway self-signed certificate, and each side trusts
//! exactly the other's.
//!
//! Terraform passes its client certificate in `PLUGIN_CLIENT_CERT`; we create a server certificate for this run
//! and announce it in the handshake line. The connection is accepted only if the client presents the very
//! certificate Terraform announced. Terraform's certificate is an ECDSA P-521 key marked as a CA, which stock
//! path-building verifiers reject; all we need, and all we check, is that the DER bytes match and that the client
//! proved possession of the key by signing the handshake.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Why mTLS could not be set up. Each of these stops the plugin before it prints its handshake line.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` held no PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not contain a PEM certificate")]
    NoClientCertificate,
    /// The PEM in `PLUGIN_CLIENT_CERT` could not be parsed.
    #[error("PLUGIN_CLIENT_CERT is not valid PEM: {0}")]
    BadPem(std::io::Error),
    /// Generating the per-run server certificate failed.
    #[error("cannot generate the server certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("cannot configure TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A server certificate made for one run of the plugin.
pub struct ServerIdentity {
    /// DER of the certificate; it goes into the handshake line.
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// Makes a fresh self-signed ECDSA P-256 certificate for `localhost`, the name go-plugin's client verifies.
    pub fn generate() -> Result<Self, TlsError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(DnType::OrganizationName, "cloudimage plugin");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        // go-plugin's clients put this certificate in their root pool, so it must be usable as a CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::minutes(1);
        params.not_after = now + time::Duration::days(365 * 30);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// Reads the client certificate Terraform announced in `PLUGIN_CLIENT_CERT`.
pub fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    let mut reader = std::io::BufReader::new(pem.as_bytes());
    let first = rustls_pemfile::certs(&mut reader).next();
    first
        .ok_or(TlsError::NoClientCertificate)?
        .map_err(TlsError::BadPem)
}

/// The rustls server configuration: TLS 1.2+, ALPN `h2`, and a client certificate that must be `client_cert`.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(ExactClientCert {
        expected: client_cert,
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![identity.cert_der.clone()],
            PrivateKeyDer::Pkcs8(identity.key_der.clone_key()),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly one certificate, byte for byte, and checks the handshake signature made with its key.
#[derive(Debug)]
struct ExactClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for ExactClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    /// Go's TLS client sends no certificate at all when none of these schemes matches its key, so the list must
    /// include ECDSA P-521 with SHA-512, which is what Terraform's key signs with.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Installs aws-lc-rs as the process-wide rustls provider, so that every TLS user in the process agrees.
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want anyway.
    let _ = CryptoProvider::install_default(rustls::crypto::aws_lc_rs::default_provider());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertises_p521_sha512() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let verifier = ExactClientCert {
            expected: CertificateDer::from(vec![1u8]),
            algorithms: provider.signature_verification_algorithms,
        };
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn rejects_any_other_certificate() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let verifier = ExactClientCert {
            expected: CertificateDer::from(vec![1u8, 2, 3]),
            algorithms: provider.signature_verification_algorithms,
        };
        let now = UnixTime::now();
        assert!(verifier
            .verify_client_cert(&CertificateDer::from(vec![1u8, 2, 3]), &[], now)
            .is_ok());
        assert!(verifier
            .verify_client_cert(&CertificateDer::from(vec![1u8, 2, 4]), &[], now)
            .is_err());
    }

    #[test]
    fn bad_client_pem_is_an_error() {
        assert!(matches!(
            parse_client_cert("not a pem"),
            Err(TlsError::NoClientCertificate)
        ));
    }

    #[test]
    fn generated_identity_parses() {
        let id = ServerIdentity::generate().unwrap();
        assert!(server_config(&id, id.cert_der.clone()).is_ok());
    }
}
