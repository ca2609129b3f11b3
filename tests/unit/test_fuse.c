/* The fusion pass (src/passes/fuse*.c) and the fused kernels: random chains
 * of elementwise ops (broadcast inputs, float and double, forward and
 * gradient ops, extra outputs, bias-gradient reductions) compiled with and
 * without the pass give the same outputs (float32 within 1e-5 relative) from
 * fewer nodes; FusedGemm against Gemm/MatMul + bias + activation for every
 * transA/transB; transposes folded into products; Dropout keeping its index;
 * compile-time values left to folding; malformed fused nodes rejected. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/cpu/fused.h"
#include "ops/grad.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"
#include "src/passes/fuse.h"
#include "src/passes/infer.h"
#include "src/runtime/program.h"

/* ---- graph building ------------------------------------------------------------ */

typedef struct tg {
    ot_graph *g;
    ot_tensor *in[16];   /* bound inputs, graph-input order */
    int n_in;
    ot_dtype dt;         /* the float type of this graph */
} tg;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return rng_state;
}
static int rnd_int(int n) { return (int)(rnd() % (uint64_t)n); }
static double rnd_unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static int tv(tg *t, const char *name) {
    int v = -1;
    CHECK(ot_graph_value(t->g, name, &v) == OT_OK);
    return v;
}

static void tg_begin(tg *t, ot_dtype dt) {
    memset(t, 0, sizeof *t);
    t->dt = dt;
    CHECK(ot_graph_new("fuse", &t->g) == OT_OK);
    t->g->opsets = ot_calloc(2, sizeof *t->g->opsets);
    t->g->opsets[0].domain = ot_strdup("");
    t->g->opsets[0].version = 20;
    t->g->opsets[1].domain = ot_strdup(OT_DOMAIN_TRAIN);
    t->g->opsets[1].version = 1;
    t->g->n_opsets = 2;
}

static void tg_end(tg *t) {
    for (int i = 0; i < t->n_in; i++) ot_tensor_free(t->in[i]);
    ot_graph_free(t->g);
}

/* A graph input of the given shape, filled with values in [lo, hi) (bool: random). */
static void tg_input(tg *t, const char *name, ot_dtype dt, int rank, const int64_t *dims, double lo, double hi) {
    int v = tv(t, name);
    ot_value *val = &t->g->values[v];
    val->role = OT_ROLE_INPUT;
    val->is_input = true;
    val->dtype = dt;
    val->rank = rank;
    if (rank) memcpy(val->dims, dims, sizeof(int64_t) * (size_t)rank);
    t->g->inputs = ot_realloc(t->g->inputs, sizeof(int) * (size_t)(t->g->n_inputs + 1));
    t->g->inputs[t->g->n_inputs++] = v;
    ot_tensor *x;
    CHECK(ot_tensor_new(dt, rank, dims, &x) == OT_OK);
    for (int64_t i = 0; i < ot_tensor_numel(x); i++)
        ot_store_f64(dt, x->data, i, dt == OT_BOOL ? (double)(rnd() & 1) : lo + (hi - lo) * rnd_unit());
    t->in[t->n_in++] = x;
}

/* An initializer holding the values v[0..n) with shape (rank, dims). */
static void tg_init(tg *t, const char *name, ot_dtype dt, int rank, const int64_t *dims, const double *v) {
    int id = tv(t, name);
    ot_value *val = &t->g->values[id];
    CHECK(ot_tensor_new(dt, rank, dims, &val->init) == OT_OK);
    for (int64_t i = 0; i < ot_tensor_numel(val->init); i++) ot_store_f64(dt, val->init->data, i, v[i]);
    val->role = OT_ROLE_INITIALIZER;
    val->dtype = dt;
    val->rank = rank;
    if (rank) memcpy(val->dims, dims, sizeof(int64_t) * (size_t)rank);
    t->g->inits = ot_realloc(t->g->inits, sizeof(int) * (size_t)(t->g->n_inits + 1));
    t->g->inits[t->g->n_inits++] = id;
}

