//! Files of a tar archive, one at a time: how whole vendor databases (OSV,
//! the Ubuntu CVE tracker) are read without unpacking them to disk.

use std::io::Read;

use crate::error::Error;

/// Iterates the regular files of `archive` whose path `wanted` accepts,
/// handing each file's bytes and its location (`name: path`) to `parse`,
/// which gives at most one item a file. A file over `max_bytes` is an `Err`
/// item (not read); a broken archive is an `Err` item that ends the
/// iteration. One buffer serves every file.
pub(crate) fn tar_files<'a, R: Read + 'a, T: 'a>(
    archive: &'a mut tar::Archive<R>,
    name: &str,
    max_bytes: u64,
    wanted: impl Fn(&str) -> bool + 'a,
    mut parse: impl FnMut(&[u8], &str) -> Option<Result<T, Error>> + 'a,
) -> Result<impl Iterator<Item = Result<T, Error>> + 'a, Error> {
    let name = name.to_owned();
    let entries = archive.entries().map_err(|e| Error::io(&name, e))?;
    let mut buf = Vec::new();
    let mut broken = false;
    Ok(entries.filter_map(move |entry| {
        if broken {
            return None;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                broken = true;
                return Some(Err(Error::io(&name, e)));
            }
        };
        if !entry.header().entry_type().is_file() {
            return None;
        }
        let path = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !wanted(&path) {
            return None;
        }
        let at = format!("{name}: {path}");
        let size = entry.header().size().unwrap_or(0);
        if size > max_bytes {
            return Some(Err(Error::format(
                at,
                format!("entry of {size} bytes exceeds the limit"),
            )));
        }
        buf.clear();
        if let Err(e) = entry.read_to_end(&mut buf) {
            broken = true;
            return Some(Err(Error::io(at, e)));
        }
        parse(&buf, &at)
    }))
}
