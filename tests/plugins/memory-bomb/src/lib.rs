//! Allocates and touches memory until the host's memory limit stops it.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

pub struct Bomb;

impl Plugin for Bomb {
    fn manifest() -> Manifest {
        Manifest::new("memory-bomb", "0.1.0").handles(EventKind::CustomerMessage)
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // 1 MiB at a time, written so the pages are really used.
            hoard.push(vec![0xA5; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

crossdesk_sdk::export_plugin!(Bomb);
