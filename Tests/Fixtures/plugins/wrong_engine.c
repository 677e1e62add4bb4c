/*
 * An engine for testing the conformance kit: correct when built plain, and wrong in exactly one
 * way when built with one of these defines, so a test proves the kit catches that one flaw.
 *
 *   LIES_ABOUT_FEATURE  declares contacts.about but answers it not-implemented
 *   WRONG_SHAPE         answers contacts.list with an object instead of an array
 *   ACCEPTS_GARBAGE     answers contacts.get with a contact whatever the request holds
 *
 * It serves contacts.list, contacts.get (and contacts.about when it lies) over one contact.
 */
#include "switchboard_engine.h"

#include <stdlib.h>
#include <string.h>

static const char *const features[] = {
    "contacts.list", "contacts.get",
#ifdef LIES_ABOUT_FEATURE
    "contacts.about",
#endif
};
static const size_t feature_count = sizeof features / sizeof features[0];

struct sb_engine_instance {
    int unused;
};

static void complete_text(sb_completion completion, void *context, sb_status status, const char *text) {
    completion(context, status, (const uint8_t *)text, strlen(text));
}

static const char contact[] = "{\"id\":\"12025550123@c.us\",\"name\":\"Only One\"}";

static void wrong_call(sb_engine_instance *instance, const char *feature, const uint8_t *request, size_t length,
                       sb_completion completion, void *context) {
    (void)instance;
    char text[256] = "";
    memcpy(text, request, length < sizeof text - 1 ? length : sizeof text - 1);
    if (strcmp(feature, "contacts.list") == 0) {
        if (strstr(text, "\"limit\": \"") || strstr(text, "\"limit\":\""))
            return complete_text(completion, context, SB_STATUS_INVALID_INPUT, "limit must be an integer");
#ifdef WRONG_SHAPE
        complete_text(completion, context, SB_STATUS_OK, contact);
#else
        char body[128] = "[";
        strcat(body, contact);
        strcat(body, "]");
        complete_text(completion, context, SB_STATUS_OK, body);
#endif
    } else if (strcmp(feature, "contacts.get") == 0) {
#ifndef ACCEPTS_GARBAGE
        if (!strstr(text, "\"contactId\": \"") && !strstr(text, "\"contactId\":\""))
            return complete_text(completion, context, SB_STATUS_INVALID_INPUT, "contactId must be a string");
        if (!strstr(text, "12025550123@c.us")) return complete_text(completion, context, SB_STATUS_NOT_FOUND, "no such contact");
#endif
        complete_text(completion, context, SB_STATUS_OK, contact);
    } else {
        complete_text(completion, context, SB_STATUS_NOT_IMPLEMENTED, "not served");
    }
}

static sb_status wrong_create(const sb_engine_descriptor *descriptor, const sb_host_services *host, const uint8_t *config,
                              size_t config_length, sb_engine_instance **out, sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor; (void)host; (void)config; (void)config_length; (void)error_sink; (void)error_context;
    *out = calloc(1, sizeof **out);
    return SB_STATUS_OK;
}

static void wrong_destroy(sb_engine_instance *instance) { free(instance); }

static void wrong_instance_features(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    (void)instance;
    for (size_t i = 0; i < feature_count; i++) sink(context, (const uint8_t *)features[i], strlen(features[i]));
}

static void wrong_status(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    (void)instance;
    static const char body[] = "{\"health\":\"ok\",\"message\":\"\",\"counters\":{}}";
    sink(context, (const uint8_t *)body, sizeof body - 1);
}

static const sb_engine_descriptor descriptor = {
    .struct_size = sizeof(sb_engine_descriptor),
    .abi_version_major = SB_ABI_VERSION_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = "wrong",
    .version = "1.0.0",
    .description = "Right, or wrong in one way chosen at build time",
    .features = features,
    .feature_count = sizeof features / sizeof features[0],
    .create = wrong_create,
    .destroy = wrong_destroy,
    .call = wrong_call,
    .instance_features = wrong_instance_features,
    .status = wrong_status,
};

__attribute__((visibility("default"))) const sb_engine_descriptor *switchboard_engine_abi_v1(void) { return &descriptor; }
