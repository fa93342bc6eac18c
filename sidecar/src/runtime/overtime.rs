//! How much CPU one plugin call may take from everyone else's.
//!
//! Every call yields to the executor at each epoch tick, but a plugin that loops
//! until its deadline still takes a worker's time slice after slice, and every other
//! event waits behind those slices at each of its own steps. So an event call gets a
//! CPU budget, counted in the epoch ticks its guest code runs through: a callback
//! that comes right after the guest resumed is a tick of computing, one that comes
//! later followed a wait (a host call's I/O), which costs the others nothing. A call past its budget is in *overtime*: it is handed over to
//! the overtime thread, an executor of its own whose OS thread runs under Linux's
//! `SCHED_IDLE` policy, and finishes there. The kernel then gives it only the
//! CPU the workers serving other events leave, so a looping plugin slows nobody
//! else, whatever its tenant sends, until its deadline ends it.
//!
//! What runs in overtime shares that thread: the lane protects the events of
//! well-behaved plugins, not one overtime call from another.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{AbortHandle, Abortable};
use futures::{FutureExt, StreamExt};
use tracing::Instrument;

/// The CPU budget of an event call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fairness {
    /// Guest CPU an event call runs on the workers before it goes into overtime.
    pub cpu_budget: Duration,
}

impl Default for Fairness {
    /// 5 ms: the first-party plugins compute well under a millisecond per event.
    fn default() -> Self {
        Self {
            cpu_budget: Duration::from_millis(5),
        }
    }
}

/// The runtime's count of epoch ticks (the engine's own count cannot be read).
pub(crate) type Clock = Arc<AtomicU64>;

/// What the guest awaits at an epoch callback before it runs on.
pub(crate) type Yield = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One call's use of its CPU budget, counted in the ticks its guest code ran through.
#[derive(Debug)]
pub(crate) struct CpuMeter {
    clock: Clock,
    /// The tick at which the guest last resumed after a yield.
    resumed: Arc<AtomicU64>,
    used: u32,
    budget: u32,
    /// Set once the budget is spent; [`Handover`] watches it.
    overtime: Arc<AtomicBool>,
}

