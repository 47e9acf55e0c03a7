//! Work that callers queue for one background task to do for them in
//! rounds: the batches of issue creates (src/creates.rs) and the shared data
//! stamp reads (src/stamps.rs).
//!
//! A caller queues its item with a reply channel inside and awaits the
//! reply; the first to find no task running starts one (`push` says so).
//! The task takes what waits, a round at a time, until nothing does. The
//! work runs in that task, not in any caller's future, so a caller hanging
//! up cannot cut a round in half or leave the others waiting on a task
//! nobody drives.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug)]
pub(crate) struct Handoff<T> {
    state: Mutex<State<T>>,
}

#[derive(Debug)]
struct State<T> {
    waiting: VecDeque<T>,
    running: bool,
}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                waiting: VecDeque::new(),
                running: false,
            }),
        }
    }
}

impl<T> Handoff<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing held under this lock can be left half-changed by a panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an item; true when the caller must start the task.
    pub(crate) fn push(&self, item: T) -> bool {
        let mut s = self.lock();
        s.waiting.push_back(item);
        !std::mem::replace(&mut s.running, true)
    }

    /// The next round: at most `max` of what waits, oldest first. `None`
    /// when nothing waits, and the task must end: the next `push` starts
    /// another.
    pub(crate) fn take(&self, max: usize) -> Option<Vec<T>> {
        let mut s = self.lock();
        if s.waiting.is_empty() {
            s.running = false;
            return None;
        }
        let n = s.waiting.len().min(max);
        Some(s.waiting.drain(..n).collect())
    }

    /// Held by the task while it runs. Should the task die (a panic), what
    /// waits is dropped (each caller sees its reply channel closed) and the
    /// next `push` starts a new task: the queue is never left marked
    /// running with nobody running it.
    pub(crate) fn running(&self) -> Running<'_, T> {
        Running {
            handoff: self,
            armed: true,
        }
    }
}

pub(crate) struct Running<'a, T> {
    handoff: &'a Handoff<T>,
    armed: bool,
}

impl<T> Running<'_, T> {
    /// The task ended by itself, after `take` answered `None`.
    pub(crate) fn finished(mut self) {
        self.armed = false;
    }
}

impl<T> Drop for Running<'_, T> {
    fn drop(&mut self) {
        if self.armed {
            let mut s = self.handoff.lock();
            s.waiting.clear();
            s.running = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An item queued while a round runs is not in that round: it waits for
    /// the next, and starts no second task.
    #[test]
    fn an_item_queued_while_a_round_runs_waits_for_the_next_round() {
        let h = Handoff::default();
        assert!(h.push(1), "the first item starts the task");
        assert_eq!(h.take(usize::MAX), Some(vec![1]));
        assert!(!h.push(2), "a task already runs");
        assert!(!h.push(3));
        assert!(!h.push(4));
        assert_eq!(h.take(2), Some(vec![2, 3]), "a round holds at most max");
        assert_eq!(h.take(2), Some(vec![4]));
        assert_eq!(h.take(2), None, "nothing waits: the task ends");
        assert!(h.push(5), "the next item starts a new task");
    }

    /// A task that dies leaves no item waiting for it and no queue marked
    /// running.
    #[test]
    fn a_task_that_dies_frees_the_queue_for_a_new_one() {
        let h = Handoff::default();
        assert!(h.push(1));
        let running = h.running();
        assert!(!h.push(2));
        drop(running);
        assert!(h.push(3), "a new task is started");
        assert_eq!(h.take(usize::MAX), Some(vec![3]), "item 2 was dropped");
        let running = h.running();
        assert_eq!(h.take(usize::MAX), None);
        running.finished();
        assert!(h.push(4));
    }
}
