/*
 * switchboard_engine.h: the Switchboard contacts-engine plugin ABI, version 1.3.
 *
 * This header is the whole contract between the Switchboard host and an engine plugin.
 * A plugin is a shared object (.so) that exports one function, SB_ENTRY_SYMBOL, returning
 * a pointer to a static sb_engine_descriptor. Everything else is reached through that
 * descriptor. No Swift, C++ or other language-specific type crosses the boundary.
 *
 * Rules that keep old plugins working as the ABI grows (SQLite's rule):
 *   - every struct starts with `struct_size`, set to sizeof() of the struct the plugin
 *     (or host) was compiled with;
 *   - new members are only ever added at the end of a struct;
 *   - a reader uses a member only when struct_size covers it (SB_HAS_MEMBER).
 * An incompatible change bumps SB_ABI_VERSION_MAJOR, which renames the entry symbol, so an
 * old host never even finds a new plugin's entry point, and says which version it found.
 * A compatible addition bumps SB_ABI_VERSION_MINOR. History:
 *   1.0  the descriptor up to `status`.
 *   1.1  `license`, `homepage` and `cancel` appended to the descriptor; sb_status and
 *        sb_log_level become int32_t (the width the 1.0 enums had on every supported
 *        platform), feature ids become macros. A 1.0 plugin keeps loading and working.
 *   1.2  `call_in_pieces` and `resume` appended to the descriptor: a list result may be
 *        delivered in pieces, with back-pressure. A 1.0 or 1.1 plugin keeps loading and working.
 *   1.3  `needs` and `need_count` appended to the descriptor: what the engine may need beyond
 *        its state folder in a sandboxed engine process. An older plugin declares none.
 *
 * Buffer ownership, in one place:
 *   - Strings in the descriptor (name, version, description, features) belong to the plugin
 *     and must stay valid for as long as the library is mapped (static storage). The host
 *     never unloads a plugin, so static storage is enough.
 *   - Bytes the host passes in (configuration, request) belong to the host and are valid only
 *     until the function they were passed to returns. A plugin that needs them later copies them.
 *   - Bytes a plugin passes to a host callback (completion result, error message, status JSON,
 *     feature ids) belong to the plugin and are valid only until that callback returns. The host
 *     copies what it keeps. Nothing is ever freed across the boundary, so host and plugin may
 *     use different allocators.
 *
 * NULL, in one place:
 *   - The host never passes NULL for a function pointer (`completion`, `piece`, `sink`,
 *     `error_sink`, the host's `log`), nor for `descriptor`, `host`, `out`, `instance` or
 *     `feature`. Every `*_context` is opaque and may be any value, NULL included: pass it back
 *     unchanged, never dereference it. `config` and `request` may be NULL when their length is
 *     0. `host->state_directory` may be NULL (no folder given).
 *   - A plugin passes NULL only where this header says "NULL when": `description`, `license`
 *     and `homepage`; `cancel`, `call_in_pieces` and `resume` when not supported; `bytes` of a
 *     completion or sink call whose `length` is 0.
 *
 * Failures stay on the plugin's side: a C++ exception or a Rust panic must never unwind
 * through a function the host called (undefined behaviour across a C frame; Rust aborts the
 * process). Catch it in every entry (`catch (...)`, `catch_unwind`) and answer with a status.
 *
 * Text is UTF-8. Request and result bodies are JSON documents in the shapes documented in
 * docs/plugin-abi.md (those of the WAHA contacts API).
 */
#ifndef SWITCHBOARD_ENGINE_H
#define SWITCHBOARD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SB_ABI_VERSION_MAJOR 1
#define SB_ABI_VERSION_MINOR 3

/* The one exported symbol. Its name carries the major version. */
#define SB_ENTRY_SYMBOL "switchboard_engine_abi_v1"

