#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crossdesk_fuzzing::manifest(data));
