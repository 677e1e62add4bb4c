/*
 * A configurable engine for the host's tests, built with `cc -shared` by the tests themselves.
 * Each -D flag breaks the plugin in one way (or shapes a behaviour), so every refusal reason
 * and every call path of the host can be exercised with a real shared object.
 *
 *   ENTRY_MAJOR           major version in the exported entry symbol's name   (default 1)
 *   DESCRIPTOR_MAJOR      abi_version_major in the descriptor                  (default SB_ABI_VERSION_MAJOR)
 *   ENGINE_NAME           the engine's name, or NO_NAME for NULL               (default "test")
 *   ENGINE_VERSION        the engine's version                                 (default "0.0.1")
 *   EXTRA_FEATURE         one more feature id to declare                       (default none)
 *   STRUCT_SIZE           struct_size of the descriptor                        (default sizeof)
 *   OMIT_CALL             leave the call function NULL
 *   NULL_DESCRIPTOR       the entry function returns NULL
 *
 * Behaviour, per feature:
 *   contacts.get      completes at once with {"id": <contactId>, "name": "Test"}
 *   contacts.about    completes after ABOUT_DELAY_MS milliseconds (or the configuration's
 *                     "aboutDelayMs") from another thread
 *   contacts.block    never completes until destroy (a hung backend), then completes with unavailable
 *   contacts.list     completes with a malformed result
 *   contacts.unblock  completes with unavailable (a backend that is down)
 *   contacts.upsert   completes with conflict (an edit made elsewhere meanwhile)
 */
#include "switchboard_engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef ENTRY_MAJOR
#define ENTRY_MAJOR 1
#endif
#ifndef DESCRIPTOR_MAJOR
#define DESCRIPTOR_MAJOR SB_ABI_VERSION_MAJOR
#endif
#ifndef ENGINE_NAME
#define ENGINE_NAME "test"
#endif
#ifndef ENGINE_VERSION
#define ENGINE_VERSION "0.0.1"
#endif
#ifndef STRUCT_SIZE
#define STRUCT_SIZE sizeof(sb_engine_descriptor)
#endif
#ifndef ABOUT_DELAY_MS
#define ABOUT_DELAY_MS 200
#endif

#define CONCAT2(a, b) a##b
#define CONCAT(a, b) CONCAT2(a, b)
#define ENTRY_FUNCTION CONCAT(switchboard_engine_abi_v, ENTRY_MAJOR)

static const char *const features[] = {
    "contacts.get", "contacts.about", "contacts.block", "contacts.list", "contacts.unblock", "contacts.upsert",
#ifdef EXTRA_FEATURE
    EXTRA_FEATURE,
#endif
};

/* A call left hanging, completed at destroy: the ABI requires every call to complete once. */
struct hung_call {
    sb_completion completion;
    void *context;
    struct hung_call *next;
};

struct sb_engine_instance {
    pthread_mutex_t lock;
    struct hung_call *hung;
    /* contacts.about calls completed so far; reported by status as counters.aboutCompleted */
    long about_completed;
    long about_delay_ms;
};

static sb_status test_create(const sb_engine_descriptor *descriptor, const sb_host_services *host, const uint8_t *config,
                             size_t config_length, sb_engine_instance **out, sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor;
    if (config_length >= 6 && memcmp(config, "{\"bad\"", 6) == 0) {
        static const char message[] = "the option 'bad' is not accepted";
        error_sink(error_context, (const uint8_t *)message, sizeof message - 1);
        return SB_STATUS_INVALID_INPUT;
    }
    sb_engine_instance *instance = calloc(1, sizeof *instance);
    pthread_mutex_init(&instance->lock, NULL);
    instance->about_delay_ms = ABOUT_DELAY_MS;
    char text[256] = "";
    memcpy(text, config, config_length < sizeof text - 1 ? config_length : sizeof text - 1);
    const char *delay = strstr(text, "\"aboutDelayMs\":");
    if (delay) instance->about_delay_ms = strtol(delay + 15, NULL, 10);
    if (host->log) host->log(host->host_context, SB_LOG_INFO, "test engine created");
    *out = instance;
    return SB_STATUS_OK;
}

