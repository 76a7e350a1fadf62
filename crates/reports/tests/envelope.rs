//! Pakiti encrypted reports, encrypted by the real `openssl` CLI exactly as
//! `pakiti-client --encrypt CERT` does.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use patchwatch_reports::envelope::{Decryptor, EnvelopeError};
use patchwatch_reports::pakiti;

const OPENSSL: &str = "/usr/bin/openssl";
const REPORT: &str = "#\nhost: node1.example.org\npackager: dpkg\nsystem: Debian GNU/Linux 12\n#\n\
    libc6\t2.36-9+deb12u4\tamd64\n#\n";

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("pw-envelope-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file)).unwrap()
    }

    /// Writes a fresh RSA key `<name>.key` and self-signed `<name>.crt`.
    fn key_pair(&self, name: &str) {
        openssl(
            &self.0,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=test",
                "-days",
                "1",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }

    fn encrypt(&self, plain: &[u8], cipher: &str, cert: &str) -> Vec<u8> {
        std::fs::write(self.path("report.txt"), plain).unwrap();
        openssl(
            &self.0,
            &[
                "smime",
                "-encrypt",
                "-binary",
                cipher,
                "-outform",
                "DER",
                "-in",
                "report.txt",
                "-out",
                "report.der",
                cert,
            ],
        );
        std::fs::read(self.path("report.der")).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(OPENSSL)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn have_openssl() -> bool {
    let ok = Path::new(OPENSSL).exists();
    if !ok {
        common::tool_missing(OPENSSL, "this comparison with openssl");
    }
    ok
}

#[test]
fn decrypts_what_openssl_smime_encrypts() {
    if !have_openssl() {
        return;
    }
    let s = Scratch::new("ciphers");
    s.key_pair("server");
    let with_cert =
        Decryptor::from_pem(&s.read("server.key"), Some(&s.read("server.crt"))).unwrap();
    let key_only = Decryptor::from_pem(&s.read("server.key"), None).unwrap();
    for cipher in ["-aes-256-cbc", "-aes-128-cbc", "-aes-192-cbc", "-des3"] {
        let der = s.encrypt(REPORT.as_bytes(), cipher, "server.crt");
        assert_eq!(der.first(), Some(&0x30));
        for d in [&with_cert, &key_only] {
            let plain = d.decrypt(&der).unwrap();
            assert_eq!(plain, REPORT.as_bytes(), "{cipher}");
        }
    }
    let der = s.encrypt(REPORT.as_bytes(), "-aes-256-cbc", "server.crt");
    let report = pakiti::parse_v5(&key_only.decrypt(&der).unwrap()).unwrap();
    assert_eq!(report.hostname, "node1.example.org");

    assert!(patchwatch_reports::envelope::looks_encrypted(&der));
    assert!(!patchwatch_reports::envelope::looks_encrypted(
        REPORT.as_bytes()
    ));
    assert_eq!(
        patchwatch_reports::envelope::decrypt(&der, &s.read("server.key")).unwrap(),
        REPORT.as_bytes()
    );

    // A PKCS#1 (`RSA PRIVATE KEY`) key works too.
    openssl(
        &s.0,
        &[
            "rsa",
            "-traditional",
            "-in",
            "server.key",
            "-out",
            "server.rsa",
        ],
    );
    assert!(s.read("server.rsa").contains("BEGIN RSA PRIVATE KEY"));
    let pkcs1 = Decryptor::from_pem(&s.read("server.rsa"), None).unwrap();
    let der = s.encrypt(REPORT.as_bytes(), "-aes-256-cbc", "server.crt");
    assert_eq!(pkcs1.decrypt(&der).unwrap(), REPORT.as_bytes());

    // A large report: 1 MiB.
    let big: Vec<u8> = REPORT.bytes().cycle().take(1 << 20).collect();
    let der = s.encrypt(&big, "-aes-256-cbc", "server.crt");
    assert_eq!(key_only.decrypt(&der).unwrap(), big);
}

#[test]
fn wrong_keys_and_bad_bodies_are_errors() {
    if !have_openssl() {
        return;
    }
    let s = Scratch::new("bad");
    s.key_pair("server");
    s.key_pair("other");
    let server = Decryptor::from_pem(&s.read("server.key"), Some(&s.read("server.crt"))).unwrap();
    let server_key_only = Decryptor::from_pem(&s.read("server.key"), None).unwrap();
    let der = s.encrypt(REPORT.as_bytes(), "-aes-256-cbc", "other.crt");

    assert_eq!(server.decrypt(&der), Err(EnvelopeError::NoRecipient));
    // Without the certificate the recipient is guessed: the wrong key's
    // RSA step cannot be told from a right one (PKCS#1 v1.5 decryption
    // gives a random key rather than an error, against padding oracles),
    // so AES usually finds bad padding, but about once in 256 the garbage
    // ends in valid padding. Either way the report is not revealed.
    match server_key_only.decrypt(&der) {
        Err(EnvelopeError::Decrypt) => {}
        Ok(garbage) => assert_ne!(garbage, REPORT.as_bytes()),
        other => panic!("{other:?}"),
    }

    // The key and certificate must belong together.
    assert_eq!(
        Decryptor::from_pem(&s.read("server.key"), Some(&s.read("other.crt"))).unwrap_err(),
        EnvelopeError::KeyMismatch
    );
    assert!(matches!(
        Decryptor::from_pem("not a key", None),
        Err(EnvelopeError::Key(_))
    ));
    assert!(matches!(
        Decryptor::from_pem(&s.read("server.key"), Some("junk")),
        Err(EnvelopeError::Certificate(_))
    ));

    let good = s.encrypt(REPORT.as_bytes(), "-aes-256-cbc", "server.crt");
    // The padding byte of the last block, inverted: never valid padding.
    let mut tampered = good.clone();
    let at = tampered.len() - 17;
    tampered[at] ^= 0xff;
    assert_eq!(server.decrypt(&tampered), Err(EnvelopeError::Decrypt));

    assert!(matches!(server.decrypt(b""), Err(EnvelopeError::Asn1(_))));
    assert!(matches!(
        server.decrypt(REPORT.as_bytes()),
        Err(EnvelopeError::Asn1(_))
    ));
    for cut in [1, 2, 10, good.len() / 2, good.len() - 1] {
        assert!(
            matches!(server.decrypt(&good[..cut]), Err(EnvelopeError::Asn1(_))),
            "cut at {cut}"
        );
    }
    // Every truncation and every single-byte corruption: an error or, for a
    // flip inside the ciphertext, at most garbage; never a panic.
    for cut in 0..good.len() {
        assert!(server.decrypt(&good[..cut]).is_err());
    }
    for at in (0..good.len()).step_by(3) {
        let mut flipped = good.clone();
        flipped[at] ^= 0x55;
        let _ = server.decrypt(&flipped);
    }
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for len in [1, 16, 100, 500, 4096] {
        let random: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        assert!(server.decrypt(&random).is_err());
        let mut der_like = random.clone();
        der_like[0] = 0x30;
        assert!(server.decrypt(&der_like).is_err());
    }
}

#[test]
fn errors_are_readable() {
    assert_eq!(
        EnvelopeError::Decrypt.to_string(),
        "encrypted report: cannot decrypt it: it was not encrypted for this server's key, or it is corrupt"
    );
    assert!(
        EnvelopeError::UnsupportedCipher("1.2.3".into())
            .to_string()
            .contains("1.2.3")
    );
}

/// The CMS envelope parser on randomly mutated real envelopes (see
/// `common/mutate.rs`): never a panic, and whatever decrypts is handed to
/// the Pakiti parser, which must not panic either.
#[test]
fn envelopes_survive_mutation() {
    if !have_openssl() {
        return;
    }
    let s = Scratch::new("mutations");
    s.key_pair("server");
    let decryptor =
        Decryptor::from_pem(&s.read("server.key"), Some(&s.read("server.crt"))).unwrap();
    let seeds: Vec<Vec<u8>> = ["-aes-256-cbc", "-des3"]
        .iter()
        .map(|cipher| s.encrypt(REPORT.as_bytes(), cipher, "server.crt"))
        .collect();
    common::mutate::run("envelope", &seeds, 200, |b| {
        if let Ok(plain) = decryptor.decrypt(b) {
            let _ = pakiti::parse_v5(&plain);
        }
    });
}
