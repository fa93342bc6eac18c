//! How much CPU one plugin call may take from everyone else's.
//!
//! Every call yields to the executor at each epoch tick, but a plugin that loops
//! until its deadline still takes a worker's time slice after slice, and every other
//! event waits behind those slices at each of its own steps. So an event call gets a
//! CPU budget, counted in the CPU time of the threads that run it ([`CpuMeter`]):
//! the time a worker spent on the call between its resumption and the next epoch
//! callback, never the time the call waited (a host call's I/O, a turn behind other
//! tasks) nor the time the OS gave the worker's core to another process. A call
//! past its budget is in *overtime*: it is handed over to the overtime thread, an
//! executor of its own whose OS thread runs under Linux's `SCHED_IDLE` policy, and
//! finishes there. The kernel then gives it only the CPU no other thread of the
//! machine wants, so a looping plugin slows nobody else, whatever its tenant sends,
//! until its deadline ends it.
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

/// How calls share the CPU and the call slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fairness {
    /// Guest CPU an event call runs on the workers before it goes into overtime.
    pub cpu_budget: Duration,
    /// Event calls one tenant runs at once, in overtime too (`slots.rs`);
    /// `None`: half of all.
    pub tenant_calls: Option<usize>,
}

impl Default for Fairness {
    /// 5 ms: the first-party plugins compute well under a millisecond per event.
    fn default() -> Self {
        Self {
            cpu_budget: Duration::from_millis(5),
            tenant_calls: None,
        }
    }
}