static int tg_node(tg *t, const char *op, const char *domain, int n_in, const char *const *in, const char *out) {
    int ids[8], o = tv(t, out), id = -1;
    for (int k = 0; k < n_in; k++) ids[k] = in[k] ? tv(t, in[k]) : -1;
    CHECK(ot_graph_add_node(t->g, op, domain, out, n_in, ids, 1, &o, &id) == OT_OK);
    return id;
}

static void tg_attr_i(tg *t, int node, const char *name, int64_t v) {
    ot_attr *a;
    CHECK(ot_node_add_attr(t->g, node, name, OT_ATTR_INT, &a) == OT_OK);
    a->i = v;
}

static void tg_attr_f(tg *t, int node, const char *name, float v) {
    ot_attr *a;
    CHECK(ot_node_add_attr(t->g, node, name, OT_ATTR_FLOAT, &a) == OT_OK);
    a->f = v;
}

static void tg_attr_ints(tg *t, int node, const char *name, int n, const int64_t *v) {
    ot_attr *a;
    CHECK(ot_node_add_attr(t->g, node, name, OT_ATTR_INTS, &a) == OT_OK);
    a->ints = ot_malloc(sizeof(int64_t) * (size_t)n);
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)n);
    a->n = n;
}

static void tg_output(tg *t, const char *name) {
    int v = tv(t, name);
    for (int k = 0; k < t->g->n_outputs; k++)
        if (t->g->outputs[k] == v) return;
    t->g->outputs = ot_realloc(t->g->outputs, sizeof(int) * (size_t)(t->g->n_outputs + 1));
    t->g->outputs[t->g->n_outputs++] = v;
}

/* ---- compile and run ------------------------------------------------------------- */

typedef struct result {
    int nodes;               /* nodes of the compiled graph (Nop slots excluded) */
    int n_out;
    double *out[16];
    int64_t numel[16];
    ot_fuse_report rep;
} result;

static void result_free(result *r) {
    for (int k = 0; k < r->n_out; k++) free(r->out[k]);
}

/* Clones t's graph, infers shapes, fuses when asked, compiles and runs it;
   the graph outputs come back as doubles. */
static bool run(tg *t, bool fuse, bool training, result *r) {
    memset(r, 0, sizeof *r);
    ot_graph *g = NULL;
    ot_program *p = NULL;
    ot_compile_options o = {0};
    o.training = training;
    o.seed = 7;
    o.naive_plan = !fuse; /* the reference: every value in its own buffer */
    bool ok = ot_graph_clone(t->g, NULL, &g) == OT_OK;
    ok = ok && ot_graph_infer_shapes(g, t->in, &o) == OT_OK;
    CHECK_MSG(ok, "infer: %s", ot_last_error());
    if (ok && fuse) {
        ok = ot_fuse(g, NULL, &r->rep) == OT_OK;
        CHECK_MSG(ok, "fuse: %s", ot_last_error());
    }
    if (ok) {
        ok = ot_program_compile(g, t->in, &o, &p) == OT_OK && ot_program_run(p, t->in, 3) == OT_OK;
        CHECK_MSG(ok, "compile/run (fuse %d): %s", fuse, ot_last_error());
    }
    if (ok) {
        for (int i = 0; i < g->n_nodes; i++) r->nodes += strcmp(g->nodes[i].op_type, "Nop") != 0;
        r->n_out = g->n_outputs;
        for (int k = 0; k < g->n_outputs; k++) {
            const ot_tensor *s = &p->slots[g->outputs[k]];
            r->numel[k] = ot_tensor_numel(s);
            r->out[k] = malloc(sizeof(double) * (size_t)(r->numel[k] + 1));
            for (int64_t i = 0; i < r->numel[k]; i++) r->out[k][i] = ot_load_f64(s->dtype, s->data, i);
        }
    }
    ot_program_free(p);
    ot_graph_free(g);
    return ok;
}

