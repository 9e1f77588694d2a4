#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenancy_fuzz::ids_and_slugs(data));
