//! Fuzzes `ferret_gort::fuzzing::elf_loader` (see that function for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferret_gort::fuzzing::elf_loader(data));
