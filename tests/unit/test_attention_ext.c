/* Unit tests of the attention-extension ops against naive references written
 * here: CausalConvWithState (bias, past, SiLU, float16), LinearAttention
 * (every rule, GQA, per-head / per-key decay, shared beta, a float32 state
 * with float16 activations) and FlexAttention (fused path, GQA, modifier
 * subgraphs through the compiler, their validation, and its gradient
 * against finite differences: the gradcheck harness cannot import the
 * ai.onnx.preview domain yet). */
#include "check.h"
#include "op_harness.h"
#include "src/passes/autodiff.h"
#include "src/passes/infer.h"
#include "src/runtime/program.h"

/* ---- CausalConvWithState ---------------------------------------------------------- */

static void ccs_ref(int64_t B, int64_t C, int64_t L, int64_t K, const ot_tensor *x, const ot_tensor *w,
                    const ot_tensor *bias, const ot_tensor *past, bool silu, double *y, double *present) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++) {
            double p[256];
            for (int64_t s = 0; s < K - 1; s++)
                p[s] = past ? at(past, (b * C + c) * (K - 1) + s) : 0;
            for (int64_t t = 0; t < L; t++)
                p[K - 1 + t] = at(x, (b * C + c) * L + t);
            for (int64_t t = 0; t < L; t++) {
                double z = bias ? at(bias, c) : 0;
                for (int64_t j = 0; j < K; j++)
                    z += at(w, c * K + j) * p[t + j];
                y[(b * C + c) * L + t] = silu ? z / (1 + exp(-z)) : z;
            }
            for (int64_t s = 0; s < K - 1; s++)
                present[(b * C + c) * (K - 1) + s] = p[L + s];
        }
}

static void test_ccs(ot_dtype dt, int64_t B, int64_t C, int64_t L, int64_t K, bool with_bias, bool with_past,
                     bool silu, double tol) {
    ot_tensor *in[4] = {rand_tensor(dt, 3, (int64_t[]){B, C, L}, 1), rand_tensor(dt, 3, (int64_t[]){C, 1, K}, 1),
                        with_bias ? rand_tensor(dt, 1, (int64_t[]){C}, 1) : NULL,
                        with_past ? rand_tensor(dt, 3, (int64_t[]){B, C, K - 1}, 1) : NULL};
    double *y = calloc((size_t)(B * C * L), sizeof(double)), *pres = calloc((size_t)(B * C * K), sizeof(double));
    ccs_ref(B, C, L, K, in[0], in[1], in[2], in[3], silu, y, pres);
    attr_spec act = STR("activation", silu ? "silu" : "none");
    op_run r;
    ot_status s = run_op(&r, "CausalConvWithState", 27, 4, in, 2, &act, 1);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        CHECK(r.out[0]->dtype == dt && r.out[0]->rank == 3 && r.out[0]->dims[2] == L);
        CHECK(r.out[1]->rank == 3 && r.out[1]->dims[2] == K - 1);
        check_all("ccs y", r.out[0], y, B * C * L, tol);
        check_all("ccs present", r.out[1], pres, B * C * (K - 1), tol);
    }
    run_free(&r);
    for (int i = 0; i < 4; i++)
        ot_tensor_free(in[i]);
    free(y);
    free(pres);
}

