//! ferret-server: the network front of ferret.
//!
//! This crate will run the tokio listener, sniff each connection's protocol
//! (DAP starts with `Content-Length:`), terminate TLS, and speak Delve's
//! JSON-RPC API v2 (module `rpc2`) and DAP (module `dap`), under Delve's
//! multi-client rules. It is the only crate that knows JSON.
//!
//! Empty until the server issue fills it; see `docs/ARCHITECTURE.md`.
