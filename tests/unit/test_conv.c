/* Conv, ConvTranspose and the shared window geometry against direct loops. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels/cpu/window.h"
#include "ops/op.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"

static uint64_t rng = 88172645463325252ull;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / (double)(1ull << 52) - 1.0;
}

static ot_tensor *tensor(ot_dtype dt, int rank, const int64_t *dims) {
    ot_tensor *t;
    if (ot_tensor_new(dt, rank, dims, &t) != OT_OK) return NULL;
    for (int64_t i = 0; i < ot_tensor_numel(t); i++) ot_store_f64(dt, t->data, i, urand());
    return t;
}

/* One case: n spatial dims; attribute lists (count 0 = absent). */
typedef struct conv_case {
    ot_dtype dt;
    int n;
    int64_t N, C, M, G;
    int64_t in[3], k[3];
    int ns, nd, np, nop, nos;
    int64_t strides[3], dil[3], pads[6], out_pad[3], out_shape[3];
    const char *auto_pad;
    bool bias;
} conv_case;

static void add_ints(ot_graph *g, int node, const char *name, int cnt, const int64_t *v) {
    if (!cnt) return;
    ot_attr *a;
    ot_node_add_attr(g, node, name, OT_ATTR_INTS, &a);
    a->n = cnt;
    a->ints = ot_malloc(sizeof(int64_t) * (size_t)cnt);
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)cnt);
}

static ot_status run(const conv_case *cc, bool transpose, ot_tensor **in, ot_tensor **y) {
    ot_graph *g;
    ot_graph_new("t", &g);
    int ids[4], node;
    const char *names[4] = {"x", "w", "b", "y"};
    for (int i = 0; i < 4; i++) ot_graph_value(g, names[i], &ids[i]);
    const char *op = transpose ? "ConvTranspose" : "Conv";
    ot_graph_add_node(g, op, "", "n0", cc->bias ? 3 : 2, ids, 1, &ids[3], &node);
    ot_attr *a;
    if (cc->G != 1) {
        ot_node_add_attr(g, node, "group", OT_ATTR_INT, &a);
        a->i = cc->G;
    }
    if (cc->auto_pad) {
        ot_node_add_attr(g, node, "auto_pad", OT_ATTR_STRING, &a);
        a->s = ot_strdup(cc->auto_pad);
        a->s_len = strlen(cc->auto_pad);
    }
    add_ints(g, node, "strides", cc->ns, cc->strides);
    add_ints(g, node, "dilations", cc->nd, cc->dil);
    add_ints(g, node, "pads", cc->np, cc->pads);
    add_ints(g, node, "output_padding", cc->nop, cc->out_pad);
    add_ints(g, node, "output_shape", cc->nos, cc->out_shape);
    add_ints(g, node, "kernel_shape", cc->n, cc->k);
    const ot_op_def *def = ot_op_find("", op);
    void *attrs = calloc(1, def->attrs_size);
    ot_status s = def->parse(&g->nodes[node], 22, attrs);
    ot_tensor *out;
    ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out);
    ot_kctx c = {.node = &g->nodes[node], .name = "n0", .opset = 22, .attrs = attrs, .n_in = cc->bias ? 3 : 2,
                 .in = in, .n_out = 1, .out = &out};
    if (s == OT_OK) s = def->infer(&c);
    if (s == OT_OK) s = ot_tensor_alloc_data(out);
    if (s == OT_OK) s = def->cpu(&c);
    free(attrs);
    ot_graph_free(g);
    if (s != OT_OK) ot_tensor_free(out);
    *y = s == OT_OK ? out : NULL;
    return s;
}

static int64_t prod(int n, const int64_t *v) {
    int64_t p = 1;
    for (int i = 0; i < n; i++) p *= v[i];
    return p;
}

/* Direct loops: for each (output or input) position and kernel offset,
   img coordinate = col * stride - pad + k * dilation. */
