/* Gradient checks: every gradient rule against central finite differences in
 * float64.
 *
 * A case is one node: its op, attributes, and inputs.  Float inputs marked
 * GC_DIFF are graph inputs filled with random values and differentiated;
 * GC_CONST inputs are initializers with the given values (indices, shapes,
 * axes) and carry no gradient.  The harness seeds every float output with a
 * fixed random tensor W (so L = sum_j <Y_j, W_j>), derives the backward graph
 * with ot_autodiff, runs it, and compares each dL/dX element with
 * (L(X + h) - L(X - h)) / 2h. */
#ifndef OT_TESTS_GRADCHECK_H
#define OT_TESTS_GRADCHECK_H

#include "ops/grad.h"

#define GC_MAX_IN 8

typedef enum { GC_ABSENT = 0, GC_DIFF, GC_CONST, GC_INPUT_NODIFF } gc_kind;

typedef struct gc_input {
    gc_kind kind;
    ot_dtype dtype;   /* GC_DIFF: OT_DOUBLE (default when 0) */
    int rank;
    int64_t dims[OT_MAX_RANK];
    const int64_t *ivals;  /* GC_CONST integer values (numel of them) */
    const double *fvals;   /* GC_CONST / GC_INPUT_NODIFF float values, or NULL: random */
    double lo, hi;         /* range of random values (default -1..1) */
} gc_input;

typedef struct gc_case {
    const char *name;      /* for messages */
    const char *op;
    const char *domain;    /* NULL: default domain */
    int opset;             /* default-domain opset of the test graph (0: 17) */
    int n_in;
    gc_input in[GC_MAX_IN];
    int n_out;             /* node outputs (all seeded when float) */
    int n_attrs;
    ot_grad_attr attrs[8];
    double rtol, atol;     /* 0: 1e-6 and 1e-8 */
    double h;              /* finite-difference step (0: 1e-6) */
} gc_case;

/* Case-table shorthands shared by the test_grad_*.c files (a file may
   #undef one and give its own form). */
#define D(...) {GC_DIFF, 0, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}}           /* differentiated input of these dims */
#define ND(...) {GC_INPUT_NODIFF, 0, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}}  /* input without gradient */
#define CI(...) {GC_CONST, OT_INT64, 1, {sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)}, \
                 (const int64_t[]){__VA_ARGS__}}                                                     /* 1-D int64 constant */
#define CI0(v) {GC_CONST, OT_INT64, 0, {0}, (const int64_t[]){v}}                                    /* 0-D int64 constant */
#define AI(k, v) {.name = k, .type = OT_ATTR_INT, .i = v}
#define AS(k, v) {.name = k, .type = OT_ATTR_STRING, .s = v}
#define AF(k, v) {.name = k, .type = OT_ATTR_FLOAT, .f = v}
#define AL(k, ...) {.name = k, .type = OT_ATTR_INTS, .ints = (const int64_t[]){__VA_ARGS__}, \
                    .n = sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)}

/* Runs one case; returns 0 on success, prints the first mismatches on failure. */
int gc_run(const gc_case *c);
/* Runs a table of cases; prints "N passed, N failed"; returns the exit code. */
int gc_run_all(const gc_case *cases, int n);

#endif
