//! The core-reader fuzzer's corpus, replayed as a regression test.

#[test]
fn core_reader_corpus() {
    ferret_testkit::replay_fuzz_corpus("core_reader", ferret_target::fuzzing::core_reader);
}