/* Fused and unfused outputs agree; returns the fused result's node count
   (and the unfused one's in *plain). */
static int compare(tg *t, bool training, double rtol, int *plain, ot_fuse_report *rep, const char *what) {
    result a, b;
    int fused_nodes = -1;
    if (run(t, false, training, &a) && run(t, true, training, &b)) {
        CHECK(a.n_out == b.n_out);
        int bad = 0;
        for (int k = 0; k < a.n_out && k < b.n_out; k++) {
            CHECK(a.numel[k] == b.numel[k]);
            for (int64_t i = 0; i < a.numel[k] && i < b.numel[k] && bad < 3; i++)
                if (!check_close(b.out[k][i], a.out[k][i], rtol, rtol * 0.1)) {
                    bad++;
                    CHECK_MSG(0, "%s: output %d[%lld]: fused %.9g, unfused %.9g", what, k, (long long)i, b.out[k][i],
                              a.out[k][i]);
                }
        }
        if (!bad) check_pass_++;
        fused_nodes = b.nodes;
        if (plain) *plain = a.nodes;
        if (rep) *rep = b.rep;
        result_free(&b);
    }
    result_free(&a);
    return fused_nodes;
}

/* ---- random elementwise chains ------------------------------------------------------- */

typedef struct chain {
    tg t;
    int rank;
    int64_t dims[4];
    int n_vals;           /* full-shape float values so far: v0 (the input), n1, n2, ... */
    char vals[64][16];
    int n_nodes;          /* elementwise nodes added */
    bool has_reduce;
} chain;

static const char *ch_full(chain *c) { return c->vals[rnd_int(c->n_vals)]; }
static const char *ch_last(chain *c) { return c->vals[c->n_vals - 1]; }

static const char *ch_new(chain *c) {
    snprintf(c->vals[c->n_vals], 16, "n%d", c->n_vals);
    return c->vals[c->n_vals++];
}

/* A second operand: the same shape, a broadcast input, or a scalar constant. */
static const char *ch_operand(chain *c, bool positive) {
    int k = rnd_int(4);
    if (positive) return "k_pos";
    if (k == 3) return rnd_int(2) ? "k_pos" : "k_scalar";
    if (k == 0) return "b_row";
    if (k == 1) return "b_col";
    return ch_full(c);
}

static void ch_unary(chain *c, const char *op) {
    const char *x = ch_last(c);
    int id = tg_node(&c->t, op, "", 1, &x, ch_new(c));
    if (!strcmp(op, "LeakyRelu")) tg_attr_f(&c->t, id, "alpha", 0.15f);
    c->n_nodes++;
}

static void ch_binary(chain *c, const char *op, bool swap) {
    const char *in[2] = {ch_last(c), ch_operand(c, !strcmp(op, "Div"))};
    if (swap && strcmp(op, "Div")) {
        const char *s = in[0];
        in[0] = in[1], in[1] = s;
    }
    tg_node(&c->t, op, "", 2, in, ch_new(c));
    c->n_nodes++;
}