static void test_ccs_errors(void) {
    ot_tensor *in[2] = {rand_tensor(OT_FLOAT, 3, (int64_t[]){1, 2, 3}, 1), rand_tensor(OT_FLOAT, 3, (int64_t[]){2, 2, 3}, 1)};
    op_run r;
    attr_spec bad = STR("activation", "relu");
    CHECK(run_op(&r, "CausalConvWithState", 27, 2, in, 2, &bad, 1) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    CHECK(run_op(&r, "CausalConvWithState", 27, 2, in, 2, NULL, 0) == OT_ERR_SHAPE); /* weight (2, 2, 3) */
    run_free(&r);
    for (int i = 0; i < 2; i++)
        ot_tensor_free(in[i]);
}

/* ---- LinearAttention ---------------------------------------------------------------- */

/* rule: 0 linear, 1 gated, 2 delta, 3 gated_delta. */
static void la_ref(int rule, int64_t B, int64_t T, int64_t Hq, int64_t Hkv, int64_t dk, int64_t dv, int64_t ng,
                   int64_t nb, double scale, ot_tensor *const *in, double *o, double *present) {
    const ot_tensor *q = in[0], *k = in[1], *v = in[2], *past = in[3], *g = in[4], *be = in[5];
    int64_t G = Hq / Hkv;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < Hkv; h++) {
            double S[16][16], u[16];
            for (int64_t i = 0; i < dk; i++)
                for (int64_t m = 0; m < dv; m++)
                    S[i][m] = past ? at(past, ((b * Hkv + h) * dk + i) * dv + m) : 0;
            for (int64_t t = 0; t < T; t++) {
                int64_t kr = ((b * T + t) * Hkv + h) * dk, vr = ((b * T + t) * Hkv + h) * dv;
                if (rule & 1)
                    for (int64_t i = 0; i < dk; i++) {
                        double gi = ng == Hkv ? at(g, (b * T + t) * Hkv + h) : at(g, kr + i);
                        for (int64_t m = 0; m < dv; m++)
                            S[i][m] *= exp(gi);
                    }
                for (int64_t m = 0; m < dv; m++) {
                    u[m] = at(v, vr + m);
                    if (rule & 2) {
                        double rr = 0, beta = at(be, (b * T + t) * nb + (nb == 1 ? 0 : h));
                        for (int64_t i = 0; i < dk; i++)
                            rr += S[i][m] * at(k, kr + i);
                        u[m] = beta * (u[m] - rr);
                    }
                }
                for (int64_t i = 0; i < dk; i++)
                    for (int64_t m = 0; m < dv; m++)
                        S[i][m] += at(k, kr + i) * u[m];
                for (int64_t j = 0; j < G; j++) {
                    int64_t hq = h * G + j;
                    for (int64_t m = 0; m < dv; m++) {
                        double acc = 0;
                        for (int64_t i = 0; i < dk; i++)
                            acc += at(q, ((b * T + t) * Hq + hq) * dk + i) * S[i][m];
                        o[((b * T + t) * Hq + hq) * dv + m] = scale * acc;
                    }
                }
            }
            for (int64_t i = 0; i < dk; i++)
                for (int64_t m = 0; m < dv; m++)
                    present[((b * Hkv + h) * dk + i) * dv + m] = S[i][m];
        }
}

static void test_la(int rule, ot_dtype dt, ot_dtype state_dt, int64_t B, int64_t T, int64_t Hq, int64_t Hkv, int64_t dk,
                    int64_t dv, bool per_key, int64_t nb, bool with_past, float scale, double tol) {
    static const char *rules[] = {"linear", "gated", "delta", "gated_delta"};
    int64_t ng = per_key ? Hkv * dk : Hkv;
    ot_tensor *in[6] = {rand_tensor(dt, 3, (int64_t[]){B, T, Hq * dk}, 1),
                        rand_tensor(dt, 3, (int64_t[]){B, T, Hkv * dk}, 0.5),
                        rand_tensor(dt, 3, (int64_t[]){B, T, Hkv * dv}, 1),
                        with_past ? rand_tensor(state_dt, 4, (int64_t[]){B, Hkv, dk, dv}, 1) : NULL,
                        rule & 1 ? rand_tensor(dt, 3, (int64_t[]){B, T, ng}, 0.5) : NULL,
                        rule & 2 ? rand_tensor(dt, 3, (int64_t[]){B, T, nb}, 1) : NULL};
    double o[4096], pres[4096];
    la_ref(rule, B, T, Hq, Hkv, dk, dv, ng, nb, scale != 0 ? scale : 1 / sqrt((double)dk), in, o, pres);
    attr_spec at_[4] = {INT("q_num_heads", Hq), INT("kv_num_heads", Hkv), STR("update_rule", rules[rule]),
                        FLT("scale", scale)};
    op_run r;
    ot_status s = run_op(&r, "LinearAttention", 27, 6, in, 2, at_, 4);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) {
        CHECK(r.out[0]->dtype == dt && r.out[0]->dims[2] == Hq * dv);
        CHECK(r.out[1]->dtype == (with_past ? state_dt : dt) && r.out[1]->rank == 4);
        check_all("la output", r.out[0], o, B * T * Hq * dv, tol);
        check_all("la present", r.out[1], pres, B * Hkv * dk * dv, tol);
    }
    run_free(&r);
    for (int i = 0; i < 6; i++)
        ot_tensor_free(in[i]);
}

