//! Counts its calls in a global and notes the count, so that a test sees which events
//! an instance served: 1 on a fresh instance, n on the n-th call of a warm one. The
//! `label` setting is noted too (a settings change must reach a fresh instance). A
//! message reading `trap` makes it trap after counting; one reading `grow` makes it
//! keep 2 MiB more of memory; one reading `grow-refused` asks for 128 MiB more (past
//! the default 64 MiB limit), goes on when refused and notes it. `spin` computes
//! until its deadline, `busy` for 800 ms (by the clock) then answers; `store`
//! writes to storage it was not granted, goes on when refused and notes it; `big`
//! answers a 8 KiB note.
use std::sync::atomic::{AtomicU32, Ordering};

use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, clock, kv, settings};

static CALLS: AtomicU32 = AtomicU32::new(0);

pub struct CallCounter;

impl Plugin for CallCounter {
    fn manifest() -> Manifest {
        Manifest::new("call-counter", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .reads_setting("label")
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let calls = CALLS.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if event.text == "trap" {
            panic!("asked to trap after {calls} calls");
        }
        if event.text == "spin" {
            loop {
                std::hint::spin_loop();
            }
        }
        if event.text == "busy" {
            // The host's clock: this target has no clock of its own.
            let start = clock::now_ms();
            while clock::now_ms().saturating_sub(start) < 800 {
                std::hint::spin_loop();
            }
            return Ok(vec![Action::InternalNote(format!("call {calls} busy"))]);
        }
        if event.text == "store" {
            let refused = kv::put("count", calls.to_string().as_bytes()).is_err();
            return Ok(vec![Action::InternalNote(format!(
                "call {calls} store refused {refused}"
            ))]);
        }
        if event.text == "big" {
            return Ok(vec![Action::InternalNote("x".repeat(8 << 10))]);
        }
        let mut note = format!(
            "call {calls} {}",
            settings::get("label").unwrap_or_default()
        );
        if event.text == "grow-refused" {
            #[cfg(target_arch = "wasm32")]
            let refused = core::arch::wasm32::memory_grow(0, 2048) == usize::MAX;
            #[cfg(not(target_arch = "wasm32"))]
            let refused = true;
            note = format!("call {calls} refused {refused}");
        }
        if event.text == "grow" {
            // Kept for the instance's life: its memory grows by as much.
            std::hint::black_box(Vec::leak(vec![1u8; 2 << 20]));
            note = format!("call {calls} grew");
        }
        Ok(vec![Action::InternalNote(note)])
    }
}

crossdesk_sdk::export_plugin!(CallCounter);
