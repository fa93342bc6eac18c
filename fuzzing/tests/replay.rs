//! The fuzz targets on stable, under `cargo test`: every committed seed, every
//! seed the fixtures give now, and every input that once made a target fail
//! (`fuzz/regressions/<target>/`) goes through its target's properties again, so
//! a crash found once stays a test. Also checks that each target has its
//! cargo-fuzz entry point, and no entry point or corpus folder is an orphan.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crossdesk_fuzzing::{TARGETS, seeds};

/// The files of a folder, by name; an absent folder has none.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| entry.expect("readable folder"))
        .filter(|entry| entry.file_type().expect("file type").is_file())
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(entry.path()).expect("readable file"))
        })
        .collect()
}

#[test]
fn every_seed_and_past_crash_passes_its_target() {
    let repo = seeds::repository();
    let mut failures = Vec::new();
    let mut inputs = 0;
    for (target, run) in TARGETS {
        for dir in [
            seeds::seed_dir(&repo, target),
            seeds::regression_dir(&repo, target),
        ] {
            for (name, data) in files(&dir) {
                inputs += 1;
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    failures.push(format!("{}: {message}", dir.join(name).display()));
                }
            }
        }
    }
    assert!(inputs > TARGETS.len(), "only {inputs} inputs found");
    assert!(
        failures.is_empty(),
        "failing inputs:\n{}",
        failures.join("\n")
    );
}

/// The seeds as the fixtures give them now: a changed fixture is checked before
/// `fuzz-seeds` refreshes the committed copies, which cargo-fuzz starts from.
#[test]
fn every_seed_the_fixtures_give_passes_its_target() {
    let repo = seeds::repository();
    let generated = seeds::generate(&repo).expect("seeds from the fixtures");
    for (target, run) in TARGETS {
        let mine: Vec<_> = generated.iter().filter(|s| s.target == *target).collect();
        assert!(!mine.is_empty(), "target {target} has no seed");
        for seed in mine {
            if catch_unwind(AssertUnwindSafe(|| run(&seed.bytes))).is_err() {
                panic!("the seed {target}/{} from the fixtures fails", seed.name);
            }
        }
    }
}

#[test]
fn every_target_has_its_cargo_fuzz_entry_point_and_no_other_exists() {
    let repo = seeds::repository();
    let manifest = std::fs::read_to_string(repo.join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let entry_points = files(&repo.join("fuzz/fuzz_targets"));
    for (target, _) in TARGETS {
        let file = format!("{target}.rs");
        let source = entry_points
            .get(&file)
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_else(|| panic!("fuzz/fuzz_targets/{file} is missing"));
        assert!(
            source.contains(&format!("crossdesk_fuzzing::{target}(")),
            "fuzz/fuzz_targets/{file} does not run crossdesk_fuzzing::{target}"
        );
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml has no [[bin]] {target}"
        );
    }
    for file in entry_points.keys() {
        let target = file.trim_end_matches(".rs");
        assert!(
            TARGETS.iter().any(|(name, _)| *name == target),
            "fuzz/fuzz_targets/{file} is not in crossdesk_fuzzing::TARGETS"
        );
    }
    for dir in ["seeds", "regressions"] {
        for entry in std::fs::read_dir(repo.join("fuzz").join(dir))
            .into_iter()
            .flatten()
        {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            assert!(
                TARGETS.iter().any(|(target, _)| *target == name),
                "fuzz/{dir}/{name} belongs to no target"
            );
        }
    }
}
