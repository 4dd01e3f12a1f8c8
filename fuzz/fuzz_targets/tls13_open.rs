#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rdp_wire::fuzzing::tls13_open(data));
