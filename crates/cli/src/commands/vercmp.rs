//! `patchwatch vercmp`

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::bail;
use patchwatch_versions::Scheme;

use crate::cli::{VercmpArgs, VersionType};

pub fn run(args: VercmpArgs) -> anyhow::Result<ExitCode> {
    let scheme = match args.kind {
        VersionType::Deb => Scheme::Deb,
        VersionType::Rpm => Scheme::Rpm,
        VersionType::Apk => Scheme::Apk,
        VersionType::Pacman => Scheme::Pacman,
    };
    match (args.a, args.b) {
        (Some(a), Some(b)) => {
            let symbol = match patchwatch_versions::compare(scheme, &a, &b) {
                std::cmp::Ordering::Less => "<",
                std::cmp::Ordering::Equal => "=",
                std::cmp::Ordering::Greater => ">",
            };
            println!("{symbol}");
        }
        (None, None) => {
            let stdin = std::io::stdin().lock();
            let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            patchwatch_versions::run_batch(scheme, stdin, &mut out)?;
            out.flush()?;
        }
        _ => bail!("give two versions, or none to read `A B` lines from standard input"),
    }
    Ok(ExitCode::SUCCESS)
}
