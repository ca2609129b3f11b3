/* The CPU backend: host memory, kernels from the op table's `cpu` entries. */
#include <string.h>

#include "../core/alloc.h"
#include "backend.h"

static void *cpu_alloc(size_t bytes) { return ot_calloc(1, bytes ? bytes : 1); }
static void cpu_free(void *p) { ot_free(p); }
static void cpu_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) memcpy(dst, src, bytes);
}
static ot_status cpu_run(const ot_op_def *op, ot_kctx *c) {
    if (!op->cpu) return ot_op_error(c, OT_ERR_UNSUPPORTED, "no CPU kernel");
    return op->cpu(c);
}
static void cpu_sync(void) {}

static const ot_backend ot_cpu_backend = {"cpu", cpu_alloc, cpu_free, cpu_copy, cpu_copy, cpu_run, cpu_sync};

const ot_backend *ot_backend_cpu(void) { return &ot_cpu_backend; }
