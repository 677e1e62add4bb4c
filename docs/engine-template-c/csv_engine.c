/* A Switchboard engine in C serving a CSV file's contacts, with jansson for JSON. Configuration:
 * {"path": "<file>"}, a relative path meaning the session's state folder. An optional first line
 * "id,name"; then one contact a line: a phone number (6 to 15 digits, or <digits>@c.us), a comma,
 * the name (the rest of the line; empty: unnamed).
 * The file is read in `create`, where blocking is fine; `call` must not block, and answers from
 * memory before it returns. Build: cc -shared -fPIC -I <SDK>/Sources/CContactsEngine/include csv_engine.c -ljansson */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "switchboard_engine.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No contacts.check-exists: it means "registered on WhatsApp", which an address book cannot know. */
static const char *const features[] = {SB_FEATURE_CONTACTS_LIST, SB_FEATURE_CONTACTS_GET};
struct contact { char *id, *name; }; /* name NULL: unnamed */
/* Every contact sorted by id, and the same contacts in the name order: any page is a slice. */
struct sb_engine_instance { struct contact *by_id, **by_name; size_t count; };

static int compare_id(const void *a, const void *b) { return strcmp(((const struct contact *)a)->id, ((const struct contact *)b)->id); }
/* The name order of every engine: named contacts first, by name (strcmp's UTF-8 byte order is
 * code point order), then unnamed ones; ties by id. Descending is the exact reverse. */
static int compare_name(const void *a, const void *b) {
    const struct contact *x = *(struct contact *const *)a, *y = *(struct contact *const *)b;
    if (!x->name != !y->name) return x->name ? -1 : 1;
    return x->name && strcmp(x->name, y->name) ? strcmp(x->name, y->name) : strcmp(x->id, y->id);
}
/* How many digits `text` starts with when they are a phone number (6 to 15), else 0. */
static size_t phone_digits(const char *text) { size_t n = strspn(text, "0123456789"); return n >= 6 && n <= 15 ? n : 0; }
static void csv_destroy(sb_engine_instance *self) {
    for (size_t i = 0; i < self->count; i++) free(self->by_id[i].id), free(self->by_id[i].name);
    free(self->by_id), free(self->by_name), free(self);
}
/* Appends the contact of one CSV line; the reason when it cannot. */
static const char *add(sb_engine_instance *self, char *line) {
    char *comma = strchr(line, ',');
    if (comma) *comma = '\0';
    size_t digits = phone_digits(line);
    if (!digits || (line[digits] && strcmp(line + digits, "@c.us") != 0)) return "the id is not 6 to 15 digits";
    struct contact *grown = realloc(self->by_id, (self->count + 1) * sizeof *grown);
    if (!grown) return "out of memory";
    struct contact *c = &(self->by_id = grown)[self->count++];
    if ((c->id = malloc(digits + sizeof "@c.us"))) memcpy(c->id, line, digits), strcpy(c->id + digits, "@c.us");
    c->name = comma && comma[1] ? strdup(comma + 1) : NULL;
    return c->id ? NULL : "out of memory";
}

static sb_status csv_create(const sb_engine_descriptor *descriptor, const sb_host_services *host, const uint8_t *config,
                            size_t length, sb_engine_instance **out, sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor;
    const char *path = NULL;
    char resolved[4096]; /* a relative path means the session's state folder, as for every engine */
    json_t *json = json_loadb((const char *)config, length, 0, NULL);
    if (json && json_unpack(json, "{s:s}", "path", &path) == 0 && path[0] != '/' && host->state_directory)
        snprintf(resolved, sizeof resolved, "%s/%s", host->state_directory, path), path = resolved;
    FILE *file = path ? fopen(path, "r") : NULL;
    char line[1024], error[160] = ""; /* a line longer than 1023 bytes is read as two */
    if (!file) snprintf(error, sizeof error, "configuration must be {\"path\": \"<a readable CSV file>\"}, not %.80s", path ? path : "that");
    json_decref(json);
    sb_engine_instance *self = calloc(1, sizeof *self);
    for (size_t number = 1; file && self && !error[0] && fgets(line, sizeof line, file); number++) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *reason = !line[0] || (number == 1 && strcmp(line, "id,name") == 0) ? NULL : add(self, line);
        if (reason) snprintf(error, sizeof error, "line %zu: %s", number, reason);
    }
    if (file) fclose(file);
    if (self && !error[0] && (self->by_name = malloc((self->count + 1) * sizeof *self->by_name))) {
        qsort(self->by_id, self->count, sizeof *self->by_id, compare_id);
        for (size_t i = 0; i < self->count; i++) self->by_name[i] = &self->by_id[i];
        for (size_t i = 1; i < self->count; i++) if (!strcmp(self->by_id[i - 1].id, self->by_id[i].id)) snprintf(error, sizeof error, "%s is there twice", self->by_id[i].id);
        qsort(self->by_name, self->count, sizeof *self->by_name, compare_name);
    }
    if (self && self->by_name && !error[0]) return *out = self, SB_STATUS_OK;
    if (self) csv_destroy(self);
    if (!error[0]) strcpy(error, "out of memory");
    error_sink(error_context, (const uint8_t *)error, strlen(error));
    return SB_STATUS_INVALID_INPUT;
}
static void fail(sb_completion done, void *context, sb_status status, const char *message) { done(context, status, (const uint8_t *)message, strlen(message)); }
/* Completes with `result` as JSON and releases it. */
static void answer(sb_completion done, void *context, json_t *result) {
    char *text = json_dumps(result, JSON_COMPACT); /* jansson allocates it; we free it */
    json_decref(result);
    if (!text) return fail(done, context, SB_STATUS_INTERNAL, "out of memory");
    done(context, SB_STATUS_OK, (const uint8_t *)text, strlen(text));
    free(text);
}
static json_t *contact_json(const struct contact *c) { return json_pack("{s:s, s:s*}", "id", c->id, "name", c->name); }
static const struct contact *find(sb_engine_instance *self, const char *id) {
    return bsearch(&(struct contact){(char *)id, NULL}, self->by_id, self->count, sizeof *self->by_id, compare_id);
}
/* A chat id as the host passes it: <digits>@c.us, <digits>@lid or <digits>[-<digits>]@g.us. */
static int is_chat_id(const char *id) {
    size_t n = strspn(id, "0123456789"), more = id[n] == '-' ? strspn(id + n + 1, "0123456789") : 0;
    const char *end = id + n + (more ? 1 + more : 0);
    return n && (!strcmp(end, "@g.us") || (!more && (!strcmp(end, "@c.us") || !strcmp(end, "@lid"))));
}