static void ch_step(chain *c) {
    static const char *const unary[] = {"Neg", "Relu", "Sigmoid", "Tanh", "Abs", "LeakyRelu", "Softplus", "Erf", "Gelu", "Elu"};
    static const char *const binary[] = {"Add", "Sub", "Mul", "Div", "Max", "Min"};
    static const char *const grads[] = {"ReluGrad", "SigmoidGrad", "TanhGrad", "GeluGrad", "ErfGrad", "LeakyReluGrad"};
    tg *t = &c->t;
    int kind = rnd_int(9);
    if (kind <= 2) {
        ch_unary(c, unary[rnd_int(10)]);
    } else if (kind <= 4) {
        ch_binary(c, binary[rnd_int(6)], rnd_int(2));
    } else if (kind == 5) { /* gradient op: (dy, v) of the full shape */
        const char *in[2] = {ch_last(c), ch_full(c)};
        tg_node(t, grads[rnd_int(6)], OT_DOMAIN_TRAIN, 2, in, ch_new(c));
        c->n_nodes++;
    } else if (kind == 6) { /* Where(cond, x, y), or on a compare */
        char cmp[16];
        const char *cond = "cond";
        if (rnd_int(2)) {
            const char *in[2] = {ch_last(c), ch_operand(c, false)};
            snprintf(cmp, sizeof cmp, "c%d", c->n_vals);
            tg_node(t, rnd_int(2) ? "Greater" : "LessOrEqual", "", 2, in, cmp);
            cond = cmp;
            c->n_nodes++;
        }
        const char *in[3] = {cond, ch_last(c), ch_operand(c, false)};
        tg_node(t, "Where", "", 3, in, ch_new(c));
        c->n_nodes++;
    } else if (kind == 7) { /* Sigmoid then Pow / Sqrt / Log (positive domain), or Clip */
        int which = rnd_int(4);
        ch_unary(c, "Sigmoid");
        if (which == 0) {
            const char *in[2] = {ch_last(c), "k_pos"};
            tg_node(t, "Pow", "", 2, in, ch_new(c));
        } else if (which == 3) {
            const char *in[3] = {ch_last(c), "k_lo", "k_hi"};
            tg_node(t, "Clip", "", 3, in, ch_new(c));
        } else {
            ch_unary(c, which == 1 ? "Sqrt" : "Log");
            c->n_nodes--;
        }
        c->n_nodes++;
    } else { /* Cast to the other float type and back */
        ot_dtype other = t->dt == OT_FLOAT ? OT_DOUBLE : OT_FLOAT;
        char mid[16];
        snprintf(mid, sizeof mid, "cast%d", c->n_vals);
        const char *x = ch_last(c);
        int id = tg_node(t, "Cast", "", 1, &x, mid);
        tg_attr_i(t, id, "to", other);
        const char *y = mid;
        id = tg_node(t, "Cast", "", 1, &y, ch_new(c));
        tg_attr_i(t, id, "to", t->dt);
        c->n_nodes += 2;
    }
    /* Sometimes the value is used outside the chain too. */
    int r = rnd_int(10);
    if (r == 0) tg_output(t, ch_last(c));
    if (r == 1 && c->rank >= 2) { /* a bias gradient: sum over every axis but the last */
        char name[16];
        int64_t axes[4];
        for (int d = 0; d + 1 < c->rank; d++) axes[d] = d;
        snprintf(name, sizeof name, "axes%d", c->n_vals);
        double av[4] = {0, 1, 2, 3};
        int64_t na = c->rank - 1;
        tg_init(t, name, OT_INT64, 1, &na, av);
        const char *in[2] = {ch_last(c), name};
        char out[16];
        snprintf(out, sizeof out, "sum%d", c->n_vals);
        int id = tg_node(t, "ReduceSum", "", 2, in, out);
        tg_attr_i(t, id, "keepdims", rnd_int(2));
        tg_output(t, out);
        c->has_reduce = true;
        (void)axes;
    }
}

