//! The config loader: any text is a config or a list of errors that name their place.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(errors) = tocsin_core::config::load_str(text) {
            assert!(!errors.is_empty(), "refused without an error");
        }
    }
});
