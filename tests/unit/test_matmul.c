/* MatMul, Gemm and Einsum against naive references. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/cpu/einsum.h"
#include "ops/op.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"

static uint64_t rng = 88172645463325252ull;
static double urand(void) { /* in [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / (double)(1ull << 52) - 1.0;
}

static ot_tensor *tensor(ot_dtype dt, int rank, const int64_t *dims, bool integer) {
    ot_tensor *t;
    if (ot_tensor_new(dt, rank, dims, &t) != OT_OK) return NULL;
    int64_t n = ot_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        double v = urand();
        if (integer) ot_store_i64(dt, t->data, i, (int64_t)((ot_dtype_is_signed(dt) ? v : fabs(v)) * 7));
        else ot_store_f64(dt, t->data, i, v);
    }
    return t;
}

/* A one-node graph: op with n_in inputs; attributes added by the caller. */
typedef struct node_t {
    ot_graph *g;
    int node;
} node_t;

static node_t make_node(const char *op, int n_in) {
    node_t n = {0};
    ot_graph_new("t", &n.g);
    int ins[8], out;
    for (int i = 0; i < n_in; i++) {
        char name[8];
        snprintf(name, sizeof name, "x%d", i);
        ot_graph_value(n.g, name, &ins[i]);
    }
    ot_graph_value(n.g, "y", &out);
    ot_graph_add_node(n.g, op, "", "n0", n_in, ins, 1, &out, &n.node);
    return n;
}

static void attr_int(node_t *n, const char *name, int64_t v) {
    ot_attr *a;
    ot_node_add_attr(n->g, n->node, name, OT_ATTR_INT, &a);
    a->i = v;
}
static void attr_float(node_t *n, const char *name, float v) {
    ot_attr *a;
    ot_node_add_attr(n->g, n->node, name, OT_ATTR_FLOAT, &a);
    a->f = v;
}
static void attr_string(node_t *n, const char *name, const char *v) {
    ot_attr *a;
    ot_node_add_attr(n->g, n->node, name, OT_ATTR_STRING, &a);
    a->s = ot_strdup(v);
    a->s_len = strlen(v);
}

/* parse + infer + alloc + cpu; *y receives the output (caller frees). */
static ot_status run(node_t *n, int64_t opset, ot_tensor **in, int n_in, ot_tensor **y) {
    const ot_node *nd = &n->g->nodes[n->node];
    const ot_op_def *def = ot_op_find("", nd->op_type);
    *y = NULL;
    if (!def) return OT_ERR_UNSUPPORTED;
    void *attrs = def->attrs_size ? calloc(1, def->attrs_size) : NULL;
    ot_status s = def->parse ? def->parse(nd, opset, attrs) : OT_OK;
    ot_tensor *out = NULL;
    if (s == OT_OK) s = ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out);
    ot_kctx c = {.node = nd, .name = nd->name, .opset = opset, .attrs = attrs, .n_in = n_in, .in = in,
                 .n_out = 1, .out = &out};
    if (s == OT_OK) s = def->infer(&c);
    if (s == OT_OK) s = ot_tensor_alloc_data(out);
    if (s == OT_OK) s = def->cpu(&c);
    free(attrs);
    if (s != OT_OK) ot_tensor_free(out);
    else *y = out;
    ot_graph_free(n->g);
    return s;
}

static double tol_of(ot_dtype dt) { return dt == OT_FLOAT16 || dt == OT_BFLOAT16 ? 2e-2 : dt == OT_FLOAT ? 1e-5 : 1e-12; }

/* ------------------------------------------------------------ MatMul */

