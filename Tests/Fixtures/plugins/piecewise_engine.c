/*
 * An engine that answers contacts.list in pieces (ABI 1.2's `call_in_pieces`), for the host's
 * streaming tests. Its configuration says how many contacts it has and how it behaves:
 *
 *   {"count": N, "perPiece": P, "mode": "..."}   (defaults: 2500 contacts, 100 per piece, honest)
 *
 *   honest        sends P contacts per piece from a thread of its own, waits while paused
 *   ignore-pause  goes on sending after the host asked it to pause
 *   break         its third piece holds a contact whose id is not a WhatsApp id
 *   stall         sends one piece, then nothing until the host cancels the call
 *
 * `call` answers the same list whole, as a host without 1.2 would ask for it. `status` counts
 * what the host told the engine: pauses, resumes, stops and cancels.
 */
#include "switchboard_engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mode { HONEST, IGNORE_PAUSE, BREAK, STALL };

struct counters {
    long pieces, pauses, resumes, stops, cancels, completed;
};

/* One call in pieces, reachable by its completion context for `resume` and `cancel`. */
struct call {
    sb_engine_instance *instance;
    sb_piece_sink piece;
    sb_completion completion;
    void *context;
    int resumed, cancelled;
    struct call *next;
};

struct sb_engine_instance {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    long count, per_piece;
    enum mode mode;
    struct call *calls;
    struct counters counters;
};

static const char *const features[] = {"contacts.list"};

static long option(const char *config, const char *key, long fallback) {
    const char *found = strstr(config, key);
    return found ? strtol(found + strlen(key), NULL, 10) : fallback;
}

static sb_status piecewise_create(const sb_engine_descriptor *descriptor, const sb_host_services *host, const uint8_t *config,
                                  size_t config_length, sb_engine_instance **out, sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor, (void)host, (void)error_sink, (void)error_context;
    char text[256] = "";
    memcpy(text, config, config_length < sizeof text - 1 ? config_length : sizeof text - 1);
    sb_engine_instance *instance = calloc(1, sizeof *instance);
    pthread_mutex_init(&instance->lock, NULL);
    pthread_cond_init(&instance->changed, NULL);
    instance->count = option(text, "\"count\":", 2500);
    instance->per_piece = option(text, "\"perPiece\":", 100);
    instance->mode = strstr(text, "\"ignore-pause\"") ? IGNORE_PAUSE : strstr(text, "\"break\"") ? BREAK : strstr(text, "\"stall\"") ? STALL : HONEST;
    *out = instance;
    return SB_STATUS_OK;
}

/* Every call has completed by the time the host destroys an instance. */
static void piecewise_destroy(sb_engine_instance *instance) {
    pthread_cond_destroy(&instance->changed);
    pthread_mutex_destroy(&instance->lock);
    free(instance);
}

/* Contacts [from, to) as a JSON array, in a buffer the caller frees. */
static char *contacts(long from, long to, int broken, size_t *length) {
    size_t capacity = 2 + (size_t)(to - from) * 64, used = 0;
    char *json = malloc(capacity);
    json[used++] = '[';
    for (long i = from; i < to; i++) {
        used += (size_t)snprintf(json + used, capacity - used, "%s{\"id\":\"%s%011ld@c.us\",\"name\":\"Contact %06ld\"}",
                                 i > from ? "," : "", broken && i == from ? "x" : "", 49000000000L + i, i);
    }
    json[used++] = ']';
    *length = used;
    return json;
}

static void count(sb_engine_instance *instance, long *counter) {
    pthread_mutex_lock(&instance->lock);
    (*counter)++;
    pthread_mutex_unlock(&instance->lock);
}

static void forget(struct call *call) {
    sb_engine_instance *instance = call->instance;
    pthread_mutex_lock(&instance->lock);
    for (struct call **link = &instance->calls; *link; link = &(*link)->next) {
        if (*link == call) {
            *link = call->next;
            break;
        }
    }
    instance->counters.completed++;
    pthread_mutex_unlock(&instance->lock);
}

/* Waits for `resume` (returns 1) or `cancel` (returns 0). */
static int wait_for_resume(struct call *call, int resume_ends_wait) {
    sb_engine_instance *instance = call->instance;
    pthread_mutex_lock(&instance->lock);
    while (!call->cancelled && !(resume_ends_wait && call->resumed)) pthread_cond_wait(&instance->changed, &instance->lock);
    int go_on = !call->cancelled;
    call->resumed = 0;
    pthread_mutex_unlock(&instance->lock);
    return go_on;
}

static void finish(struct call *call, sb_status status, const char *bytes, size_t length) {
    sb_completion completion = call->completion;
    void *context = call->context;
    forget(call);
    free(call);
    completion(context, status, (const uint8_t *)bytes, length);
}

