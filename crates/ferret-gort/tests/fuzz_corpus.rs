//! The ELF/DWARF loader fuzzer's corpus, replayed as a regression test.

#[test]
fn elf_loader_corpus() {
    ferret_testkit::replay_fuzz_corpus("elf_loader", ferret_gort::fuzzing::elf_loader);
}
