//! What a probe of the listener (`/readyz`, `/metrics`) last read from the queue.
//! The listener faces the helpdesk, and anyone who can reach it: however often
//! and however many at once ask, the queue is read at most once per `kept`, one
//! read at a time, and the callers meanwhile answer what it finds. Without that, a
//! flood of probes would take the queue's connections from the webhooks.
//!
//! A read runs in a task of its own: a caller that goes away (a probe whose client
//! gave up on a slow queue) leaves the read to those who wait, instead of
//! abandoning it for the next caller to start again.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::time::Instant;

/// A value read at most once per `kept`, by one reader at a time.
pub(crate) struct Recent<T> {
    kept: Duration,
    state: Arc<Mutex<State<T>>>,
}

struct State<T> {
    /// The last value and when it was read.
    last: Option<(Instant, T)>,
    /// The read under way; `None` from it means the read panicked.
    reading: Option<Shared<BoxFuture<'static, Option<T>>>>,
}

impl<T> std::fmt::Debug for Recent<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recent").field("kept", &self.kept).finish()
    }
}

fn lock<T>(state: &Mutex<State<T>>) -> MutexGuard<'_, State<T>> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Clone + Send + Sync + 'static> Recent<T> {
    pub(crate) fn new(kept: Duration) -> Self {
        Self {
            kept,
            state: Arc::new(Mutex::new(State {
                last: None,
                reading: None,
            })),
        }
    }

    /// The value read less than `kept` ago, or the one of the read under way, or
    /// of a new one from `read`, which is given the previous value (to say what
    /// changed). `None` only when the read panicked.
    pub(crate) async fn get<F, Fut>(&self, read: F) -> Option<T>
    where
        F: FnOnce(Option<T>) -> Fut,
        Fut: Future<Output = T> + Send + 'static,
    {
        let reading = {
            let mut state = lock(&self.state);
            if let Some((at, value)) = &state.last
                && at.elapsed() < self.kept
            {
                return Some(value.clone());
            }
            match &state.reading {
                Some(reading) => reading.clone(),
                None => {
                    let read = read(state.last.as_ref().map(|(_, value)| value.clone()));
                    let shared = self.state.clone();
                    let task = tokio::spawn(async move {
                        // A read that panics leaves nothing half done: the next
                        // caller reads again.
                        let value = AssertUnwindSafe(read).catch_unwind().await.ok();
                        let mut state = lock(&shared);
                        if let Some(value) = &value {
                            state.last = Some((Instant::now(), value.clone()));
                        }
                        state.reading = None;
                        value
                    });
                    let reading = async move { task.await.ok().flatten() }.boxed().shared();
                    state.reading = Some(reading.clone());
                    reading
                }
            }
        };
        reading.await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn callers_meanwhile_wait_for_the_one_read() {
        let recent = Arc::new(Recent::new(Duration::from_secs(3600)));
        let (asked, reads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let callers: Vec<_> = (0..16)
            .map(|_| {
                let (recent, asked, reads) = (recent.clone(), asked.clone(), reads.clone());
                let gate = gate.clone();
                tokio::spawn(async move {
                    asked.fetch_add(1, Ordering::SeqCst);
                    recent
                        .get(|_| async move {
                            reads.fetch_add(1, Ordering::SeqCst);
                            // Held until every caller has asked.
                            let _open = gate.acquire().await;
                            7
                        })
                        .await
                })
            })
            .collect();
        // One thread: a caller that has asked has, in the same poll, begun the
        // read or joined it.
        while asked.load(Ordering::SeqCst) < 16 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(16);
        for caller in callers {
            assert_eq!(caller.await.expect("joined"), Some(7));
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_caller_that_goes_away_leaves_its_read_to_the_others() {
        let recent = Arc::new(Recent::new(Duration::from_secs(3600)));
        let reads = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let first = {
            let (recent, reads, gate) = (recent.clone(), reads.clone(), gate.clone());
            tokio::spawn(async move {
                recent
                    .get(|_| async move {
                        reads.fetch_add(1, Ordering::SeqCst);
                        let _open = gate.acquire().await;
                        7
                    })
                    .await
            })
        };
        while reads.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        first.abort();
        assert!(first.await.is_err_and(|e| e.is_cancelled()));
        gate.add_permits(1);
        // The first read goes on and answers; none is started again.
        assert_eq!(recent.get(|_| async { 8 }).await, Some(7));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn past_its_time_a_value_is_read_again_knowing_the_last() {
        let recent = Recent::new(Duration::ZERO);
        assert_eq!(
            recent.get(|last| async move { last.is_none() }).await,
            Some(true)
        );
        assert_eq!(
            recent.get(|last| async move { last == Some(true) }).await,
            Some(true)
        );
        let kept = Recent::new(Duration::from_secs(3600));
        assert_eq!(kept.get(|_| async { 1 }).await, Some(1));
        assert_eq!(kept.get(|_| async { 2 }).await, Some(1));
    }

    #[tokio::test]
    async fn a_read_that_panics_is_started_again_by_the_next_caller() {
        let fail = || -> u8 { panic!("the read fails") };
        let recent = Recent::new(Duration::from_secs(3600));
        assert_eq!(recent.get(|_| async move { fail() }).await, None);
        assert_eq!(recent.get(|_| async { 3 }).await, Some(3));
        // Also when no caller waited for the read that panicked.
        let again = Arc::new(Recent::new(Duration::from_secs(3600)));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let first = {
            let (caller, gate) = (again.clone(), gate.clone());
            tokio::spawn(async move {
                caller
                    .get(|_| async move {
                        let _open = gate.acquire().await;
                        fail()
                    })
                    .await
            })
        };
        while lock(&again.state).reading.is_none() {
            tokio::task::yield_now().await;
        }
        first.abort();
        let _ = first.await;
        gate.add_permits(1);
        for _ in 0..1000 {
            if lock(&again.state).reading.is_none() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(
            lock(&again.state).reading.is_none(),
            "the failed read is forgotten"
        );
        assert_eq!(again.get(|_| async { 4 }).await, Some(4));
    }
}
