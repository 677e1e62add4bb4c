//! The C types of `switchboard_engine.h`, field for field. Only the export (`export.rs`) uses
//! them; an engine never does. A test of the host loads an engine built with this crate, so a
//! descriptor laid out differently from the header's is refused there.

use std::ffi::{c_char, c_void};

pub type Status = i32;
pub const STATUS_OK: Status = 0;

pub type PieceReply = i32;
pub const PIECE_MORE: PieceReply = 0;
pub const PIECE_PAUSE: PieceReply = 1;

pub const ABI_VERSION_MAJOR: u32 = 1;
pub const ABI_VERSION_MINOR: u32 = 3;

/// The plugin's own instance type, opaque to the host.
pub type Instance = c_void;

pub type BytesSink = Option<unsafe extern "C" fn(context: *mut c_void, bytes: *const u8, length: usize)>;
pub type Completion = Option<unsafe extern "C" fn(context: *mut c_void, status: Status, bytes: *const u8, length: usize)>;
pub type PieceSink = Option<unsafe extern "C" fn(context: *mut c_void, bytes: *const u8, length: usize) -> PieceReply>;

#[repr(C)]
pub struct HostServices {
    pub struct_size: u32,
    pub host_context: *mut c_void,
    pub log: Option<unsafe extern "C" fn(host_context: *mut c_void, level: i32, message: *const c_char)>,
    pub state_directory: *const c_char,
}

#[repr(C)]
pub struct Descriptor {
    pub struct_size: u32,
    pub abi_version_major: u32,
    pub abi_version_minor: u32,
    pub name: *const c_char,
    pub version: *const c_char,
    pub description: *const c_char,
    pub features: *const *const c_char,
    pub feature_count: usize,
    pub create: unsafe extern "C" fn(
        descriptor: *const Descriptor,
        host: *const HostServices,
        config: *const u8,
        config_length: usize,
        out: *mut *mut Instance,
        error_sink: BytesSink,
        error_context: *mut c_void,
    ) -> Status,
    pub destroy: unsafe extern "C" fn(instance: *mut Instance),
    pub call: unsafe extern "C" fn(
        instance: *mut Instance,
        feature: *const c_char,
        request: *const u8,
        request_length: usize,
        completion: Completion,
        completion_context: *mut c_void,
    ),
    pub instance_features: unsafe extern "C" fn(instance: *mut Instance, sink: BytesSink, sink_context: *mut c_void),
    pub status: unsafe extern "C" fn(instance: *mut Instance, sink: BytesSink, sink_context: *mut c_void),
    // 1.1
    pub license: *const c_char,
    pub homepage: *const c_char,
    pub cancel: unsafe extern "C" fn(instance: *mut Instance, completion_context: *mut c_void),
    // 1.2
    pub call_in_pieces: unsafe extern "C" fn(
        instance: *mut Instance,
        feature: *const c_char,
        request: *const u8,
        request_length: usize,
        piece: PieceSink,
        completion: Completion,
        completion_context: *mut c_void,
    ),
    pub resume: unsafe extern "C" fn(instance: *mut Instance, completion_context: *mut c_void),
    // 1.3
    pub needs: *const *const c_char,
    pub need_count: usize,
}

/// The descriptor lives in static storage for as long as the library is mapped, which is
/// forever (the host never unloads a plugin); its pointers are to static strings only.
unsafe impl Sync for Descriptor {}
unsafe impl Send for Descriptor {}
