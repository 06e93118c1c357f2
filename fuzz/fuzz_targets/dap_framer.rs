//! Fuzzes `ferret_server::fuzzing::dap_framer` (see that function for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferret_server::fuzzing::dap_framer(data));
