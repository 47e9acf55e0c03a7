//! libFuzzer target for the query parser: parsing never panics, error positions stay inside the
//! input, and a parsed query prints as text that parses back to the same meaning.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match tracker_query::parse(input) {
        Ok(q) => {
            let printed = q.to_string();
            let again = tracker_query::parse(&printed)
                .unwrap_or_else(|e| panic!("{printed:?} (printed from {input:?}) fails: {e}"));
            assert_eq!(q.describe(), again.describe(), "printed as {printed:?}");
        }
        Err(e) => {
            assert!(e.position() <= input.len());
            assert!(input.is_char_boundary(e.position()));
        }
    }
});
