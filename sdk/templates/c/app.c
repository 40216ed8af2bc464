// The `{{name}}` adapter: a read-only source of the things listed in its
// `things` config key (comma-separated). Useful for fixed lists (on-call
// owners, break-glass accounts). Replace get() with a call to your service,
// and implement add() and remove() (with read_only false) to make it a
// destination. (Rendered with the name `static`, this is the C example.)

#include "allsync.h"

static plugin_list_string_t things;

void exports_allsync_adapter_adapter_describe(allsync_info_t *ret) {
    allsync_info(ret, "{{name}}", "0.1.0", "A fixed list of things from its config (a source)", true);
    allsync_info_key(ret, "things", "the things, comma-separated", true, false);
}

bool exports_allsync_adapter_adapter_init(allsync_config_t *config, allsync_error_t *err) {
    const plugin_string_t *value = allsync_config_get(config, "things");
    bool ok = value != NULL;
    if (ok) {
        plugin_list_string_free(&things);
        allsync_list_split(&things, value);
    }
    exports_allsync_adapter_adapter_config_free(config);
    return ok || allsync_fail(err, ALLSYNC_ADAPTER_TYPES_ERROR_INVALID_CONFIG, "missing required config key `things`");
}

bool exports_allsync_adapter_adapter_get(plugin_list_string_t *ret, allsync_error_t *err) {
    (void)err;
    *ret = allsync_list_copy(&things);
    return true;
}

bool exports_allsync_adapter_adapter_add(plugin_list_string_t *list, allsync_rejected_list_t *ret, allsync_error_t *err) {
    (void)ret;
    plugin_list_string_free(list);
    return allsync_fail(err, ALLSYNC_ADAPTER_TYPES_ERROR_UNSUPPORTED, "{{name}} is read-only: use it as a source");
}

bool exports_allsync_adapter_adapter_remove(plugin_list_string_t *list, allsync_rejected_list_t *ret, allsync_error_t *err) {
    (void)ret;
    plugin_list_string_free(list);
    return allsync_fail(err, ALLSYNC_ADAPTER_TYPES_ERROR_UNSUPPORTED, "{{name}} is read-only: use it as a source");
}
