/* A one-node harness for the op unit tests: builds a graph holding a single
   node with the given attributes, then parses, infers, allocates and runs the
   op's cpu kernel the way the compiler would.  Also the small helpers those
   tests share (tensors from values, a seeded xorshift generator, element-wise
   comparison against a reference).

   Include after check.h.  A test that wants its own random stream defines
   OP_HARNESS_SEED before including this header. */
#ifndef OT_TESTS_OP_HARNESS_H
#define OT_TESTS_OP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ops/op.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"

/* ---- attributes ------------------------------------------------------------------ */

#define ATTR_MAX_INTS 12

typedef struct attr_spec {
    const char *name;
    char kind; /* 'i' int, 'f' float, 's' string, 'l' ints, 't' tensor */
    int64_t i;
    float f;
    const char *s;
    int n;
    int64_t ints[ATTR_MAX_INTS];
    const ot_tensor *t; /* copied into the node */
} attr_spec;

#define INT(nm, v) {.name = nm, .kind = 'i', .i = v}
#define FLT(nm, v) {.name = nm, .kind = 'f', .f = v}
#define STR(nm, v) {.name = nm, .kind = 's', .s = v}
#define INTS(nm, ...) \
    {.name = nm, .kind = 'l', .n = sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), .ints = {__VA_ARGS__}}
#define TENSOR_ATTR(nm, v) {.name = nm, .kind = 't', .t = v}

/* An ints attribute from a runtime array (n <= ATTR_MAX_INTS). */
static inline attr_spec attr_ints(const char *name, int n, const int64_t *v) {
    attr_spec a = {.name = name, .kind = 'l', .n = n};
    if (n > 0) memcpy(a.ints, v, sizeof(int64_t) * (size_t)n);
    return a;
}

static inline void harness_add_attr(ot_graph *g, int node, const attr_spec *s) {
    ot_attr_type t = s->kind == 'f' ? OT_ATTR_FLOAT : s->kind == 's' ? OT_ATTR_STRING
                   : s->kind == 'l' ? OT_ATTR_INTS : s->kind == 't' ? OT_ATTR_TENSOR : OT_ATTR_INT;
    ot_attr *a;
    ot_node_add_attr(g, node, s->name, t, &a);
    if (t == OT_ATTR_INT) a->i = s->i;
    if (t == OT_ATTR_FLOAT) a->f = s->f;
    if (t == OT_ATTR_STRING) {
        a->s = ot_strdup(s->s);
        a->s_len = strlen(s->s);
    }
    if (t == OT_ATTR_INTS) {
        a->n = s->n;
        a->ints = ot_malloc(sizeof(int64_t) * (size_t)(s->n ? s->n : 1));
        memcpy(a->ints, s->ints, sizeof(int64_t) * (size_t)s->n);
    }
    if (t == OT_ATTR_TENSOR) ot_tensor_clone(s->t, &a->t);
}

/* ---- running one node --------------------------------------------------------------- */

#define MAX_IO 16 /* QLinearConv has 9 inputs */

typedef struct op_run {
    ot_graph *g;
    void *attrs;
    ot_tensor *out[MAX_IO];
    int n_out;
} op_run;

typedef struct run_opts {
    bool training;
    uint64_t seed, step;
    int node_index;
    bool infer_only; /* stop after infer: outputs keep their descriptors only */
    const char *domain; /* the op's domain; NULL: the default one */
} run_opts;

/* Parses, infers, allocates and runs `op` (node "mynode") on inputs; in[i] may
   be NULL (absent optional input).  Outputs land in r->out; run_free(r)
   releases them whatever this returned. */
