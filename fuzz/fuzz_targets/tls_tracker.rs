#![no_main]
libfuzzer_sys::fuzz_target!(|ops: Vec<rdp_wire::fuzzing::TlsOp>| rdp_wire::fuzzing::tls_tracker(&ops));