static void test_destroy(sb_engine_instance *instance) {
    pthread_mutex_lock(&instance->lock);
    struct hung_call *call = instance->hung;
    instance->hung = NULL;
    pthread_mutex_unlock(&instance->lock);
    while (call) {
        static const char message[] = "destroyed";
        call->completion(call->context, SB_STATUS_UNAVAILABLE, (const uint8_t *)message, sizeof message - 1);
        struct hung_call *next = call->next;
        free(call);
        call = next;
    }
    pthread_mutex_destroy(&instance->lock);
    free(instance);
}

struct delayed {
    sb_engine_instance *instance;
    long delay_ms;
    sb_completion completion;
    void *context;
};

static void *complete_later(void *argument) {
    struct delayed *d = argument;
    usleep((useconds_t)(d->delay_ms * 1000));
    static const char body[] = "{\"about\":\"late but here\"}";
    d->completion(d->context, SB_STATUS_OK, (const uint8_t *)body, sizeof body - 1);
    __atomic_add_fetch(&d->instance->about_completed, 1, __ATOMIC_SEQ_CST);
    free(d);
    return NULL;
}

static void test_call(sb_engine_instance *instance, const char *feature, const uint8_t *request, size_t length,
                      sb_completion completion, void *context) {
    if (strcmp(feature, "contacts.get") == 0) {
        char id[128] = "";
        const char *key = strstr((const char *)request, "\"contactId\":\"");
        if (key) sscanf(key + 13, "%127[^\"]", id);
        (void)length;
        char body[256];
        int n = snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"Test\"}", id);
        completion(context, SB_STATUS_OK, (const uint8_t *)body, (size_t)n);
    } else if (strcmp(feature, "contacts.about") == 0) {
        struct delayed *d = malloc(sizeof *d);
        d->instance = instance;
        d->delay_ms = instance->about_delay_ms;
        d->completion = completion;
        d->context = context;
        pthread_t thread;
        pthread_create(&thread, NULL, complete_later, d);
        pthread_detach(thread);
    } else if (strcmp(feature, "contacts.block") == 0) {
        struct hung_call *call = malloc(sizeof *call);
        call->completion = completion;
        call->context = context;
        pthread_mutex_lock(&instance->lock);
        call->next = instance->hung;
        instance->hung = call;
        pthread_mutex_unlock(&instance->lock);
    } else if (strcmp(feature, "contacts.unblock") == 0) {
        static const char message[] = "the address book server is down";
        completion(context, SB_STATUS_UNAVAILABLE, (const uint8_t *)message, sizeof message - 1);
    } else if (strcmp(feature, "contacts.upsert") == 0) {
        static const char message[] = "the contact was edited elsewhere meanwhile";
        completion(context, SB_STATUS_CONFLICT, (const uint8_t *)message, sizeof message - 1);
    } else if (strcmp(feature, "contacts.list") == 0) {
        static const char body[] = "{\"not\":\"a list\"}";
        completion(context, SB_STATUS_OK, (const uint8_t *)body, sizeof body - 1);
    } else {
        static const char message[] = "not here";
        completion(context, SB_STATUS_NOT_IMPLEMENTED, (const uint8_t *)message, sizeof message - 1);
    }
}

static void test_instance_features(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    (void)instance;
    for (size_t i = 0; i < 6; i++) sink(context, (const uint8_t *)features[i], strlen(features[i]));
}

static void test_status(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    char body[128];
    int n = snprintf(body, sizeof body, "{\"health\":\"degraded\",\"message\":\"testing\",\"counters\":{\"x\":1,\"aboutCompleted\":%ld}}",
                     __atomic_load_n(&instance->about_completed, __ATOMIC_SEQ_CST));
    sink(context, (const uint8_t *)body, (size_t)n);
}

static const sb_engine_descriptor descriptor = {
    .struct_size = STRUCT_SIZE,
    .abi_version_major = DESCRIPTOR_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
#ifdef NO_NAME
    .name = NULL,
#else
    .name = ENGINE_NAME,
#endif
    .version = ENGINE_VERSION,
    .description = "engine for the host's tests",
    .features = features,
    .feature_count = sizeof features / sizeof features[0],
    .create = test_create,
    .destroy = test_destroy,
#ifndef OMIT_CALL
    .call = test_call,
#endif
    .instance_features = test_instance_features,
    .status = test_status,
};

__attribute__((visibility("default"))) const sb_engine_descriptor *ENTRY_FUNCTION(void) {
#ifdef NULL_DESCRIPTOR
    return NULL;
#else
    return &descriptor;
#endif
}
