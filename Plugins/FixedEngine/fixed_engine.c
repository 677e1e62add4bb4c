/*
 * The `fixed` engine: a small, read-only directory compiled into the plugin, written in C
 * against switchboard_engine.h alone. It proves that the ABI is language neutral and that an
 * engine may serve only part of the features: list, get and check-exists.
 *
 * Configuration (JSON object, optional): {"checkExists": false} narrows the instance to list and
 * get, to show an instance serving less than its descriptor declares.
 */
#include "switchboard_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixed_contact {
    const char *id;
    const char *name;
    const char *pushname;
};

/* Sorted by id, as contacts.list answers by default. */
static const struct fixed_contact directory[] = {
    {"14155550100@c.us", "Ada Lovelace", "ada"},
    {"14155550101@c.us", "Grace Hopper", "grace"},
    {"4930555010@c.us", "Konrad Zuse", NULL},
    {"5511987654321@c.us", "Alan Turing", "alan"},
};
static const size_t directory_count = sizeof(directory) / sizeof(directory[0]);

static const char *const all_features[] = {"contacts.list", "contacts.get", "contacts.check-exists"};

struct sb_engine_instance {
    int serves_check_exists;
    unsigned long calls; /* updated with __atomic builtins: completions may race */
    const sb_host_services *host;
};

/* Finds the value of "key" in a flat JSON object; returns a pointer to its first character. */
static const char *json_value(const char *json, size_t length, const char *key) {
    char pattern[64];
    int n = snprintf(pattern, sizeof pattern, "\"%s\"", key);
    if (n <= 0 || (size_t)n >= sizeof pattern) return NULL;
    const char *end = json + length;
    for (const char *p = json; p + n <= end; p++) {
        if (memcmp(p, pattern, (size_t)n) != 0) continue;
        p += n;
        while (p < end && (*p == ' ' || *p == ':')) p++;
        return p < end ? p : NULL;
    }
    return NULL;
}

/* Copies a JSON string value (no escapes expected in ids) into out; returns 0 when absent. */
static int json_string(const char *json, size_t length, const char *key, char *out, size_t out_size) {
    const char *v = json_value(json, length, key);
    if (!v || *v != '"') return 0;
    v++;
    size_t i = 0;
    while (v < json + length && *v != '"' && i + 1 < out_size) out[i++] = *v++;
    out[i] = '\0';
    return v < json + length && *v == '"';
}

static long json_integer(const char *json, size_t length, const char *key, long fallback) {
    const char *v = json_value(json, length, key);
    if (!v || (*v != '-' && (*v < '0' || *v > '9'))) return fallback;
    return strtol(v, NULL, 10);
}

/* True when "key" is present with a value that is neither an integer nor null. */
static int json_not_integer(const char *json, size_t length, const char *key) {
    const char *v = json_value(json, length, key);
    return v && *v != '-' && (*v < '0' || *v > '9') && strncmp(v, "null", 4) != 0;
}

static void complete_text(sb_completion completion, void *context, sb_status status, const char *text) {
    completion(context, status, (const uint8_t *)text, strlen(text));
}

static size_t contact_json(const struct fixed_contact *c, char *out, size_t size) {
    /* Leaves out the fields it does not know; the host fills the documented defaults. */
    if (c->pushname)
        return (size_t)snprintf(out, size, "{\"id\":\"%s\",\"name\":\"%s\",\"pushname\":\"%s\",\"isMyContact\":true}",
                                c->id, c->name, c->pushname);
    return (size_t)snprintf(out, size, "{\"id\":\"%s\",\"name\":\"%s\",\"isMyContact\":true}", c->id, c->name);
}

static int compare_by_name(const void *a, const void *b) {
    return strcmp((*(const struct fixed_contact *const *)a)->name, (*(const struct fixed_contact *const *)b)->name);
}

static void list_contacts(const char *request, size_t length, sb_completion completion, void *context) {
    long limit = json_integer(request, length, "limit", -1);
    long offset = json_integer(request, length, "offset", 0);
    char sort_by[8] = "id", order[8] = "asc";
    json_string(request, length, "sortBy", sort_by, sizeof sort_by);
    json_string(request, length, "sortOrder", order, sizeof order);
    if (json_not_integer(request, length, "limit") || json_not_integer(request, length, "offset"))
        return complete_text(completion, context, SB_STATUS_INVALID_INPUT, "limit and offset must be integers");
    if (offset < 0) return complete_text(completion, context, SB_STATUS_INVALID_INPUT, "offset must not be negative");

    const struct fixed_contact *sorted[sizeof(directory) / sizeof(directory[0])];
    for (size_t i = 0; i < directory_count; i++) sorted[i] = &directory[i];
    if (strcmp(sort_by, "name") == 0) qsort(sorted, directory_count, sizeof sorted[0], compare_by_name);
    int descending = strcmp(order, "desc") == 0;

    char body[2048];
    size_t used = 0;
    body[used++] = '[';
    size_t emitted = 0;
    for (size_t i = (size_t)offset; i < directory_count && (limit < 0 || emitted < (size_t)limit); i++, emitted++) {
        const struct fixed_contact *c = sorted[descending ? directory_count - 1 - i : i];
        if (emitted) body[used++] = ',';
        used += contact_json(c, body + used, sizeof body - used - 2);
    }
    body[used++] = ']';
    completion(context, SB_STATUS_OK, (const uint8_t *)body, used);
}

/* ChatID.normalizedContactID's rule for a full id: <digits>@c.us, <digits>@lid, <digits>[-<digits>]@g.us. */
static int is_chat_id(const char *id) {
    size_t digits = strspn(id, "0123456789");
    if (digits == 0) return 0;
    if (strcmp(id + digits, "@c.us") == 0 || strcmp(id + digits, "@lid") == 0 || strcmp(id + digits, "@g.us") == 0) return 1;
    if (id[digits] != '-') return 0;
    size_t more = strspn(id + digits + 1, "0123456789");
    return more > 0 && strcmp(id + digits + 1 + more, "@g.us") == 0;
}