static void reference(const conv_case *cc, bool transpose, const int64_t *img, const int64_t *col,
                      const int64_t *pad, ot_tensor **in, double *y) {
    int n = cc->n;
    int64_t Cg = cc->C / cc->G, Mg = cc->M / cc->G, K = prod(n, cc->k), P = prod(n, col), Q = prod(n, img);
    int64_t ysz = cc->N * cc->M * (transpose ? Q : P);
    for (int64_t i = 0; i < ysz; i++) y[i] = cc->bias ? ot_load_f64(cc->dt, in[2]->data, (i / (transpose ? Q : P)) % cc->M) : 0;
    for (int64_t b = 0; b < cc->N; b++)
        for (int64_t gi = 0; gi < cc->G; gi++)
            for (int64_t ci = 0; ci < Cg; ci++)
                for (int64_t m = 0; m < Mg; m++)
                    for (int64_t p = 0; p < P; p++)
                        for (int64_t kk = 0; kk < K; kk++) {
                            int64_t q = 0, rp = p, rk = kk, pos[3], kof[3];
                            for (int d = n - 1; d >= 0; d--) {
                                pos[d] = rp % col[d];
                                rp /= col[d];
                                kof[d] = rk % cc->k[d];
                                rk /= cc->k[d];
                            }
                            bool ok = true;
                            for (int d = 0; d < n; d++) {
                                int64_t s = cc->ns ? cc->strides[d] : 1, dl = cc->nd ? cc->dil[d] : 1;
                                int64_t i = pos[d] * s - pad[d] + kof[d] * dl;
                                ok &= i >= 0 && i < img[d];
                                q = q * img[d] + i;
                            }
                            if (!ok) continue;
                            int64_t c = gi * Cg + ci, mo = gi * Mg + m;
                            if (!transpose) {
                                double xv = ot_load_f64(cc->dt, in[0]->data, (b * cc->C + c) * Q + q);
                                double wv = ot_load_f64(cc->dt, in[1]->data, (mo * Cg + ci) * K + kk);
                                y[(b * cc->M + mo) * P + p] += xv * wv;
                            } else {
                                double xv = ot_load_f64(cc->dt, in[0]->data, (b * cc->C + c) * P + p);
                                double wv = ot_load_f64(cc->dt, in[1]->data, (c * Mg + m) * K + kk);
                                y[(b * cc->M + mo) * Q + q] += xv * wv;
                            }
                        }
}

/* Runs a case and compares; exp_out are the expected spatial output dims and
   pad the begin pads (derived by hand in the cases). */
static void check_case(const conv_case *cc, bool transpose, const int64_t *exp_out, const int64_t *pad) {
    int n = cc->n;
    int64_t xd[5] = {cc->N, cc->C}, wd[5], bd[1] = {cc->M};
    for (int i = 0; i < n; i++) {
        xd[2 + i] = cc->in[i];
        wd[2 + i] = cc->k[i];
    }
    wd[0] = transpose ? cc->C : cc->M;
    wd[1] = transpose ? cc->M / cc->G : cc->C / cc->G;
    ot_tensor *in[3] = {tensor(cc->dt, n + 2, xd), tensor(cc->dt, n + 2, wd), cc->bias ? tensor(cc->dt, 1, bd) : NULL};
    ot_tensor *y;
    ot_status s = run(cc, transpose, in, &y);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (s == OT_OK) {
        bool shape_ok = y->rank == n + 2 && y->dims[0] == cc->N && y->dims[1] == cc->M;
        for (int i = 0; i < n; i++) shape_ok &= y->dims[2 + i] == exp_out[i];
        CHECK_MSG(shape_ok, "%s %dD: output shape", transpose ? "ConvTranspose" : "Conv", n);
        if (shape_ok) {
            int64_t numel = ot_tensor_numel(y);
            double *ref = malloc(sizeof(double) * (size_t)(numel ? numel : 1)), worst = 0;
            reference(cc, transpose, transpose ? exp_out : cc->in, transpose ? cc->in : exp_out, pad, in, ref);
            for (int64_t i = 0; i < numel; i++) {
                double e = fabs(ot_load_f64(cc->dt, y->data, i) - ref[i]) / (1 + fabs(ref[i]));
                if (e > worst) worst = e;
            }
            double tol = cc->dt == OT_DOUBLE ? 1e-12 : cc->dt == OT_FLOAT ? 1e-5 : 3e-2;
            CHECK_MSG(worst <= tol, "%s %dD %s: error %g", transpose ? "ConvTranspose" : "Conv", n,
                      ot_dtype_name(cc->dt), worst);
            free(ref);
        }
    }
    ot_tensor_free(y);
    for (int i = 0; i < 3; i++) ot_tensor_free(in[i]);
}