static void test_random_chains(void) {
    int trials = 60, fused_fewer = 0, reductions = 0;
    for (int trial = 0; trial < trials; trial++) {
        chain c;
        memset(&c, 0, sizeof c);
        ot_dtype dt = trial % 2 ? OT_DOUBLE : OT_FLOAT;
        tg_begin(&c.t, dt);
        c.rank = 1 + rnd_int(4);
        for (int d = 0; d < c.rank; d++) c.dims[d] = 1 + rnd_int(6);
        if (trial % 10 == 3) c.rank = 2, c.dims[0] = 37, c.dims[1] = 300; /* many tiles, parallel chunks */
        int64_t row[4], col[4], one = 1;
        for (int d = 0; d < c.rank; d++) {
            row[d] = d == c.rank - 1 ? c.dims[d] : 1;
            col[d] = d == c.rank - 1 ? 1 : c.dims[d];
        }
        tg_input(&c.t, "v0", dt, c.rank, c.dims, -2, 2);
        snprintf(c.vals[c.n_vals++], 16, "v0");
        tg_input(&c.t, "b_row", dt, 1, &c.dims[c.rank - 1], -2, 2); /* (C): broadcast over rows */
        tg_input(&c.t, "b_col", dt, c.rank, col, -2, 2);           /* (.., 1): over columns */
        tg_input(&c.t, "cond", OT_BOOL, c.rank, rnd_int(2) ? row : c.dims, 0, 1);
        double kpos = 0.5 + rnd_unit(), kscal = rnd_unit() * 4 - 2, lo = 0.2, hi = 0.7;
        tg_init(&c.t, "k_pos", dt, 0, NULL, &kpos);
        tg_init(&c.t, "k_scalar", dt, 1, &one, &kscal);
        tg_init(&c.t, "k_lo", dt, 0, NULL, &lo);
        tg_init(&c.t, "k_hi", dt, 0, NULL, &hi);
        int steps = 2 + rnd_int(7);
        for (int s = 0; s < steps; s++) ch_step(&c);
        tg_output(&c.t, ch_last(&c));
        int plain = 0;
        ot_fuse_report rep;
        char what[64];
        snprintf(what, sizeof what, "chain %d (%s, %d ops)", trial, ot_dtype_name(dt), c.n_nodes);
        int fused = compare(&c.t, false, dt == OT_FLOAT ? 1e-5 : 1e-12, &plain, &rep, what);
        CHECK_MSG(fused >= 0 && fused < plain, "%s: %d nodes fused, %d unfused", what, fused, plain);
        fused_fewer += fused >= 0 && fused < plain;
        reductions += rep.bias_grads;
        tg_end(&c.t);
    }
    CHECK(fused_fewer == trials);
    CHECK(reductions > 0);
}

/* ReluGrad followed by its bias gradient: one kernel with both outputs. */
static void test_bias_grad(void) {
    for (int trial = 0; trial < 4; trial++) {
        tg t;
        ot_dtype dt = trial & 1 ? OT_DOUBLE : OT_FLOAT;
        tg_begin(&t, dt);
        int64_t d2[2] = {300, 17}, d3[3] = {4, 70, 9};
        bool three = trial >= 2;
        tg_input(&t, "dy", dt, three ? 3 : 2, three ? d3 : d2, -1, 1);
        tg_input(&t, "y", dt, three ? 3 : 2, three ? d3 : d2, -1, 1);
        const char *in[2] = {"dy", "y"};
        tg_node(&t, "ReluGrad", OT_DOMAIN_TRAIN, 2, in, "dz");
        double axes[2] = {0, 1};
        int64_t na = three ? 2 : 1;
        tg_init(&t, "axes", OT_INT64, 1, &na, axes);
        const char *rin[2] = {"dz", "axes"};
        int id = tg_node(&t, "ReduceSum", "", 2, rin, "db");
        tg_attr_i(&t, id, "keepdims", trial == 1 ? 0 : 1);
        tg_output(&t, "dz");
        tg_output(&t, "db");
        int plain;
        ot_fuse_report rep;
        int fused = compare(&t, false, dt == OT_FLOAT ? 1e-5 : 1e-12, &plain, &rep, "ReluGrad + bias gradient");
        CHECK(fused == 1 && plain == 2 && rep.bias_grads == 1);
        tg_end(&t);
    }
}

/* ---- FusedGemm ----------------------------------------------------------------------- */

/* Y = act(op(A) op(B) + bias) as Gemm (+ C) or MatMul + Add, then the
   activation; `pre_used`: the pre-activation value is a graph output too. */
