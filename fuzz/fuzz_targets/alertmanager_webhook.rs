//! The alertmanager_webhook intake adapter (see src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tocsin_fuzz::adapter(tocsin_core::integration::IntegrationKind::AlertmanagerWebhook, data)
});
