//! ELF core files (reader and writer being written).
