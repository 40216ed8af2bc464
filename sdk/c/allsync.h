// Helpers for writing allsync adapters in C over the `wit-bindgen c`
// bindings in gen/ (world `plugin` of wit/adapter.wit).
//
// Ownership, as the component model's C bindings have it: the adapter owns
// the arguments it is given (free them when done), and everything it returns,
// error messages included, must be heap-allocated: the generated glue frees
// it after the call. These helpers follow that rule.

#ifndef ALLSYNC_H
#define ALLSYNC_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

typedef exports_allsync_adapter_adapter_config_t allsync_config_t;
typedef exports_allsync_adapter_adapter_error_t allsync_error_t;
typedef exports_allsync_adapter_adapter_info_t allsync_info_t;
typedef exports_allsync_adapter_adapter_list_rejected_t allsync_rejected_list_t;

// Fails a call: fills `err` with `tag` (ALLSYNC_ADAPTER_TYPES_ERROR_...) and a
// copy of `message`, and returns false, so `return allsync_fail(...)` reads well.
static inline bool allsync_fail(allsync_error_t *err, uint8_t tag, const char *message) {
    err->tag = tag;
    plugin_string_dup(&err->val.other, message);
    return false;
}

// Whether a component-model string holds exactly the C string `text`.
static inline bool allsync_string_is(const plugin_string_t *string, const char *text) {
    size_t len = strlen(text);
    return string->len == len && memcmp(string->ptr, text, len) == 0;
}

// The value of config key `name`, or NULL.
static inline const plugin_string_t *allsync_config_get(const allsync_config_t *config, const char *name) {
    for (size_t i = 0; i < config->len; i++) {
        if (allsync_string_is(&config->ptr[i].f0, name)) {
            return &config->ptr[i].f1;
        }
    }
    return NULL;
}

// Appends a copy of `len` bytes at `text` to a list of strings.
static inline void allsync_list_push(plugin_list_string_t *list, const char *text, size_t len) {
    list->ptr = realloc(list->ptr, (list->len + 1) * sizeof(plugin_string_t));
    plugin_string_dup_n(&list->ptr[list->len++], text, len);
}

// Appends each comma-separated, space-trimmed, non-empty item of `value` to `list`.
static inline void allsync_list_split(plugin_list_string_t *list, const plugin_string_t *value) {
    const char *text = (const char *)value->ptr;
    size_t start = 0;
    for (size_t i = 0; i <= value->len; i++) {
        if (i < value->len && text[i] != ',') {
            continue;
        }
        size_t from = start, to = i;
        while (from < to && text[from] == ' ') from++;
        while (to > from && text[to - 1] == ' ') to--;
        if (to > from) {
            allsync_list_push(list, text + from, to - from);
        }
        start = i + 1;
    }
}

// A copy of `list` (for returning a list the adapter keeps).
static inline plugin_list_string_t allsync_list_copy(const plugin_list_string_t *list) {
    plugin_list_string_t copy = {0};
    for (size_t i = 0; i < list->len; i++) {
        allsync_list_push(&copy, (const char *)list->ptr[i].ptr, list->ptr[i].len);
    }
    return copy;
}

// Starts `describe`'s answer.
static inline void allsync_info(allsync_info_t *info, const char *name, const char *version, const char *description,
                                bool read_only) {
    memset(info, 0, sizeof *info);
    plugin_string_dup(&info->name, name);
    plugin_string_dup(&info->version, version);
    plugin_string_dup(&info->description, description);
    info->read_only = read_only;
}

// Declares a config key in `describe`'s answer.
static inline void allsync_info_key(allsync_info_t *info, const char *name, const char *description, bool required,
                                    bool secret) {
    allsync_adapter_types_list_config_key_t *keys = &info->config;
    keys->ptr = realloc(keys->ptr, (keys->len + 1) * sizeof *keys->ptr);
    allsync_adapter_types_config_key_t *key = &keys->ptr[keys->len++];
    plugin_string_dup(&key->name, name);
    plugin_string_dup(&key->description, description);
    key->required = required;
    key->secret = secret;
}

// Declares an origin the adapter reaches, e.g. "https://example.com".
static inline void allsync_info_host(allsync_info_t *info, const char *origin) {
    allsync_list_push(&info->hosts, origin, strlen(origin));
}

#endif
