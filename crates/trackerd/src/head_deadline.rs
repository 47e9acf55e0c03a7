//! hyper's HTTP/1 header-read timeout (`connections.header_read_timeout_secs`,
//! the slowloris defence) kept with one timer per connection instead of one
//! per request.
//!
//! hyper arms the timeout afresh for every request: a new sleep from the
//! connection builder's timer when it starts reading a head, dropped once the
//! head is in. With tokio's timer that is an entry put into the timer wheel
//! and taken out again, under the wheel's lock, for every request of a
//! keep-alive connection: about 7 % of the user-space CPU of `GET
//! /v2/myself` under load (perf, #16).
//!
//! Here hyper's timer only writes the deadline into the connection's
//! [`Slot`], and its sleep reads back whether the [`Watch`] marked that
//! deadline passed. The watch is one tokio sleep per connection, polled in
//! the connection's own task ([`crate::router`]'s `ServingConnection`): when
//! it fires it either marks the armed deadline as passed (the connection's
//! task is awake, so hyper's read of the head sees it and closes the
//! connection) or moves itself to the armed deadline, which a keep-alive
//! connection pushes forward with every request. So a connection re-arms a
//! tokio timer about once per timeout, whatever its number of requests.
//!
//! hyper polls the sleep only from the connection's future, so the sleep
//! needs no waker of its own: the watch wakes that task.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// No deadline armed: hyper is not reading a head (it is serving one).
const DISARMED: u64 = u64::MAX;

/// The armed deadline has passed: the watch saw it, hyper's sleep is ready.
const PASSED: u64 = 0;

/// What the timer given to hyper and the watch share, for one connection.
struct Slot {
    /// Deadlines are nanoseconds since this instant.
    base: Instant,
    /// The armed deadline (at least 1), [`DISARMED`] or [`PASSED`].
    deadline: AtomicU64,
    /// Which arming the armed deadline is, so that a sleep dropped after
    /// another was armed does not disarm that one.
    generation: AtomicU64,
}

