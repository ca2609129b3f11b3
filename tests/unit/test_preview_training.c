/* ai.onnx.preview.training optimizers (Adagrad, Adam, Momentum) against a
 * plain double-precision transcription of the ONNX formulas: several tensors
 * per node, float and double, first step (T = 0) and later ones, one tensor
 * large enough for the parallel loop; then the errors infer and parse give. */
#include <math.h>

#include "check.h"
#include "op_harness.h"

#define DOM "ai.onnx.preview.training"

enum { ADAGRAD, ADAM, MOMENTUM };

typedef struct hyper {
    double norm, norm_post, eps, decay, alpha, beta;
    bool nesterov;
} hyper;

/* One element's update; s[] are the states (H; V, H; V), out[] = x_new, states_new. */
static void ref_step(int kind, const hyper *h, double r, int64_t t, double x, double g, const double *s,
                     double *out) {
    double gr = h->norm * x + g;
    if (kind == ADAGRAD) {
        double rr = r / (1 + (double)t * h->decay);
        double hn = s[0] + gr * gr;
        out[0] = x - rr * gr / (sqrt(hn) + h->eps);
        out[1] = hn;
    } else if (kind == ADAM) {
        double vn = h->alpha * s[0] + (1 - h->alpha) * gr;
        double hn = h->beta * s[1] + (1 - h->beta) * gr * gr;
        double rr = t > 0 ? r * sqrt(1 - pow(h->beta, (double)t)) / (1 - pow(h->alpha, (double)t)) : r;
        out[0] = (1 - h->norm_post) * (x - rr * vn / (sqrt(hn) + h->eps));
        out[1] = vn;
        out[2] = hn;
    } else {
        double b = t > 0 ? h->beta : 1;
        double vn = h->alpha * s[0] + b * gr;
        out[0] = h->nesterov ? x - r * (gr + h->alpha * vn) : x - r * vn;
        out[1] = vn;
    }
}

static const char *const op_names[] = {"Adagrad", "Adam", "Momentum"};

static void run_case(int kind, ot_dtype dt, ot_dtype rdt, int64_t t, const hyper *h) {
    int nstate = kind == ADAM ? 2 : 1;
    enum { NT = 3 };
    int64_t sizes[NT][2] = {{3, 4}, {5, 1}, {200, 210}}; /* the last one takes the parallel path */
    int n_in = 2 + NT * (2 + nstate), n_out = NT * (1 + nstate);
    ot_tensor *in[MAX_IO];
    double rv = 0.05;
    in[0] = tensor(rdt, 0, NULL, NULL);
    ot_store_f64(rdt, in[0]->data, 0, rv);
    in[1] = tensor(OT_INT64, 0, NULL, &t);
    for (int grp = 0; grp < 2 + nstate; grp++)
        for (int j = 0; j < NT; j++) {
            in[2 + grp * NT + j] = rand_tensor(dt, 2, sizes[j], 1.0);
            /* Adagrad's and Adam's H are sums of squares. */
            if (grp == 1 + nstate && kind != MOMENTUM) {
                ot_tensor *s = in[2 + grp * NT + j];
                for (int64_t e = 0; e < ot_tensor_numel(s); e++) ot_store_f64(dt, s->data, e, fabs(at(s, e)));
            }
        }
    attr_spec attrs[5];
    int na = 0;
    attrs[na++] = (attr_spec)FLT("norm_coefficient", (float)h->norm);
    if (kind != MOMENTUM) attrs[na++] = (attr_spec)FLT("epsilon", (float)h->eps);
    if (kind == ADAGRAD) attrs[na++] = (attr_spec)FLT("decay_factor", (float)h->decay);
    if (kind != ADAGRAD) {
        attrs[na++] = (attr_spec)FLT("alpha", (float)h->alpha);
        attrs[na++] = (attr_spec)FLT("beta", (float)h->beta);
    }
    if (kind == ADAM) attrs[na++] = (attr_spec)FLT("norm_coefficient_post", (float)h->norm_post);
    if (kind == MOMENTUM) attrs[na++] = (attr_spec)STR("mode", h->nesterov ? "nesterov" : "standard");
    op_run r;
    run_opts o = {.domain = DOM};
    ot_status s = run_op_x(&r, op_names[kind], 1, n_in, in, n_out, attrs, na, &o);
    CHECK_MSG(s == OT_OK, "%s: %s", op_names[kind], ot_last_error());
    if (s == OT_OK) {
        /* Attributes are floats: the reference uses their float values. */
        hyper hf = {(float)h->norm, (float)h->norm_post, (float)h->eps, (float)h->decay, (float)h->alpha,
                    (float)h->beta, h->nesterov};
        double tol = dt == OT_FLOAT ? 2e-5 : 1e-12;
        for (int j = 0; j < NT; j++) {
            int64_t m = sizes[j][0] * sizes[j][1];
            int bad = 0;
            for (int64_t e = 0; e < m; e++) {
                double st[2], want[3];
                for (int k = 0; k < nstate; k++) st[k] = at(in[2 + (2 + k) * NT + j], e);
                ref_step(kind, &hf, at(in[0], 0), t, at(in[2 + j], e), at(in[2 + NT + j], e), st, want);
                for (int k = 0; k <= nstate; k++) {
                    const ot_tensor *ot = r.out[k * NT + j];
                    if (ot->dtype != dt || ot->rank != 2 || ot->dims[0] != sizes[j][0]) bad++;
                    else if (!check_close(at(ot, e), want[k], tol, tol) && bad++ < 3)
                        fprintf(stderr, "%s %s t=%lld out %d elem %lld: %.9g want %.9g\n", op_names[kind],
                                ot_dtype_name(dt), (long long)t, k * NT + j, (long long)e, at(ot, e), want[k]);
                }
            }
            CHECK_MSG(bad == 0, "%s %s t=%lld tensor %d: %d mismatches", op_names[kind], ot_dtype_name(dt),
                      (long long)t, j, bad);
        }
    }
    run_free(&r);
    for (int i = 0; i < n_in; i++) ot_tensor_free(in[i]);
}

