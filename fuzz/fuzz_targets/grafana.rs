//! The grafana intake adapter (see src/lib.rs).
#![no_main]

use tocsin_core::integration::IntegrationKind;

libfuzzer_sys::fuzz_target!(|data: &[u8]| tocsin_fuzz::adapter(IntegrationKind::Grafana, data));
