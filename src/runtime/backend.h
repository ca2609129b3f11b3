/* A backend is a small vtable: it owns buffers and runs steps.  The CPU
 * backend is the reference; the CUDA backend implements the same table. */
#ifndef OT_RUNTIME_BACKEND_H
#define OT_RUNTIME_BACKEND_H

#include <stddef.h>

#include "../../ops/op.h"

typedef struct ot_backend {
    const char *name;
    void *(*alloc)(size_t bytes);        /* zeroed; NULL on failure */
    void (*free)(void *p);
    void (*to_host)(void *dst, const void *src, size_t bytes);
    void (*from_host)(void *dst, const void *src, size_t bytes);
    /* Runs one kernel: the op's implementation for this backend. */
    ot_status (*run)(const ot_op_def *op, ot_kctx *c);
    void (*sync)(void);
} ot_backend;

const ot_backend *ot_backend_cpu(void);

#endif
