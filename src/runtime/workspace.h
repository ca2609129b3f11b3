/* Kernel scratch memory without allocation during a step.
 *
 * Kernels that need temporary buffers (Conv's im2col columns, Einsum's
 * permuted operands, float16 staging, per-thread partial sums) take them
 * from ot_workspace_alloc instead of ot_malloc.  While a program step runs, the
 * executor hands the calling thread that step's workspace: a region of the
 * program's arena, planned like any transient buffer but live only during
 * the step.  Allocations are bumped out of it and ot_workspace_free is a no-op
 * for them.
 *
 * How much a step needs is measured: the scratch asked for during a step is
 * recorded, and when it exceeds the planned workspace (always on a program's
 * first run, unless infer declared it with ot_workspace_request) the request
 * is served from the heap and the program re-plans its arena before the next
 * run.  From then on the step allocates nothing.  Outside a program step
 * (unit tests calling a kernel directly, folding at compile time, OpenMP
 * worker threads) every call goes to the heap, so kernels need no special
 * case.
 *
 * Each block carries a small header saying where it came from, so any thread
 * may free any block.  Blocks are 16-byte aligned (like malloc). */
#ifndef OT_RUNTIME_WORKSPACE_H
#define OT_RUNTIME_WORKSPACE_H

#include <stddef.h>

/* NULL when out of memory (bytes == 0 gives a valid, empty block). */
void *ot_workspace_alloc(size_t bytes);
/* Zeroed; NULL when out of memory or count * size overflows. */
void *ot_workspace_calloc(size_t count, size_t size);
void ot_workspace_free(void *p);

/* Infer (optional): the kernel of the node being inferred will ask for about
   `bytes` of scratch per run (the sum of its ot_workspace_alloc sizes); the
   planner reserves it from the start.  Requests add up. */
void ot_workspace_request(size_t bytes);

/* ---- executor side ----------------------------------------------------------- */

/* Workspace bytes that a step asking for these `bytes` in one block uses. */
size_t ot_workspace_footprint(size_t bytes);
/* The calling thread's workspace, saved by ot_workspace_begin and restored
   by ot_workspace_end, so a kernel may run a nested program (control flow). */
typedef struct ot_workspace_state {
    char *base;
    size_t cap, used, demand;
    int active;
} ot_workspace_state;
/* The calling thread's kernel scratch is [base, base + cap) until
   ot_workspace_end, which returns the bytes the step asked for (headers
   included: what a workspace must hold to serve them all). */
ot_workspace_state ot_workspace_begin(void *base, size_t cap);
size_t ot_workspace_end(const ot_workspace_state *saved);
/* Brackets a node's infer call; returns the bytes it requested. */
size_t ot_workspace_request_begin(void);
size_t ot_workspace_request_end(size_t saved);

#endif
