//! The session's error type. Messages follow Delve's wording where clients
//! (or users reading a terminal) know them.

/// What a debugger request can fail with.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The target has exited.
    #[error("Process {pid} has exited with status {status}")]
    Exited {
        /// Its pid.
        pid: i32,
        /// Its exit status.
        status: i32,
    },
    /// The request needs a stopped target.
    #[error("Process {pid} is running")]
    Running {
        /// Its pid.
        pid: i32,
    },
    /// The core file was not made from the given executable.
    #[error("{0}")]
    CoreMismatch(String),
    /// A core file cannot run or change.
    #[error("can not {0} core process")]
    CoreFile(&'static str),
    /// No breakpoint with that id.
    #[error("no breakpoint with id {0}")]
    NoBreakpointId(i32),
    /// No breakpoint with that name.
    #[error("no breakpoint with name {0}")]
    NoBreakpointName(String),
    /// A breakpoint already covers that address.
    #[error("Breakpoint exists at {file}:{line} at {addr:x}")]
    BreakpointExists {
        /// Its file.
        file: String,
        /// Its line.
        line: u32,
        /// Its address.
        addr: u64,
    },
    /// A name that cannot be a breakpoint name.
    #[error("{0}")]
    BadBreakpointName(&'static str),
    /// No such function.
    #[error("could not find function {0}\n")]
    NoFunction(String),
    /// A line without code.
    #[error("could not find statement at {file}:{line}, please use a line with a statement")]
    NoStatement {
        /// The file (absolute, as the binary names it).
        file: String,
        /// The line.
        line: u32,
    },
    /// A `file:line` whose line part is not a number.
    #[error(
        "Malformed breakpoint location {spec:?} at {at}: line offset negative or not a number"
    )]
    MalformedLocation {
        /// The expression.
        spec: String,
        /// Byte offset of the bad part.
        at: usize,
    },
    /// A location that matched nothing.
    #[error("location {0:?} not found")]
    LocationNotFound(String),
    /// A breakpoint asked by file and line names a file the program was
    /// not built from.
    #[error("could not find file {0}")]
    NoSuchFile(String),
    /// No such thread.
    #[error("thread {0} does not exist")]
    NoThread(i32),
    /// GetThread of an unknown id.
    #[error("no thread with id {0}")]
    NoThreadWithId(i32),
    /// No such goroutine (or not reachable yet).
    #[error("unknown goroutine {0}")]
    NoGoroutine(i64),
    /// A request for "the selected goroutine" when no goroutine is selected
    /// (the current thread runs none).
    #[error("no selected goroutine")]
    NoSelectedGoroutine,
    /// Ancestors asked of a target that does not record them.
    #[error("tracebackancestors is disabled")]
    AncestorsDisabled,
    /// `Ferret.GoroutineDiff` named a snapshot nobody took.
    #[error("no goroutine snapshot named {0:?}; take one with Ferret.GoroutineSnapshot")]
    NoSnapshot(String),
    /// A frame number past the goroutine's outermost frame.
    #[error("Invalid frame {0}")]
    NoFrame(usize),
    /// An expression names nothing in scope.
    #[error("could not find symbol value for {0}")]
    NoSymbol(String),
    /// An expression ferret cannot evaluate (a parse error's text, or what
    /// is not supported).
    #[error("{0}")]
    Eval(String),
    /// Restart of a process ferret did not start.
    #[error("cannot restart process Delve did not create")]
    CannotRestart,
    /// An error from reading the binary.
    #[error("{0}")]
    Binary(#[from] ferret_gort::BinaryError),
    /// An error from the OS layer.
    #[error("{0}")]
    Target(String),
    /// The tracer thread is gone (the session ended).
    #[error("the debugger session has ended")]
    Ended,
}

impl From<ferret_target::TargetError> for SessionError {
    fn from(e: ferret_target::TargetError) -> Self {
        SessionError::Target(e.to_string())
    }
}

/// Result alias for this crate.
pub type Result<T, E = SessionError> = std::result::Result<T, E>;