static void gemm_case(ot_dtype dt, int ta, int tb, const char *act, int bias_kind, bool matmul3d, bool pre_used) {
    tg t;
    tg_begin(&t, dt);
    int64_t M = 150, N = 37, K = 45, B = 2;
    int64_t da[3] = {ta ? K : M, ta ? M : K}, db[2] = {tb ? N : K, tb ? K : N};
    if (matmul3d) da[0] = B, da[1] = M / B, da[2] = K;
    tg_input(&t, "A", dt, matmul3d ? 3 : 2, da, -1, 1);
    tg_input(&t, "B", dt, 2, db, -1, 1);
    int64_t bias_dims[2][2] = {{N, 0}, {1, N}};
    if (bias_kind == 1) tg_input(&t, "bias", dt, 1, bias_dims[0], -1, 1);
    if (bias_kind == 2) tg_input(&t, "bias", dt, 2, bias_dims[1], -1, 1);
    const char *z = "z";
    if (matmul3d) {
        const char *in[2] = {"A", "B"};
        tg_node(&t, "MatMul", "", 2, in, bias_kind ? "mm" : "z");
        if (bias_kind) {
            const char *ain[2] = {"bias", "mm"};
            tg_node(&t, "Add", "", 2, ain, "z");
        }
    } else {
        const char *in[3] = {"A", "B", "bias"};
        int id = tg_node(&t, "Gemm", "", bias_kind ? 3 : 2, in, "z");
        tg_attr_i(&t, id, "transA", ta);
        tg_attr_i(&t, id, "transB", tb);
        tg_attr_f(&t, id, "alpha", 0.75f);
    }
    if (act) {
        int id = tg_node(&t, act, "", 1, &z, "y");
        if (!strcmp(act, "LeakyRelu")) tg_attr_f(&t, id, "alpha", 0.2f);
        tg_output(&t, "y");
        if (pre_used) tg_output(&t, "z");
    } else {
        tg_output(&t, "z");
    }
    int plain;
    ot_fuse_report rep;
    char what[96];
    snprintf(what, sizeof what, "FusedGemm %s ta %d tb %d %s bias %d%s", ot_dtype_name(dt), ta, tb, act ? act : "-",
             bias_kind, matmul3d ? " (MatMul)" : "");
    int fused = compare(&t, false, dt == OT_FLOAT ? 1e-5 : 1e-12, &plain, &rep, what);
    bool expect = act || (matmul3d && bias_kind);
    CHECK_MSG(fused == (expect ? 1 : plain) && rep.gemm_epilogues == (expect ? 1 : 0), "%s: %d nodes, %d epilogues",
              what, fused, rep.gemm_epilogues);
    tg_end(&t);
}

static void test_fused_gemm(void) {
    static const char *const acts[] = {NULL, "Relu", "Sigmoid", "Tanh", "Gelu", "LeakyRelu"};
    for (int a = 0; a < 6; a++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) gemm_case(ta ^ tb ^ (a & 1) ? OT_DOUBLE : OT_FLOAT, ta, tb, acts[a], (a + ta) % 3, false, false);
    gemm_case(OT_FLOAT, 0, 0, "Relu", 1, true, false);
    gemm_case(OT_DOUBLE, 0, 0, "Gelu", 2, true, true); /* GeluGrad needs the pre-activation: a second output */
    gemm_case(OT_FLOAT, 0, 0, NULL, 1, true, false);  /* MatMul + bias, no activation */
    gemm_case(OT_FLOAT, 1, 0, "Tanh", 0, false, true);
}

/* MatMul(x, Transpose(W)) read again by a FusedMatMul (nn.Linear and its
   input gradient), and Transpose(Gemm(X^T dY)) (its weight gradient). */