static void matmul_case(ot_dtype dt, int ra, const int64_t *da, int rb, const int64_t *db, int r_exp,
                        const int64_t *d_exp) {
    bool integer = !ot_dtype_is_float(dt);
    ot_tensor *in[2] = {tensor(dt, ra, da, integer), tensor(dt, rb, db, integer)}, *y;
    node_t n = make_node("MatMul", 2);
    ot_status s = run(&n, 13, in, 2, &y);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        CHECK(y->rank == r_exp && (r_exp == 0 || !memcmp(y->dims, d_exp, sizeof(int64_t) * (size_t)r_exp)));
        /* reference: promote to >= 2-D, broadcast batch dims by index arithmetic */
        int64_t M = ra >= 2 ? da[ra - 2] : 1, K = da[ra - 1], N = rb >= 2 ? db[rb - 1] : 1;
        int nb = r_exp - (ra >= 2) - (rb >= 2);
        int64_t batch = 1;
        for (int i = 0; i < nb; i++) batch *= d_exp[i];
        double worst = 0;
        for (int64_t b = 0; b < batch; b++) {
            int64_t ao = 0, bo = 0, rem = b, sa = 1, sb = 1;
            for (int i = nb - 1; i >= 0; i--) {
                int64_t idx = rem % d_exp[i];
                rem /= d_exp[i];
                int ia = i - (nb - (ra > 2 ? ra - 2 : 0)), ib = i - (nb - (rb > 2 ? rb - 2 : 0));
                if (ia >= 0) {
                    ao += (da[ia] == 1 ? 0 : idx) * sa;
                    sa *= da[ia];
                }
                if (ib >= 0) {
                    bo += (db[ib] == 1 ? 0 : idx) * sb;
                    sb *= db[ib];
                }
            }
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double acc = 0;
                    for (int64_t k = 0; k < K; k++)
                        acc += ot_load_f64(dt, in[0]->data, ao * M * K + i * K + k) *
                               ot_load_f64(dt, in[1]->data, bo * K * N + k * N + j);
                    double got = ot_load_f64(dt, y->data, b * M * N + i * N + j);
                    double err = fabs(got - acc) / (1 + fabs(acc));
                    if (err > worst) worst = err;
                }
        }
        CHECK_MSG(worst <= tol_of(dt), "MatMul %s: error %g", ot_dtype_name(dt), worst);
    }
    ot_tensor_free(y);
    ot_tensor_free(in[0]);
    ot_tensor_free(in[1]);
}

static void test_matmul(void) {
    const ot_dtype dts[] = {OT_FLOAT, OT_DOUBLE, OT_INT32, OT_INT64, OT_UINT32, OT_FLOAT16, OT_BFLOAT16};
    for (size_t t = 0; t < sizeof dts / sizeof dts[0]; t++) {
        ot_dtype dt = dts[t];
        matmul_case(dt, 2, (int64_t[]){3, 4}, 2, (int64_t[]){4, 5}, 2, (int64_t[]){3, 5});
        matmul_case(dt, 1, (int64_t[]){4}, 1, (int64_t[]){4}, 0, NULL);
        matmul_case(dt, 1, (int64_t[]){4}, 3, (int64_t[]){2, 4, 3}, 2, (int64_t[]){2, 3});
        matmul_case(dt, 4, (int64_t[]){1, 2, 4, 3}, 1, (int64_t[]){3}, 3, (int64_t[]){1, 2, 4});
        matmul_case(dt, 4, (int64_t[]){3, 1, 3, 4}, 4, (int64_t[]){1, 2, 4, 2}, 4, (int64_t[]){3, 2, 3, 2});
        matmul_case(dt, 3, (int64_t[]){5, 7, 6}, 2, (int64_t[]){6, 3}, 3, (int64_t[]){5, 7, 3});
        matmul_case(dt, 2, (int64_t[]){7, 6}, 3, (int64_t[]){5, 6, 3}, 3, (int64_t[]){5, 7, 3});
        matmul_case(dt, 3, (int64_t[]){5, 7, 6}, 3, (int64_t[]){5, 6, 3}, 3, (int64_t[]){5, 7, 3});
    }
    matmul_case(OT_FLOAT, 2, (int64_t[]){0, 4}, 2, (int64_t[]){4, 5}, 2, (int64_t[]){0, 5});
    matmul_case(OT_FLOAT, 2, (int64_t[]){3, 0}, 2, (int64_t[]){0, 5}, 2, (int64_t[]){3, 5}); /* K = 0: zeros */
    matmul_case(OT_FLOAT, 3, (int64_t[]){64, 33, 40}, 3, (int64_t[]){64, 40, 17}, 3, (int64_t[]){64, 33, 17});

    /* mismatched inner dims and types are errors */
    ot_tensor *in[2] = {tensor(OT_FLOAT, 2, (int64_t[]){3, 4}, false), tensor(OT_FLOAT, 2, (int64_t[]){5, 2}, false)};
    ot_tensor *y;
    node_t n = make_node("MatMul", 2);
    CHECK(run(&n, 13, in, 2, &y) == OT_ERR_SHAPE);
    ot_tensor_free(in[1]);
    in[1] = tensor(OT_DOUBLE, 2, (int64_t[]){4, 2}, false);
    n = make_node("MatMul", 2);
    CHECK(run(&n, 13, in, 2, &y) == OT_ERR_TYPE);
    ot_tensor_free(in[0]);
    ot_tensor_free(in[1]);
}

