/*
 * A minimal Switchboard engine in C: it serves contacts.get for one contact and lids.count,
 * completing every call before `call` returns. JSON goes through jansson (Debian's
 * libjansson-dev), not hand-written parsing: a request is JSON and is NOT NUL-terminated.
 * The tests compile this file and run the conformance checks on it, so it stays right.
 *
 *   cc -std=c11 -Wall -Wextra -fPIC -shared -I <SDK>/Sources/CContactsEngine/include \
 *      -o libhello_c.so hello_engine.c -ljansson
 */
#include "switchboard_engine.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const hello_features[] = {SB_FEATURE_CONTACTS_GET, SB_FEATURE_LIDS_COUNT};
static const char hello_id[] = "14155550100@c.us";

struct sb_engine_instance {
    const sb_host_services *host;
};

static void complete_text(sb_completion done, void *ctx, sb_status status, const char *text) {
    done(ctx, status, (const uint8_t *)text, strlen(text));
}

/* Completes with `result` as JSON and releases it; small results fit the stack buffer. */
static void complete_json(sb_completion done, void *ctx, json_t *result) {
    char text[256];
    size_t length = result ? json_dumpb(result, text, sizeof text, JSON_COMPACT) : 0;
    json_decref(result);
    if (length == 0 || length > sizeof text) return complete_text(done, ctx, SB_STATUS_INTERNAL, "result does not fit");
    done(ctx, SB_STATUS_OK, (const uint8_t *)text, length);
}

/* A chat id as the host passes it: <digits>@c.us, <digits>@lid or <digits>[-<digits>]@g.us. */
static int is_chat_id(const char *id) {
    size_t n = strspn(id, "0123456789"), more = id[n] == '-' ? strspn(id + n + 1, "0123456789") : 0;
    const char *end = id + n + (more ? 1 + more : 0);
    return n && (!strcmp(end, "@g.us") || (!more && (!strcmp(end, "@c.us") || !strcmp(end, "@lid"))));
}

static sb_status hello_create(const sb_engine_descriptor *descriptor, const sb_host_services *host,
                              const uint8_t *config, size_t config_length, sb_engine_instance **out,
                              sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor;
    json_t *json = json_loadb((const char *)config, config_length, 0, NULL);
    int is_object = json_is_object(json);
    json_decref(json);
    if (!is_object) {
        static const char message[] = "configuration must be a JSON object";
        error_sink(error_context, (const uint8_t *)message, sizeof message - 1);
        return SB_STATUS_INVALID_INPUT;
    }
    sb_engine_instance *instance = calloc(1, sizeof *instance);
    if (!instance) return SB_STATUS_INTERNAL;
    instance->host = host;
    if (SB_HAS_MEMBER(sb_host_services, host->struct_size, log) && host->log)
        host->log(host->host_context, SB_LOG_INFO, "hello engine ready");
    *out = instance;
    return SB_STATUS_OK;
}

/* Every call completes before `call` returns, so none is outstanding at destroy. */
static void hello_destroy(sb_engine_instance *instance) { free(instance); }

static void hello_call(sb_engine_instance *instance, const char *feature, const uint8_t *request,
                       size_t request_length, sb_completion completion, void *completion_context) {
    (void)instance;
    if (strcmp(feature, SB_FEATURE_CONTACTS_GET) == 0) {
        json_t *json = json_loadb((const char *)request, request_length, 0, NULL);
        const char *id = NULL;
        /* `id` points into `json`: use it before json_decref. */
        int valid = json && json_unpack(json, "{s:s}", "contactId", &id) == 0 && is_chat_id(id);
        int found = valid && strcmp(id, hello_id) == 0;
        json_decref(json);
        if (!valid)
            return complete_text(completion, completion_context, SB_STATUS_INVALID_INPUT, "contactId must be a chat id, e.g. 14155550100@c.us");
        if (!found)
            return complete_text(completion, completion_context, SB_STATUS_NOT_FOUND, "only 14155550100@c.us is here");
        complete_json(completion, completion_context, json_pack("{s:s, s:s}", "id", hello_id, "name", "Hello"));
    } else if (strcmp(feature, SB_FEATURE_LIDS_COUNT) == 0) {
        complete_json(completion, completion_context, json_pack("{s:i}", "count", 0));
    } else {
        complete_text(completion, completion_context, SB_STATUS_NOT_IMPLEMENTED, "not served by hello");
    }
}

static void hello_instance_features(sb_engine_instance *instance, sb_bytes_sink sink, void *sink_context) {
    (void)instance;
    for (size_t i = 0; i < sizeof hello_features / sizeof hello_features[0]; i++)
        sink(sink_context, (const uint8_t *)hello_features[i], strlen(hello_features[i]));
}

static void hello_status(sb_engine_instance *instance, sb_bytes_sink sink, void *sink_context) {
    (void)instance;
    static const char body[] = "{\"health\":\"ok\",\"message\":\"one contact\",\"counters\":{\"contacts\":1}}";
    sink(sink_context, (const uint8_t *)body, sizeof body - 1);
}

static const sb_engine_descriptor hello_descriptor = {
    .struct_size = sizeof(sb_engine_descriptor),
    .abi_version_major = SB_ABI_VERSION_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = "hello-c",
    .version = "0.1.0",
    .description = "A minimal example engine in C",
    .features = hello_features,
    .feature_count = sizeof hello_features / sizeof hello_features[0],
    .create = hello_create,
    .destroy = hello_destroy,
    .call = hello_call,
    .instance_features = hello_instance_features,
    .status = hello_status,
    /* ABI 1.1: shown by `switchboard inspect`; yours to fill in. No `cancel`: nothing to stop. */
    .license = "Apache-2.0",
    .homepage = "https://example.com/hello-c",
};

SB_EXPORT const sb_engine_descriptor *switchboard_engine_abi_v1(void) {
    return &hello_descriptor;
}
