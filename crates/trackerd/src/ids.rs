//! Public ids the server hands out.

use chrono::{DateTime, Utc};
use rand::Rng;

/// A Yandex Cloud-style id: 20 lowercase letters and digits.
pub fn cloud_style_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuv0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..20 - prefix.len())
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// A public object id like Tracker's: 24 hex digits, the first 8 the
/// creation second, so ids sort roughly by age.
pub fn object_id(now: DateTime<Utc>) -> String {
    let secs = now.timestamp().clamp(0, u32::MAX as i64) as u32;
    let tail: u64 = rand::thread_rng().gen();
    format!("{secs:08x}{tail:016x}")
}
