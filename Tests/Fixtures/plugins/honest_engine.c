/*
 * A complete engine over nine built-in contacts: contacts.list (honest paging and sorting),
 * contacts.get and contacts.check-exists (honest input validation), nothing else.
 *
 * Written against what the v1.0 header and today's both give, because it has two jobs:
 *   - compiled with -I Tests/Fixtures/abi-v1.0 (the frozen v1.0 header), it is a v1.0 binary
 *     that every later host must keep loading and serving;
 *   - compiled with today's header and one of these defines, it is wrong in exactly that one
 *     way, so a test proves the conformance kit catches that flaw:
 *
 *   IGNORES_OFFSET      pages always start at the first contact
 *   IGNORES_SORT        pages are always by id, ascending
 *   INVALID_IDS         one contact's id lacks its @c.us
 *   ACCEPTS_MALFORMED   check-exists answers any phone, "12ab" too
 *   LONG_PAGE           a page holds one contact more than limit
 *   GET_ANSWERS_OTHER   get answers the next contact of the list
 *   LIES_ABOUT_FEATURE  declares contacts.about but answers it not-implemented
 *   WRONG_SHAPE         answers contacts.list with an object instead of an array
 *   ACCEPTS_GARBAGE     get answers a contact whatever the request holds
 *   GET_OTHER_NAME      get answers the right id with the next contact's name
 *   GET_INVENTS         get answers a contact for an id the list does not hold
 *   CHECK_EXISTS_OTHER  check-exists says a listed number exists under the next contact's chat id
 *   DESC_IGNORED_8_20   sortOrder=desc is ignored for limits 8 to 20 only
 *
 * JSON through jansson (libjansson-dev), as docs/engine-template-c does.
 */
#include "switchboard_engine.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    const char *id;
    const char *name; /* NULL: unnamed */
};

/* Neither in id nor in name order; two share a name, two have none. */
static const struct entry directory[] = {
    {"4930555010@c.us", "Konrad Zuse"},
#ifdef INVALID_IDS
    {"14155550100", "Ada Lovelace"},
#else
    {"14155550100@c.us", "Ada Lovelace"},
#endif
    {"5511987654321@c.us", NULL},
    {"447700900123@c.us", "Alan Turing"},
    {"12025550123@c.us", "Ada Lovelace"},
    {"33612345678@c.us", NULL},
    {"120363025246125486@g.us", "Board"},
    {"819012345678@c.us", "Yukihiro"},
    {"14155550101@c.us", "Grace Hopper"},
};
#define COUNT (sizeof directory / sizeof directory[0])

static const char *const features[] = {
    "contacts.list", "contacts.get", "contacts.check-exists",
#ifdef LIES_ABOUT_FEATURE
    "contacts.about",
#endif
};

struct sb_engine_instance {
    size_t by_id[COUNT], by_name[COUNT]; /* indexes into directory, in each sort order */
    unsigned long calls;                 /* updated with __atomic builtins: calls may race */
};

static int compare_id(const void *a, const void *b) {
    return strcmp(directory[*(const size_t *)a].id, directory[*(const size_t *)b].id);
}