impl CpuMeter {
    /// A meter for `budget` of guest CPU, in ticks of `tick` counted by `clock`.
    pub(crate) fn new(budget: Duration, tick: Duration, clock: Clock) -> Self {
        let ticks = budget
            .as_nanos()
            .checked_div(tick.as_nanos())
            .unwrap_or(u128::MAX);
        Self {
            resumed: Arc::new(AtomicU64::new(clock.load(Ordering::Relaxed))),
            clock,
            used: 0,
            budget: u32::try_from(ticks).unwrap_or(u32::MAX).max(1),
            overtime: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The flag that tells whether the call is in overtime.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.overtime.clone()
    }

    /// Called at each epoch callback; answers what the guest yields through.
    ///
    /// The tick counts when the callback comes within a tick of the guest's last
    /// resumption, that is when guest code ran through it; a callback that comes
    /// later followed a wait (a host call's I/O, or a busy thread), which costs the
    /// other events nothing.
    pub(crate) fn tick(&mut self) -> Yield {
        let now = self.clock.load(Ordering::Relaxed);
        if now.saturating_sub(self.resumed.load(Ordering::Relaxed)) <= 1 {
            self.used = self.used.saturating_add(1);
            if self.used > self.budget {
                self.overtime.store(true, Ordering::Relaxed);
            }
        }
        let (clock, resumed) = (self.clock.clone(), self.resumed.clone());
        Box::pin(async move {
            tokio::task::yield_now().await;
            resumed.store(clock.load(Ordering::Relaxed), Ordering::Relaxed);
        })
    }
}

/// A boxed call that can move between threads.
type Call<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the overtime thread runs: a handed-over call, wrapped to report its end.
type Job = Call<()>;

/// The low-priority thread calls in overtime finish on.
///
/// It polls them in the context of the runtime that started it: the timers,
/// sockets and tasks they create (a host call's HTTP connection, a database
/// connection that joins a pool) belong to that runtime and are driven by its
/// workers, so nothing other events share comes to depend on this thread.
#[derive(Debug)]
pub(crate) struct OvertimeThread {
    queue: Option<tokio::sync::mpsc::UnboundedSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OvertimeThread {
    /// Starts the thread in the context of the current tokio runtime. Lowering its
    /// priority is best effort: where the OS refuses, overtime calls still leave the
    /// workers, at the same priority as they.
    pub(crate) fn start() -> std::io::Result<Self> {
        let home = tokio::runtime::Handle::try_current()
            .map_err(|e| std::io::Error::other(format!("no tokio runtime: {e}")))?;
        let (queue, mut jobs) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("crossdesk-overtime".into())
            .spawn(move || {
                if let Err(error) = lower_priority() {
                    tracing::warn!(?error, "cannot lower the overtime thread's priority");
                }
                let _home = home.enter();
                let mut running = futures::stream::FuturesUnordered::new();
                // Until the runtime drops the queue; the calls still running then are
                // dropped with the thread (their callers see them abandoned).
                futures::executor::block_on(std::future::poll_fn(|cx| {
                    loop {
                        match jobs.poll_recv(cx) {
                            Poll::Ready(Some(job)) => running.push(job),
                            Poll::Ready(None) => return Poll::Ready(()),
                            Poll::Pending => break,
                        }
                    }
                    while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
                    Poll::Pending
                }));
            })?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Hands `job` to the thread; gives it back when the thread has stopped.
    fn run(&self, job: Job) -> Result<(), Job> {
        match &self.queue {
            Some(queue) => queue.send(job).map_err(|e| e.0),
            None => Err(job),
        }
    }
}

impl OvertimeThread {
    /// Stops the thread: closes its queue, drops the calls still running, waits.
    /// A guest only lets go between epoch ticks, so the runtime's ticker must
    /// still run while this waits.
    pub(crate) fn stop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for OvertimeThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Puts the calling thread under `SCHED_IDLE`: the kernel runs it only on CPU
/// that no normal thread wants, and preempts it as soon as one wakes up (a thread
/// at nice 19 would still keep a waking worker waiting for the rest of its slice).
fn lower_priority() -> Result<(), thread_priority::Error> {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id,
    };
    set_thread_priority_and_policy(
        thread_native_id(),
        thread_priority::ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    )
}

/// Runs a call where it was started until its meter flags overtime, then on the
/// overtime thread. Dropping it (the call's deadline) cancels the call wherever
/// it runs.
pub(crate) struct Handover<'lane, T: Send + 'static> {
    state: State<T>,
    overtime: Arc<AtomicBool>,
    lane: &'lane OvertimeThread,
}

enum State<T> {
    Here(Call<T>),
    Moved {
        ended: tokio::sync::oneshot::Receiver<std::thread::Result<T>>,
        abort: AbortHandle,
    },
    Gone,
}

/// The overtime thread stopped before the call finished (the runtime is shutting down).
#[derive(Debug)]
pub(crate) struct Abandoned;

impl<'lane, T: Send + 'static> Handover<'lane, T> {
    pub(crate) fn new(
        call: Call<T>,
        overtime: Arc<AtomicBool>,
        lane: &'lane OvertimeThread,
    ) -> Self {
        Self {
            state: State::Here(call),
            overtime,
            lane,
        }
    }

    /// Moves the call to the overtime thread.
    fn hand_over(&mut self) {
        let State::Here(call) = std::mem::replace(&mut self.state, State::Gone) else {
            return;
        };
        let (abort, registration) = AbortHandle::new_pair();
        let (end, ended) = tokio::sync::oneshot::channel();
        // A panic is carried back to the caller's task, as if it had stayed there;
        // what the call logs stays in the caller's span (tenant, event, plugin).
        let call = AssertUnwindSafe(call).catch_unwind().in_current_span();
        let job = Abortable::new(call, registration).map(move |result| {
            if let Ok(result) = result {
                let _ = end.send(result);
            }
        });
        // A thread that has stopped drops the job, and with it `end`: abandoned.
        tracing::debug!("a call past its CPU budget goes on at low priority");
        let _ = self.lane.run(Box::pin(job));
        self.state = State::Moved { ended, abort };
    }
}

impl<T: Send + 'static> Future for Handover<'_, T> {
    type Output = Result<T, Abandoned>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let State::Here(call) = &mut this.state {
            match call.as_mut().poll(cx) {
                Poll::Ready(value) => {
                    this.state = State::Gone;
                    return Poll::Ready(Ok(value));
                }
                Poll::Pending if this.overtime.load(Ordering::Relaxed) => this.hand_over(),
                Poll::Pending => return Poll::Pending,
            }
        }
        let State::Moved { ended, .. } = &mut this.state else {
            return Poll::Pending;
        };
        let result = std::task::ready!(Pin::new(ended).poll(cx));
        this.state = State::Gone;
        match result {
            Ok(Ok(value)) => Poll::Ready(Ok(value)),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Poll::Ready(Err(Abandoned)),
        }
    }
}

impl<T: Send + 'static> Drop for Handover<'_, T> {
    fn drop(&mut self) {
        if let State::Moved { abort, .. } = &self.state {
            abort.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(1);

    #[test]
    fn a_call_goes_into_overtime_once_its_budget_is_spent() {
        let clock = Clock::default();
        let mut meter = CpuMeter::new(Duration::from_millis(3), TICK, clock.clone());
        let flag = meter.flag();
        let run_one_tick = |meter: &mut CpuMeter| {
            clock.fetch_add(1, Ordering::Relaxed);
            futures::executor::block_on(meter.tick());
        };
        for _ in 0..3 {
            run_one_tick(&mut meter);
            assert!(!flag.load(Ordering::Relaxed));
        }
        run_one_tick(&mut meter);
        assert!(flag.load(Ordering::Relaxed));
    }

    #[test]
    fn ticks_spent_waiting_do_not_count() {
        let clock = Clock::default();
        let mut meter = CpuMeter::new(Duration::ZERO, TICK, clock.clone());
        // A budget shorter than a tick is still a tick.
        clock.fetch_add(1, Ordering::Relaxed);
        futures::executor::block_on(meter.tick());
        // Host calls that each waited several ticks: the callbacks after them are
        // no computing.
        for _ in 0..10 {
            clock.fetch_add(5, Ordering::Relaxed);
            futures::executor::block_on(meter.tick());
        }
        assert!(!meter.flag().load(Ordering::Relaxed));
        clock.fetch_add(1, Ordering::Relaxed);
        futures::executor::block_on(meter.tick());
        assert!(meter.flag().load(Ordering::Relaxed));
    }

    /// The thread a future was last polled on, once it has been polled twice.
    async fn threads_polled_on(flag: Arc<AtomicBool>) -> (String, String) {
        let name = || std::thread::current().name().unwrap_or_default().to_owned();
        let first = name();
        flag.store(true, Ordering::Relaxed);
        tokio::task::yield_now().await;
        (first, name())
    }

    #[tokio::test]
    async fn a_call_in_overtime_finishes_on_the_overtime_thread() {
        let lane = OvertimeThread::start().expect("thread");
        let flag = Arc::new(AtomicBool::new(false));
        let call = Handover::new(Box::pin(threads_polled_on(flag.clone())), flag, &lane);
        let (first, last) = call.await.expect("finished");
        assert_ne!(first, "crossdesk-overtime");
        assert_eq!(last, "crossdesk-overtime");
    }

    #[tokio::test]
    async fn the_overtime_thread_runs_only_on_idle_cpu() {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, thread_schedule_policy,
        };
        let lane = OvertimeThread::start().expect("thread");
        let flag = Arc::new(AtomicBool::new(false));
        let probe = {
            let flag = flag.clone();
            async move {
                flag.store(true, Ordering::Relaxed);
                tokio::task::yield_now().await;
                thread_schedule_policy().expect("policy")
            }
        };
        let policy = Handover::new(Box::pin(probe), flag, &lane)
            .await
            .expect("finished");
        assert_eq!(
            policy,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
    }

    #[tokio::test]
    async fn a_call_within_its_budget_stays_where_it_started() {
        let lane = OvertimeThread::start().expect("thread");
        let never = Arc::new(AtomicBool::new(false));
        let flag = Arc::new(AtomicBool::new(false));
        let call = Handover::new(Box::pin(threads_polled_on(flag)), never, &lane);
        let (first, last) = call.await.expect("finished");
        assert_eq!(first, last);
    }

    #[tokio::test]
    async fn dropping_a_moved_call_cancels_it() {
        let lane = OvertimeThread::start().expect("thread");
        let flag = Arc::new(AtomicBool::new(true));
        let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
        let call = Handover::new(
            Box::pin(async move {
                let _sender = sender;
                std::future::pending::<()>().await;
            }),
            flag,
            &lane,
        );
        // Polled once: moved to the lane, where it waits forever.
        let _ = tokio::time::timeout(Duration::from_millis(1), call).await;
        // Dropping the call (above, by the timeout) aborted it: its sender is gone.
        assert!(receiver.await.is_err());
    }
}
