#![no_main]

// The CMS EnvelopedData parser of encrypted Pakiti reports, with a key made
// once per run; whatever decrypts goes on to the Pakiti parser.

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use patchwatch_reports::Decryptor;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};

fn decryptor() -> &'static Decryptor {
    static DECRYPTOR: OnceLock<Decryptor> = OnceLock::new();
    DECRYPTOR.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        Decryptor::from_pem(&pem, None).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(plain) = decryptor().decrypt(data) {
        let _ = patchwatch_reports::pakiti::parse_v5(&plain);
    }
});