static void list(sb_engine_instance *self, json_t *request, sb_completion done, void *context) {
    json_t *limit = NULL; /* absent or null: every contact from offset on */
    json_int_t offset = 0;
    const char *sort_by = "id", *order = "asc";
    if (json_unpack(request, "{s?o, s?I, s?s, s?s}", "limit", &limit, "offset", &offset, "sortBy", &sort_by, "sortOrder", &order)
        || (limit && !json_is_null(limit) && (!json_is_integer(limit) || json_integer_value(limit) < 0)) || offset < 0
        || (strcmp(sort_by, "id") && strcmp(sort_by, "name")) || (strcmp(order, "asc") && strcmp(order, "desc")))
        return fail(done, context, SB_STATUS_INVALID_INPUT, "limit, offset: integers >= 0; sortBy: id or name; sortOrder: asc or desc");
    json_int_t size = json_is_integer(limit) ? json_integer_value(limit) : (json_int_t)self->count;
    int by_name = strcmp(sort_by, "name") == 0, descending = strcmp(order, "desc") == 0;
    json_t *page = json_array();
    for (json_int_t i = offset; i < (json_int_t)self->count && i - offset < size; i++) {
        size_t at = descending ? self->count - 1 - (size_t)i : (size_t)i;
        json_array_append_new(page, contact_json(by_name ? self->by_name[at] : &self->by_id[at]));
    }
    answer(done, context, page);
}

static void csv_call(sb_engine_instance *self, const char *feature, const uint8_t *bytes, size_t length,
                     sb_completion done, void *context) {
    json_t *request = json_loadb((const char *)bytes, length, 0, NULL);
    const char *text = "";
    if (!request) return fail(done, context, SB_STATUS_INVALID_INPUT, "the request is not JSON");
    if (strcmp(feature, SB_FEATURE_CONTACTS_LIST) == 0) {
        list(self, request, done, context);
    } else if (strcmp(feature, SB_FEATURE_CONTACTS_GET) == 0) {
        if (json_unpack(request, "{s:s}", "contactId", &text) != 0 || !is_chat_id(text))
            fail(done, context, SB_STATUS_INVALID_INPUT, "contactId must be a chat id, e.g. 14155550100@c.us");
        else if (!find(self, text)) fail(done, context, SB_STATUS_NOT_FOUND, "no such contact in the file");
        else answer(done, context, contact_json(find(self, text)));
    } else {
        fail(done, context, SB_STATUS_NOT_IMPLEMENTED, "not served by csv");
    }
    json_decref(request);
}
static void csv_features(sb_engine_instance *self, sb_bytes_sink sink, void *context) {
    (void)self;
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) sink(context, (const uint8_t *)features[i], strlen(features[i]));
}
static void csv_status(sb_engine_instance *self, sb_bytes_sink sink, void *context) {
    char text[96];
    sink(context, (const uint8_t *)text, (size_t)snprintf(text, sizeof text, "{\"health\":\"ok\",\"message\":\"\",\"counters\":{\"contacts\":%zu}}", self->count));
}
static const sb_engine_descriptor descriptor = {
    .struct_size = sizeof(sb_engine_descriptor), .abi_version_major = SB_ABI_VERSION_MAJOR, .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = "csv", .version = "1.0.0", .description = "Contacts from a CSV file (id,name)", .features = features,
    .feature_count = sizeof features / sizeof features[0], .create = csv_create, .destroy = csv_destroy, .call = csv_call,
    .instance_features = csv_features, .status = csv_status, .license = "Apache-2.0", .homepage = "https://example.com/csv" /* yours */};

SB_EXPORT const sb_engine_descriptor *switchboard_engine_abi_v1(void) { return &descriptor; }
