//! dnf's `mirrorlist=` and `metalink=` sources: a repository configured
//! with one is synced from the mirrors the list names, tried in order, and
//! a metalink's `repomd.xml` hashes are checked against what the mirror
//! served (a stale or tampered mirror is skipped).
//!
//! * A mirror list is text, one base URL a line, `#` comments.
//! * A metalink (Metalink 3.0, as MirrorManager serves it) lists
//!   `repomd.xml` URLs with a preference and the file's hashes, including
//!   those of recent earlier versions (`mm0:alternates`) that a mirror
//!   lagging by one push may still serve.

use quick_xml::Reader;
use quick_xml::events::Event;
use sha2::{Digest, Sha256, Sha512};

/// What kind of list a configured rpm-md source is, from its URL (every
/// public one names itself: `mirrors.fedoraproject.org/metalink?repo=…`,
/// `mirrors.rockylinux.org/mirrorlist?…`, `mirrorlist.centos.org/?release=7…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirrorSource {
    Mirrorlist,
    Metalink,
}

impl MirrorSource {
    pub fn of(url: &str) -> Option<MirrorSource> {
        let lower = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .to_ascii_lowercase();
        if lower.contains("metalink") {
            Some(MirrorSource::Metalink)
        } else if lower.contains("mirrorlist") {
            Some(MirrorSource::Mirrorlist)
        } else {
            None
        }
    }
}

/// A parsed metalink for `repomd.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metalink {
    /// Base URLs (above `repodata/`), most preferred first.
    pub mirrors: Vec<String>,
    /// (algorithm, lower-case hex) of every acceptable `repomd.xml`.
    pub hashes: Vec<(String, String)>,
}

/// The http and https base URLs of a mirror list, in its order.
pub fn parse_mirrorlist(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
        .map(|l| l.trim_end_matches('/').to_owned())
        .collect()
}