/* MatMulInteger: (2, 3, 4) uint8 x (4, 5) int8 with per-row and per-column
   zero points, against integer loops. */
static void test_matmul_integer(void) {
    int64_t da[3] = {2, 3, 4}, db[2] = {4, 5}, dza[3] = {2, 3, 1}, dzb[1] = {5};
    ot_tensor *in[4] = {tensor(OT_UINT8, 3, da, true), tensor(OT_INT8, 2, db, true), tensor(OT_UINT8, 3, dza, true),
                        tensor(OT_INT8, 1, dzb, true)}, *y;
    node_t n = make_node("MatMulInteger", 4);
    ot_status s = run(&n, 10, in, 4, &y);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        CHECK(y->dtype == OT_INT32 && y->rank == 3 && y->dims[2] == 5);
        int bad = 0;
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 5; j++) {
                    int64_t acc = 0;
                    for (int k = 0; k < 4; k++)
                        acc += (ot_load_i64(OT_UINT8, in[0]->data, (b * 3 + i) * 4 + k) -
                                ot_load_i64(OT_UINT8, in[2]->data, b * 3 + i)) *
                               (ot_load_i64(OT_INT8, in[1]->data, k * 5 + j) - ot_load_i64(OT_INT8, in[3]->data, j));
                    bad += ((int32_t *)y->data)[(b * 3 + i) * 5 + j] != acc;
                }
        CHECK(bad == 0);
    }
    ot_tensor_free(y);
    for (int i = 0; i < 4; i++) ot_tensor_free(in[i]);
}

/* -------------------------------------------------------------- Gemm */

static void gemm_case(ot_dtype dt, int64_t M, int64_t N, int64_t K, int ta, int tb, float alpha, float beta, int rc,
                      const int64_t *dc, int64_t opset) {
    bool integer = !ot_dtype_is_float(dt);
    int64_t da[2] = {ta ? K : M, ta ? M : K}, db[2] = {tb ? N : K, tb ? K : N};
    ot_tensor *in[3] = {tensor(dt, 2, da, integer), tensor(dt, 2, db, integer),
                        rc >= 0 ? tensor(dt, rc, dc, integer) : NULL};
    node_t n = make_node("Gemm", rc >= 0 ? 3 : 2);
    if (alpha != 1.0f) attr_float(&n, "alpha", alpha);
    if (beta != 1.0f) attr_float(&n, "beta", beta);
    if (ta) attr_int(&n, "transA", 1);
    if (tb) attr_int(&n, "transB", 1);
    ot_tensor *y;
    ot_status s = run(&n, opset, in, rc >= 0 ? 3 : 2, &y);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        CHECK(y->rank == 2 && y->dims[0] == M && y->dims[1] == N);
        double worst = 0;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += ot_load_f64(dt, in[0]->data, ta ? k * M + i : i * K + k) *
                           ot_load_f64(dt, in[1]->data, tb ? j * K + k : k * N + j);
                acc *= alpha;
                if (in[2]) {
                    int64_t cm = rc == 2 ? dc[0] : 1, cn = rc >= 1 ? dc[rc - 1] : 1;
                    acc += beta * ot_load_f64(dt, in[2]->data, (cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j));
                }
                if (integer) acc = trunc(acc); /* the reference's astype */
                double err = fabs(ot_load_f64(dt, y->data, i * N + j) - acc) / (1 + fabs(acc));
                if (err > worst) worst = err;
            }
        CHECK_MSG(worst <= tol_of(dt), "Gemm %s ta=%d tb=%d: error %g", ot_dtype_name(dt), ta, tb, worst);
    }
    ot_tensor_free(y);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
}

