//! Time as the server sees it. Everything that compares against "now" asks a
//! [`Clock`], so tests can move time instead of waiting for it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The emulator's test clock (docs/emulator.md): another clock's time moved
/// by an offset, or frozen at an instant. Without a setting it is exactly
/// the clock it wraps.
#[derive(Debug)]
pub struct TestClock {
    base: Arc<dyn Clock>,
    setting: Mutex<(Duration, Option<DateTime<Utc>>)>,
}

impl TestClock {
    pub fn new(base: Arc<dyn Clock>) -> Self {
        Self {
            base,
            setting: Mutex::new((Duration::zero(), None)),
        }
    }

    /// The time of the clock this one wraps.
    pub fn base_now(&self) -> DateTime<Utc> {
        self.base.now()
    }

    /// The offset over the wrapped clock and the frozen instant, if any.
    pub fn setting(&self) -> (Duration, Option<DateTime<Utc>>) {
        *self.setting.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, offset: Duration, frozen: Option<DateTime<Utc>>) {
        *self.setting.lock().unwrap_or_else(|e| e.into_inner()) = (offset, frozen);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        let (offset, frozen) = self.setting();
        frozen.unwrap_or_else(|| self.base.now() + offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let start = Utc::now();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::hours(13));
        assert_eq!(clock.now(), start + Duration::hours(13));
    }

    #[test]
    fn a_test_clock_moves_its_base_by_the_offset_unless_frozen() {
        let start = Utc::now();
        let base = ManualClock::new(start);
        let clock = TestClock::new(Arc::new(base.clone()));
        assert_eq!(clock.now(), start);
        clock.set(Duration::hours(12), None);
        base.advance(Duration::seconds(5));
        assert_eq!(
            clock.now(),
            start + Duration::hours(12) + Duration::seconds(5)
        );
        clock.set(Duration::zero(), Some(start));
        base.advance(Duration::seconds(5));
        assert_eq!(clock.now(), start);
    }
}
