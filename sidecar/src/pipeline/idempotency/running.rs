//! The deliveries running in this process: one per event at a time. A delivery
//! that arrives while the same event runs waits for that run and answers its
//! response; when the run fails or is cancelled, the waiting deliveries go on,
//! and one of them runs the event.
//!
//! moka's `entry().or_try_insert_with` does the same for a cache entry, but a
//! new key costs a lock entry, a waiter entry and their removal in concurrent
//! hash maps besides the insertion itself: in the chain bench that was a tenth
//! of the sidecar's CPU per event. Here a new event costs one insertion and one
//! removal in a map under a short lock.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use crate::store::EventKey;

use super::Recorded;

#[derive(Default)]
pub(super) struct Running {
    events: parking_lot::Mutex<HashMap<EventKey, Arc<Run>>>,
}

/// One delivery's run of an event, as the deliveries waiting for it see it.
struct Run {
    response: OnceLock<Arc<Recorded>>,
    /// Closed when the run ends: no permit is ever added, so a waiting delivery
    /// wakes only then (a semaphore's close wakes every waiter at once).
    ended: Semaphore,
}

/// How a delivery enters.
pub(super) enum Entered<'a> {
    /// This delivery runs the event.
    Runs(Runner<'a>),
    /// Another delivery ran it and answered this.
    Answered(Arc<Recorded>),
    /// Another delivery's run ended without a response: enter again.
    Retry,
}

/// Held by the delivery that runs an event; dropped, it lets the next delivery
/// of the event in.
pub(super) struct Runner<'a> {
    running: &'a Running,
    key: EventKey,
    run: Arc<Run>,
}

impl Running {
    /// Becomes the event's runner, or waits for the delivery that is.
    pub(super) async fn enter(&self, key: &EventKey) -> Entered<'_> {
        let other = {
            let mut events = self.events.lock();
            match events.get(key) {
                Some(other) => other.clone(),
                None => {
                    let run = Arc::new(Run {
                        response: OnceLock::new(),
                        ended: Semaphore::new(0),
                    });
                    events.insert(key.clone(), run.clone());
                    return Entered::Runs(Runner {
                        running: self,
                        key: key.clone(),
                        run,
                    });
                }
            }
        };
        // Fails once the semaphore is closed: the run has ended.
        let _ended = other.ended.acquire().await;
        match other.response.get() {
            Some(recorded) => Entered::Answered(recorded.clone()),
            None => Entered::Retry,
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.events.lock().len()
    }
}

impl Runner<'_> {
    /// Hands the response to the deliveries waiting for it.
    pub(super) fn answered(&self, recorded: &Arc<Recorded>) {
        let _ = self.run.response.set(recorded.clone());
    }
}

impl Drop for Runner<'_> {
    fn drop(&mut self) {
        // Out of the map first, so that a delivery woken next finds no runner and
        // may become one.
        self.running.events.lock().remove(&self.key);
        self.run.ended.close();
    }
}