static void test_gemm(void) {
    const ot_dtype dts[] = {OT_FLOAT, OT_DOUBLE, OT_INT32, OT_INT64, OT_FLOAT16};
    for (size_t t = 0; t < sizeof dts / sizeof dts[0]; t++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                ot_dtype dt = dts[t];
                gemm_case(dt, 3, 5, 4, ta, tb, 1.0f, 1.0f, 2, (int64_t[]){3, 5}, 13);
                gemm_case(dt, 3, 5, 4, ta, tb, 0.25f, 0.5f, 1, (int64_t[]){5}, 13);
                gemm_case(dt, 3, 5, 4, ta, tb, 1.0f, 1.0f, 0, NULL, 13);
                gemm_case(dt, 3, 5, 4, ta, tb, 2.0f, 1.0f, 2, (int64_t[]){3, 1}, 13);
                gemm_case(dt, 3, 5, 4, ta, tb, 1.0f, 0.0f, 2, (int64_t[]){1, 5}, 13);
                gemm_case(dt, 3, 5, 4, ta, tb, 1.0f, 1.0f, -1, NULL, 13);
            }
    gemm_case(OT_FLOAT, 70, 90, 110, 1, 1, 0.5f, 2.0f, 1, (int64_t[]){90}, 7);
    /* C is required before opset 11 */
    int64_t d[2] = {2, 2};
    ot_tensor *in[2] = {tensor(OT_FLOAT, 2, d, false), tensor(OT_FLOAT, 2, d, false)}, *y;
    node_t n = make_node("Gemm", 2);
    CHECK(run(&n, 9, in, 2, &y) == OT_ERR_SHAPE);
    ot_tensor *in3[3] = {in[0], in[1], tensor(OT_FLOAT, 2, (int64_t[]){3, 2}, false)};
    n = make_node("Gemm", 3);
    CHECK(run(&n, 13, in3, 3, &y) == OT_ERR_SHAPE); /* C does not broadcast */
    for (int i = 0; i < 3; i++) ot_tensor_free(in3[i]);
}

/* ------------------------------------------------------------ Einsum */

/* Naive reference: every assignment of every label, summed into the output. */
static void einsum_ref(const ot_einsum_shape *sh, ot_dtype dt, ot_tensor **in, double *out) {
    int labels[OT_EINSUM_MAX_LABELS], nl = 0;
    for (int l = 0; l < OT_EINSUM_MAX_LABELS; l++)
        if (sh->size[l] >= 0) labels[nl++] = l;
    int64_t outn = 1, total = 1;
    for (int k = 0; k < sh->out_rank; k++) outn *= sh->out_dims[k];
    for (int k = 0; k < nl; k++) total *= sh->size[labels[k]];
    memset(out, 0, sizeof(double) * (size_t)outn);
    for (int64_t t = 0; t < total; t++) {
        int64_t val[OT_EINSUM_MAX_LABELS], rem = t;
        for (int k = nl - 1; k >= 0; k--) {
            val[labels[k]] = rem % sh->size[labels[k]];
            rem /= sh->size[labels[k]];
        }
        double p = 1;
        for (int i = 0; i < sh->n_in; i++) {
            int64_t off = 0;
            for (int d = 0; d < sh->rank[i]; d++) {
                int64_t n = sh->in_dims[i][d];
                off = off * n + (n == 1 ? 0 : val[sh->lab[i][d]]);
            }
            p *= ot_load_f64(dt, in[i]->data, off);
        }
        int64_t o = 0;
        for (int k = 0; k < sh->out_rank; k++) o = o * sh->out_dims[k] + val[sh->out_lab[k]];
        out[o] += p;
    }
}