static void *send_pieces(void *argument) {
    struct call *call = argument;
    sb_engine_instance *instance = call->instance;
    long per = instance->per_piece > 0 ? instance->per_piece : 1;
    for (long from = 0, index = 0;; from += per, index++) {
        long to = from + per < instance->count ? from + per : instance->count;
        size_t length;
        char *json = contacts(from, to, instance->mode == BREAK && index == 2, &length);
        if (to == instance->count) {
            finish(call, SB_STATUS_OK, json, length);
            free(json);
            return NULL;
        }
        sb_piece_reply reply = call->piece(call->context, (const uint8_t *)json, length);
        free(json);
        count(instance, &instance->counters.pieces);
        if (reply == SB_PIECE_STOP) {
            count(instance, &instance->counters.stops);
            finish(call, SB_STATUS_OK, "[]", 2);
            return NULL;
        }
        int go_on = 1;
        if (instance->mode == STALL) {
            go_on = wait_for_resume(call, 0);
        } else if (reply == SB_PIECE_PAUSE) {
            count(instance, &instance->counters.pauses);
            if (instance->mode != IGNORE_PAUSE) go_on = wait_for_resume(call, 1);
        }
        pthread_mutex_lock(&instance->lock);
        go_on = go_on && !call->cancelled;
        pthread_mutex_unlock(&instance->lock);
        if (!go_on) {
            static const char message[] = "cancelled";
            finish(call, SB_STATUS_UNAVAILABLE, message, sizeof message - 1);
            return NULL;
        }
    }
}

static void piecewise_call_in_pieces(sb_engine_instance *instance, const char *feature, const uint8_t *request, size_t length,
                                     sb_piece_sink piece, sb_completion completion, void *context) {
    (void)request, (void)length;
    if (strcmp(feature, "contacts.list") != 0) {
        static const char message[] = "not here";
        completion(context, SB_STATUS_NOT_IMPLEMENTED, (const uint8_t *)message, sizeof message - 1);
        return;
    }
    struct call *call = calloc(1, sizeof *call);
    call->instance = instance;
    call->piece = piece;
    call->completion = completion;
    call->context = context;
    pthread_mutex_lock(&instance->lock);
    call->next = instance->calls;
    instance->calls = call;
    pthread_mutex_unlock(&instance->lock);
    pthread_t thread;
    pthread_create(&thread, NULL, send_pieces, call);
    pthread_detach(thread);
}

/* The page `request` asks for (its limit and offset; sorting is by id, the order it holds). */
static void piecewise_call(sb_engine_instance *instance, const char *feature, const uint8_t *request, size_t length,
                           sb_completion completion, void *context) {
    char text[256] = "";
    memcpy(text, request, length < sizeof text - 1 ? length : sizeof text - 1);
    long offset = option(text, "\"offset\":", 0), limit = option(text, "\"limit\":", instance->count);
    long from = offset < instance->count ? offset : instance->count;
    long to = from + limit < instance->count ? from + limit : instance->count;
    if (strcmp(feature, "contacts.list") != 0) {
        static const char message[] = "not here";
        completion(context, SB_STATUS_NOT_IMPLEMENTED, (const uint8_t *)message, sizeof message - 1);
        return;
    }
    size_t bytes;
    char *json = contacts(from, to, 0, &bytes);
    completion(context, SB_STATUS_OK, (const uint8_t *)json, bytes);
    free(json);
}

/* Marks the call with `context`, if it is still running, and wakes its thread. */
static void signal_call(sb_engine_instance *instance, void *context, int cancel) {
    pthread_mutex_lock(&instance->lock);
    for (struct call *call = instance->calls; call; call = call->next) {
        if (call->context != context) continue;
        if (cancel) {
            call->cancelled = 1;
            instance->counters.cancels++;
        } else {
            call->resumed = 1;
            instance->counters.resumes++;
        }
        pthread_cond_broadcast(&instance->changed);
    }
    pthread_mutex_unlock(&instance->lock);
}

static void piecewise_resume(sb_engine_instance *instance, void *context) { signal_call(instance, context, 0); }
static void piecewise_cancel(sb_engine_instance *instance, void *context) { signal_call(instance, context, 1); }

static void piecewise_instance_features(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    (void)instance;
    sink(context, (const uint8_t *)features[0], strlen(features[0]));
}

static void piecewise_status(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    pthread_mutex_lock(&instance->lock);
    struct counters c = instance->counters;
    pthread_mutex_unlock(&instance->lock);
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"health\":\"ok\",\"message\":\"\",\"counters\":{\"pieces\":%ld,\"pauses\":%ld,\"resumes\":%ld,\"stops\":%ld,\"cancels\":%ld,\"completed\":%ld}}",
                     c.pieces, c.pauses, c.resumes, c.stops, c.cancels, c.completed);
    sink(context, (const uint8_t *)body, (size_t)n);
}

static const sb_engine_descriptor descriptor = {
    .struct_size = sizeof(sb_engine_descriptor),
    .abi_version_major = SB_ABI_VERSION_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = "piecewise",
    .version = "1.0.0",
    .description = "answers contacts.list in pieces, for the host's streaming tests",
    .features = features,
    .feature_count = 1,
    .create = piecewise_create,
    .destroy = piecewise_destroy,
    .call = piecewise_call,
    .instance_features = piecewise_instance_features,
    .status = piecewise_status,
    .cancel = piecewise_cancel,
    .call_in_pieces = piecewise_call_in_pieces,
    .resume = piecewise_resume,
};

__attribute__((visibility("default"))) const sb_engine_descriptor *switchboard_engine_abi_v1(void) { return &descriptor; }