static void test_transposes(void) {
    tg t;
    tg_begin(&t, OT_FLOAT);
    int64_t dx[3] = {2, 5, 6}, dw[2] = {4, 6}, ddy[3] = {2, 5, 4}, fx[2] = {10, 6}, fdy[2] = {10, 4};
    tg_input(&t, "x", OT_FLOAT, 3, dx, -1, 1);
    tg_input(&t, "W", OT_FLOAT, 2, dw, -1, 1);
    tg_input(&t, "dy", OT_FLOAT, 3, ddy, -1, 1);
    tg_input(&t, "x2", OT_FLOAT, 2, fx, -1, 1);
    tg_input(&t, "dy2", OT_FLOAT, 2, fdy, -1, 1);
    const char *w = "W";
    int id = tg_node(&t, "Transpose", "", 1, &w, "Wt");
    int64_t perm[2] = {1, 0};
    tg_attr_ints(&t, id, "perm", 2, perm);
    const char *mm[2] = {"x", "Wt"}, *fm[2] = {"dy", "Wt"}, *gm[2] = {"x2", "dy2"}, *gt = "g";
    tg_node(&t, "MatMul", "", 2, mm, "y");
    id = tg_node(&t, "FusedMatMul", OT_DOMAIN_TRAIN, 2, fm, "dx");
    tg_attr_i(&t, id, "transB", 1);
    id = tg_node(&t, "Gemm", "", 2, gm, "g");
    tg_attr_i(&t, id, "transA", 1);
    id = tg_node(&t, "Transpose", "", 1, &gt, "dW");
    tg_attr_ints(&t, id, "perm", 2, perm);
    tg_output(&t, "y");
    tg_output(&t, "dx");
    tg_output(&t, "dW");
    int plain;
    ot_fuse_report rep;
    int fused = compare(&t, false, 1e-5, &plain, &rep, "transposes");
    CHECK(rep.transposes_folded == 2 && fused == plain - 2);
    tg_end(&t);
}

/* A Dropout after a fused chain keeps its index (its random stream), and
   DropoutGrad, which names it, regenerates the same mask. */
static void test_dropout_index(void) {
    tg t;
    tg_begin(&t, OT_FLOAT);
    int64_t d[2] = {8, 50};
    tg_input(&t, "x", OT_FLOAT, 2, d, -1, 1);
    tg_input(&t, "dy", OT_FLOAT, 2, d, -1, 1);
    const char *a[2] = {"x", "x"}, *b = "a", *c = "b", *e = "c", *f[2] = {"dy", "r"};
    tg_node(&t, "Mul", "", 2, a, "a");
    tg_node(&t, "Tanh", "", 1, &b, "b");
    int drop = tg_node(&t, "Dropout", "", 1, &c, "c");
    tg_node(&t, "Relu", "", 1, &e, "r");
    tg_node(&t, "ReluGrad", OT_DOMAIN_TRAIN, 2, f, "g");
    const char *h = "g";
    int id = tg_node(&t, "DropoutGrad", OT_DOMAIN_TRAIN, 1, &h, "dc");
    tg_attr_i(&t, id, "seed_node", drop);
    const char *k[2] = {"dc", "b"};
    tg_node(&t, "TanhGrad", OT_DOMAIN_TRAIN, 2, k, "db");
    tg_output(&t, "r");
    tg_output(&t, "db");
    result r;
    ot_graph *g = NULL;
    ot_compile_options o = {0};
    CHECK(ot_graph_clone(t.g, NULL, &g) == OT_OK && ot_graph_infer_shapes(g, t.in, &o) == OT_OK);
    CHECK(ot_fuse(g, NULL, NULL) == OT_OK);
    CHECK(g->n_nodes > drop && !strcmp(g->nodes[drop].op_type, "Dropout"));
    CHECK(!strcmp(g->nodes[0].op_type, "Nop") || !strcmp(g->nodes[1].op_type, "Nop"));
    ot_graph_free(g);
    int plain;
    int fused = compare(&t, true, 1e-5, &plain, NULL, "dropout");
    CHECK(fused >= 0 && fused < plain);
    (void)r;
    tg_end(&t);
}

