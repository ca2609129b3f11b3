#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define OT_MSG_CAP 2048
static _Thread_local char ot_msg[OT_MSG_CAP];

const char *ot_last_error(void) { return ot_msg; }

void ot_error_clear(void) { ot_msg[0] = 0; }

void ot_error_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ot_msg, OT_MSG_CAP, fmt, ap);
    va_end(ap);
}

void ot_error_prepend(const char *fmt, ...) {
    char prefix[512];
    char old[OT_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, ot_msg, OT_MSG_CAP);
    /* prefix, ": ", then as much of the old message as fits */
    size_t n = strlen(prefix);
    if (n > OT_MSG_CAP - 3) n = OT_MSG_CAP - 3;
    memcpy(ot_msg, prefix, n);
    memcpy(ot_msg + n, ": ", 2);
    size_t room = OT_MSG_CAP - n - 3, m = strlen(old);
    if (m > room) m = room;
    memcpy(ot_msg + n + 2, old, m);
    ot_msg[n + 2 + m] = 0;
}

const char *ot_status_name(ot_status s) {
    switch (s) {
    case OT_OK: return "OT_OK";
    case OT_ERR_INVALID_ARG: return "OT_ERR_INVALID_ARG";
    case OT_ERR_IO: return "OT_ERR_IO";
    case OT_ERR_PARSE: return "OT_ERR_PARSE";
    case OT_ERR_UNSUPPORTED: return "OT_ERR_UNSUPPORTED";
    case OT_ERR_SHAPE: return "OT_ERR_SHAPE";
    case OT_ERR_TYPE: return "OT_ERR_TYPE";
    case OT_ERR_NOMEM: return "OT_ERR_NOMEM";
    case OT_ERR_NUMERIC: return "OT_ERR_NUMERIC";
    case OT_ERR_CANCELLED: return "OT_ERR_CANCELLED";
    case OT_ERR_INTERNAL: return "OT_ERR_INTERNAL";
    }
    return "OT_ERR_UNKNOWN";
}
