//! ELF core files: reading them ([`CoreFile`], which implements
//! [`crate::Memory`] and [`crate::ThreadState`] like a live process does)
//! and writing them ([`write_core`], the basis of Delve's `dump`).

mod reader;
mod writer;

pub use reader::{CoreFile, CoreThread};
pub use writer::{write_core, CoreSource};
