/* Status codes and the thread-local error message. */
#ifndef OT_CORE_STATUS_H
#define OT_CORE_STATUS_H

#include "onnxtrain.h"

#if defined(__GNUC__)
#define OT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OT_PRINTF(a, b)
#endif

/* Internal-only status: shape inference needs the value of an input that is
   not known at compile time (see src/runtime/compile.c). Never returned to
   API callers. */
#define OT_NEED_VALUE ((ot_status)100)

/* Sets the message and returns `code`, so callers write
   `return ot_error(OT_ERR_SHAPE, "node %s: ...", name);`.  A macro, so the
   compiler sees which code comes back (an out-of-line call hides that a
   failure status is non-zero, and -O3 then warns about every OT_TRY). */
void ot_error_set(const char *fmt, ...) OT_PRINTF(1, 2);
#define ot_error(code, ...) (ot_error_set(__VA_ARGS__), (ot_status)(code))
/* Prepends "context: " to the current message; returns `code`. */
void ot_error_prepend(const char *fmt, ...) OT_PRINTF(1, 2);
#define ot_error_context(code, ...) (ot_error_prepend(__VA_ARGS__), (ot_status)(code))
void ot_error_clear(void);

#define OT_TRY(expr)                          \
    do {                                      \
        ot_status ot_try_s_ = (expr);         \
        if (ot_try_s_ != OT_OK) return ot_try_s_; \
    } while (0)

#endif