/* Compile-time values are left to the compiler's folding. */
static void test_static_left_alone(void) {
    tg t;
    tg_begin(&t, OT_FLOAT);
    int64_t d[1] = {5};
    double v[5] = {1, 2, 3, 4, 5};
    tg_init(&t, "c", OT_FLOAT, 1, d, v);
    tg_input(&t, "x", OT_FLOAT, 1, d, -1, 1);
    const char *a[2] = {"c", "c"}, *b = "s", *e[2] = {"e", "x"};
    tg_node(&t, "Mul", "", 2, a, "s");
    tg_node(&t, "Exp", "", 1, &b, "e");
    tg_node(&t, "Add", "", 2, e, "y");
    tg_output(&t, "y");
    int plain;
    ot_fuse_report rep;
    int fused = compare(&t, false, 1e-6, &plain, &rep, "static");
    CHECK(fused == plain && rep.elementwise_groups == 0);
    tg_end(&t);
}

/* Malformed FusedElementwise nodes fail with a message, never crash. */
static void test_bad_programs(void) {
    static const struct {
        const char *op;
        int64_t args[3];
        int64_t dtype;
        const char *msg;
    } bad[] = {
        {"NOPE", {0, -1, -1}, OT_FLOAT, "unknown opcode"},
        {"ADD", {0, 5, -1}, OT_FLOAT, "before it is defined"},
        {"ADD", {0, 0, -1}, OT_BOOL, "operand types"},
        {"WHERE", {0, 0, 0}, OT_FLOAT, "operand types"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tg t;
        tg_begin(&t, OT_FLOAT);
        int64_t d[1] = {4};
        tg_input(&t, "x", OT_FLOAT, 1, d, -1, 1);
        const char *x = "x";
        int id = tg_node(&t, "FusedElementwise", OT_DOMAIN_TRAIN, 1, &x, "y");
        ot_attr *a;
        CHECK(ot_node_add_attr(t.g, id, "ops", OT_ATTR_STRINGS, &a) == OT_OK);
        a->strings = ot_calloc(1, sizeof(char *));
        a->strings[0] = ot_strdup(bad[i].op);
        a->n = 1;
        int64_t outs[1] = {1};
        tg_attr_ints(&t, id, "args", 3, bad[i].args);
        tg_attr_ints(&t, id, "dtypes", 1, &bad[i].dtype);
        tg_attr_ints(&t, id, "outputs", 1, outs);
        tg_output(&t, "y");
        ot_program *p = NULL;
        ot_compile_options o = {0};
        ot_status s = ot_program_compile(t.g, t.in, &o, &p);
        CHECK_MSG(s != OT_OK && strstr(ot_last_error(), bad[i].msg), "case %zu: %s", i, ot_last_error());
        ot_program_free(p);
        tg_end(&t);
    }
}

/* The vectorised float32 Erf and Gelu of the fused kernels. */
static void test_fast_erf(void) {
    enum { N = 20001 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = -6.0f + 12.0f * (float)i / (N - 1);
    ot_fused_unary_f32(OT_UN_ERF, NULL, x, y, N);
    double worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(y[i] - erf(x[i])) / fmax(fabs(erf(x[i])), 1e-30));
    CHECK_MSG(worst < 3e-7, "erf relative error %g", worst);
    ot_fused_unary_f32(OT_UN_GELU, NULL, x, y, N);
    worst = 0;
    for (int i = 0; i < N; i++) {
        double r = 0.5 * x[i] * erfc(-x[i] / sqrt(2.0));
        worst = fmax(worst, fabs(y[i] - r) / (fabs(r) + 1e-30));
    }
    CHECK_MSG(worst < 1e-5, "gelu relative error %g", worst);
    float special[3] = {NAN, INFINITY, -INFINITY}, out[3];
    ot_fused_unary_f32(OT_UN_ERF, NULL, special, out, 3);
    CHECK(isnan(out[0]) && out[1] == 1.0f && out[2] == -1.0f);
}

int main(void) {
    test_fast_erf();
    test_random_chains();
    test_bias_grad();
    test_fused_gemm();
    test_transposes();
    test_dropout_index();
    test_static_left_alone();
    test_bad_programs();
    return check_done();
}