static inline ot_status run_op_x(op_run *r, const char *op, int64_t opset, int n_in, ot_tensor **in, int n_out,
                                 const attr_spec *attrs, int n_attrs, const run_opts *o) {
    memset(r, 0, sizeof *r);
    if (n_in > MAX_IO || n_out > MAX_IO) return ot_error(OT_ERR_INVALID_ARG, "run_op: more than %d inputs or outputs", MAX_IO);
    r->n_out = n_out;
    run_opts dflt = {0};
    if (!o) o = &dflt;
    const char *domain = o->domain ? o->domain : "";
    const ot_op_def *def = ot_op_find(domain, op);
    if (!def) return ot_error(OT_ERR_UNSUPPORTED, "no op %s", op);
    if (opset < def->min_opset || opset > def->max_opset)
        return ot_error(OT_ERR_UNSUPPORTED, "%s: opset %lld outside [%d, %d]", op, (long long)opset, def->min_opset,
                        def->max_opset);
    ot_graph_new("t", &r->g);
    int ids_in[MAX_IO], ids_out[MAX_IO], node;
    char name[16];
    for (int i = 0; i < n_in; i++) {
        snprintf(name, sizeof name, "in%d", i);
        ot_graph_value(r->g, name, &ids_in[i]);
        if (!in[i]) ids_in[i] = -1;
    }
    for (int i = 0; i < n_out; i++) {
        snprintf(name, sizeof name, "out%d", i);
        ot_graph_value(r->g, name, &ids_out[i]);
        ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &r->out[i]);
    }
    ot_graph_add_node(r->g, op, domain, "mynode", n_in, ids_in, n_out, ids_out, &node);
    for (int i = 0; i < n_attrs; i++) harness_add_attr(r->g, node, &attrs[i]);
    const ot_node *n = &r->g->nodes[node];
    r->attrs = calloc(1, def->attrs_size ? def->attrs_size : 1);
    if (def->parse) OT_TRY(def->parse(n, opset, r->attrs));
    ot_kctx c = {.node = n, .name = "mynode", .opset = opset, .attrs = def->attrs_size ? r->attrs : NULL,
                 .n_in = n_in, .in = in, .n_out = n_out, .out = r->out, .training = o->training, .seed = o->seed,
                 .step = o->step, .node_index = o->node_index, .need_input = -1};
    OT_TRY(def->infer(&c));
    if (o->infer_only) return OT_OK;
    for (int i = 0; i < n_out; i++) OT_TRY(ot_tensor_alloc_data(r->out[i]));
    return def->cpu(&c);
}

static inline ot_status run_op(op_run *r, const char *op, int64_t opset, int n_in, ot_tensor **in, int n_out,
                               const attr_spec *attrs, int n_attrs) {
    return run_op_x(r, op, opset, n_in, in, n_out, attrs, n_attrs, NULL);
}

static inline void run_free(op_run *r) {
    for (int i = 0; i < r->n_out; i++) ot_tensor_free(r->out[i]);
    free(r->attrs);
    ot_graph_free(r->g);
    memset(r, 0, sizeof *r);
}

/* ---- tensors and random values ------------------------------------------------------- */

/* A tensor of dtype dt holding the raw bytes vals (left uninitialised when NULL). */
static inline ot_tensor *tensor(ot_dtype dt, int rank, const int64_t *dims, const void *vals) {
    ot_tensor *t;
    ot_tensor_new(dt, rank, dims, &t);
    if (vals) memcpy(t->data, vals, ot_tensor_nbytes(t));
    return t;
}

#ifndef OP_HARNESS_SEED
#define OP_HARNESS_SEED 88172645463325252ull
#endif
static uint64_t harness_rng = OP_HARNESS_SEED;

static inline uint64_t next_u64(void) {
    harness_rng ^= harness_rng << 13;
    harness_rng ^= harness_rng >> 7;
    harness_rng ^= harness_rng << 17;
    return harness_rng;
}
/* Uniform in [-1, 1). */
static inline double rand_unit(void) { return (double)(next_u64() >> 11) / 9007199254740992.0 * 2 - 1; }

/* Floats in (-scale, scale); integers get small values so sums and products
   stay exact; bools 0 / 1.  One draw per element whatever the dtype. */
static inline ot_tensor *rand_tensor(ot_dtype dt, int rank, const int64_t *dims, double scale) {
    ot_tensor *t = tensor(dt, rank, dims, NULL);
    for (int64_t i = 0; i < ot_tensor_numel(t); i++) {
        if (ot_dtype_is_float(dt)) ot_store_f64(dt, t->data, i, rand_unit() * scale);
        else if (dt == OT_BOOL) ot_store_i64(dt, t->data, i, (int64_t)(next_u64() & 1));
        else ot_store_i64(dt, t->data, i, (int64_t)(next_u64() % 5) + (ot_dtype_is_signed(dt) ? -2 : 1));
    }
    return t;
}

/* ---- checking ------------------------------------------------------------------------ */

static inline double at(const ot_tensor *t, int64_t i) { return ot_load_f64(t->dtype, t->data, i); }

/* Compares n values of t against want; reports the first few mismatches. */
static inline void check_all(const char *what, const ot_tensor *t, const double *want, int64_t n, double tol) {
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double got = at(t, i);
        if (!check_close(got, want[i], tol, tol) && bad++ < 4)
            CHECK_MSG(0, "%s[%lld] = %.9g, want %.9g", what, (long long)i, got, want[i]);
    }
    if (!bad) CHECK(1);
}

/* Row-major multi-index of flat position p in dims, and back. */
static inline void unravel(int64_t p, int rank, const int64_t *dims, int64_t *coord) {
    for (int d = rank - 1; d >= 0; d--) {
        coord[d] = p % dims[d];
        p /= dims[d];
    }
}
static inline int64_t ravel(int rank, const int64_t *dims, const int64_t *coord) {
    int64_t p = 0;
    for (int d = 0; d < rank; d++) p = p * dims[d] + coord[d];
    return p;
}

#endif