static void test_window(void) {
    ot_window w;
    /* ceil_mode: the last window must start inside the input or left pad */
    CHECK(ot_window_compute(&w, 1, (int64_t[]){5}, (int64_t[]){2}, (int64_t[]){2}, NULL, (int64_t[]){1, 1},
                            OT_AUTO_PAD_NOTSET, true) == OT_OK);
    CHECK(w.out[0] == 3 && w.extra_end[0] == 0);
    CHECK(ot_window_compute(&w, 1, (int64_t[]){6}, (int64_t[]){3}, (int64_t[]){2}, NULL, NULL, OT_AUTO_PAD_NOTSET,
                            true) == OT_OK);
    CHECK(w.out[0] == 3 && w.extra_end[0] == 1);
    CHECK(ot_window_compute(&w, 1, (int64_t[]){6}, (int64_t[]){3}, (int64_t[]){2}, NULL, NULL, OT_AUTO_PAD_NOTSET,
                            false) == OT_OK);
    CHECK(w.out[0] == 2);
    /* SAME_UPPER / SAME_LOWER put the odd pad at the end / the start */
    CHECK(ot_window_compute(&w, 2, (int64_t[]){5, 6}, (int64_t[]){3, 4}, (int64_t[]){2, 1}, NULL, NULL,
                            OT_AUTO_PAD_SAME_UPPER, false) == OT_OK);
    CHECK(w.out[0] == 3 && w.out[1] == 6 && w.pad_begin[0] == 1 && w.pad_end[0] == 1 && w.pad_begin[1] == 1 &&
          w.pad_end[1] == 2);
    CHECK(ot_window_compute(&w, 1, (int64_t[]){6}, (int64_t[]){4}, NULL, NULL, NULL, OT_AUTO_PAD_SAME_LOWER,
                            false) == OT_OK);
    CHECK(w.pad_begin[0] == 2 && w.pad_end[0] == 1 && w.out[0] == 6);
    CHECK(ot_window_compute(&w, 1, (int64_t[]){5}, (int64_t[]){1}, (int64_t[]){3}, NULL, NULL, OT_AUTO_PAD_SAME_UPPER,
                            false) == OT_OK);
    CHECK(w.out[0] == 2 && w.pad_begin[0] == 0 && w.pad_end[0] == 0); /* negative total pad clamps to 0 */
    /* VALID, dilation */
    CHECK(ot_window_compute(&w, 1, (int64_t[]){10}, (int64_t[]){3}, (int64_t[]){3}, (int64_t[]){2}, (int64_t[]){4, 4},
                            OT_AUTO_PAD_VALID, false) == OT_OK);
    CHECK(w.out[0] == 2 && w.pad_begin[0] == 0);
    CHECK(ot_window_compute(&w, 1, (int64_t[]){5}, (int64_t[]){2}, (int64_t[]){2}, NULL, NULL, OT_AUTO_PAD_VALID,
                            true) == OT_OK);
    CHECK(w.out[0] == 2);
    /* errors */
    CHECK(ot_window_compute(&w, 1, (int64_t[]){2}, (int64_t[]){3}, NULL, NULL, NULL, OT_AUTO_PAD_NOTSET, false) ==
          OT_ERR_SHAPE);
    CHECK(ot_window_compute(&w, 1, (int64_t[]){5}, (int64_t[]){3}, (int64_t[]){0}, NULL, NULL, OT_AUTO_PAD_NOTSET,
                            false) == OT_ERR_SHAPE);
    CHECK(ot_window_compute(&w, 1, (int64_t[]){5}, (int64_t[]){3}, NULL, NULL, (int64_t[]){-1, 0}, OT_AUTO_PAD_NOTSET,
                            false) == OT_ERR_SHAPE);
    ot_auto_pad ap;
    CHECK(ot_auto_pad_parse("SAME", &ap) == OT_ERR_PARSE);
}

