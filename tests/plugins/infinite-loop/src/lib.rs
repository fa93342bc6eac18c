//! Never returns: the host must stop it at its deadline.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

pub struct Spin;

impl Plugin for Spin {
    fn manifest() -> Manifest {
        Manifest::new("infinite-loop", "0.1.0").handles(EventKind::CustomerMessage)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let mut n: u64 = event.text.len() as u64;
        loop {
            // Opaque to the optimizer, so the loop is really executed.
            n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

crossdesk_sdk::export_plugin!(Spin);