/* Runs a node expected to fail with `want`; in[] is consumed. */
static void expect_fail(const char *op, int n_in, ot_tensor **in, int n_out, const attr_spec *attrs, int na,
                        ot_status want, const char *what) {
    op_run r;
    run_opts o = {.domain = DOM, .infer_only = true};
    ot_status s = run_op_x(&r, op, 1, n_in, in, n_out, attrs, na, &o);
    CHECK_MSG(s == want, "%s: got status %d (%s), want %d", what, (int)s, s ? ot_last_error() : "ok", (int)want);
    run_free(&r);
    for (int i = 0; i < n_in; i++) ot_tensor_free(in[i]);
}

static void test_errors(void) {
    int64_t d3[] = {3}, d4[] = {4}, d2[] = {2};
    int64_t t0 = 0;
    attr_spec mom[] = {FLT("alpha", 0.9f), FLT("beta", 0.1f), FLT("norm_coefficient", 0.f), STR("mode", "standard")};
    attr_spec bad_mode[] = {FLT("alpha", 0.9f), FLT("beta", 0.1f), FLT("norm_coefficient", 0.f), STR("mode", "heavy")};
#define SCALARS tensor(OT_FLOAT, 0, NULL, NULL), tensor(OT_INT64, 0, NULL, &t0)
    {
        ot_tensor *in[] = {SCALARS, rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1),
                           rand_tensor(OT_FLOAT, 1, d3, 1)};
        expect_fail("Momentum", 5, in, 2, mom, 3, OT_ERR_PARSE, "Momentum without mode");
    }
    {
        ot_tensor *in[] = {SCALARS, rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1),
                           rand_tensor(OT_FLOAT, 1, d3, 1)};
        expect_fail("Momentum", 5, in, 2, bad_mode, 4, OT_ERR_UNSUPPORTED, "Momentum mode 'heavy'");
    }
    {
        ot_tensor *in[] = {SCALARS, rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1),
                           rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1)};
        expect_fail("Momentum", 6, in, 2, mom, 4, OT_ERR_SHAPE, "Momentum with 4 tensor inputs");
    }
    {
        ot_tensor *in[] = {SCALARS, rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1),
                           rand_tensor(OT_FLOAT, 1, d3, 1)};
        expect_fail("Momentum", 5, in, 3, mom, 4, OT_ERR_SHAPE, "Momentum with 3 outputs");
    }
    {
        ot_tensor *in[] = {SCALARS, rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d4, 1),
                           rand_tensor(OT_FLOAT, 1, d3, 1)};
        expect_fail("Adagrad", 5, in, 2, NULL, 0, OT_ERR_SHAPE, "Adagrad G shape differs from X");
    }
    {
        ot_tensor *in[] = {SCALARS, rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1),
                           rand_tensor(OT_DOUBLE, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1)};
        expect_fail("Adam", 6, in, 3, NULL, 0, OT_ERR_TYPE, "Adam V dtype differs from X");
    }
    {
        ot_tensor *in[] = {tensor(OT_FLOAT, 1, d2, NULL), tensor(OT_INT64, 0, NULL, &t0),
                           rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1),
                           rand_tensor(OT_FLOAT, 1, d3, 1)};
        expect_fail("Adagrad", 5, in, 2, NULL, 0, OT_ERR_SHAPE, "Adagrad R with two elements");
    }
    {
        ot_tensor *in[] = {tensor(OT_FLOAT, 0, NULL, NULL), tensor(OT_INT32, 0, NULL, NULL),
                           rand_tensor(OT_FLOAT, 1, d3, 1), rand_tensor(OT_FLOAT, 1, d3, 1),
                           rand_tensor(OT_FLOAT, 1, d3, 1)};
        expect_fail("Adagrad", 5, in, 2, NULL, 0, OT_ERR_UNSUPPORTED, "Adagrad T int32");
    }
    {
        ot_tensor *in[] = {SCALARS, rand_tensor(OT_FLOAT16, 1, d3, 1), rand_tensor(OT_FLOAT16, 1, d3, 1),
                           rand_tensor(OT_FLOAT16, 1, d3, 1)};
        expect_fail("Adagrad", 5, in, 2, NULL, 0, OT_ERR_UNSUPPORTED, "Adagrad float16 X");
    }
#undef SCALARS
}

int main(void) {
    hyper h = {.norm = 0.01, .norm_post = 0.02, .eps = 1e-3, .decay = 0.1, .alpha = 0.9, .beta = 0.8};
    hyper hadam = {.norm = 0.01, .norm_post = 0.02, .eps = 1e-3, .alpha = 0.9, .beta = 0.999};
    const int64_t steps[] = {0, 3};
    for (int si = 0; si < 2; si++)
        for (int d = 0; d < 2; d++) {
            ot_dtype dt = d ? OT_DOUBLE : OT_FLOAT;
            run_case(ADAGRAD, dt, OT_FLOAT, steps[si], &h);
            run_case(ADAM, dt, d ? OT_FLOAT : OT_DOUBLE, steps[si], &hadam);
            run_case(MOMENTUM, dt, OT_DOUBLE, steps[si], &h);
            hyper hn = h;
            hn.nesterov = true;
            run_case(MOMENTUM, dt, OT_FLOAT, steps[si], &hn);
        }
    test_errors();
    return check_done();
}