/* The documented name order: named contacts first, by name, then unnamed ones; ties by id. */
static int compare_name(const void *a, const void *b) {
    const struct entry *x = &directory[*(const size_t *)a], *y = &directory[*(const size_t *)b];
    if (x->name && y->name && strcmp(x->name, y->name) != 0) return strcmp(x->name, y->name);
    if (!x->name != !y->name) return x->name ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void fail(sb_completion done, void *context, sb_status status, const char *message) {
    done(context, status, (const uint8_t *)message, strlen(message));
}

/* Completes with `result` as JSON and releases it. */
static void answer(sb_completion done, void *context, json_t *result) {
    char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(result);
    if (!text) return fail(done, context, SB_STATUS_INTERNAL, "out of memory");
    done(context, SB_STATUS_OK, (const uint8_t *)text, strlen(text));
    free(text);
}

static json_t *contact(const struct entry *e) {
    return json_pack("{s:s, s:s*, s:b}", "id", e->id, "name", e->name, "isMyContact", 1);
}

/* The contact after `e` in the directory, for the lies that answer another contact's data
 * (unused by the honest build). */
__attribute__((unused)) static const struct entry *next(const struct entry *e) {
    return &directory[(size_t)(e - directory + 1) % COUNT];
}

static void list(sb_engine_instance *self, json_t *request, sb_completion done, void *context) {
    json_t *limit = NULL;
    json_int_t offset = 0;
    const char *sort_by = "id", *order = "asc";
    if (json_unpack(request, "{s?o, s?I, s?s, s?s}", "limit", &limit, "offset", &offset, "sortBy", &sort_by, "sortOrder", &order) != 0
        || (limit && !json_is_null(limit) && !json_is_integer(limit)))
        return fail(done, context, SB_STATUS_INVALID_INPUT, "limit and offset must be integers, sortBy and sortOrder strings");
    json_int_t size = limit && json_is_integer(limit) ? json_integer_value(limit) : (json_int_t)COUNT;
    int by_name = strcmp(sort_by, "name") == 0, descending = strcmp(order, "desc") == 0;
    if (offset < 0 || size < 0 || (!by_name && strcmp(sort_by, "id") != 0) || (!descending && strcmp(order, "asc") != 0))
        return fail(done, context, SB_STATUS_INVALID_INPUT, "offset and limit must not be negative; sortBy is id or name, sortOrder asc or desc");
#ifdef IGNORES_OFFSET
    offset = 0;
#endif
#ifdef IGNORES_SORT
    by_name = descending = 0;
#endif
#ifdef DESC_IGNORED_8_20
    if (json_is_integer(limit) && size >= 8 && size <= 20) descending = 0;
#endif
#ifdef LONG_PAGE
    size++;
#endif
    const size_t *sorted = by_name ? self->by_name : self->by_id;
    json_t *page = json_array();
    for (json_int_t i = offset; i < (json_int_t)COUNT && i - offset < size; i++)
        json_array_append_new(page, contact(&directory[sorted[descending ? COUNT - 1 - (size_t)i : (size_t)i]]));
#ifdef WRONG_SHAPE
    json_t *first = json_incref(json_array_get(page, 0));
    json_decref(page);
    page = first;
#endif
    answer(done, context, page);
}

/* ChatID.normalizedContactID's rule for a full id: <digits>@c.us, <digits>@lid, <digits>[-<digits>]@g.us. */
static int is_chat_id(const char *id) {
    size_t digits = strspn(id, "0123456789");
    if (digits == 0) return 0;
    if (strcmp(id + digits, "@c.us") == 0 || strcmp(id + digits, "@lid") == 0 || strcmp(id + digits, "@g.us") == 0) return 1;
    size_t more = id[digits] == '-' ? strspn(id + digits + 1, "0123456789") : 0;
    return more > 0 && strcmp(id + digits + 1 + more, "@g.us") == 0;
}

static const struct entry *find(const char *id) {
    for (size_t i = 0; i < COUNT; i++)
        if (strcmp(directory[i].id, id) == 0) return &directory[i];
    return NULL;
}

static void get(json_t *request, sb_completion done, void *context) {
    const char *id = NULL;
#ifdef ACCEPTS_GARBAGE
    (void)request;
    return answer(done, context, contact(&directory[0]));
#endif
    if (json_unpack(request, "{s:s}", "contactId", &id) != 0 || !is_chat_id(id))
        return fail(done, context, SB_STATUS_INVALID_INPUT, "contactId must be a chat id, e.g. 14155550100@c.us");
    const struct entry *found = find(id);
#ifdef GET_INVENTS
    if (!found) return answer(done, context, json_pack("{s:s, s:s}", "id", id, "name", "Invented"));
#endif
    if (!found) return fail(done, context, SB_STATUS_NOT_FOUND, "no such contact");
#ifdef GET_ANSWERS_OTHER
    found = next(found);
#endif
#ifdef GET_OTHER_NAME
    json_t *lie = contact(found);
    json_object_set_new(lie, "name", json_string(next(found)->name ? next(found)->name : "Someone else"));
    return answer(done, context, lie);
#endif
    answer(done, context, contact(found));
}

static void check_exists(json_t *request, sb_completion done, void *context) {
    const char *phone = NULL;
    if (json_unpack(request, "{s:s}", "phone", &phone) != 0)
        return fail(done, context, SB_STATUS_INVALID_INPUT, "phone must be a string");
#ifndef ACCEPTS_MALFORMED
    size_t digits = strspn(phone, "0123456789");
    if (phone[digits] != '\0' || digits < 6 || digits > 15)
        return fail(done, context, SB_STATUS_INVALID_INPUT, "phone must be 6 to 15 digits, country code first");
#endif
    char id[64];
    int exists = strlen(phone) < 32 && (strcpy(id, phone), strcat(id, "@c.us"), find(id) != NULL);
#ifdef CHECK_EXISTS_OTHER
    if (exists) strcpy(id, next(find(id))->id);
#endif
    answer(done, context, exists ? json_pack("{s:b, s:s}", "numberExists", 1, "chatId", id) : json_pack("{s:b}", "numberExists", 0));
}

/* Answers at once, on the caller's thread: nothing here waits, so `call` does not block. */
static void honest_call(sb_engine_instance *self, const char *feature, const uint8_t *bytes, size_t length,
                        sb_completion done, void *context) {
    __atomic_add_fetch(&self->calls, 1, __ATOMIC_RELAXED);
    json_t *request = json_loadb((const char *)bytes, length, 0, NULL);
    if (!request) return fail(done, context, SB_STATUS_INVALID_INPUT, "the request is not JSON");
    if (strcmp(feature, "contacts.list") == 0) list(self, request, done, context);
    else if (strcmp(feature, "contacts.get") == 0) get(request, done, context);
    else if (strcmp(feature, "contacts.check-exists") == 0) check_exists(request, done, context);
    else fail(done, context, SB_STATUS_NOT_IMPLEMENTED, "not served");
    json_decref(request);
}

static sb_status honest_create(const sb_engine_descriptor *descriptor, const sb_host_services *host, const uint8_t *config,
                               size_t config_length, sb_engine_instance **out, sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor; (void)host; (void)config; (void)config_length; (void)error_sink; (void)error_context;
    sb_engine_instance *self = calloc(1, sizeof *self);
    if (!self) return SB_STATUS_INTERNAL;
    for (size_t i = 0; i < COUNT; i++) self->by_id[i] = self->by_name[i] = i;
    qsort(self->by_id, COUNT, sizeof(size_t), compare_id);
    qsort(self->by_name, COUNT, sizeof(size_t), compare_name);
    *out = self;
    return SB_STATUS_OK;
}

/* Every call completed before it returned, so nothing is outstanding. */
static void honest_destroy(sb_engine_instance *self) { free(self); }

static void honest_features(sb_engine_instance *self, sb_bytes_sink sink, void *context) {
    (void)self;
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) sink(context, (const uint8_t *)features[i], strlen(features[i]));
}

static void honest_status(sb_engine_instance *self, sb_bytes_sink sink, void *context) {
    json_t *status = json_pack("{s:s, s:s, s:{s:I}}", "health", "ok", "message", "", "counters", "calls",
                               (json_int_t)__atomic_load_n(&self->calls, __ATOMIC_RELAXED));
    char *text = json_dumps(status, JSON_COMPACT);
    json_decref(status);
    if (text) sink(context, (const uint8_t *)text, strlen(text));
    free(text);
}

static const sb_engine_descriptor descriptor = {
    .struct_size = sizeof(sb_engine_descriptor),
    .abi_version_major = SB_ABI_VERSION_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = "honest",
    .version = "1.0.0",
    .description = "Nine built-in contacts, honest unless built to lie",
    .features = features,
    .feature_count = sizeof features / sizeof features[0],
    .create = honest_create,
    .destroy = honest_destroy,
    .call = honest_call,
    .instance_features = honest_features,
    .status = honest_status,
};

__attribute__((visibility("default"))) const sb_engine_descriptor *switchboard_engine_abi_v1(void) { return &descriptor; }