static void test_la_errors(void) {
    ot_tensor *in[5] = {rand_tensor(OT_FLOAT, 3, (int64_t[]){1, 2, 4}, 1), rand_tensor(OT_FLOAT, 3, (int64_t[]){1, 2, 4}, 1),
                        rand_tensor(OT_FLOAT, 3, (int64_t[]){1, 2, 4}, 1), NULL, NULL};
    op_run r;
    attr_spec gated[3] = {INT("q_num_heads", 2), INT("kv_num_heads", 2), STR("update_rule", "gated")};
    CHECK(run_op(&r, "LinearAttention", 27, 5, in, 2, gated, 3) == OT_ERR_INVALID_ARG); /* no decay */
    run_free(&r);
    attr_spec bad[3] = {INT("q_num_heads", 2), INT("kv_num_heads", 2), STR("update_rule", "mamba")};
    CHECK(run_op(&r, "LinearAttention", 27, 3, in, 2, bad, 3) == OT_ERR_UNSUPPORTED);
    run_free(&r);
    attr_spec gqa[2] = {INT("q_num_heads", 3), INT("kv_num_heads", 2)};
    CHECK(run_op(&r, "LinearAttention", 27, 3, in, 2, gqa, 2) == OT_ERR_PARSE);
    run_free(&r);
    for (int i = 0; i < 3; i++)
        ot_tensor_free(in[i]);
}

/* ---- FlexAttention ------------------------------------------------------------------- */

/* Naive reference; score_mul / prob_mul model the modifier subgraphs below. */
static void flex_ref(const ot_tensor *q, const ot_tensor *k, const ot_tensor *v, double scale, double score_mul,
                     double prob_mul, double *y) {
    int64_t B = q->dims[0], Hq = q->dims[1], L = q->dims[2], D = q->dims[3], Hkv = k->dims[1], S = k->dims[2],
            Dv = v->dims[3];
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < Hq; h++)
            for (int64_t l = 0; l < L; l++) {
                int64_t hk = h / (Hq / Hkv);
                double sc[64], mx = -INFINITY, sum = 0;
                for (int64_t s = 0; s < S; s++) {
                    double acc = 0;
                    for (int64_t d = 0; d < D; d++)
                        acc += at(q, ((b * Hq + h) * L + l) * D + d) * at(k, ((b * Hkv + hk) * S + s) * D + d);
                    sc[s] = acc * scale * score_mul;
                    mx = fmax(mx, sc[s]);
                }
                for (int64_t s = 0; s < S; s++)
                    sum += sc[s] = exp(sc[s] - mx);
                for (int64_t m = 0; m < Dv; m++) {
                    double acc = 0;
                    for (int64_t s = 0; s < S; s++)
                        acc += sc[s] / sum * prob_mul * at(v, ((b * Hkv + hk) * S + s) * Dv + m);
                    y[((b * Hq + h) * L + l) * Dv + m] = acc;
                }
            }
}

static int add_input(ot_graph *g, const char *name, ot_dtype dt, int rank, const int64_t *dims) {
    int id;
    ot_graph_value(g, name, &id);
    ot_value *v = &g->values[id];
    v->role = OT_ROLE_INPUT;
    v->is_input = true;
    v->dtype = dt;
    v->rank = rank;
    if (rank > 0) memcpy(v->dims, dims, sizeof(int64_t) * (size_t)rank);
    g->inputs[g->n_inputs++] = id;
    return id;
}

