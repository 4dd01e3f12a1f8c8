#![no_main]
libfuzzer_sys::fuzz_target!(|ops: Vec<rdp_wire::fuzzing::AnalyzerOp>| rdp_wire::fuzzing::analyzer(&ops));
