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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

typedef exports_allsync_adapter_adapter_config_t allsync_config_t;
typedef exports_allsync_adapter_adapter_error_t allsync_error_t;
typedef exports_allsync_adapter_adapter_info_t allsync_info_t;
typedef exports_allsync_adapter_adapter_list_rejected_t allsync_rejected_list_t;
typedef exports_allsync_adapter_adapter_rejected_t allsync_rejected_t;

// Fails a call: fills `err` with `tag` (ALLSYNC_ADAPTER_TYPES_ERROR_..., any
// but RATE_LIMITED, whose payload is seconds: set `err->val.rate_limited`) and
// a copy of `message`, and returns false, so `return allsync_fail(...)` reads well.
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

// Appends a rejection of (a copy of) `thing`, with a copy of `reason`, to the
// rejected list an add or remove returns.
static inline void allsync_reject(allsync_rejected_list_t *list, const plugin_string_t *thing, const char *reason) {
    list->ptr = realloc(list->ptr, (list->len + 1) * sizeof *list->ptr);
    allsync_rejected_t *rejection = &list->ptr[list->len++];
    plugin_string_dup_n(&rejection->thing, (const char *)thing->ptr, thing->len);
    plugin_string_dup(&rejection->reason, reason);
}

// What one add or remove call did, thing by thing. The host counts as applied
// every thing a call was given and did not reject; a call that sends several
// requests can fail part-way, and the things a failed request did not apply
// must then come back rejected, or the host would report them as done:
//
//     allsync_outcome_t outcome = {0};
//     for (size_t i = 0; i < things->len; i++) {
//         const char *why = add_one(&things->ptr[i]);   // your request: NULL when done, else why not
//         if (why != NULL) {                            // stop here: reject this one and the rest
//             allsync_outcome_failed(&outcome, &things->ptr[i], things->len - i,
//                                    ALLSYNC_ADAPTER_TYPES_ERROR_OTHER, why);
//             break;
//         }
//         outcome.applied++;
//     }
//     plugin_list_string_free(things);
//     return allsync_outcome_finish(&outcome, ret, err);
//
// Count each applied thing in `applied`; reject a thing for a reason of its
// own with allsync_reject(&outcome.rejected, ...).
typedef struct allsync_outcome_t {
    size_t applied;
    allsync_rejected_list_t rejected;
    bool failed;
    allsync_error_t failure;   // the first failure, when `failed`
} allsync_outcome_t;

// The kind of a message-carrying error `tag`, as it leads a rejection reason.
static inline const char *allsync_error_kind(uint8_t tag) {
    switch (tag) {
    case ALLSYNC_ADAPTER_TYPES_ERROR_INVALID_CONFIG: return "invalid config: ";
    case ALLSYNC_ADAPTER_TYPES_ERROR_UNAUTHORIZED: return "unauthorized: ";
    case ALLSYNC_ADAPTER_TYPES_ERROR_NOT_FOUND: return "not found: ";
    case ALLSYNC_ADAPTER_TYPES_ERROR_UNSUPPORTED: return "unsupported: ";
    default: return "";
    }
}

// Notes that the `count` things at `things` were not applied because a request
// failed with `tag` (as for allsync_fail) and `message`: each is rejected with
// "not applied: <kind>: <message>", and the first failure is kept for
// allsync_outcome_finish.
static inline void allsync_outcome_failed(allsync_outcome_t *outcome, const plugin_string_t *things, size_t count,
                                          uint8_t tag, const char *message) {
    const char *kind = allsync_error_kind(tag);
    size_t size = (size_t)snprintf(NULL, 0, "not applied: %s%s", kind, message) + 1;
    char *reason = malloc(size);
    snprintf(reason, size, "not applied: %s%s", kind, message);
    for (size_t i = 0; i < count; i++) {
        allsync_reject(&outcome->rejected, &things[i], reason);
    }
    free(reason);
    if (!outcome->failed) {
        allsync_fail(&outcome->failure, tag, message);
        outcome->failed = true;
    }
}

// Ends an add or remove call with what `outcome` noted: moves the rejections
// into `ret` and returns true; or, when a request failed and nothing at all was
// applied, moves that first failure into `err` and returns false (so "nothing
// was done" reads as such). `return allsync_outcome_finish(...)` reads well.
static inline bool allsync_outcome_finish(allsync_outcome_t *outcome, allsync_rejected_list_t *ret,
                                          allsync_error_t *err) {
    if (outcome->failed && outcome->applied == 0) {
        exports_allsync_adapter_adapter_list_rejected_free(&outcome->rejected);
        *err = outcome->failure;
        return false;
    }
    if (outcome->failed) {
        exports_allsync_adapter_adapter_error_free(&outcome->failure);
    }
    *ret = outcome->rejected;
    return true;
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