/* A modifier subgraph: out = Cast?(in * c). */
static ot_graph *mul_graph(ot_graph *parent, ot_dtype dt, double c, bool cast_to_double) {
    ot_graph *g;
    ot_graph_new("mod", &g);
    g->parent = parent;
    g->inputs = ot_calloc(2, sizeof(int));
    g->inits = ot_calloc(2, sizeof(int));
    g->outputs = ot_calloc(2, sizeof(int));
    int x = add_input(g, "scores", dt, 0, NULL), cid, o, m;
    g->values[x].rank = -1; /* shape given by the binding */
    ot_graph_value(g, "c", &cid);
    ot_tensor_new(dt, 0, NULL, &g->values[cid].init);
    ot_store_f64(dt, g->values[cid].init->data, 0, c);
    g->values[cid].role = OT_ROLE_INITIALIZER;
    g->values[cid].dtype = dt;
    g->values[cid].rank = 0;
    g->inits[g->n_inits++] = cid;
    ot_graph_value(g, "m", &m);
    ot_graph_add_node(g, "Mul", "", "mul", 2, (int[]){x, cid}, 1, &m, NULL);
    o = m;
    if (cast_to_double) {
        int nd;
        ot_graph_value(g, "cast", &o);
        ot_graph_add_node(g, "Cast", "", "cast", 1, &m, 1, &o, &nd);
        ot_attr *a;
        ot_node_add_attr(g, nd, "to", OT_ATTR_INT, &a);
        a->i = OT_DOUBLE;
    }
    g->outputs[g->n_outputs++] = o;
    return g;
}

/* A graph holding one FlexAttention node on inputs Q, K, V. */
static ot_graph *flex_graph(ot_dtype dt, const int64_t *qd, const int64_t *kd, const int64_t *vd, float scale,
                            double score_mul, double prob_mul, bool bad_mod, int *ids) {
    ot_graph *g;
    ot_graph_new("flex", &g);
    g->opsets = ot_calloc(3, sizeof *g->opsets);
    g->opsets[0] = (ot_opset){ot_strdup(""), 17};
    g->opsets[1] = (ot_opset){ot_strdup("ai.onnx.preview"), 1};
    g->opsets[2] = (ot_opset){ot_strdup("ai.onnxtrain"), 1};
    g->n_opsets = 3;
    g->inputs = ot_calloc(8, sizeof(int));
    g->inits = ot_calloc(8, sizeof(int));
    g->outputs = ot_calloc(8, sizeof(int));
    ids[0] = add_input(g, "Q", dt, 4, qd);
    ids[1] = add_input(g, "K", dt, 4, kd);
    ids[2] = add_input(g, "V", dt, 4, vd);
    int y, nd;
    ot_graph_value(g, "Y", &y);
    ot_graph_add_node(g, "FlexAttention", "ai.onnx.preview", "flex", 3, ids, 1, &y, &nd);
    g->outputs[g->n_outputs++] = y;
    ot_attr *a;
    if (scale != 0) {
        ot_node_add_attr(g, nd, "scale", OT_ATTR_FLOAT, &a);
        a->f = scale;
    }
    ot_dtype st = dt == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT;
    if (score_mul != 1 || bad_mod) {
        ot_node_add_attr(g, nd, "score_mod", OT_ATTR_GRAPH, &a);
        a->g = mul_graph(g, st, score_mul, bad_mod);
    }
    if (prob_mul != 1) {
        ot_node_add_attr(g, nd, "prob_mod", OT_ATTR_GRAPH, &a);
        a->g = mul_graph(g, st, prob_mul, false);
    }
    ids[3] = y;
    return g;
}

