//! The hand-off from the request path to a background writer (the contact
//! history's, the insights'): bounded, and never waited for by an event. While
//! the writer is held up (a store that answers slowly, a long rebuild), what
//! does not fit is dropped and counted, and the writer says how much; memory
//! stays bounded and events stay fast. Statistics can afford the loss; an event
//! waiting on a report cannot.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

/// Messages waiting for a writer, at most. Each is a few hundred bytes; the
/// writer takes them as they come, so these fill only while it is held up:
/// seconds of the busiest traffic.
pub const CAPACITY: usize = 65_536;

/// The request path's end.
#[derive(Debug)]
pub struct Sender<T> {
    sender: mpsc::Sender<T>,
    dropped: Arc<AtomicU64>,
}

/// The writer's end.
#[derive(Debug)]
pub struct Receiver<T> {
    receiver: mpsc::Receiver<T>,
    dropped: Arc<AtomicU64>,
}

/// A hand-off of at most `capacity` waiting messages.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let (sender, receiver) = mpsc::channel(capacity);
    let dropped = Arc::new(AtomicU64::new(0));
    (
        Sender {
            sender,
            dropped: dropped.clone(),
        },
        Receiver { receiver, dropped },
    )
}

impl<T> Sender<T> {
    /// Hands `message` over without waiting: dropped (and counted) when the
    /// writer is that far behind, or gone (the runtime is shutting down).
    pub fn offer(&self, message: T) {
        if self.sender.try_send(message).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands `message` over once there is room: for what a caller waits on
    /// anyway (a flush). False when the writer is gone.
    pub async fn send(&self, message: T) -> bool {
        self.sender.send(message).await.is_ok()
    }
}

impl<T> Receiver<T> {
    /// The next message; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<T> {
        self.receiver.recv().await
    }

    /// How many messages were dropped since the last call.
    pub fn take_dropped(&self) -> u64 {
        self.dropped.swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn what_does_not_fit_is_dropped_and_counted_without_waiting() {
        let (sender, mut receiver) = channel(2);
        for message in 0..5 {
            sender.offer(message);
        }
        assert_eq!(receiver.take_dropped(), 3);
        assert_eq!(receiver.take_dropped(), 0, "counted once");
        assert_eq!(receiver.recv().await, Some(0));
        assert_eq!(receiver.recv().await, Some(1));
        // Room again.
        sender.offer(5);
        assert_eq!(receiver.recv().await, Some(5));
        assert_eq!(receiver.take_dropped(), 0);
    }

    #[tokio::test]
    async fn a_message_waited_for_takes_the_next_room() {
        let (sender, mut receiver) = channel(1);
        sender.offer(0);
        let waiting = tokio::spawn(async move { sender.send(1).await });
        assert_eq!(receiver.recv().await, Some(0));
        assert!(waiting.await.expect("joined"));
        assert_eq!(receiver.recv().await, Some(1));
        assert_eq!(receiver.recv().await, None, "the sender is gone");
        assert_eq!(receiver.take_dropped(), 0);
    }
}
