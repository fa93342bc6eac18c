//! Writes the fuzz targets' seed corpora (`fuzz/seeds/<target>/`, where
//! cargo-fuzz starts from) from the repository's fixtures, replacing what was
//! there: run it after changing a fixture, and commit the result.

use std::process::ExitCode;

use crossdesk_fuzzing::seeds::{self, SeedError};

fn main() -> ExitCode {
    match write() {
        Ok(count) => {
            println!("wrote {count} seeds under fuzz/seeds/");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fuzz-seeds: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write() -> Result<usize, SeedError> {
    let repo = seeds::repository();
    let all = seeds::generate(&repo)?;
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| SeedError::Write { path, source }
    };
    for (target, _) in crossdesk_fuzzing::TARGETS {
        let dir = seeds::seed_dir(&repo, target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    }
    for seed in &all {
        let path = seeds::seed_dir(&repo, seed.target).join(&seed.name);
        std::fs::write(&path, &seed.bytes).map_err(io(&path))?;
    }
    Ok(all.len())
}
