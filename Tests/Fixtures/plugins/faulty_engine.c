/*
 * An engine that misbehaves the ways third-party code does, for the host's robustness tests.
 * Built with `cc -shared` by the tests. Its configuration picks the fault at run time, so one
 * file serves many cases; faults that strike before any configuration exists are -D flags.
 *
 * Configuration (a JSON object; the keys are found with strstr, this is a test fixture):
 *   "blockCallMs": N      contacts.get sleeps N ms inside `call` before it completes
 *   "blockStatusMs": N    `status` and `instance_features` sleep N ms before they answer
 *   "blockCreateMs": N    `create` sleeps N ms
 *   "doubleComplete": "sync"   contacts.get completes twice before `call` returns
 *   "doubleComplete": "late"   contacts.get completes at once, and again 20 ms later from a thread
 *   "segfault": true      contacts.get dereferences a null pointer
 *   "abortInCreate": true `create` calls abort()
 *   "exitInCall": true    contacts.get calls exit(0), as a library that "handles" an error by quitting does
 *   "hogMib": N           contacts.get allocates and touches N MiB, 16 MiB at a time, and
 *                         dereferences the null pointer malloc returns once the memory runs out
 *   anything else         contacts.get answers {"id": <contactId>, "name": "Faulty"}
 *
 * Compile-time faults:
 *   CRASH_IN_ENTRY        the entry function dereferences a null pointer
 *   HANG_IN_ENTRY         the entry function never returns
 *   CONSTRUCTOR_MARKER    a path: a constructor appends "<pid>\n" to it when the library is mapped
 *   ENGINE_NAME           the engine's name (default "faulty")
 */
#include "switchboard_engine.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ENGINE_NAME
#define ENGINE_NAME "faulty"
#endif

#ifdef CONSTRUCTOR_MARKER
__attribute__((constructor)) static void mark_process(void) {
    FILE *marker = fopen(CONSTRUCTOR_MARKER, "a");
    if (marker) {
        fprintf(marker, "%d\n", (int)getpid());
        fclose(marker);
    }
}
#endif

static const char *const features[] = {"contacts.get", "contacts.list"};

struct sb_engine_instance {
    long block_call_ms, block_status_ms;
    long hog_mib;
    int double_complete; /* 0 none, 1 sync, 2 late */
    int segfault;
    int exit_in_call;
};

static long number_after(const char *text, const char *key) {
    const char *found = strstr(text, key);
    return found ? strtol(found + strlen(key), NULL, 10) : 0;
}

static volatile int *volatile nowhere = NULL;

static sb_status faulty_create(const sb_engine_descriptor *descriptor, const sb_host_services *host, const uint8_t *config,
                               size_t config_length, sb_engine_instance **out, sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor, (void)host, (void)error_sink, (void)error_context;
    char text[512] = "";
    memcpy(text, config, config_length < sizeof text - 1 ? config_length : sizeof text - 1);
    if (strstr(text, "\"abortInCreate\":true")) abort();
    long block_create_ms = number_after(text, "\"blockCreateMs\":");
    if (block_create_ms > 0) usleep((useconds_t)(block_create_ms * 1000));
    sb_engine_instance *instance = calloc(1, sizeof *instance);
    instance->block_call_ms = number_after(text, "\"blockCallMs\":");
    instance->block_status_ms = number_after(text, "\"blockStatusMs\":");
    instance->hog_mib = number_after(text, "\"hogMib\":");
    instance->double_complete = strstr(text, "\"doubleComplete\":\"sync\"") ? 1 : strstr(text, "\"doubleComplete\":\"late\"") ? 2 : 0;
    instance->segfault = strstr(text, "\"segfault\":true") != NULL;
    instance->exit_in_call = strstr(text, "\"exitInCall\":true") != NULL;
    *out = instance;
    return SB_STATUS_OK;
}

static void faulty_destroy(sb_engine_instance *instance) { free(instance); }

struct again {
    sb_completion completion;
    void *context;
};

static void *complete_again(void *argument) {
    struct again *again = argument;
    usleep(20 * 1000);
    static const char body[] = "{\"id\":\"1@c.us\",\"name\":\"Second\"}";
    again->completion(again->context, SB_STATUS_OK, (const uint8_t *)body, sizeof body - 1);
    free(again);
    return NULL;
}

static void faulty_call(sb_engine_instance *instance, const char *feature, const uint8_t *request, size_t length,
                        sb_completion completion, void *context) {
    if (strcmp(feature, "contacts.list") == 0) {
        completion(context, SB_STATUS_OK, (const uint8_t *)"[]", 2);
        return;
    }
    if (instance->segfault) *nowhere = 1;
    if (instance->exit_in_call) exit(0);
    if (instance->hog_mib > 0) {
        for (long used = 0; used < instance->hog_mib; used += 16) {
            char *block = malloc(16 << 20);
            if (!block) *nowhere = 1; /* out of memory, as careless code finds out */
            memset(block, 1, 16 << 20);
        }
    }
    if (instance->block_call_ms > 0) usleep((useconds_t)(instance->block_call_ms * 1000));
    char id[128] = "";
    char text[256] = "";
    memcpy(text, request, length < sizeof text - 1 ? length : sizeof text - 1);
    const char *key = strstr(text, "\"contactId\":\"");
    if (key) sscanf(key + 13, "%127[^\"]", id);
    char body[256];
    int n = snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"Faulty\"}", id);
    completion(context, SB_STATUS_OK, (const uint8_t *)body, (size_t)n);
    if (instance->double_complete == 1) {
        completion(context, SB_STATUS_OK, (const uint8_t *)body, (size_t)n);
    } else if (instance->double_complete == 2) {
        struct again *again = malloc(sizeof *again);
        again->completion = completion;
        again->context = context;
        pthread_t thread;
        pthread_create(&thread, NULL, complete_again, again);
        pthread_detach(thread);
    }
}

static void faulty_instance_features(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    if (instance->block_status_ms > 0) usleep((useconds_t)(instance->block_status_ms * 1000));
    for (size_t i = 0; i < 2; i++) sink(context, (const uint8_t *)features[i], strlen(features[i]));
}

static void faulty_status(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    if (instance->block_status_ms > 0) usleep((useconds_t)(instance->block_status_ms * 1000));
    static const char body[] = "{\"health\":\"ok\",\"message\":\"faulty but fine\",\"counters\":{}}";
    sink(context, (const uint8_t *)body, sizeof body - 1);
}

static const sb_engine_descriptor descriptor = {
    .struct_size = sizeof(sb_engine_descriptor),
    .abi_version_major = SB_ABI_VERSION_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = ENGINE_NAME,
    .version = "0.0.1",
    .description = "an engine that misbehaves on purpose",
    .features = features,
    .feature_count = 2,
    .create = faulty_create,
    .destroy = faulty_destroy,
    .call = faulty_call,
    .instance_features = faulty_instance_features,
    .status = faulty_status,
};

__attribute__((visibility("default"))) const sb_engine_descriptor *switchboard_engine_abi_v1(void) {
#ifdef CRASH_IN_ENTRY
    *nowhere = 1;
#endif
#ifdef HANG_IN_ENTRY
    for (;;) pause();
#endif
    return &descriptor;
}
