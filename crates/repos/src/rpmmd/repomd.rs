//! `repodata/repomd.xml`: the table of contents of an rpm-md repository,
//! with the checksum of every file it lists.

use quick_xml::events::Event;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::xml::{attr, read_error, reader, resolve_ref};
use crate::RepoError;

/// A parsed `repomd.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoMd {
    /// `<revision>`: a compose id, a timestamp or a release (`9-stream`).
    pub revision: String,
    /// `<tags><distro cpeid=…>` and `<content>`: the CPEs Red Hat's OVAL v2
    /// applicability uses.
    pub cpes: Vec<String>,
    pub data: Vec<RepoMdData>,
}

/// One `<data type=…>` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoMdData {
    /// `primary`, `updateinfo`, `modules`, `filelists`, `group_xz`, …
    pub kind: String,
    /// `<location href>`, relative to the directory above `repodata/`.
    pub href: String,
    /// Checksum of the file as stored (compressed).
    pub checksum: Option<Checksum>,
    /// Size of the file as stored, when the repomd says (old ones do not).
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// As written: `sha256`, `sha` (SHA-1 in createrepo's old spelling), …
    pub algorithm: String,
    /// Lower-case hex.
    pub hex: String,
}

impl RepoMd {
    /// The entry of one data type, if listed.
    pub fn get(&self, kind: &str) -> Option<&RepoMdData> {
        self.data.iter().find(|d| d.kind == kind)
    }
}

/// Which element's text is being collected.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    Revision,
    Checksum,
    Size,
    Content,
}

/// Parses `repomd.xml`. `file` names it in errors.
pub fn parse_repomd(bytes: &[u8], file: &str) -> Result<RepoMd, RepoError> {
    let mut reader = reader(bytes);
    let mut md = RepoMd::default();
    let mut current: Option<RepoMdData> = None;
    let mut checksum_algorithm = String::new();
    let mut field = Field::None;
    let mut text = String::new();
    let mut saw_root = false;
    let mut closed = false;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| read_error(&reader, e, file))?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                match e.local_name().as_ref() {
                    b"repomd" => saw_root = true,
                    b"revision" if current.is_none() => field = Field::Revision,
                    b"distro" | b"content" if current.is_none() => {
                        if let Some(cpe) = attr(&e, b"cpeid", file)? {
                            md.cpes.push(cpe);
                        } else if e.local_name().as_ref() == b"content" && !empty {
                            field = Field::Content;
                        }
                    }
                    b"data" => {
                        let kind = attr(&e, b"type", file)?.ok_or_else(|| {
                            RepoError::malformed(file, "<data> without a type attribute")
                        })?;
                        current = Some(RepoMdData {
                            kind,
                            ..RepoMdData::default()
                        });
                    }
                    b"location" => {
                        if let Some(d) = current.as_mut() {
                            d.href = attr(&e, b"href", file)?.unwrap_or_default();
                        }
                    }
                    b"checksum" if current.is_some() && !empty => {
                        checksum_algorithm = attr(&e, b"type", file)?.unwrap_or_default();
                        field = Field::Checksum;
                    }
                    b"size" if current.is_some() && !empty => field = Field::Size,
                    _ => {}
                }
                text.clear();
            }
            Event::Text(t) if field != Field::None => {
                let s = t
                    .decode()
                    .map_err(|e| RepoError::malformed(file, e.to_string()))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) if field != Field::None => text.push_str(&resolve_ref(&r, file)?),
            Event::End(e) => {
                match (field, e.local_name().as_ref()) {
                    (Field::Revision, b"revision") => md.revision = text.trim().to_owned(),
                    (Field::Content, b"content") => {
                        let t = text.trim();
                        if t.starts_with("cpe:") {
                            md.cpes.push(t.to_owned());
                        }
                    }
                    (Field::Checksum, b"checksum") => {
                        if let Some(d) = current.as_mut() {
                            d.checksum = Some(Checksum {
                                algorithm: std::mem::take(&mut checksum_algorithm),
                                hex: text.trim().to_ascii_lowercase(),
                            });
                        }
                    }
                    (Field::Size, b"size") => {
                        if let Some(d) = current.as_mut() {
                            d.size = Some(text.trim().parse().map_err(|_| {
                                RepoError::malformed(
                                    file,
                                    format!("<size> of {} is not a number: {:?}", d.kind, text),
                                )
                            })?);
                        }
                    }
                    (_, b"repomd") => closed = true,
                    (_, b"data") => {
                        if let Some(d) = current.take() {
                            if d.href.is_empty() {
                                return Err(RepoError::malformed(
                                    file,
                                    format!("<data type=\"{}\"> has no <location href>", d.kind),
                                ));
                            }
                            md.data.push(d);
                        }
                    }
                    _ => {}
                }
                field = Field::None;
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err(RepoError::malformed(
            file,
            "not a repomd.xml (no <repomd> element)",
        ));
    }
    if !closed {
        // A cut repomd would silently lose the entries after the cut.
        return Err(RepoError::malformed(file, "truncated: no </repomd>"));
    }
    Ok(md)
}

/// Checks `data` against a repomd checksum; a mismatch is
/// [`RepoError::Checksum`], an algorithm rpm-md does not use is malformed.
pub fn verify_checksum(data: &[u8], checksum: &Checksum, file: &str) -> Result<(), RepoError> {
    let actual = match checksum.algorithm.as_str() {
        "sha" | "sha1" => hex::encode(Sha1::digest(data)),
        "sha224" => hex::encode(Sha224::digest(data)),
        "sha256" => hex::encode(Sha256::digest(data)),
        "sha384" => hex::encode(Sha384::digest(data)),
        "sha512" => hex::encode(Sha512::digest(data)),
        other => {
            return Err(RepoError::malformed(
                file,
                format!("unsupported checksum type {other:?} in repomd.xml"),
            ));
        }
    };
    if actual != checksum.hex {
        return Err(RepoError::Checksum {
            file: file.to_owned(),
            algorithm: checksum.algorithm.clone(),
            expected: checksum.hex.clone(),
            actual,
        });
    }
    Ok(())
}
