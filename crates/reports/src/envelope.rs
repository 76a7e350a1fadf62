//! Pakiti's encrypted reports: `pakiti-client --encrypt CERT` runs
//! `openssl smime -encrypt -binary -aes-256-cbc -outform DER` and posts the
//! DER bytes, a CMS (PKCS#7) `EnvelopedData` with RSA key transport.
//!
//! Supported: RSA PKCS#1 v1.5 key transport (what `openssl smime` uses), and
//! AES-128/192/256-CBC or 3DES-CBC content encryption. The server loads its
//! key once ([`Decryptor::from_pem`]) and decrypts every report with it.
//!
//! A failed RSA decryption is not reported as such: like RFC 3218 advises,
//! decryption continues with a random content key, so a wrong key and a
//! tampered key both end as the one [`EnvelopeError::Decrypt`] and a client
//! cannot use the server as a PKCS#1 v1.5 padding oracle.

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockSizeUser, KeyIvInit};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::ContentInfo;
use cms::enveloped_data::{EnvelopedData, RecipientIdentifier, RecipientInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use des::TdesEde3;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::rand_core::{OsRng, RngCore};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use thiserror::Error;
use x509_cert::Certificate;

const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("private key: {0}")]
    Key(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("certificate: its public key does not belong to the private key")]
    KeyMismatch,
    #[error("encrypted report: not a DER CMS message: {0}")]
    Asn1(String),
    #[error("encrypted report: CMS content type {0} is not EnvelopedData")]
    NotEnveloped(String),
    #[error("encrypted report: no RSA key-transport recipient matches this server's certificate")]
    NoRecipient,
    #[error("encrypted report: content cipher {0} is not supported (AES-CBC or 3DES-CBC only)")]
    UnsupportedCipher(String),
    #[error("encrypted report: {0}")]
    BadParameters(String),
    #[error("encrypted report: the encrypted content is missing (detached)")]
    NoContent,
    #[error(
        "encrypted report: cannot decrypt it: it was not encrypted for this server's key, \
         or it is corrupt"
    )]
    Decrypt,
}

/// Whether a Pakiti body is encrypted: DER starts with a SEQUENCE tag
/// (`0x30`), a plaintext report with `#`.
pub fn looks_encrypted(body: &[u8]) -> bool {
    body.first() == Some(&0x30)
}

/// Decrypts one body with a PEM key. Parses the key on every call: a server
/// should build one [`Decryptor`] at start instead.
pub fn decrypt(der: &[u8], key_pem: &str) -> Result<Vec<u8>, EnvelopeError> {
    Decryptor::from_pem(key_pem, None)?.decrypt(der)
}

/// The server's private key (and, optionally, its certificate), loaded once.
pub struct Decryptor {
    key: RsaPrivateKey,
    /// Who the certificate says we are, to pick our entry among several
    /// recipients. Without a certificate every RSA recipient is tried.
    recipient: Option<IssuerAndSerialNumber>,
}

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Decryptor")
            .field("has_certificate", &self.recipient.is_some())
            .finish_non_exhaustive()
    }
}