static void einsum_case(ot_dtype dt, const char *eq, int n_in, const int *ranks, const int64_t dims[][OT_MAX_RANK],
                        int r_exp, const int64_t *d_exp) {
    bool integer = !ot_dtype_is_float(dt);
    ot_tensor *in[OT_EINSUM_MAX_INPUTS], *y;
    for (int i = 0; i < n_in; i++) in[i] = tensor(dt, ranks[i], dims[i], integer);
    node_t n = make_node("Einsum", n_in);
    attr_string(&n, "equation", eq);
    ot_status s = run(&n, 12, in, n_in, &y);
    CHECK_MSG(s == OT_OK, "%s: %s", eq, ot_last_error());
    if (s == OT_OK) {
        CHECK_MSG(y->rank == r_exp && (r_exp == 0 || !memcmp(y->dims, d_exp, sizeof(int64_t) * (size_t)r_exp)), "%s: output shape",
                  eq);
        ot_einsum_eq e;
        ot_einsum_shape sh;
        ot_einsum_parse(eq, &e);
        const int64_t *dp[OT_EINSUM_MAX_INPUTS];
        for (int i = 0; i < n_in; i++) dp[i] = in[i]->dims;
        ot_einsum_resolve(&e, n_in, ranks, dp, &sh);
        int64_t on = ot_tensor_numel(y);
        double *ref = malloc(sizeof(double) * (size_t)(on ? on : 1)), worst = 0;
        einsum_ref(&sh, dt, in, ref);
        for (int64_t k = 0; k < on; k++) {
            double err = fabs(ot_load_f64(dt, y->data, k) - ref[k]) / (1 + fabs(ref[k]));
            if (err > worst) worst = err;
        }
        CHECK_MSG(worst <= tol_of(dt) * 10, "Einsum '%s' %s: error %g", eq, ot_dtype_name(dt), worst);
        free(ref);
    }
    ot_tensor_free(y);
    for (int i = 0; i < n_in; i++) ot_tensor_free(in[i]);
}

static void einsum_error(const char *eq, int n_in, const int *ranks, const int64_t dims[][OT_MAX_RANK]) {
    ot_tensor *in[OT_EINSUM_MAX_INPUTS], *y;
    for (int i = 0; i < n_in; i++) in[i] = tensor(OT_FLOAT, ranks[i], dims[i], false);
    node_t n = make_node("Einsum", n_in);
    attr_string(&n, "equation", eq);
    ot_status s = run(&n, 12, in, n_in, &y);
    CHECK_MSG(s != OT_OK, "'%s' should fail", eq);
    for (int i = 0; i < n_in; i++) ot_tensor_free(in[i]);
}

