/* Reverse-mode automatic differentiation over the IR.
 *
 * Given a graph whose values carry inferred shapes, a scalar loss value, the
 * value holding dL/dloss (a graph input, so accumulation can scale it), and
 * the values to differentiate with respect to, appends the backward nodes and
 * returns the gradient value of each.  Fan-out gradients are summed,
 * broadcast gradients reduced to their input's shape, and integer paths carry
 * none.  Gradient rules come from the op table (ops/grad.h). */
#ifndef OT_PASSES_AUTODIFF_H
#define OT_PASSES_AUTODIFF_H

#include "../ir/graph.h"

typedef struct ot_autodiff_request {
    int loss;        /* value id of the scalar loss */
    int seed;        /* value id of dL/dloss, same dtype and shape as loss */
    /* Optional extra seeds: gradients flowing into other values (the gradient
       check seeds every output of the op under test).  May be 0/NULL. */
    int n_extra;
    const int *extra_values, *extra_seeds;
    int n_wrt;
    const int *wrt;  /* value ids (usually trainable initializers) */
    int *grads;      /* out: n_wrt gradient value ids; -1 when no path reaches the loss */
} ot_autodiff_request;

ot_status ot_autodiff(ot_graph *g, ot_autodiff_request *r);

#endif