/// What the guest awaits at an epoch callback before it runs on.
pub(crate) type Yield = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The CPU time the calling thread has used, in nanoseconds.
fn thread_cpu_time() -> u64 {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let seconds = u64::try_from(time.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(time.tv_nsec).unwrap_or(0);
    seconds.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// In [`CpuMeter::resumed`]: no resumption is marked yet.
const NOT_YET: u64 = u64::MAX;

/// One call's use of its CPU budget.
///
/// Charged at each epoch callback: the CPU time the running thread spent since
/// the guest last resumed on it. [`Resumptions`] marks each resumption
/// (a poll of the call), so a wait between polls is not charged, and a thread
/// the OS did not run spent no CPU time. Reading a thread's CPU clock is a system
/// call, so the first stretch of a call, up to its first callback, is charged a
/// whole tick instead: a call that ends before (nearly every call) reads no clock.
#[derive(Debug)]
pub(crate) struct CpuMeter {
    /// The thread's CPU time (ns) when the guest last resumed on it; [`NOT_YET`]
    /// until the call's first callback.
    resumed: Arc<AtomicU64>,
    used: Duration,
    budget: Duration,
    tick: Duration,
    thread_cpu: fn() -> u64,
    /// Set once the budget is spent; [`Handover`] watches it.
    overtime: Arc<AtomicBool>,
}

impl CpuMeter {
    /// A meter for `budget` of CPU (at least one `tick`, the epoch's interval).
    pub(crate) fn new(budget: Duration, tick: Duration) -> Self {
        Self::with_clock(budget, tick, thread_cpu_time)
    }

    fn with_clock(budget: Duration, tick: Duration, thread_cpu: fn() -> u64) -> Self {
        Self {
            resumed: Arc::new(AtomicU64::new(NOT_YET)),
            used: Duration::ZERO,
            budget: budget.max(tick),
            tick,
            thread_cpu,
            overtime: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The flag that tells whether the call is in overtime.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.overtime.clone()
    }

    /// What marks the resumptions of the call whose guest this meter charges.
    pub(crate) fn resumptions(&self) -> Resumptions {
        Resumptions {
            resumed: self.resumed.clone(),
            thread_cpu: self.thread_cpu,
        }
    }

    /// Called at each epoch callback; answers what the guest yields through.
    pub(crate) fn tick(&mut self) -> Yield {
        let now = (self.thread_cpu)();
        let spent = match self.resumed.swap(now, Ordering::Relaxed) {
            NOT_YET => self.tick,
            resumed => Duration::from_nanos(now.saturating_sub(resumed)),
        };
        self.used = self.used.saturating_add(spent);
        if self.used > self.budget {
            self.overtime.store(true, Ordering::Relaxed);
        }
        Box::pin(tokio::task::yield_now())
    }
}

/// Marks where a metered call's guest resumes, for its [`CpuMeter`].
pub(crate) struct Resumptions {
    resumed: Arc<AtomicU64>,
    thread_cpu: fn() -> u64,
}

impl Resumptions {
    /// `call`, marking a resumption at each of its polls.
    pub(crate) fn wrap<F: Future>(self, call: F) -> Metered<F> {
        Metered {
            call,
            resumptions: self,
        }
    }
}

pin_project_lite::pin_project! {
    /// A call whose every poll marks a resumption of its guest.
    pub(crate) struct Metered<F> {
        #[pin]
        call: F,
        resumptions: Resumptions,
    }
}

impl<F: Future> Future for Metered<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let marks = &*this.resumptions;
        // Only once the call has met a callback: before, nothing reads the mark.
        // (Polls and callbacks of one call never overlap: relaxed is enough.)
        if marks.resumed.load(Ordering::Relaxed) != NOT_YET {
            marks.resumed.store((marks.thread_cpu)(), Ordering::Relaxed);
        }
        this.call.poll(cx)
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

    thread_local! {
        /// The test's stand-in for the thread's CPU clock.
        static CPU: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    fn fake_cpu() -> u64 {
        CPU.with(|cpu| cpu.get())
    }

    fn run_for(time: Duration) {
        let nanos = u64::try_from(time.as_nanos()).expect("short");
        CPU.with(|cpu| cpu.set(cpu.get() + nanos));
    }

    /// A poll of the metered call: the guest resumes.
    fn resume<F: Future>(call: &mut Pin<Box<Metered<F>>>) {
        let waker = futures::task::noop_waker();
        let _ = call.as_mut().poll(&mut Context::from_waker(&waker));
    }

    #[test]
    fn a_call_goes_into_overtime_once_its_budget_is_spent() {
        let mut meter = CpuMeter::with_clock(Duration::from_millis(3), TICK, fake_cpu);
        let mut call = Box::pin(meter.resumptions().wrap(std::future::pending::<()>()));
        let flag = meter.flag();
        // The first callback is charged a tick, then each tick the guest computes.
        for _ in 0..3 {
            resume(&mut call);
            run_for(TICK);
            drop(meter.tick());
            assert!(!flag.load(Ordering::Relaxed));
        }
        resume(&mut call);
        run_for(TICK);
        drop(meter.tick());
        assert!(flag.load(Ordering::Relaxed));
    }

    #[test]
    fn time_the_thread_did_not_run_is_not_charged() {
        let mut meter = CpuMeter::with_clock(Duration::from_millis(3), TICK, fake_cpu);
        let mut call = Box::pin(meter.resumptions().wrap(std::future::pending::<()>()));
        resume(&mut call);
        drop(meter.tick());
        // A worker the OS gave to other processes: ticks pass, little CPU is spent.
        for _ in 0..100 {
            resume(&mut call);
            run_for(TICK / 100);
            drop(meter.tick());
        }
        assert!(!meter.flag().load(Ordering::Relaxed));
        resume(&mut call);
        run_for(TICK * 2);
        drop(meter.tick());
        assert!(meter.flag().load(Ordering::Relaxed));
    }

    #[test]
    fn waits_between_polls_are_not_charged() {
        let mut meter = CpuMeter::with_clock(Duration::ZERO, TICK, fake_cpu);
        let mut call = Box::pin(meter.resumptions().wrap(std::future::pending::<()>()));
        // A budget shorter than a tick is still a tick, and the first callback
        // uses it up.
        resume(&mut call);
        drop(meter.tick());
        // Host calls that each waited while the worker ran other tasks: only what
        // the guest computed after each resumption counts.
        for _ in 0..10 {
            run_for(TICK * 5);
            resume(&mut call);
            drop(meter.tick());
        }
        assert!(!meter.flag().load(Ordering::Relaxed));
        resume(&mut call);
        run_for(TICK / 10);
        drop(meter.tick());
        assert!(meter.flag().load(Ordering::Relaxed));
    }

    #[test]
    fn a_thread_that_computes_has_a_cpu_clock_that_advances() {
        let before = thread_cpu_time();
        let started = std::time::Instant::now();
        let mut n = 0u64;
        while started.elapsed() < Duration::from_millis(20) {
            n = std::hint::black_box(n.wrapping_add(1));
        }
        assert!(thread_cpu_time() > before, "after {n} turns");
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