static void test_flex(ot_dtype dt, const int64_t *qd, const int64_t *kd, const int64_t *vd, float scale,
                      double score_mul, double prob_mul, double tol) {
    int ids[4];
    ot_graph *g = flex_graph(dt, qd, kd, vd, scale, score_mul, prob_mul, false, ids);
    ot_tensor *in[3] = {rand_tensor(dt, 4, qd, 1), rand_tensor(dt, 4, kd, 1), rand_tensor(dt, 4, vd, 1)};
    double y[8192];
    flex_ref(in[0], in[1], in[2], scale != 0 ? scale : 1 / sqrt((double)qd[3]), score_mul, prob_mul, y);
    ot_compile_options opt = {0};
    ot_program *p = NULL;
    ot_status s = ot_program_compile(g, in, &opt, &p);
    if (!s) s = ot_program_run(p, in, 0);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    if (!s) check_all("flex y", &p->slots[ids[3]], y, qd[0] * qd[1] * qd[2] * vd[3], tol);
    ot_program_free(p);
    ot_graph_free(g);
    for (int i = 0; i < 3; i++)
        ot_tensor_free(in[i]);
}

static void test_flex_bad_mod(void) {
    int64_t d[4] = {1, 2, 3, 4};
    int ids[4];
    ot_graph *g = flex_graph(OT_FLOAT, d, d, d, 0, 1, 1, true, ids);
    ot_tensor *in[3] = {rand_tensor(OT_FLOAT, 4, d, 1), rand_tensor(OT_FLOAT, 4, d, 1), rand_tensor(OT_FLOAT, 4, d, 1)};
    ot_compile_options opt = {0};
    ot_program *p = NULL;
    CHECK(ot_program_compile(g, in, &opt, &p) == OT_ERR_SHAPE); /* score_mod returns double */
    CHECK(strstr(ot_last_error(), "score_mod") != NULL);
    ot_program_free(p);
    ot_graph_free(g);
    for (int i = 0; i < 3; i++)
        ot_tensor_free(in[i]);
}

/* FlexAttention's gradient (AttentionGrad) against central differences of
   L = <Y, W>; with a modifier, autodiff must refuse. */
static void test_flex_grad(const int64_t *qd, const int64_t *kd, const int64_t *vd, float scale, double score_mul) {
    int ids[4];
    ot_graph *g = flex_graph(OT_DOUBLE, qd, kd, vd, scale, score_mul, 1, false, ids), *fwd;
    ot_graph_clone(g, NULL, &fwd);
    ot_tensor *in[3] = {rand_tensor(OT_DOUBLE, 4, qd, 1), rand_tensor(OT_DOUBLE, 4, kd, 1),
                        rand_tensor(OT_DOUBLE, 4, vd, 1)};
    ot_compile_options opt = {0};
    ot_status s = ot_graph_infer_shapes(g, in, &opt);
    int64_t yd[4] = {qd[0], qd[1], qd[2], vd[3]}, ny = yd[0] * yd[1] * yd[2] * yd[3];
    int wid;
    ot_graph_value(g, "W", &wid);
    ot_tensor *w = rand_tensor(OT_DOUBLE, 4, yd, 1);
    ot_value *wv = &g->values[wid];
    wv->init = w;
    wv->role = OT_ROLE_CONSTANT;
    wv->dtype = OT_DOUBLE;
    wv->rank = 4;
    memcpy(wv->dims, yd, sizeof yd);
    int grads[3];
    ot_autodiff_request r = {ids[3], wid, 0, NULL, NULL, 3, ids, grads};
    if (!s) s = ot_autodiff(g, &r);
    if (score_mul != 1) {
        CHECK(s == OT_ERR_UNSUPPORTED);
        goto out;
    }
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    for (int k = 0; k < 3 && !s; k++)
        g->outputs[g->n_outputs++] = grads[k];
    ot_program *pb = NULL, *pf = NULL;
    if (!s) s = ot_program_compile(g, in, &opt, &pb);
    if (!s) s = ot_program_run(pb, in, 0);
    if (!s) s = ot_program_compile(fwd, in, &opt, &pf);
    CHECK_MSG(s == OT_OK, "%s", ot_last_error());
    int bad = 0;
    for (int k = 0; k < 3 && !s; k++)
        for (int64_t i = 0; i < ot_tensor_numel(in[k]); i++) {
            double x0 = at(in[k], i), h = 1e-6, l[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                ot_store_f64(OT_DOUBLE, in[k]->data, i, x0 + (sgn ? -h : h));
                ot_program_run(pf, in, 0);
                l[sgn] = 0;
                for (int64_t j = 0; j < ny; j++)
                    l[sgn] += at(&pf->slots[fwd->outputs[0]], j) * at(w, j);
            }
            ot_store_f64(OT_DOUBLE, in[k]->data, i, x0);
            double fd = (l[0] - l[1]) / (2 * h), an = at(&pb->slots[grads[k]], i);
            if (fabs(fd - an) > 1e-7 + 1e-6 * fabs(fd) && bad++ < 3)
                fprintf(stderr, "flex grad input %d [%lld]: %g vs %g\n", k, (long long)i, an, fd);
        }
    CHECK(bad == 0);
    ot_program_free(pb);
    ot_program_free(pf);
out:
    ot_graph_free(g);
    ot_graph_free(fwd);
    for (int i = 0; i < 3; i++)
        ot_tensor_free(in[i]);
}

