//! What a probe of the listener (`/readyz`, `/metrics`) last read from the queue.
//! The listener faces the helpdesk, and anyone who can reach it: however often
//! and however many at once ask, the queue is read at most once per `kept`, by one
//! of them at a time, and the others answer what it found. Without that, a flood
//! of probes would take the queue's connections from the webhooks.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// A value read at most once per `kept`, by one reader at a time.
#[derive(Debug)]
pub(crate) struct Recent<T> {
    kept: Duration,
    /// The last value and when it was read. Held across a read, so that callers
    /// arriving meanwhile wait for its value instead of reading again.
    last: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> Recent<T> {
    pub(crate) fn new(kept: Duration) -> Self {
        Self {
            kept,
            last: Mutex::new(None),
        }
    }

    /// The value read less than `kept` ago, or a new one from `read`, which is
    /// given the previous value (to say what changed).
    pub(crate) async fn get<F, Fut>(&self, read: F) -> T
    where
        F: FnOnce(Option<T>) -> Fut,
        Fut: Future<Output = T>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, value)) = &*last
            && at.elapsed() < self.kept
        {
            return value.clone();
        }
        let value = read(last.as_ref().map(|(_, value)| value.clone())).await;
        *last = Some((Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
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
        // One thread: a caller that has asked has, in the same poll, begun its
        // read or queued for the lock.
        while asked.load(Ordering::SeqCst) < 16 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(16);
        for caller in callers {
            assert_eq!(caller.await.expect("joined"), 7);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn past_its_time_a_value_is_read_again_knowing_the_last() {
        let recent = Recent::new(Duration::ZERO);
        assert!(recent.get(|last| async move { last.is_none() }).await);
        assert!(recent.get(|last| async move { last == Some(true) }).await);
        let kept = Recent::new(Duration::from_secs(3600));
        assert_eq!(kept.get(|_| async { 1 }).await, 1);
        assert_eq!(kept.get(|_| async { 2 }).await, 1);
    }
}
