//! What the host gives an instance: its log, its state folder, and the session's configuration.

use crate::ffi::HostServices;
use crate::EngineError;
use serde::de::DeserializeOwned;
use std::ffi::{c_void, CStr, CString};
use std::mem::{offset_of, size_of};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}

/// The host's services for one instance. Cheap to clone; usable from any thread, and for as
/// long as the instance lives (the ABI keeps the services valid until `destroy` returns).
#[derive(Clone, Debug)]
pub struct Host {
    log: Option<(usize, unsafe extern "C" fn(*mut c_void, i32, *const std::ffi::c_char))>,
    state_directory: Option<PathBuf>,
}

impl Host {
    /// Reads the members `struct_size` covers (a host of an older minor may give fewer).
    pub(crate) unsafe fn new(services: *const HostServices) -> Host {
        let Some(services) = services.as_ref() else { return Host { log: None, state_directory: None } };
        let covers = |end: usize| services.struct_size as usize >= end;
        let log = if covers(offset_of!(HostServices, log) + size_of::<usize>()) { services.log } else { None };
        let state = if covers(offset_of!(HostServices, state_directory) + size_of::<usize>()) { services.state_directory } else { std::ptr::null() };
        Host {
            log: log.map(|log| (services.host_context as usize, log)),
            state_directory: (!state.is_null()).then(|| PathBuf::from(CStr::from_ptr(state).to_string_lossy().into_owned())),
        }
    }

    /// This engine's folder in this session (`<data>/state/<session>/<engine>`), kept across
    /// restarts; `None` when the host gives none.
    pub fn state_directory(&self) -> Option<&Path> {
        self.state_directory.as_deref()
    }

    /// A path from the configuration: a relative one means the state folder, as it does for
    /// every engine (`switchboard verify` gives a temporary one unless told `--state`).
    pub fn resolve(&self, configured: &str) -> PathBuf {
        match &self.state_directory {
            Some(state) if !configured.starts_with('/') && !configured.starts_with('~') && !configured.to_lowercase().starts_with("file:") => state.join(configured),
            _ => PathBuf::from(configured),
        }
    }

    /// One line in the host's log, tagged with the engine and the session.
    pub fn log(&self, level: LogLevel, message: &str) {
        let Some((context, log)) = self.log else { return };
        let line = CString::new(message.replace('\0', " ")).unwrap_or_default();
        unsafe { log(context as *mut c_void, level as i32, line.as_ptr()) }
    }
}

/// The session's `engineConfig`, a JSON object (`{}` when none was given).
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) json: Vec<u8>,
}

impl Config {
    pub fn new(json: impl Into<Vec<u8>>) -> Config {
        Config { json: json.into() }
    }

    /// The configuration as your type; a mismatch is invalid input naming it, which the API
    /// answers with `422` when a session is created.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, EngineError> {
        let json: &[u8] = if self.json.is_empty() { b"{}" } else { &self.json };
        serde_json::from_slice(json).map_err(|error| EngineError::invalid_input(format!("invalid configuration: {error}")))
    }
}
