/* Schedule: the order of a compiled program's steps that keeps peak
 * transient memory low.  Between compiling the steps (graph order) and
 * planning memory.
 *
 * Any order is valid that
 *  - runs a step after the steps producing its inputs, and
 *  - keeps every step reading a slot that an OT_TRAIT_SIDE_EFFECT step
 *    writes (a parameter or optimizer state updated by OptimizerUpdate) on
 *    the same side of that step as in the graph's order (read before the
 *    update, or after it), and side-effect steps writing one slot in order.
 * Steps keep their node index (ot_step.node), which keys Dropout's random
 * stream: reordering never changes what a step computes.
 *
 * Candidates, each measured by the planner's own lower bound (liveness and
 * aliasing of the candidate order, ot_plan_lower_bound), the smallest kept
 * (ties: the earlier candidate):
 *  1. the graph's order;
 *  2. the graph's order with every side-effect step as early as its
 *     dependencies allow (gradients die as soon as their update ran);
 *  3. greedy list schedules: among the ready steps the one whose net
 *     allocation (bytes of new buffers minus bytes of buffers it reads for
 *     the last time) is smallest, side-effect steps first, ties to the
 *     graph's order; a variant prefers the steps that free the most bytes.
 * So the result is never worse than the graph's order. */
#ifndef OT_PASSES_SCHEDULE_H
#define OT_PASSES_SCHEDULE_H

#include "../runtime/program.h"

typedef struct ot_schedule_report {
    size_t peak_unscheduled; /* lower bound in the graph's order (scratch as requested at infer) */
    size_t peak_scheduled;   /* lower bound in the chosen order */
    int candidate;           /* which candidate won (1..4, as listed above; 1: order unchanged) */
    int moved;               /* steps whose position changed */
} ot_schedule_report;

/* The chosen order of p's steps as they stand (the graph's order):
   order[i] is the index into p->steps of the i-th step to run. */
ot_status ot_schedule_order(const ot_program *p, int *order, ot_schedule_report *report);

/* Reorders p->steps (before ot_program_plan_memory).  p->unscheduled
   receives, per original position, the step's new index (NULL when the
   order is unchanged).  report may be NULL. */
ot_status ot_schedule(ot_program *p, ot_schedule_report *report);

/* The lower bound of p's transient memory when its steps run in `order`
   (order[i]: index into p->steps of the i-th step to run), with per-step
   scratch ws[] indexed like p->steps (NULL: each step's infer request).
   Aliasing as the planner does it (none with p->naive_plan). */
ot_status ot_schedule_peak(const ot_program *p, const int *order, const size_t *ws, size_t *peak);

/* OT_OK when `order` (over p's steps, which are in the graph's order) is a
   permutation that respects every dependency above; OT_ERR_INTERNAL naming
   the first violation. */
ot_status ot_schedule_check(const ot_program *p, const int *order);

#endif