static void test_conv(void) {
    const ot_dtype dts[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16};
    for (size_t t = 0; t < 3; t++) {
        ot_dtype dt = dts[t];
        conv_case a = {.dt = dt, .n = 2, .N = 1, .C = 1, .M = 1, .G = 1, .in = {5, 5}, .k = {3, 3}, .np = 4,
                       .pads = {1, 1, 1, 1}};
        check_case(&a, false, (int64_t[]){5, 5}, (int64_t[]){1, 1});
        conv_case b = {.dt = dt, .n = 2, .N = 2, .C = 4, .M = 6, .G = 2, .in = {7, 5}, .k = {3, 2}, .ns = 2,
                       .strides = {2, 1}, .np = 4, .pads = {1, 0, 1, 2}, .bias = true};
        check_case(&b, false, (int64_t[]){4, 6}, (int64_t[]){1, 0});
        conv_case c1 = {.dt = dt, .n = 1, .N = 3, .C = 2, .M = 3, .G = 1, .in = {9}, .k = {3}, .nd = 1, .dil = {2},
                        .ns = 1, .strides = {2}, .bias = true};
        check_case(&c1, false, (int64_t[]){3}, (int64_t[]){0});
        conv_case d3 = {.dt = dt, .n = 3, .N = 1, .C = 2, .M = 2, .G = 1, .in = {4, 5, 3}, .k = {2, 3, 2},
                        .auto_pad = "SAME_LOWER", .ns = 3, .strides = {2, 2, 1}};
        check_case(&d3, false, (int64_t[]){2, 3, 3}, (int64_t[]){0, 1, 1});
        conv_case dw = {.dt = dt, .n = 2, .N = 2, .C = 4, .M = 8, .G = 4, .in = {6, 6}, .k = {3, 3},
                        .auto_pad = "SAME_UPPER", .bias = true};
        check_case(&dw, false, (int64_t[]){6, 6}, (int64_t[]){1, 1});
        conv_case one = {.dt = dt, .n = 2, .N = 2, .C = 3, .M = 5, .G = 1, .in = {4, 3}, .k = {1, 1}, .bias = true};
        check_case(&one, false, (int64_t[]){4, 3}, (int64_t[]){0, 0});
        conv_case valid = {.dt = dt, .n = 2, .N = 1, .C = 2, .M = 2, .G = 1, .in = {6, 7}, .k = {3, 3},
                           .auto_pad = "VALID", .ns = 2, .strides = {2, 3}};
        check_case(&valid, false, (int64_t[]){2, 2}, (int64_t[]){0, 0});
        conv_case big = {.dt = dt, .n = 2, .N = 8, .C = 8, .M = 16, .G = 1, .in = {12, 12}, .k = {3, 3}, .np = 4,
                         .pads = {1, 1, 1, 1}, .bias = true};
        check_case(&big, false, (int64_t[]){12, 12}, (int64_t[]){1, 1});
        conv_case tiled = {.dt = dt, .n = 2, .N = 1, .C = 32, .M = 4, .G = 1, .in = {8, 128}, .k = {3, 3}, .np = 4,
                           .pads = {1, 1, 1, 1}, .bias = true}; /* column blocks split into several tiles */
        check_case(&tiled, false, (int64_t[]){8, 128}, (int64_t[]){1, 1});
        conv_case dw3 = {.dt = dt, .n = 3, .N = 2, .C = 3, .M = 3, .G = 3, .in = {5, 6, 7}, .k = {3, 2, 3}, .ns = 3,
                         .strides = {2, 1, 2}, .nd = 3, .dil = {1, 2, 1}, .np = 6, .pads = {1, 0, 1, 0, 1, 2}};
        check_case(&dw3, false, (int64_t[]){2, 5, 4}, (int64_t[]){1, 0, 1});
        conv_case dwide = {.dt = dt, .n = 1, .N = 1, .C = 2, .M = 2, .G = 2, .in = {50}, .k = {40}, .np = 2,
                           .pads = {3, 1}, .bias = true}; /* more taps than the summed-taps path takes */
        check_case(&dwide, false, (int64_t[]){15}, (int64_t[]){3});
        conv_case dw1 = {.dt = dt, .n = 1, .N = 1, .C = 1, .M = 3, .G = 1, .in = {9}, .k = {3}, .ns = 1,
                         .strides = {2}, .np = 2, .pads = {2, 2}}; /* one input channel, stride 2 */
        check_case(&dw1, false, (int64_t[]){6}, (int64_t[]){2});

        /* ConvTranspose: img = output, pad = begin pads */
        conv_case t0 = {.dt = dt, .n = 2, .N = 1, .C = 1, .M = 2, .G = 1, .in = {3, 3}, .k = {3, 3}};
        check_case(&t0, true, (int64_t[]){5, 5}, (int64_t[]){0, 0});
        conv_case t1 = {.dt = dt, .n = 2, .N = 1, .C = 1, .M = 2, .G = 1, .in = {3, 3}, .k = {3, 3}, .ns = 2,
                        .strides = {3, 2}, .nop = 2, .out_pad = {1, 1}};
        check_case(&t1, true, (int64_t[]){10, 8}, (int64_t[]){0, 0});
        conv_case t2 = {.dt = dt, .n = 2, .N = 1, .C = 1, .M = 2, .G = 1, .in = {3, 3}, .k = {3, 3}, .ns = 2,
                        .strides = {3, 2}, .nos = 2, .out_shape = {10, 8}};
        check_case(&t2, true, (int64_t[]){10, 8}, (int64_t[]){0, 0}); /* total -1: begin 0, end -1 */
        conv_case t3 = {.dt = dt, .n = 2, .N = 1, .C = 1, .M = 2, .G = 1, .in = {3, 3}, .k = {3, 3}, .ns = 2,
                        .strides = {3, 2}, .np = 4, .pads = {1, 2, 1, 2}};
        check_case(&t3, true, (int64_t[]){7, 3}, (int64_t[]){1, 2});
        conv_case t4 = {.dt = dt, .n = 2, .N = 1, .C = 1, .M = 2, .G = 1, .in = {3, 3}, .k = {3, 3}, .ns = 2,
                        .strides = {2, 2}, .auto_pad = "SAME_UPPER"};
        check_case(&t4, true, (int64_t[]){6, 6}, (int64_t[]){0, 0}); /* total 1: begin 0 */
        conv_case t5 = {.dt = dt, .n = 2, .N = 1, .C = 1, .M = 2, .G = 1, .in = {3, 3}, .k = {3, 3}, .ns = 2,
                        .strides = {2, 2}, .auto_pad = "SAME_LOWER"};
        check_case(&t5, true, (int64_t[]){6, 6}, (int64_t[]){1, 1});
        conv_case t6 = {.dt = dt, .n = 2, .N = 3, .C = 4, .M = 6, .G = 2, .in = {3, 4}, .k = {2, 3}, .nd = 2,
                        .dil = {2, 1}, .bias = true};
        check_case(&t6, true, (int64_t[]){5, 6}, (int64_t[]){0, 0});
        conv_case t7 = {.dt = dt, .n = 1, .N = 2, .C = 3, .M = 2, .G = 1, .in = {5}, .k = {1}, .bias = true};
        check_case(&t7, true, (int64_t[]){5}, (int64_t[]){0});
        conv_case t8 = {.dt = dt, .n = 3, .N = 1, .C = 1, .M = 2, .G = 1, .in = {3, 4, 5}, .k = {3, 3, 3}, .ns = 3,
                        .strides = {1, 2, 1}, .np = 6, .pads = {0, 1, 0, 1, 0, 0}};
        check_case(&t8, true, (int64_t[]){4, 8, 7}, (int64_t[]){0, 1, 0});
    }
    /* shape errors */
    conv_case bad = {.dt = OT_FLOAT, .n = 2, .N = 1, .C = 3, .M = 2, .G = 2, .in = {5, 5}, .k = {3, 3}};
    int64_t xd[4] = {1, 3, 5, 5}, wd[4] = {2, 1, 3, 3};
    ot_tensor *in[3] = {tensor(OT_FLOAT, 4, xd), tensor(OT_FLOAT, 4, wd), NULL}, *y;
    CHECK(run(&bad, false, in, &y) == OT_ERR_SHAPE); /* channels not divisible by group */
    ot_tensor_free(in[1]);
    in[1] = tensor(OT_FLOAT, 4, (int64_t[]){2, 3, 3, 3});
    bad.G = 1;
    CHECK(run(&bad, false, in, &y) == OT_OK);
    ot_tensor_free(y);
    bad.np = 2; /* pads needs 4 values */
    CHECK(run(&bad, false, in, &y) == OT_ERR_SHAPE);
    bad.np = 0;
    bad.k[0] = 2; /* kernel_shape disagrees with W */
    CHECK(run(&bad, false, in, &y) == OT_ERR_SHAPE);
    for (int i = 0; i < 2; i++) ot_tensor_free(in[i]);
}

int main(void) {
    test_window();
    test_conv();
    return check_done();
}