impl Decryptor {
    /// Loads an RSA private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE
    /// KEY` PEM, unencrypted) and optionally the certificate clients encrypt
    /// to, which must carry the matching public key.
    pub fn from_pem(key_pem: &str, cert_pem: Option<&str>) -> Result<Decryptor, EnvelopeError> {
        let key = if key_pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs1_pem(key_pem).map_err(|e| EnvelopeError::Key(e.to_string()))?
        } else if key_pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(EnvelopeError::Key(
                "is encrypted; give the server an unencrypted key (openssl pkey -in KEY -out NEW)"
                    .into(),
            ));
        } else {
            RsaPrivateKey::from_pkcs8_pem(key_pem).map_err(|e| EnvelopeError::Key(e.to_string()))?
        };
        let recipient = match cert_pem {
            None => None,
            Some(pem) => {
                let cert = <Certificate as der::DecodePem>::from_pem(pem.trim().as_bytes())
                    .map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
                let tbs = &cert.tbs_certificate;
                let spki = tbs
                    .subject_public_key_info
                    .to_der()
                    .map_err(|e| EnvelopeError::Certificate(e.to_string()))?;
                let public = RsaPublicKey::from_public_key_der(&spki)
                    .map_err(|e| EnvelopeError::Certificate(format!("not an RSA key: {e}")))?;
                if public != key.to_public_key() {
                    return Err(EnvelopeError::KeyMismatch);
                }
                Some(IssuerAndSerialNumber {
                    issuer: tbs.issuer.clone(),
                    serial_number: tbs.serial_number.clone(),
                })
            }
        };
        Ok(Decryptor { key, recipient })
    }

    /// Decrypts one DER `EnvelopedData` body (a `ContentInfo`, as
    /// `openssl smime -outform DER` writes it) to the plaintext report.
    pub fn decrypt(&self, der: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let info = ContentInfo::from_der(der).map_err(|e| EnvelopeError::Asn1(e.to_string()))?;
        if info.content_type != ID_ENVELOPED_DATA {
            return Err(EnvelopeError::NotEnveloped(info.content_type.to_string()));
        }
        let enveloped: EnvelopedData = info
            .content
            .decode_as()
            .map_err(|e| EnvelopeError::Asn1(e.to_string()))?;
        let content = &enveloped.encrypted_content;
        let cipher = Cipher::from_oid(&content.content_enc_alg.oid)?;
        let iv = content
            .content_enc_alg
            .parameters
            .as_ref()
            .ok_or_else(|| EnvelopeError::BadParameters("the content cipher has no IV".into()))?
            .decode_as::<OctetString>()
            .map_err(|e| {
                EnvelopeError::BadParameters(format!("the IV is not an OCTET STRING: {e}"))
            })?;
        if iv.as_bytes().len() != cipher.block_len() {
            return Err(EnvelopeError::BadParameters(format!(
                "the IV is {} bytes, expected {}",
                iv.as_bytes().len(),
                cipher.block_len()
            )));
        }
        let ciphertext = content
            .encrypted_content
            .as_ref()
            .ok_or(EnvelopeError::NoContent)?
            .as_bytes();

        let mut candidates = 0;
        for ktri in enveloped.recip_infos.0.iter().filter_map(|ri| match ri {
            RecipientInfo::Ktri(k) => Some(k),
            _ => None,
        }) {
            if ktri.key_enc_alg.oid != RSA_ENCRYPTION || !self.is_us(&ktri.rid) {
                continue;
            }
            candidates += 1;
            let content_key = self.content_key(ktri.enc_key.as_bytes(), cipher.key_len());
            if let Some(plain) = cipher.decrypt(&content_key, iv.as_bytes(), ciphertext) {
                return Ok(plain);
            }
        }
        if candidates == 0 {
            return Err(EnvelopeError::NoRecipient);
        }
        Err(EnvelopeError::Decrypt)
    }

    fn is_us(&self, rid: &RecipientIdentifier) -> bool {
        match (&self.recipient, rid) {
            (None, _) => true,
            (Some(us), RecipientIdentifier::IssuerAndSerialNumber(them)) => us == them,
            (Some(_), RecipientIdentifier::SubjectKeyIdentifier(_)) => false,
        }
    }

    /// The content key, or a random one of the right length when RSA
    /// decryption fails or yields the wrong length (see the module docs).
    fn content_key(&self, encrypted: &[u8], len: usize) -> Vec<u8> {
        match self
            .key
            .decrypt_blinded(&mut OsRng, Pkcs1v15Encrypt, encrypted)
        {
            Ok(key) if key.len() == len => key,
            _ => {
                let mut key = vec![0; len];
                OsRng.fill_bytes(&mut key);
                key
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    TripleDes,
}

impl Cipher {
    fn from_oid(oid: &ObjectIdentifier) -> Result<Cipher, EnvelopeError> {
        match *oid {
            AES128_CBC => Ok(Cipher::Aes128),
            AES192_CBC => Ok(Cipher::Aes192),
            AES256_CBC => Ok(Cipher::Aes256),
            DES_EDE3_CBC => Ok(Cipher::TripleDes),
            other => Err(EnvelopeError::UnsupportedCipher(other.to_string())),
        }
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 | Cipher::TripleDes => 24,
            Cipher::Aes256 => 32,
        }
    }

    fn block_len(self) -> usize {
        match self {
            Cipher::Aes128 | Cipher::Aes192 | Cipher::Aes256 => Aes128::block_size(),
            Cipher::TripleDes => TdesEde3::block_size(),
        }
    }

    /// `None` on a wrong key or corrupt ciphertext (bad padding).
    fn decrypt(self, key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        fn run<C>(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>>
        where
            cbc::Decryptor<C>: KeyIvInit + BlockDecryptMut,
            C: cbc::cipher::BlockCipher + cbc::cipher::BlockDecryptMut,
        {
            cbc::Decryptor::<C>::new_from_slices(key, iv)
                .ok()?
                .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
                .ok()
        }
        match self {
            Cipher::Aes128 => run::<Aes128>(key, iv, ciphertext),
            Cipher::Aes192 => run::<Aes192>(key, iv, ciphertext),
            Cipher::Aes256 => run::<Aes256>(key, iv, ciphertext),
            Cipher::TripleDes => run::<TdesEde3>(key, iv, ciphertext),
        }
    }
}
