/*
 * An engine whose results decode, or nearly, but break the contract the API promises its
 * clients: the host must answer 502 naming the engine and what was wrong, never pass them on.
 *
 *   contacts.list          three contacts, whatever the limit
 *   contacts.get           a contact whose id is not a chat id
 *   contacts.check-exists  numberExists as a string
 *   contacts.upsert        an array, not an object
 *   lids.list              a mapping whose pn is not a phone number id
 *   lids.get-by-lid        a lid without @lid
 */
#include "switchboard_engine.h"

#include <string.h>

static const char *const features[] = {
    SB_FEATURE_CONTACTS_LIST, SB_FEATURE_CONTACTS_GET, SB_FEATURE_CONTACTS_CHECK_EXISTS,
    SB_FEATURE_CONTACTS_UPSERT, SB_FEATURE_LIDS_LIST, SB_FEATURE_LIDS_GET_BY_LID,
};
#define FEATURE_COUNT (sizeof features / sizeof features[0])

static const struct { const char *feature, *result; } answers[] = {
    {SB_FEATURE_CONTACTS_LIST, "[{\"id\":\"1@c.us\"},{\"id\":\"2@c.us\"},{\"id\":\"3@c.us\"}]"},
    {SB_FEATURE_CONTACTS_GET, "{\"id\":\"12ab@c.us\",\"name\":\"Not a number\"}"},
    {SB_FEATURE_CONTACTS_CHECK_EXISTS, "{\"numberExists\":\"yes\"}"},
    {SB_FEATURE_CONTACTS_UPSERT, "[1,2]"},
    {SB_FEATURE_LIDS_LIST, "[{\"lid\":\"111@lid\",\"pn\":\"not-a-number\"}]"},
    {SB_FEATURE_LIDS_GET_BY_LID, "{\"lid\":\"111\",\"pn\":\"14155550100@c.us\"}"},
};

static int instance_token;

static sb_status create(const sb_engine_descriptor *descriptor, const sb_host_services *host, const uint8_t *config,
                        size_t config_length, sb_engine_instance **out, sb_bytes_sink error_sink, void *error_context) {
    (void)descriptor, (void)host, (void)config, (void)config_length, (void)error_sink, (void)error_context;
    *out = (sb_engine_instance *)&instance_token;
    return SB_STATUS_OK;
}

static void destroy(sb_engine_instance *instance) { (void)instance; }

static void call(sb_engine_instance *instance, const char *feature, const uint8_t *request, size_t length,
                 sb_completion completion, void *context) {
    (void)instance, (void)request, (void)length;
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        if (strcmp(feature, answers[i].feature) == 0) {
            completion(context, SB_STATUS_OK, (const uint8_t *)answers[i].result, strlen(answers[i].result));
            return;
        }
    }
    completion(context, SB_STATUS_NOT_IMPLEMENTED, NULL, 0);
}

static void instance_features(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    (void)instance;
    for (size_t i = 0; i < FEATURE_COUNT; i++) sink(context, (const uint8_t *)features[i], strlen(features[i]));
}

static void status(sb_engine_instance *instance, sb_bytes_sink sink, void *context) {
    (void)instance;
    static const char body[] = "{\"health\":\"ok\",\"message\":\"\",\"counters\":{}}";
    sink(context, (const uint8_t *)body, sizeof body - 1);
}

static const sb_engine_descriptor descriptor = {
    .struct_size = sizeof(sb_engine_descriptor),
    .abi_version_major = SB_ABI_VERSION_MAJOR,
    .abi_version_minor = SB_ABI_VERSION_MINOR,
    .name = "breaker",
    .version = "1.0.0",
    .description = "results that break the contract",
    .features = features,
    .feature_count = FEATURE_COUNT,
    .create = create,
    .destroy = destroy,
    .call = call,
    .instance_features = instance_features,
    .status = status,
};

__attribute__((visibility("default"))) const sb_engine_descriptor *switchboard_engine_abi_v1(void) { return &descriptor; }