static const struct fixed_contact *find_contact(const char *id) {
    for (size_t i = 0; i < directory_count; i++)
        if (strcmp(directory[i].id, id) == 0) return &directory[i];
    return NULL;
}

static void get_contact(const char *request, size_t length, sb_completion completion, void *context) {
    char id[96];
    if (!json_string(request, length, "contactId", id, sizeof id))
        return complete_text(completion, context, SB_STATUS_INVALID_INPUT, "contactId is required");
    if (!is_chat_id(id)) return complete_text(completion, context, SB_STATUS_INVALID_INPUT, "contactId is not a chat id");
    const struct fixed_contact *c = find_contact(id);
    if (!c) return complete_text(completion, context, SB_STATUS_NOT_FOUND, "no such contact in the fixed directory");
    char body[512];
    size_t used = contact_json(c, body, sizeof body);
    completion(context, SB_STATUS_OK, (const uint8_t *)body, used);
}

static void check_exists(const char *request, size_t length, sb_completion completion, void *context) {
    char phone[64], id[96];
    if (!json_string(request, length, "phone", phone, sizeof phone))
        return complete_text(completion, context, SB_STATUS_INVALID_INPUT, "phone is required");
    /* The SDK's rule (ChatID.phoneNumberDigits): 6 to 15 digits, country code first. */
    size_t digits = strspn(phone, "0123456789");
    if (phone[digits] != '\0' || digits < 6 || digits > 15)
        return complete_text(completion, context, SB_STATUS_INVALID_INPUT, "phone must be 6 to 15 digits, country code first");
    snprintf(id, sizeof id, "%s@c.us", phone);
    char body[160];
    int n = find_contact(id) ? snprintf(body, sizeof body, "{\"numberExists\":true,\"chatId\":\"%s\"}", id)
                             : snprintf(body, sizeof body, "{\"numberExists\":false}");
    completion(context, SB_STATUS_OK, (const uint8_t *)body, (size_t)n);
}

static sb_status fixed_create(const sb_engine_descriptor *descriptor, const sb_host_services *host,
                              const uint8_t *config, size_t config_length, sb_engine_instance **out,
                              sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor;
    const char *json = (const char *)config;
    if (config_length == 0 || json[0] != '{') {
        static const char message[] = "configuration must be a JSON object";
        error_sink(error_context, (const uint8_t *)message, sizeof message - 1);
        return SB_STATUS_INVALID_INPUT;
    }
    sb_engine_instance *instance = calloc(1, sizeof *instance);
    if (!instance) return SB_STATUS_INTERNAL;
    const char *check = json_value(json, config_length, "checkExists");
    instance->serves_check_exists = !(check && strncmp(check, "false", 5) == 0);
    instance->host = host;
    if (SB_HAS_MEMBER(sb_host_services, host->struct_size, log) && host->log)
        host->log(host->host_context, SB_LOG_INFO, instance->serves_check_exists
                  ? "fixed directory ready: list, get, check-exists"
                  : "fixed directory ready: list, get (check-exists off by configuration)");
    *out = instance;
    return SB_STATUS_OK;
}

/* Every call completes before `call` returns, so nothing is outstanding here. */
static void fixed_destroy(sb_engine_instance *instance) { free(instance); }

static void fixed_call(sb_engine_instance *instance, const char *feature, const uint8_t *request,
                       size_t request_length, sb_completion completion, void *completion_context) {
    __atomic_add_fetch(&instance->calls, 1, __ATOMIC_RELAXED);
    const char *json = (const char *)request;
    if (strcmp(feature, "contacts.list") == 0)
        list_contacts(json, request_length, completion, completion_context);
    else if (strcmp(feature, "contacts.get") == 0)
        get_contact(json, request_length, completion, completion_context);
    else if (strcmp(feature, "contacts.check-exists") == 0 && instance->serves_check_exists)
        check_exists(json, request_length, completion, completion_context);
    else
        complete_text(completion, completion_context, SB_STATUS_NOT_IMPLEMENTED, "the fixed engine does not serve this feature");
}

static void fixed_instance_features(sb_engine_instance *instance, sb_bytes_sink sink, void *sink_context) {
    size_t count = instance->serves_check_exists ? 3 : 2;
    for (size_t i = 0; i < count; i++) sink(sink_context, (const uint8_t *)all_features[i], strlen(all_features[i]));
}

static void fixed_status(sb_engine_instance *instance, sb_bytes_sink sink, void *sink_context) {
    char body[160];
    int n = snprintf(body, sizeof body, "{\"health\":\"ok\",\"message\":\"%zu contacts\",\"counters\":{\"calls\":%lu}}",
                     directory_count, __atomic_load_n(&instance->calls, __ATOMIC_RELAXED));
    sink(sink_context, (const uint8_t *)body, (size_t)n);
}

static const sb_engine_descriptor descriptor = {
    .struct_size = sizeof(sb_engine_descriptor),
    .abi_version_major = SB_ABI_VERSION_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = "fixed",
    .version = "1.0.0",
    .description = "A fixed, read-only directory compiled into the plugin (written in C)",
    .features = all_features,
    .feature_count = sizeof(all_features) / sizeof(all_features[0]),
    .create = fixed_create,
    .destroy = fixed_destroy,
    .call = fixed_call,
    .instance_features = fixed_instance_features,
    .status = fixed_status,
};

__attribute__((visibility("default"))) const sb_engine_descriptor *switchboard_engine_abi_v1(void) {
    return &descriptor;
}
