//! A live Linux process under ptrace. (Being written.)
