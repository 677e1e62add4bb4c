//! The C side: the descriptor of an `Engine` and the functions the host calls through it. Every
//! entry catches panics (`catch_unwind`): a panic unwinding into the host is undefined
//! behaviour in C and aborts the process from Rust, so each becomes an error status instead.

use crate::ffi::{self, BytesSink, Completion, Descriptor, HostServices, PieceSink};
use crate::reply::{Call, Calls};
use crate::{Config, Engine, EngineError, Feature, Host, Reply};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A descriptor and the strings it points to, built once per engine type by `export_engine!`
/// and kept for the life of the process (the host never unloads a plugin).
pub struct Exported {
    descriptor: Descriptor,
    _strings: Vec<CString>,
    _features: Vec<*const c_char>,
    _needs: Vec<*const c_char>,
}

// Read-only after it is built; its pointers are to the strings it owns.
unsafe impl Send for Exported {}
unsafe impl Sync for Exported {}

impl Exported {
    pub fn new<E: Engine>() -> Exported {
        let text = |value: &str| CString::new(value).expect("no NUL inside engine metadata");
        let strings = vec![text(E::NAME), text(E::VERSION), text(E::SUMMARY), text(E::LICENSE), text(E::HOMEPAGE)];
        let features: Vec<*const c_char> = E::FEATURES.iter().map(|f| f.id_with_nul().as_ptr().cast()).collect();
        let needs: Vec<*const c_char> = E::NEEDS.iter().map(|n| n.id_with_nul().as_ptr().cast()).collect();
        let descriptor = Descriptor {
            struct_size: std::mem::size_of::<Descriptor>() as u32,
            abi_version_major: ffi::ABI_VERSION_MAJOR,
            abi_version_minor: ffi::ABI_VERSION_MINOR,
            name: strings[0].as_ptr(),
            version: strings[1].as_ptr(),
            description: strings[2].as_ptr(),
            features: features.as_ptr(),
            feature_count: features.len(),
            create: create::<E>,
            destroy: destroy::<E>,
            call: call::<E>,
            instance_features: instance_features::<E>,
            status: status::<E>,
            license: strings[3].as_ptr(),
            homepage: strings[4].as_ptr(),
            cancel: cancel::<E>,
            call_in_pieces: call_in_pieces::<E>,
            resume: resume::<E>,
            needs: if needs.is_empty() { std::ptr::null() } else { needs.as_ptr() },
            need_count: needs.len(),
        };
        Exported { descriptor, _strings: strings, _features: features, _needs: needs }
    }

    pub fn descriptor(&self) -> *const Descriptor {
        &self.descriptor
    }
}

/// What `sb_engine_instance *` points to: the engine and its calls in flight.
struct Instance<E> {
    engine: E,
    calls: Arc<Calls>,
}

unsafe fn instance<'a, E>(pointer: *mut c_void) -> Option<&'a Instance<E>> {
    (pointer as *const Instance<E>).as_ref()
}

unsafe fn write(sink: BytesSink, context: *mut c_void, bytes: &[u8]) {
    if let Some(sink) = sink {
        sink(context, bytes.as_ptr(), bytes.len())
    }
}

unsafe fn bytes<'a>(pointer: *const u8, length: usize) -> &'a [u8] {
    if pointer.is_null() { &[] } else { std::slice::from_raw_parts(pointer, length) }
}

unsafe extern "C" fn create<E: Engine>(
    _descriptor: *const Descriptor, host: *const HostServices, config: *const u8, config_length: usize,
    out: *mut *mut c_void, error_sink: BytesSink, error_context: *mut c_void,
) -> ffi::Status {
    let config = Config::new(bytes(config, config_length));
    let host = Host::new(host);
    let result = catch_unwind(AssertUnwindSafe(|| E::create(config, host)))
        .unwrap_or_else(|_| Err(EngineError::internal("the engine panicked while creating an instance")));
    match result {
        Ok(engine) if !out.is_null() => {
            *out = Box::into_raw(Box::new(Instance { engine, calls: Arc::default() })).cast();
            ffi::STATUS_OK
        }
        Ok(_) => crate::ErrorKind::Internal as ffi::Status,
        Err(error) => {
            write(error_sink, error_context, error.message.as_bytes());
            error.kind as ffi::Status
        }
    }
}

/// Calls still in flight hold only their completion and the call table, never the engine, so
/// the engine is dropped here and its calls still complete.
unsafe extern "C" fn destroy<E: Engine>(pointer: *mut c_void) {
    if !pointer.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(pointer as *mut Instance<E>))));
    }
}

unsafe extern "C" fn call<E: Engine>(
    pointer: *mut c_void, feature: *const c_char, request: *const u8, request_length: usize,
    completion: Completion, context: *mut c_void,
) {
    call_in_pieces::<E>(pointer, feature, request, request_length, None, completion, context)
}

