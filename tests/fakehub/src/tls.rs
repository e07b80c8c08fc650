//! A private certificate authority made at run time, and the server identity it signs for
//! `localhost` and `127.0.0.1`, for HTTPS fake hubs ([`crate::FakeHub::start_https`]).

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509NameBuilder};

/// A CA with a server certificate for `localhost` and `127.0.0.1`.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA certificate (PEM): what clients must be told to trust.
    pub ca_pem: Vec<u8>,
    /// The server certificate (PEM), signed by the CA.
    pub server_cert_pem: Vec<u8>,
    /// The server's private key (PEM, PKCS#8).
    pub server_key_pem: Vec<u8>,
}

fn key() -> Result<PKey<Private>, openssl::error::ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn name(cn: &str) -> Result<openssl::x509::X509Name, openssl::error::ErrorStack> {
    let mut n = X509NameBuilder::new()?;
    n.append_entry_by_nid(Nid::COMMONNAME, cn)?;
    Ok(n.build())
}

fn serial() -> Result<openssl::asn1::Asn1Integer, openssl::error::ErrorStack> {
    let mut bn = BigNum::new()?;
    bn.rand(64, MsbOption::MAYBE_ZERO, false)?;
    bn.to_asn1_integer()
}

impl TestCa {
    /// Makes a new CA (valid for a day) and a server certificate signed by it.
    pub fn new() -> Result<TestCa, openssl::error::ErrorStack> {
        let ca_key = key()?;
        let ca_name = name("Koschei test CA")?;
        let mut ca = X509::builder()?;
        ca.set_version(2)?;
        let sn = serial()?;
        ca.set_serial_number(&sn)?;
        ca.set_subject_name(&ca_name)?;
        ca.set_issuer_name(&ca_name)?;
        ca.set_pubkey(&ca_key)?;
        let (from, to) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(1)?);
        ca.set_not_before(&from)?;
        ca.set_not_after(&to)?;
        ca.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        ca.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        ca.sign(&ca_key, MessageDigest::sha256())?;
        let ca = ca.build();

        let server_key = key()?;
        let mut cert = X509::builder()?;
        cert.set_version(2)?;
        let sn = serial()?;
        cert.set_serial_number(&sn)?;
        let subject = name("localhost")?;
        cert.set_subject_name(&subject)?;
        cert.set_issuer_name(ca.subject_name())?;
        cert.set_pubkey(&server_key)?;
        let (from, to) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(1)?);
        cert.set_not_before(&from)?;
        cert.set_not_after(&to)?;
        cert.append_extension(BasicConstraints::new().build()?)?;
        cert.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_agreement()
                .build()?,
        )?;
        cert.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
        let san = SubjectAlternativeName::new()
            .dns("localhost")
            .ip("127.0.0.1")
            .build(&cert.x509v3_context(Some(&ca), None))?;
        cert.append_extension(san)?;
        cert.sign(&ca_key, MessageDigest::sha256())?;
        let cert = cert.build();
        Ok(TestCa {
            ca_pem: ca.to_pem()?,
            server_cert_pem: cert.to_pem()?,
            server_key_pem: server_key.private_key_to_pem_pkcs8()?,
        })
    }

    /// Writes the CA certificate to `dir/ca.pem` and returns the path.
    pub fn write_ca(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem)?;
        Ok(path)
    }

    pub(crate) fn acceptor(&self) -> std::io::Result<openssl::ssl::SslAcceptor> {
        use openssl::ssl::{SslAcceptor, SslMethod};
        let io = |e: openssl::error::ErrorStack| std::io::Error::other(e.to_string());
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).map_err(io)?;
        let cert = X509::from_pem(&self.server_cert_pem).map_err(io)?;
        let key = PKey::private_key_from_pem(&self.server_key_pem).map_err(io)?;
        b.set_certificate(&cert).map_err(io)?;
        b.set_private_key(&key).map_err(io)?;
        b.check_private_key().map_err(io)?;
        Ok(b.build())
    }
}