int main(void) {
    test_ccs(OT_FLOAT, 2, 3, 7, 4, true, true, true, 1e-5);
    test_ccs(OT_FLOAT, 2, 3, 2, 4, false, false, false, 1e-5); /* input shorter than k - 1 */
    test_ccs(OT_DOUBLE, 1, 2, 5, 1, true, false, true, 1e-12);
    test_ccs(OT_FLOAT16, 1, 3, 6, 3, true, true, true, 1e-2);
    test_ccs(OT_FLOAT, 3, 64, 64, 4, true, true, true, 1e-5); /* the parallel path */
    test_ccs_errors();

    test_la(0, OT_FLOAT, OT_FLOAT, 2, 3, 2, 2, 4, 3, false, 0, false, 0, 1e-5);
    test_la(1, OT_FLOAT, OT_FLOAT, 2, 4, 2, 2, 4, 3, true, 0, true, 0, 1e-5);
    test_la(1, OT_DOUBLE, OT_DOUBLE, 1, 4, 4, 2, 3, 2, false, 0, true, 0.3f, 1e-12);
    test_la(2, OT_FLOAT, OT_FLOAT, 2, 5, 3, 1, 4, 4, false, 1, true, 0, 1e-5);
    test_la(3, OT_FLOAT, OT_FLOAT, 2, 5, 4, 2, 4, 3, true, 2, true, 0, 1e-5);
    test_la(3, OT_FLOAT16, OT_FLOAT, 1, 3, 2, 2, 4, 4, false, 2, true, 0, 2e-2); /* float32 state, float16 activations */
    test_la(3, OT_FLOAT, OT_FLOAT, 4, 6, 8, 4, 8, 8, false, 4, true, 0, 1e-4); /* the parallel path */
    test_la_errors();

    int64_t q1[4] = {2, 4, 3, 5}, k1[4] = {2, 2, 6, 5}, v1[4] = {2, 2, 6, 3};
    test_flex(OT_FLOAT, q1, k1, v1, 0, 1, 1, 1e-5);
    test_flex(OT_DOUBLE, q1, k1, v1, 0.4f, 1, 1, 1e-12);
    test_flex(OT_FLOAT, q1, k1, v1, 0, 0.5, 1, 1e-5);   /* score_mod */
    test_flex(OT_FLOAT, q1, k1, v1, 0.7f, 1, 2, 1e-5);  /* prob_mod */
    test_flex(OT_DOUBLE, q1, k1, v1, 0, 1.5, 0.5, 1e-12);
    test_flex(OT_FLOAT16, q1, k1, v1, 0, 0.5, 1, 1e-2); /* modifiers in float32 on float16 inputs */
    test_flex_bad_mod();
    test_flex_grad(q1, k1, v1, 0, 1);
    test_flex_grad((int64_t[]){1, 2, 4, 3}, (int64_t[]){1, 2, 3, 3}, (int64_t[]){1, 2, 3, 2}, 0.6f, 1);
    test_flex_grad(q1, k1, v1, 0, 2); /* score_mod: no gradient */
    return check_done();
}