unsafe extern "C" fn call_in_pieces<E: Engine>(
    pointer: *mut c_void, feature: *const c_char, request: *const u8, request_length: usize,
    piece: PieceSink, completion: Completion, context: *mut c_void,
) {
    let Some(completion_function) = completion else { return };
    let refuse = |error: EngineError| completion_function(context, error.kind as ffi::Status, error.message.as_ptr(), error.message.len());
    let (Some(instance), false) = (instance::<E>(pointer), feature.is_null()) else {
        return refuse(EngineError::internal("no instance or no feature"));
    };
    let id = CStr::from_ptr(feature).to_string_lossy();
    let Some(feature) = Feature::from_id(&id) else { return refuse(EngineError::new(crate::ErrorKind::NotImplemented, format!("unknown feature {id}"))) };
    let request = bytes(request, request_length);
    // The call's reply completes it if the engine panics: dropped while unwinding, it answers internal.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let call = Call::start(feature, completion, piece, context, &instance.calls);
        if !instance.engine.active_features().contains(&feature) {
            return call.complete_with(&EngineError::not_implemented(feature));
        }
        dispatch(&instance.engine, feature, request, call)
    }));
}

/// Decodes the request as the feature's type and hands it to the engine's method.
fn dispatch<E: Engine>(engine: &E, feature: Feature, request: &[u8], call: Call) {
    match feature {
        Feature::ContactsList => match decode(feature, request) {
            Ok(request) => engine.list_contacts(request, Reply::list(call)),
            Err(error) => call.complete_with(&error),
        },
        Feature::ContactsGet => with(call, request, |r, reply| engine.get_contact(r, reply)),
        Feature::ContactsUpsert => with(call, request, |r, reply| engine.upsert_contact(r, reply)),
        Feature::ContactsCheckExists => with(call, request, |r, reply| engine.check_exists(r, reply)),
        Feature::ContactsAbout => with(call, request, |r, reply| engine.about(r, reply)),
        Feature::ContactsProfilePicture => with(call, request, |r, reply| engine.profile_picture(r, reply)),
        Feature::ContactsBlock => with(call, request, |r, reply| engine.block(r, reply)),
        Feature::ContactsUnblock => with(call, request, |r, reply| engine.unblock(r, reply)),
        Feature::LidsList => with(call, request, |r, reply| engine.list_lids(r, reply)),
        Feature::LidsCount => with(call, request, |_: crate::Empty, reply| engine.count_lids(reply)),
        Feature::LidsGetByLid => with(call, request, |r, reply| engine.phone_number_for_lid(r, reply)),
        Feature::LidsGetByPn => with(call, request, |r, reply| engine.lid_for_phone_number(r, reply)),
    }
}

fn decode<R: DeserializeOwned>(feature: Feature, request: &[u8]) -> Result<R, EngineError> {
    serde_json::from_slice(request).map_err(|error| EngineError::invalid_input(format!("invalid {} request: {error}", feature.id())))
}

fn with<R: DeserializeOwned, T: Serialize>(call: Call, request: &[u8], method: impl FnOnce(R, Reply<T>)) {
    match decode(call.feature, request) {
        Ok(request) => method(request, Reply::whole(call)),
        Err(error) => call.complete_with(&error),
    }
}

unsafe extern "C" fn instance_features<E: Engine>(pointer: *mut c_void, sink: BytesSink, context: *mut c_void) {
    let Some(instance) = instance::<E>(pointer) else { return };
    if let Ok(features) = catch_unwind(AssertUnwindSafe(|| instance.engine.active_features())) {
        for feature in features {
            write(sink, context, feature.id().as_bytes());
        }
    }
}

unsafe extern "C" fn status<E: Engine>(pointer: *mut c_void, sink: BytesSink, context: *mut c_void) {
    let Some(instance) = instance::<E>(pointer) else { return };
    let status = catch_unwind(AssertUnwindSafe(|| instance.engine.status()))
        .unwrap_or_else(|_| crate::Status { health: crate::Health::Down, message: "the engine panicked in status".into(), counters: Default::default() });
    write(sink, context, &serde_json::to_vec(&status).unwrap_or_default());
}

unsafe extern "C" fn cancel<E: Engine>(pointer: *mut c_void, context: *mut c_void) {
    if let Some(call) = instance::<E>(pointer).and_then(|instance| instance.calls.find(context)) {
        let _ = catch_unwind(AssertUnwindSafe(|| call.cancel()));
    }
}

unsafe extern "C" fn resume<E: Engine>(pointer: *mut c_void, context: *mut c_void) {
    if let Some(call) = instance::<E>(pointer).and_then(|instance| instance.calls.find(context)) {
        let _ = catch_unwind(AssertUnwindSafe(|| call.resume()));
    }
}
