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
use std::sync::Arc;

use tokio::sync::watch;

use crate::store::EventKey;

use super::Recorded;

/// What a waiting delivery is told: the run's response once it has one.
type Outcome = Option<Arc<Recorded>>;

#[derive(Default)]
pub(super) struct Running {
    events: parking_lot::Mutex<HashMap<EventKey, watch::Receiver<Outcome>>>,
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
    outcome: watch::Sender<Outcome>,
}

impl Running {
    /// Becomes the event's runner, or waits for the delivery that is.
    pub(super) async fn enter(&self, key: &EventKey) -> Entered<'_> {
        let mut other = {
            let mut events = self.events.lock();
            match events.get(key) {
                Some(other) => other.clone(),
                None => {
                    let (outcome, waiting) = watch::channel(None);
                    events.insert(key.clone(), waiting);
                    return Entered::Runs(Runner {
                        running: self,
                        key: key.clone(),
                        outcome,
                    });
                }
            }
        };
        // An error: the runner went without sending a response.
        match other.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().map_or(Entered::Retry, Entered::Answered),
            Err(_) => Entered::Retry,
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
        self.outcome.send_replace(Some(recorded.clone()));
    }
}

impl Drop for Runner<'_> {
    fn drop(&mut self) {
        // Out of the map first, so that a delivery woken by the sender's drop
        // (after this) finds no runner and may become one.
        self.running.events.lock().remove(&self.key);
    }
}