static void test_einsum(void) {
    const ot_dtype dts[] = {OT_FLOAT, OT_DOUBLE, OT_INT32, OT_INT16, OT_FLOAT16};
    for (size_t t = 0; t < sizeof dts / sizeof dts[0]; t++) {
        ot_dtype dt = dts[t];
        einsum_case(dt, "bij, bjk -> bik", 2, (int[]){3, 3}, (int64_t[][8]){{5, 2, 3}, {5, 3, 4}}, 3,
                    (int64_t[]){5, 2, 4});
        einsum_case(dt, "bhqd,bhkd->bhqk", 2, (int[]){4, 4}, (int64_t[][8]){{2, 3, 5, 4}, {2, 3, 6, 4}}, 4,
                    (int64_t[]){2, 3, 5, 6});
        einsum_case(dt, "i,j->ij", 2, (int[]){1, 1}, (int64_t[][8]){{3}, {4}}, 2, (int64_t[]){3, 4});
        einsum_case(dt, "ij->ji", 1, (int[]){2}, (int64_t[][8]){{3, 4}}, 2, (int64_t[]){4, 3});
        einsum_case(dt, "ij->i", 1, (int[]){2}, (int64_t[][8]){{3, 4}}, 1, (int64_t[]){3});
        einsum_case(dt, "ij->j", 1, (int[]){2}, (int64_t[][8]){{3, 4}}, 1, (int64_t[]){4});
        einsum_case(dt, "i,i", 2, (int[]){1, 1}, (int64_t[][8]){{5}, {5}}, 0, NULL);
        einsum_case(dt, "->", 1, (int[]){0}, (int64_t[][8]){{0}}, 0, NULL);
        einsum_case(dt, "...ii ->...i", 1, (int[]){3}, (int64_t[][8]){{3, 5, 5}}, 2, (int64_t[]){3, 5});
        einsum_case(dt, "ii", 1, (int[]){2}, (int64_t[][8]){{4, 4}}, 0, NULL);
        einsum_case(dt, "ba,cb", 2, (int[]){2, 2}, (int64_t[][8]){{2, 3}, {4, 2}}, 2, (int64_t[]){3, 4});
        einsum_case(dt, "ij,jk,kl->il", 3, (int[]){2, 2, 2}, (int64_t[][8]){{2, 3}, {3, 4}, {4, 5}}, 2,
                    (int64_t[]){2, 5});
        einsum_case(dt, "...i,...i->...", 2, (int[]){3, 2}, (int64_t[][8]){{2, 1, 3}, {4, 3}}, 2, (int64_t[]){2, 4});
        einsum_case(dt, "bn,anm,bm->ba", 3, (int[]){2, 3, 2}, (int64_t[][8]){{2, 3}, {4, 3, 5}, {2, 5}}, 2,
                    (int64_t[]){2, 4});
        einsum_case(dt, "ij,ij->ij", 2, (int[]){2, 2}, (int64_t[][8]){{1, 3}, {2, 3}}, 2, (int64_t[]){2, 3});
        einsum_case(dt, "iij,jk->ik", 2, (int[]){3, 2}, (int64_t[][8]){{3, 3, 2}, {2, 4}}, 2, (int64_t[]){3, 4});
        einsum_case(dt, "abc,cd->dba", 2, (int[]){3, 2}, (int64_t[][8]){{2, 3, 4}, {4, 5}}, 3, (int64_t[]){5, 3, 2});
        einsum_case(dt, "bik,bkj->bji", 2, (int[]){3, 3}, (int64_t[][8]){{2, 3, 4}, {2, 4, 5}}, 3,
                    (int64_t[]){2, 5, 3});
        einsum_case(dt, "ij,kl", 2, (int[]){2, 2}, (int64_t[][8]){{2, 3}, {0, 5}}, 4, (int64_t[]){2, 3, 0, 5});
        einsum_case(dt, "ij,jk", 2, (int[]){2, 2}, (int64_t[][8]){{2, 0}, {0, 5}}, 2, (int64_t[]){2, 5});
    }
    einsum_error("ij,jk->ik", 2, (int[]){2, 2}, (int64_t[][8]){{2, 3}, {4, 5}});   /* size mismatch */
    einsum_error("ij->k", 1, (int[]){2}, (int64_t[][8]){{2, 3}});                 /* unknown output label */
    einsum_error("ijk->i", 1, (int[]){2}, (int64_t[][8]){{2, 3}});                /* rank mismatch */
    einsum_error("i..j->i", 1, (int[]){2}, (int64_t[][8]){{2, 3}});               /* bad ellipsis */
    einsum_error("ij->ii", 1, (int[]){2}, (int64_t[][8]){{2, 2}});                /* repeated output label */
    einsum_error("i$->i", 1, (int[]){2}, (int64_t[][8]){{2, 2}});                 /* invalid character */
    einsum_error("...ij->ij", 1, (int[]){3}, (int64_t[][8]){{2, 2, 3}});          /* ellipsis dropped */
    einsum_error("ij,jk->ik", 1, (int[]){2}, (int64_t[][8]){{2, 3}});             /* operand count */
}

int main(void) {
    test_matmul();
    test_matmul_integer();
    test_gemm();
    test_einsum();
    return check_done();
}
