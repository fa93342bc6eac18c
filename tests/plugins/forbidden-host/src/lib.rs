//! Fetches the URL of its `url` setting and reports the answer in a note, or fails
//! with the host's reason: shows outbound HTTP needs a grant for that very host,
//! that deadlines cover slow hosts, and that secrets are added by the host. With a
//! `spin_ms` setting it first computes for that long, so that it fetches past its
//! CPU budget, from the overtime thread. With `repeat` it asks that many times
//! (reporting the last answer), and with `pad` it lengthens the URL by that many
//! bytes: a flood of refused requests, each naming a URL of its own making.
use crossdesk_sdk::{
    Action, Event, EventKind, Manifest, Plugin, PluginError, clock, http, settings,
};

pub struct Fetch;

impl Plugin for Fetch {
    fn manifest() -> Manifest {
        Manifest::new("forbidden-host", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .reads_setting("url")
            .reads_setting("spin_ms")
            .reads_setting("repeat")
            .reads_setting("pad")
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let url = settings::get("url").unwrap_or_else(|| "http://example.com/".into());
        let spin_ms: i64 = settings::get("spin_ms")
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0);
        let until = clock::now_ms().saturating_add(spin_ms);
        let mut n: u64 = 1;
        while clock::now_ms() < until {
            for _ in 0..10_000 {
                // Opaque to the optimizer, so the loop is really executed.
                n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let number = |key: &str| settings::get(key).and_then(|n| n.parse::<usize>().ok());
        let url = match number("pad") {
            Some(pad) => format!("{url}?{}", "a".repeat(pad)),
            None => url,
        };
        for _ in 1..number("repeat").unwrap_or(1) {
            let _ = http::get(&url);
        }
        let response = http::get(&url)?;
        Ok(vec![Action::InternalNote(format!(
            "{} answered {}: {}",
            url,
            response.status,
            response.text()
        ))])
    }
}

crossdesk_sdk::export_plugin!(Fetch);
