/*
 * A minimal Switchboard engine in C, against switchboard_engine.h alone: it serves
 * contacts.get for one contact and lids.count, completing every call before `call` returns.
 * The tests compile this file and run the conformance checks on it, so it stays right.
 *
 *   cc -std=c11 -Wall -Wextra -fPIC -shared -I <switchboard>/Sources/ContactsEngineSDK/Sources/CContactsEngine/include \
 *      -o libhello_c.so hello_engine.c
 */
#include "switchboard_engine.h"

#include <stdlib.h>
#include <string.h>

static const char *const hello_features[] = {"contacts.get", "lids.count"};
static const char hello_id[] = "14155550100@c.us";

struct sb_engine_instance {
    const sb_host_services *host;
};

static void complete_text(sb_completion done, void *ctx, sb_status status, const char *text) {
    done(ctx, status, (const uint8_t *)text, strlen(text));
}

/* Copies the string value of "contactId" into `out`; 0 when the request has no such string. A
 * real engine would use a JSON parser: the request is JSON, NOT NUL-terminated. */
static int contact_id(const uint8_t *request, size_t length, char *out, size_t out_size) {
    static const char key[] = "\"contactId\"";
    const char *text = (const char *)request, *end = text + length;
    for (const char *p = text; p + sizeof key - 1 <= end; p++) {
        if (memcmp(p, key, sizeof key - 1) != 0) continue;
        p += sizeof key - 1;
        while (p < end && (*p == ' ' || *p == ':')) p++;
        if (p >= end || *p != '"') return 0;
        size_t n = 0;
        for (p++; p < end && *p != '"' && n + 1 < out_size; p++) out[n++] = *p;
        out[n] = '\0';
        return p < end && *p == '"';
    }
    return 0;
}

static sb_status hello_create(const sb_engine_descriptor *descriptor, const sb_host_services *host,
                              const uint8_t *config, size_t config_length, sb_engine_instance **out,
                              sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor;
    if (config_length == 0 || config[0] != '{') {
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
    if (strcmp(feature, "contacts.get") == 0) {
        char id[64];
        if (!contact_id(request, request_length, id, sizeof id))
            return complete_text(completion, completion_context, SB_STATUS_INVALID_INPUT, "contactId must be a string");
        if (strcmp(id, hello_id) != 0)
            return complete_text(completion, completion_context, SB_STATUS_NOT_FOUND, "only 14155550100@c.us is here");
        complete_text(completion, completion_context, SB_STATUS_OK, "{\"id\":\"14155550100@c.us\",\"name\":\"Hello\"}");
    } else if (strcmp(feature, "lids.count") == 0) {
        complete_text(completion, completion_context, SB_STATUS_OK, "{\"count\":0}");
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
};

__attribute__((visibility("default"))) const sb_engine_descriptor *switchboard_engine_abi_v1(void) {
    return &hello_descriptor;
}