/// Parses a metalink; an error says what is wrong with it.
pub fn parse_metalink(bytes: &[u8]) -> Result<Metalink, String> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut in_repomd = false;
    let mut saw_metalink = false;
    // (preference, order, url)
    let mut urls: Vec<(i64, usize, String)> = Vec::new();
    let mut hashes = Vec::new();
    // The element whose text is being read: a hash (with its type) or a
    // url (with its preference), and the text so far.
    let mut reading: Option<(bool, String, i64, String)> = None;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not a metalink: {e}"))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name();
                let attr = |key: &[u8]| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == key)
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                };
                match name.as_ref() {
                    b"metalink" => saw_metalink = true,
                    b"file" => {
                        in_repomd = attr(b"name").is_some_and(|n| n == "repomd.xml");
                    }
                    b"hash" if in_repomd => {
                        let kind = attr(b"type").unwrap_or_default();
                        reading = Some((true, kind, 0, String::new()));
                    }
                    b"url" if in_repomd => {
                        let preference = attr(b"preference")
                            .and_then(|p| p.trim().parse().ok())
                            .unwrap_or(0);
                        reading = Some((false, String::new(), preference, String::new()));
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some((.., text)) = &mut reading {
                    let part = t.decode().map_err(|e| format!("not a metalink: {e}"))?;
                    text.push_str(&part);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((.., text)) = &mut reading {
                    let name = r.decode().map_err(|e| format!("not a metalink: {e}"))?;
                    text.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => return Err(format!("not a metalink: unknown entity &{other};")),
                    });
                }
            }
            Event::End(e) => {
                if e.local_name().as_ref() == b"file" {
                    in_repomd = false;
                }
                if let Some((is_hash, kind, preference, text)) = reading.take() {
                    let text = text.trim();
                    if is_hash {
                        hashes.push((kind.to_ascii_lowercase(), text.to_ascii_lowercase()));
                    } else {
                        let order = urls.len();
                        urls.push((preference, order, text.to_owned()));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_metalink {
        return Err("not a metalink: no <metalink> element".into());
    }
    urls.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mirrors: Vec<String> = urls
        .into_iter()
        .map(|(_, _, url)| url)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .map(|u| {
            let u = u.trim_end_matches('/');
            u.strip_suffix("/repodata/repomd.xml")
                .unwrap_or(u)
                .to_owned()
        })
        .collect();
    if mirrors.is_empty() {
        return Err("the metalink lists no http or https mirror of repomd.xml".into());
    }
    Ok(Metalink { mirrors, hashes })
}

impl Metalink {
    /// Whether `repomd` is one of the versions the metalink vouches for:
    /// its SHA-256 or SHA-512 (the strongest listed) equals a listed one.
    /// A metalink listing no such hash vouches for anything.
    pub fn verify(&self, repomd: &[u8]) -> Result<(), String> {
        let listed = |algorithm: &str| -> Vec<&str> {
            self.hashes
                .iter()
                .filter(|(a, _)| a == algorithm)
                .map(|(_, h)| h.as_str())
                .collect()
        };
        let (algorithm, wanted, got) = if !listed("sha512").is_empty() {
            (
                "sha512",
                listed("sha512"),
                hex::encode(Sha512::digest(repomd)),
            )
        } else if !listed("sha256").is_empty() {
            (
                "sha256",
                listed("sha256"),
                hex::encode(Sha256::digest(repomd)),
            )
        } else {
            return Ok(());
        };
        if wanted.contains(&got.as_str()) {
            Ok(())
        } else {
            Err(format!(
                "repomd.xml has {algorithm} {got}, which the metalink does not list (a stale or altered mirror)"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const METALINK: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" type="dynamic" pubdate="Thu, 03 Dec 2026 07:00:00 GMT" generator="mirrormanager" xmlns:mm0="http://fedorahosted.org/mirrormanager">
 <files>
  <file name="repomd.xml">
   <mm0:timestamp>1733200000</mm0:timestamp>
   <size>4321</size>
   <verification>
    <hash type="md5">00000000000000000000000000000000</hash>
    <hash type="sha256">AAAA</hash>
   </verification>
   <mm0:alternates>
    <mm0:alternate>
     <mm0:timestamp>1733100000</mm0:timestamp>
     <size>4300</size>
     <verification><hash type="sha256">bbbb</hash></verification>
    </mm0:alternate>
   </mm0:alternates>
   <resources maxconnections="1">
    <url protocol="rsync" type="rsync" location="CZ" preference="100">rsync://mirror.example.cz/centos/9-stream/BaseOS/x86_64/os/repodata/repomd.xml</url>
    <url protocol="https" type="https" location="CZ" preference="99">https://mirror.example.cz/centos/9-stream/BaseOS/x86_64/os/repodata/repomd.xml</url>
    <url protocol="http" type="http" location="DE" preference="100">http://mirror.example.de/9-stream/BaseOS/x86_64/os/repodata/repomd.xml</url>
   </resources>
  </file>
 </files>
</metalink>
"#;

    #[test]
    fn metalink_mirrors_by_preference_and_hashes_with_alternates() {
        let m = parse_metalink(METALINK.as_bytes()).unwrap();
        assert_eq!(
            m.mirrors,
            [
                "http://mirror.example.de/9-stream/BaseOS/x86_64/os",
                "https://mirror.example.cz/centos/9-stream/BaseOS/x86_64/os",
            ]
        );
        assert!(m.hashes.contains(&("sha256".into(), "aaaa".into())));
        assert!(m.hashes.contains(&("sha256".into(), "bbbb".into())));
        let body = b"<repomd/>";
        let err = m.verify(body).unwrap_err();
        assert!(err.contains("does not list"), "{err}");
        let good = Metalink {
            hashes: vec![("sha256".into(), hex::encode(Sha256::digest(body)))],
            ..m.clone()
        };
        assert_eq!(good.verify(body), Ok(()));
        assert!(parse_metalink(b"<html>mirror down</html>").is_err());
        assert!(parse_metalink(b"").is_err());
    }

    #[test]
    fn mirrorlists_and_which_source_is_which() {
        assert_eq!(
            parse_mirrorlist(
                "# mirrors for BaseOS-9\nhttps://a.example/rocky/9/BaseOS/x86_64/os/\n\nftp://b.example/x\nhttp://c.example/9/BaseOS/x86_64/os\n"
            ),
            [
                "https://a.example/rocky/9/BaseOS/x86_64/os",
                "http://c.example/9/BaseOS/x86_64/os"
            ]
        );
        assert_eq!(
            MirrorSource::of(
                "https://mirrors.fedoraproject.org/metalink?repo=fedora-39&arch=x86_64"
            ),
            Some(MirrorSource::Metalink)
        );
        assert_eq!(
            MirrorSource::of("https://mirrors.almalinux.org/mirrorlist/9/baseos"),
            Some(MirrorSource::Mirrorlist)
        );
        assert_eq!(
            MirrorSource::of("http://mirrorlist.centos.org/?release=7&arch=x86_64&repo=os"),
            Some(MirrorSource::Mirrorlist)
        );
        assert_eq!(
            MirrorSource::of("https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/os"),
            None
        );
    }
}
