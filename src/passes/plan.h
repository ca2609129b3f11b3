/* Memory planning: offsets in one arena for buffers with known lifetimes.
 *
 * A buffer occupies [offset, offset + size) of the arena during the steps
 * first..last (inclusive).  Two buffers whose step ranges intersect never
 * share bytes; buffers that are never live at the same step may.  The
 * planner is independent of programs (liveness.c turns a program into
 * buffers), so it is tested on synthetic lifetimes. */
#ifndef OT_PASSES_PLAN_H
#define OT_PASSES_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/status.h"

/* Arena alignment: every buffer starts at a multiple of it (a cache line, and
   what vectorised kernels and cuBLAS want). */
#define OT_PLAN_ALIGN 64

typedef struct ot_plan_buf {
    size_t size;   /* bytes (rounded up to the alignment by the planner) */
    int first;     /* first step at which it is live */
    int last;      /* last step at which it is live (>= first) */
    size_t offset; /* result */
} ot_plan_buf;

/* size rounded up to `align` (a power of two); SIZE_MAX on overflow. */
size_t ot_plan_round(size_t size, size_t align);

/* The most bytes live at any one step: sum over live buffers of their
   rounded sizes.  No placement can use a smaller arena. */
size_t ot_plan_lower_bound(const ot_plan_buf *b, int n, size_t align);

/* Assigns b[i].offset for every buffer and the arena size in *arena_bytes.
 * Several greedy orders (by size, by size x lifetime, by start, by lifetime)
 * each place every buffer in the best-fitting gap among the buffers already
 * placed whose lifetimes intersect it (or on top); the smallest arena wins,
 * stopping early when one reaches the lower bound. */
ot_status ot_plan_assign(ot_plan_buf *b, int n, size_t align, size_t *arena_bytes);

/* OT_OK when no two buffers live at a common step overlap in the arena and
   every buffer lies inside [0, arena_bytes) at an aligned offset; otherwise
   OT_ERR_INTERNAL naming the pair (used by tests and debug builds). */
ot_status ot_plan_check(const ot_plan_buf *b, int n, size_t align, size_t arena_bytes);

#endif
