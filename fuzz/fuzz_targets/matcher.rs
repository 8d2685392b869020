//! The silence matcher parser (`name=~"regex"`): a matcher or a message, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = tocsin_core::silence::parse_matcher(text) {
            assert!(!e.is_empty(), "refused without a message");
        }
    }
});