impl Slot {
    /// Arms `deadline`; returns its generation.
    fn arm(&self, deadline: Instant) -> u64 {
        // Only the connection's task touches the slot (hyper and the watch
        // are polled by it), so the atomics only make the types `Sync`.
        let nanos = deadline.saturating_duration_since(self.base).as_nanos();
        let nanos = u64::try_from(nanos).unwrap_or(DISARMED - 1).max(PASSED + 1);
        self.deadline.store(nanos, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The deadline armed and not yet passed.
    fn armed(&self) -> Option<Instant> {
        match self.deadline.load(Ordering::Relaxed) {
            DISARMED | PASSED => None,
            nanos => Some(self.base + Duration::from_nanos(nanos)),
        }
    }
}

/// tokio's clock, which is the system's outside tests (and the tests' paused
/// clock in them).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// A connection's header-read deadline: the timer for hyper's HTTP/1
/// builder, and the watch its task polls.
pub(crate) fn for_connection(timeout: Duration) -> (HeadTimer, Watch) {
    let now = now();
    let slot = Arc::new(Slot {
        base: now,
        deadline: AtomicU64::new(DISARMED),
        generation: AtomicU64::new(0),
    });
    let watch = Watch {
        slot: slot.clone(),
        sleep: Box::pin(tokio::time::sleep_until((now + timeout).into())),
        timeout,
    };
    (HeadTimer { slot }, watch)
}

/// The timer hyper's HTTP/1 connection arms its header-read timeout with.
pub(crate) struct HeadTimer {
    slot: Arc<Slot>,
}

impl hyper::rt::Timer for HeadTimer {
    fn now(&self) -> Instant {
        now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let generation = self.slot.arm(deadline);
        Box::pin(HeadSleep {
            slot: self.slot.clone(),
            generation,
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        // hyper keeps a sleep that has fired and resets it for the next
        // head. The default would arm a new sleep and then drop the old
        // one, whose drop would disarm the new deadline.
        let generation = self.slot.arm(new_deadline);
        match sleep.as_mut().downcast_mut_pin::<HeadSleep>() {
            Some(mut head) => head.generation = generation,
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// hyper's view of an armed deadline: ready once the watch found it passed.
struct HeadSleep {
    slot: Arc<Slot>,
    generation: u64,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.slot.deadline.load(Ordering::Relaxed) == PASSED
            && self.slot.generation.load(Ordering::Relaxed) == self.generation
        {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl hyper::rt::Sleep for HeadSleep {}

impl Drop for HeadSleep {
    fn drop(&mut self) {
        if self.slot.generation.load(Ordering::Relaxed) == self.generation {
            self.slot.deadline.store(DISARMED, Ordering::Relaxed);
        }
    }
}

/// The one tokio timer of a connection's header-read deadline.
pub(crate) struct Watch {
    slot: Arc<Slot>,
    sleep: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl Watch {
    /// Polled by the connection's task before the connection itself, so a
    /// deadline it marks as passed is seen by hyper in the same turn.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) {
        while self.sleep.as_mut().poll(cx).is_ready() {
            let now = now();
            match self.slot.armed() {
                Some(deadline) if deadline <= now => {
                    self.slot.deadline.store(PASSED, Ordering::Relaxed);
                    self.sleep.as_mut().reset((now + self.timeout).into());
                }
                Some(deadline) => self.sleep.as_mut().reset(deadline.into()),
                // A request is being served (or the passed deadline is
                // closing the connection): no head is due. Look again a
                // timeout from now (a head armed since is due no sooner).
                None => self.sleep.as_mut().reset((now + self.timeout).into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer;

    fn poll_once(f: Pin<&mut (dyn hyper::rt::Sleep + 'static)>) -> Poll<()> {
        f.poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    /// A turn of the connection's task: the watch is polled first.
    fn turn(watch: &mut Watch) {
        watch.poll(&mut Context::from_waker(std::task::Waker::noop()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_armed_deadline_fires_only_once_the_watch_has_seen_it_pass() {
        let (timer, mut watch) = for_connection(Duration::from_secs(2));
        let mut sleep = timer.sleep(Duration::from_secs(2));
        turn(&mut watch);
        assert!(poll_once(sleep.as_mut()).is_pending());
        tokio::time::advance(Duration::from_millis(1500)).await;
        turn(&mut watch);
        assert!(poll_once(sleep.as_mut()).is_pending());
        tokio::time::advance(Duration::from_millis(600)).await;
        turn(&mut watch);
        assert!(poll_once(sleep.as_mut()).is_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_read_in_time_leaves_the_next_one_its_whole_timeout() {
        let timeout = Duration::from_secs(2);
        let (timer, mut watch) = for_connection(timeout);
        // Requests keep coming for longer than the timeout: the watch's
        // first firing finds a later deadline and moves to it.
        for _ in 0..5 {
            let sleep = timer.sleep(timeout);
            tokio::time::advance(Duration::from_millis(900)).await;
            turn(&mut watch);
            drop(sleep);
        }
        let mut idle = timer.sleep(timeout);
        tokio::time::advance(Duration::from_millis(1900)).await;
        turn(&mut watch);
        assert!(poll_once(idle.as_mut()).is_pending());
        tokio::time::advance(Duration::from_millis(200)).await;
        turn(&mut watch);
        assert!(poll_once(idle.as_mut()).is_ready());
        // Reset for the next head, as hyper does with a fired sleep: due
        // a whole timeout later.
        timer.reset(&mut idle, now() + timeout);
        assert!(poll_once(idle.as_mut()).is_pending());
        tokio::time::advance(Duration::from_millis(1900)).await;
        turn(&mut watch);
        assert!(poll_once(idle.as_mut()).is_pending());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_served_past_the_timeout_is_not_cut_off() {
        let timeout = Duration::from_secs(2);
        let (timer, mut watch) = for_connection(timeout);
        drop(timer.sleep(timeout));
        // A slow handler: nothing armed while it runs.
        tokio::time::advance(Duration::from_secs(5)).await;
        turn(&mut watch);
        let mut next = timer.sleep(timeout);
        turn(&mut watch);
        assert!(poll_once(next.as_mut()).is_pending());
    }
}