/*
 * Marks the entry function for export: default visibility keeps it in the dynamic symbol table
 * even in a plugin compiled with -fvisibility=hidden. Its C linkage comes from the prototype at
 * the end of this header, inside the header's extern "C": a C++ plugin needs nothing more.
 */
#define SB_EXPORT __attribute__((visibility("default")))

/* True when a struct whose struct_size is `size` contains `member` of `type`. */
#define SB_HAS_MEMBER(type, size, member) \
    ((size) >= offsetof(type, member) + sizeof(((type *)0)->member))

/*
 * Outcome of a call. Numbers are stable; new kinds are only ever appended. A fixed-width type,
 * not an enum, because it crosses the boundary in function signatures.
 */
typedef int32_t sb_status;
#define SB_STATUS_OK 0
#define SB_STATUS_NOT_IMPLEMENTED 1 /* this engine (or configuration) does not serve the feature */
#define SB_STATUS_NOT_FOUND 2       /* the contact, LID or resource does not exist */
#define SB_STATUS_INVALID_INPUT 3   /* the request is malformed or a value is out of range */
#define SB_STATUS_UNAVAILABLE 4     /* a backend the engine needs cannot be reached now */
#define SB_STATUS_INTERNAL 5        /* a bug or unexpected state inside the engine */
#define SB_STATUS_CONFLICT 6        /* a concurrent change won (e.g. a precondition failed) */
#define SB_STATUS_TIMEOUT 7         /* a backend the engine needs did not answer in time */

typedef int32_t sb_log_level;
#define SB_LOG_DEBUG 0
#define SB_LOG_INFO 1
#define SB_LOG_WARNING 2
#define SB_LOG_ERROR 3

/*
 * Feature ids, the values of `features` and the `feature` argument of `call`. Stable forever;
 * new ones are only ever appended. docs/plugin-abi.md gives each one's request and result.
 */
#define SB_FEATURE_CONTACTS_LIST "contacts.list"
#define SB_FEATURE_CONTACTS_GET "contacts.get"
#define SB_FEATURE_CONTACTS_UPSERT "contacts.upsert"
#define SB_FEATURE_CONTACTS_CHECK_EXISTS "contacts.check-exists"
#define SB_FEATURE_CONTACTS_ABOUT "contacts.about"
#define SB_FEATURE_CONTACTS_PROFILE_PICTURE "contacts.profile-picture"
#define SB_FEATURE_CONTACTS_BLOCK "contacts.block"
#define SB_FEATURE_CONTACTS_UNBLOCK "contacts.unblock"
#define SB_FEATURE_LIDS_LIST "lids.list"
#define SB_FEATURE_LIDS_COUNT "lids.count"
#define SB_FEATURE_LIDS_GET_BY_LID "lids.get-by-lid"
#define SB_FEATURE_LIDS_GET_BY_PN "lids.get-by-pn"

/*
 * Needs an engine may declare (the descriptor's `needs`, 1.3). A third-party engine runs in a
 * sandbox that reaches only its session's state folder; the operator grants each need per
 * session, with concrete values (docs/security.md).
 */
#define SB_NEED_NETWORK "network"       /* TCP connections to granted host:port pairs */
#define SB_NEED_READ_PATHS "read-paths" /* reading granted files and folders */
#define SB_NEED_EXEC "exec"             /* starting programs */

/* Services the host hands to each engine instance. Valid until `destroy` returns. */
typedef struct sb_host_services {
    uint32_t struct_size;
    void *host_context; /* opaque; pass it back as the first argument of every service */
    /* Writes one line to the host's log, tagged with the engine's name and session. Thread-safe. */
    void (*log)(void *host_context, sb_log_level level, const char *message);
    /*
     * A folder that belongs to this engine in this session, created by the host, kept across
     * restarts and engine versions: where an engine keeps its state. NULL when the host gives none.
     */
    const char *state_directory;
} sb_host_services;

/* The host's receiver for bytes the plugin produces; see "Buffer ownership". */
typedef void (*sb_bytes_sink)(void *sink_context, const uint8_t *bytes, size_t length);

