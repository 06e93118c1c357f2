//! The JSON-RPC and DAP fuzzers' corpora, replayed as regression tests.

#[test]
fn json_rpc_decoder_corpus() {
    ferret_testkit::replay_fuzz_corpus(
        "json_rpc_decoder",
        ferret_server::fuzzing::json_rpc_decoder,
    );
}

#[test]
fn dap_framer_corpus() {
    ferret_testkit::replay_fuzz_corpus("dap_framer", ferret_server::fuzzing::dap_framer);
}
