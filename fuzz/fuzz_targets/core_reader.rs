//! Fuzzes `ferret_target::fuzzing::core_reader` (see that function for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferret_target::fuzzing::core_reader(data));