/*
 * Completion of one call. The plugin calls it exactly once per `call`, from any thread,
 * possibly before `call` returns. With SB_STATUS_OK the bytes are the JSON result; with any
 * other status they are a UTF-8 message for humans (may be empty).
 */
typedef void (*sb_completion)(void *completion_context, sb_status status, const uint8_t *bytes, size_t length);

/*
 * The host's answer to one piece of a result delivered in pieces (`call_in_pieces`). A
 * fixed-width type, not an enum, because it crosses the boundary in function signatures.
 */
typedef int32_t sb_piece_reply;
#define SB_PIECE_MORE 0  /* send the next piece when it is ready */
#define SB_PIECE_PAUSE 1 /* the host holds enough: send the next piece only after `resume` */
#define SB_PIECE_STOP 2  /* the host no longer wants the result: stop, then complete (ignored) */

/*
 * Receives one piece of a result: a JSON array holding the result's next elements. With the
 * completion's context of the call, so one sink serves every call. Bytes as in "Buffer ownership".
 */
typedef sb_piece_reply (*sb_piece_sink)(void *completion_context, const uint8_t *bytes, size_t length);

typedef struct sb_engine_instance sb_engine_instance; /* opaque, owned by the plugin */

typedef struct sb_engine_descriptor {
    uint32_t struct_size;
    uint32_t abi_version_major; /* SB_ABI_VERSION_MAJOR the plugin was built with */
    uint32_t abi_version_minor; /* SB_ABI_VERSION_MINOR the plugin was built with */

    /* Metadata, readable before any instance exists. */
    const char *name;        /* unique engine name: [a-z0-9][a-z0-9-]{0,31} */
    const char *version;     /* the engine's own version, e.g. "1.2.0" */
    const char *description; /* one line for humans */
    const char *const *features; /* feature ids the engine can serve, e.g. "contacts.list" */
    size_t feature_count;

    /*
     * Creates an instance from a JSON configuration (an object; "{}" when none was given).
     * `descriptor` is the descriptor this function was reached through, so one implementation
     * can serve several descriptors.
     * On success stores the instance in *out and returns SB_STATUS_OK. On failure returns
     * another status (SB_STATUS_INVALID_INPUT for a bad configuration) and writes a message to
     * error_sink. `host` stays valid until `destroy` of this instance returns.
     */
    sb_status (*create)(const struct sb_engine_descriptor *descriptor,
                        const sb_host_services *host,
                        const uint8_t *config, size_t config_length,
                        sb_engine_instance **out,
                        sb_bytes_sink error_sink, void *error_context);

    /*
     * Destroys an instance. The host may call it while calls are still outstanding (for
     * example after they timed out): the plugin must still call each outstanding completion
     * exactly once, before or after destroy returns, and must free the instance only when
     * nothing uses it any more. The host never calls into an instance after destroy.
     */
    void (*destroy)(sb_engine_instance *instance);

    /*
     * Starts one operation. `feature` is one of the feature ids; `request` is its JSON request.
     * Must not block: do slow work on the plugin's own threads and complete later. The host
     * enforces a timeout per call and ignores a completion that arrives after it (safely: the
     * completion context stays valid until the completion is called).
     */
    void (*call)(sb_engine_instance *instance, const char *feature,
                 const uint8_t *request, size_t request_length,
                 sb_completion completion, void *completion_context);

    /*
     * Reports the features this instance serves now: a subset of `features`, narrowed by its
     * configuration or by what its backend turned out to support. Calls `sink` once per id,
     * synchronously, before returning. Must not block.
     */
    void (*instance_features)(sb_engine_instance *instance, sb_bytes_sink sink, void *sink_context);

    /*
     * Writes the instance's status as one JSON object to `sink`, synchronously:
     * {"health": "ok" | "degraded" | "down", "message": "...", "counters": {"name": integer, ...}}
     * Must not block.
     */
    void (*status)(sb_engine_instance *instance, sb_bytes_sink sink, void *sink_context);

    /* ---- 1.1 ---- */

    /* Where the engine comes from, shown by `switchboard inspect`; NULL or "" when not given. */
    const char *license;  /* an SPDX expression, e.g. "Apache-2.0" */
    const char *homepage; /* a URL for humans: source, issues, documentation */

    /*
     * Optional (NULL when the plugin does not support it). The host no longer needs the
     * result of the call it started with `completion_context`: the call timed out, or the
     * client that asked for it went away. The plugin should stop the work it can stop. The
     * completion must still be called exactly once (its status and bytes are then ignored).
     * Must not block; may be called from any thread, before or after the completion, and for a
     * context the plugin does not know (its call already completed): then it does nothing.
     */
    void (*cancel)(sb_engine_instance *instance, void *completion_context);

    /* ---- 1.2 ---- */

    /*
     * Optional (NULL when the plugin does not support it; then `resume` is ignored). `call`,
     * for a feature whose result is a JSON array (the host asks contacts.list this way), with
     * the result delivered in pieces so that a big list never sits whole in one buffer:
     *   - `piece` zero or more times, each with a JSON array of the result's next elements;
     *   - then `completion` exactly once: SB_STATUS_OK with the last elements as a JSON array
     *     (`[]` when none are left), or another status, which fails the whole call.
     * The result is every piece's elements, in order, then the completion's. A plugin may send
     * the whole result in the completion, as `call` does. It never calls `piece` after the
     * completion, nor for one call from two threads at once; each piece, like the completion,
     * may come from any thread, possibly before `call_in_pieces` returns.
     * The reply of each `piece` says what next: SB_PIECE_MORE, go on; SB_PIECE_PAUSE, send no
     * further piece, nor the OK completion, until the host calls `resume` for this call (a
     * failure, or the completion after `cancel`, need not wait);
     * SB_PIECE_STOP, the host gave up on the call: stop and complete it (status ignored). The
     * call timeout covers the wait for each piece, never the time the host keeps a call paused.
     * A host that does not know 1.2 calls `call` instead, so a plugin must keep serving both.
     */
    void (*call_in_pieces)(sb_engine_instance *instance, const char *feature,
                           const uint8_t *request, size_t request_length,
                           sb_piece_sink piece, sb_completion completion, void *completion_context);

    /*
     * Required with `call_in_pieces`. Lets a call paused by SB_PIECE_PAUSE go on. Must not
     * block; may be called from any thread, and for a context the plugin does not know (its
     * call already completed): then it does nothing. The host calls it at most once per pause.
     */
    void (*resume)(sb_engine_instance *instance, void *completion_context);

    /* ---- 1.3 ---- */

    /*
     * What the engine may need in a sandboxed engine process beyond its own state folder:
     * SB_NEED_* ids, static storage like `features`; NULL when need_count is 0. Declaring a
     * need grants nothing: the operator grants it per session, and an engine must answer
     * SB_STATUS_UNAVAILABLE (not crash) when what it needs was not granted.
     */
    const char *const *needs;
    size_t need_count;
} sb_engine_descriptor;

/* The signature of the exported entry symbol. */
typedef const sb_engine_descriptor *(*sb_entry_function)(void);

#ifndef __swift__ /* a Swift engine exports it with @_cdecl (ContactsEngineKit's EngineExport) */
/*
 * The entry function every plugin defines, named SB_ENTRY_SYMBOL. The host calls it once per
 * load; it returns a descriptor in static storage, never NULL:
 *     SB_EXPORT const sb_engine_descriptor *switchboard_engine_abi_v1(void) { return &descriptor; }
 */
SB_EXPORT const sb_engine_descriptor *switchboard_engine_abi_v1(void);
#endif

#ifdef __cplusplus
}
#endif

#endif /* SWITCHBOARD_ENGINE_H */
