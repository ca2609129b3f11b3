/* Liveness of a compiled program's transient values (OT_SLOT_BUFFER slots)
 * over its step list, and the storage they can share.
 *
 * A value is live from the step that produces it to the last step that reads
 * it; graph outputs live to the end (callers read them after the run).
 * Graph inputs, parameters and constants are not transient.
 *
 * Aliasing puts values into groups that share one buffer:
 *  - OT_TRAIT_ALIAS ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity): the
 *    output is a view of input 0 whenever that input is transient (their
 *    kernels skip the copy when the pointers are equal).  Nothing writes a
 *    value after its step, so a view of a still-live value is safe as long
 *    as in-place writes respect the whole group (below).
 *  - OT_TRAIT_INPLACE ops: output 0 takes input 0's buffer when the group of
 *    input 0 is read for the last time at this step, holds the same dtype and
 *    element count (so input 0 is not broadcast: output element i depends on
 *    input element i), and no other input of the step lives in that group. */
#ifndef OT_PASSES_LIVENESS_H
#define OT_PASSES_LIVENESS_H

#include "../runtime/program.h"

typedef struct ot_liveness {
    int n_values;
    int *first;      /* per value: the step producing it; -1 when not transient */
    int *last;       /* per value: the last step reading it (n_steps - 1 for graph outputs) */
    int *group;      /* per value: the value whose buffer it uses (itself unless aliased); -1 */
    int *group_last; /* per group representative: last step at which any member is live */
    int n_inplace, n_aliased;
} ot_liveness;

/* allow_alias false: every transient value keeps its own buffer. */
ot_status ot_liveness_compute(const ot_program *p, bool allow_alias, ot_liveness *out);
void ot_liveness_free(ot_liveness *l);

#endif
