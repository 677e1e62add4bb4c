//! What an engine may need in a sandboxed engine process beyond its own session's state folder
//! (ABI 1.3's `needs`, the header's `SB_NEED_*`), in the order of the Swift SDK's
//! `EngineNeed.swift` (a test of the host compares the two). Declaring a need grants nothing: the
//! operator grants each per session, and an engine whose need was not granted answers
//! `ErrorKind::Unavailable` rather than failing another way.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Need {
    /// TCP connections to the `host:port` pairs the session grants.
    Network,
    /// Reading the files and folders the session grants.
    ReadPaths,
    /// Starting programs.
    Exec,
}

impl Need {
    /// The id as the ABI carries it, NUL-terminated for the descriptor.
    pub const fn id_with_nul(self) -> &'static str {
        match self {
            Need::Network => "network\0",
            Need::ReadPaths => "read-paths\0",
            Need::Exec => "exec\0",
        }
    }

    /// The id, e.g. `"read-paths"`.
    pub fn id(self) -> &'static str {
        let id = self.id_with_nul();
        &id[..id.len() - 1]
    }
}
