/* Resize / Upsample, GridSample and AffineGrid against naive references
 * written from the spec formulas (one output element at a time, taps picked
 * as "the n nearest indices, ties to the smaller one" as the ONNX reference
 * words it), across modes, coordinate modes, nearest modes, cubic_coeff_a,
 * exclude_outside, antialias, axes, keep_aspect_ratio_policy, roi and every
 * opset form; element types; the gradient kernels as exact adjoints of the
 * forwards; error cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/resize.h"
#include "op_harness.h"

/* ---- the naive Resize reference ------------------------------------------------------------ */

typedef struct rz_case {
    const char *mode, *coord, *nearest, *policy; /* NULL: the default */
    double cubic_a;                               /* 0: -0.75 */
    int exclude, antialias;
    int rank;
    int64_t dims[4];
    int n_axes; /* 0: attribute absent */
    int64_t axes[4];
    int use_sizes;
    double scales[4];
    int64_t sizes[4];
    double roi[8];
    float extrap;
    int opset; /* 0: 19 */
} rz_case;

static const char *dflt(const char *s, const char *d) { return s ? s : d; }

static double ref_cubic(double x, double A) {
    x = fabs(x);
    if (x <= 1) return (A + 2) * x * x * x - (A + 3) * x * x + 1;
    if (x < 2) return A * x * x * x - 5 * A * x * x + 8 * A * x - 4 * A;
    return 0;
}

/* Taps of output o along an axis: indices (clamped), weights; *extra for
   tf_crop_and_resize outside [0, in - 1]. */
static int ref_axis(const rz_case *c, int64_t in, int64_t out, double scale, double r0, double r1, int64_t o,
                    int64_t *idx, double *w, int *extra) {
    const char *coord = dflt(c->coord, c->opset && c->opset < 11 ? "asymmetric" : "half_pixel");
    const char *mode = dflt(c->mode, "nearest");
    double x, xo = (double)o, width = scale * (double)in, A = c->cubic_a ? c->cubic_a : -0.75;
    if (!strcmp(coord, "half_pixel")) x = (xo + 0.5) / scale - 0.5;
    else if (!strcmp(coord, "half_pixel_symmetric"))
        x = (double)in / 2 * (1 - (double)out / width) + (xo + 0.5) / scale - 0.5;
    else if (!strcmp(coord, "pytorch_half_pixel")) x = out > 1 ? (xo + 0.5) / scale - 0.5 : 0;
    else if (!strcmp(coord, "align_corners")) x = width == 1 ? 0 : xo * (double)(in - 1) / (width - 1);
    else if (!strcmp(coord, "asymmetric")) x = xo / scale;
    else if (!strcmp(coord, "tf_half_pixel_for_nn")) x = (xo + 0.5) / scale;
    else x = out > 1 ? r0 * (double)(in - 1) + xo * (r1 - r0) * (double)(in - 1) / (width - 1)
                     : 0.5 * (r0 + r1) * (double)(in - 1);
    *extra = !strcmp(coord, "tf_crop_and_resize") && (x < 0 || x > (double)(in - 1));
    if (!strcmp(mode, "nearest")) {
        const char *nm = dflt(c->nearest, c->opset && c->opset < 11 ? "simple" : "round_prefer_floor");
        double f = floor(x);
        int64_t i;
        if (!strcmp(nm, "simple")) i = scale < 1 ? (int64_t)ceil(x) : (int64_t)f;
        else if (!strcmp(nm, "floor")) i = (int64_t)f;
        else if (!strcmp(nm, "ceil")) i = (int64_t)ceil(x);
        else if (!strcmp(nm, "round_prefer_ceil")) i = (int64_t)floor(x + 0.5);
        else i = (int64_t)ceil(x - 0.5);
        idx[0] = i < 0 ? 0 : i >= in ? in - 1 : i;
        w[0] = 1;
        return 1;
    }
    /* ratio in (0, 1]: the pixel left of x is preferred */
    double ratio = x == floor(x) ? 1 : x - floor(x), coef[64];
    int n;
    if (!c->antialias) {
        n = !strcmp(mode, "linear") ? 2 : 4;
        for (int k = 0; k < n; k++) coef[k] = n == 2 ? (k ? ratio : 1 - ratio) : ref_cubic(k - 1 - ratio, A);
    } else {
        double s = fmin(scale, 1), reach = !strcmp(mode, "linear") ? 1 : 2, sum = 0;
        int start = (int)floor(-reach / s) + 1;
        n = 2 - 2 * start;
        for (int k = 0; k < n; k++) {
            double d = (start + k - ratio) * s;
            coef[k] = reach == 1 ? fmax(0, 1 - fabs(d)) : ref_cubic(d, A);
            sum += coef[k];
        }
        for (int k = 0; k < n; k++) coef[k] /= sum;
    }
    /* the n nearest integers to x (ties: the smaller), ascending */
    int64_t lo = (int64_t)floor(x) - n, cand[160];
    int m = 0;
    for (int64_t j = lo; j <= lo + 2 * n + 1; j++) cand[m++] = j;
    for (int a = 0; a < m; a++)
        for (int b = a + 1; b < m; b++) {
            double da = fabs(x - (double)cand[a]), db = fabs(x - (double)cand[b]);
            if (db < da || (db == da && cand[b] < cand[a])) {
                int64_t t = cand[a];
                cand[a] = cand[b], cand[b] = t;
            }
        }
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            if (cand[b] < cand[a]) {
                int64_t t = cand[a];
                cand[a] = cand[b], cand[b] = t;
            }
    double sum = 0;
    for (int k = 0; k < n; k++) {
        w[k] = coef[k];
        if (c->exclude && (cand[k] < 0 || cand[k] >= in)) w[k] = 0; /* linear / cubic only (above) */
        sum += w[k];
        idx[k] = cand[k] < 0 ? 0 : cand[k] >= in ? in - 1 : cand[k];
    }
    if (c->exclude && sum != 0)
        for (int k = 0; k < n; k++) w[k] /= sum;
    return n;
}

/* Output dims and per-axis scale / roi, resolved as the spec says. */
static void ref_geometry(const rz_case *c, int64_t *out, double *scale, double *r0, double *r1, int *resized) {
    int na = c->n_axes ? c->n_axes : c->rank;
    double pick = c->policy && !strcmp(c->policy, "not_larger") ? INFINITY : 0;
    for (int d = 0; d < c->rank; d++) out[d] = c->dims[d], scale[d] = 1, r0[d] = 0, r1[d] = 1;
    for (int i = 0; i < na; i++) {
        int d = c->n_axes ? (int)(c->axes[i] < 0 ? c->axes[i] + c->rank : c->axes[i]) : i;
        if (c->use_sizes) out[d] = c->sizes[i], scale[d] = (double)c->sizes[i] / (double)c->dims[d];
        else scale[d] = (float)c->scales[i], out[d] = (int64_t)floor(scale[d] * (double)c->dims[d]); /* float32 input */
        if (c->policy && !strcmp(c->policy, "not_larger")) pick = fmin(pick, scale[d]);
        if (c->policy && !strcmp(c->policy, "not_smaller")) pick = fmax(pick, scale[d]);
        r0[d] = (float)c->roi[i], r1[d] = (float)c->roi[na + i];
    }
    for (int i = 0; i < na && c->use_sizes && pick > 0 && !isinf(pick); i++) {
        int d = c->n_axes ? (int)(c->axes[i] < 0 ? c->axes[i] + c->rank : c->axes[i]) : i;
        scale[d] = pick, out[d] = (int64_t)(pick * (double)c->dims[d] + 0.5);
    }
    for (int d = 0; d < c->rank; d++)
        resized[d] = !(out[d] == c->dims[d] && fabs(scale[d] - 1) < 1e-9 && r0[d] == 0 && r1[d] == 1);
}

/* y (numel of out) from x by enumerating every output and every tap combination. */
static int64_t ref_resize(const rz_case *c, const double *x, double *y, int64_t *out) {
    double scale[4], r0[4], r1[4];
    int resized[4];
    ref_geometry(c, out, scale, r0, r1, resized);
    int64_t numel = 1, co[4];
    for (int d = 0; d < c->rank; d++) numel *= out[d];
    for (int64_t p = 0; p < numel; p++) {
        unravel(p, c->rank, out, co);
        int64_t idx[4][64], k[4] = {0};
        double w[4][64];
        int n[4], extra = 0;
        for (int d = 0; d < c->rank; d++) {
            int e = 0;
            if (!resized[d]) n[d] = 1, idx[d][0] = co[d], w[d][0] = 1;
            else n[d] = ref_axis(c, c->dims[d], out[d], scale[d], r0[d], r1[d], co[d], idx[d], w[d], &e);
            extra |= e;
        }
        double acc = 0;
        for (;;) {
            int64_t src[4];
            double wt = 1;
            for (int d = 0; d < c->rank; d++) src[d] = idx[d][k[d]], wt *= w[d][k[d]];
            acc += wt * x[ravel(c->rank, c->dims, src)];
            int d = c->rank - 1;
            while (d >= 0 && ++k[d] == n[d]) k[d--] = 0;
            if (d < 0) break;
        }
        y[p] = extra ? c->extrap : acc;
    }
    return numel;
}

/* Runs the Resize op (opset form of c) on x of dtype dt and compares. */
static void check_resize(const char *what, const rz_case *c, ot_dtype dt, double tol) {
    int64_t xn = 1, out[4];
    for (int d = 0; d < c->rank; d++) xn *= c->dims[d];
    ot_tensor *x = rand_tensor(dt, c->rank, c->dims, 3.0);
    double *xd = malloc(sizeof(double) * (size_t)xn), *yd = malloc(sizeof(double) * 4096);
    for (int64_t i = 0; i < xn; i++) xd[i] = at(x, i);
    int64_t yn = ref_resize(c, xd, yd, out);
    if (!ot_dtype_is_float(dt))
        for (int64_t i = 0; i < yn; i++) yd[i] = nearbyint(yd[i]);
    int opset = c->opset ? c->opset : 19, na = c->n_axes ? c->n_axes : c->rank;
    attr_spec at_[12];
    int nat = 0;
    if (c->mode) at_[nat++] = (attr_spec)STR("mode", c->mode);
    if (c->coord) at_[nat++] = (attr_spec)STR("coordinate_transformation_mode", c->coord);
    if (c->nearest) at_[nat++] = (attr_spec)STR("nearest_mode", c->nearest);
    if (c->policy) at_[nat++] = (attr_spec)STR("keep_aspect_ratio_policy", c->policy);
    if (c->cubic_a) at_[nat++] = (attr_spec)FLT("cubic_coeff_a", (float)c->cubic_a);
    if (c->exclude) at_[nat++] = (attr_spec)INT("exclude_outside", 1);
    if (c->antialias) at_[nat++] = (attr_spec)INT("antialias", 1);
    if (c->extrap) at_[nat++] = (attr_spec)FLT("extrapolation_value", c->extrap);
    if (c->n_axes) at_[nat++] = attr_ints("axes", c->n_axes, c->axes);
    float sc[4], roi[8];
    for (int i = 0; i < na; i++) sc[i] = (float)c->scales[i];
    for (int i = 0; i < 2 * na; i++) roi[i] = (float)c->roi[i];
    int64_t d1 = na, d2 = 2 * na, d0 = 0;
    ot_tensor *tr = c->coord && !strcmp(c->coord, "tf_crop_and_resize") ? tensor(OT_FLOAT, 1, &d2, roi)
                                                                         : tensor(OT_FLOAT, 1, &d0, NULL);
    ot_tensor *ts = c->use_sizes ? NULL : tensor(OT_FLOAT, 1, &d1, sc);
    ot_tensor *tz = c->use_sizes ? tensor(OT_INT64, 1, &d1, c->sizes) : NULL;
    ot_tensor *in[4] = {x, tr, ts, tz};
    op_run r;
    ot_status s;
    if (opset < 11) {
        in[1] = ts;
        s = run_op(&r, c->mode && !strcmp(c->mode, "linear") && opset == 9 ? "Upsample" : "Resize", opset, 2, in, 1,
                   at_, nat);
    } else {
        s = run_op(&r, "Resize", opset, 4, in, 1, at_, nat);
    }
    CHECK_MSG(s == OT_OK, "%s: %s", what, ot_last_error());
    if (s == OT_OK) {
        CHECK_MSG(ot_shape_equal(r.out[0]->rank, r.out[0]->dims, c->rank, out), "%s: output shape", what);
        if (ot_tensor_numel(r.out[0]) == yn) check_all(what, r.out[0], yd, yn, tol);
    }
    run_free(&r);
    ot_tensor_free(x), ot_tensor_free(tr), ot_tensor_free(ts), ot_tensor_free(tz);
    free(xd), free(yd);
}

static void test_resize_sweep(void) {
    static const char *modes[] = {"nearest", "linear", "cubic"};
    static const char *coords[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                                   "asymmetric", "tf_crop_and_resize"};
    static const char *nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    /* (dims, scales or sizes): up, down, non-integer, to length 1, mixed */
    static const struct { int64_t dims[4]; double sc[4]; int64_t sz[4]; int sizes; } geo[] = {
        {{2, 3, 4, 5}, {1, 1, 2, 1.5}, {0}, 0},      {{1, 2, 7, 6}, {1, 1, 0.6, 0.5}, {0}, 0},
        {{1, 1, 5, 4}, {0}, {1, 1, 3, 7}, 1},        {{1, 2, 4, 6}, {0}, {1, 2, 1, 2}, 1},
        {{1, 1, 9, 3}, {1, 1, 0.34, 2.5}, {0}, 0},   {{2, 1, 3, 3}, {0}, {2, 1, 8, 5}, 1},
    };
    char what[160];
    for (int m = 0; m < 3; m++)
        for (int cd = 0; cd < 6; cd++)
            for (size_t gi = 0; gi < sizeof geo / sizeof geo[0]; gi++)
                for (int variant = 0; variant < (m ? 3 : 4); variant++) {
                    rz_case c = {.mode = modes[m], .coord = coords[cd], .rank = 4, .use_sizes = geo[gi].sizes};
                    memcpy(c.dims, geo[gi].dims, sizeof c.dims);
                    memcpy(c.scales, geo[gi].sc, sizeof c.scales);
                    memcpy(c.sizes, geo[gi].sz, sizeof c.sizes);
                    double roi[8] = {0, 0, 0.2, 0.1, 1, 1, 0.9, 1.2};
                    memcpy(c.roi, roi, sizeof roi);
                    c.extrap = cd == 5 ? 7.5f : 0;
                    if (m == 0) c.nearest = nearests[variant];
                    if (m && variant == 1) c.exclude = 1, c.cubic_a = -0.5;
                    if (m && variant == 2) c.antialias = 1;
                    snprintf(what, sizeof what, "%s/%s/geo%zu/v%d", modes[m], coords[cd], gi, variant);
                    check_resize(what, &c, OT_DOUBLE, 1e-9);
                    if (variant == 0) check_resize(what, &c, OT_FLOAT, 2e-5);
                }
}

/* axes (incl. negative and reversed), keep_aspect_ratio_policy, 1-D / 3-D, element types. */
static void test_resize_forms(void) {
    rz_case axes = {.mode = "linear", .rank = 4, .dims = {2, 3, 4, 5}, .n_axes = 2, .axes = {-1, 2},
                    .scales = {0.7, 1.5}};
    check_resize("axes -1,2 scales", &axes, OT_DOUBLE, 1e-9);
    rz_case axsz = {.mode = "cubic", .rank = 3, .dims = {2, 5, 6}, .n_axes = 2, .axes = {2, 1}, .use_sizes = 1,
                    .sizes = {3, 9}, .coord = "align_corners"};
    check_resize("axes 2,1 sizes", &axsz, OT_DOUBLE, 1e-9);
    const char *pol[] = {"not_larger", "not_smaller"};
    for (int i = 0; i < 2; i++) {
        rz_case k = {.mode = "linear", .policy = pol[i], .rank = 4, .dims = {1, 2, 6, 4}, .n_axes = 2,
                     .axes = {2, 3}, .use_sizes = 1, .sizes = {5, 7}};
        check_resize(pol[i], &k, OT_DOUBLE, 1e-9);
    }
    rz_case oned = {.mode = "cubic", .rank = 1, .dims = {9}, .scales = {1.7}, .antialias = 1};
    check_resize("1-D cubic antialias up", &oned, OT_DOUBLE, 1e-9);
    rz_case aa = {.mode = "linear", .rank = 2, .dims = {13, 11}, .scales = {0.3, 0.45}, .antialias = 1, .exclude = 1};
    check_resize("linear antialias strong down", &aa, OT_DOUBLE, 1e-9);
    rz_case threed = {.mode = "linear", .rank = 4, .dims = {1, 3, 4, 5}, .scales = {1, 1.5, 0.5, 2}};
    check_resize("3-D trilinear", &threed, OT_FLOAT, 2e-5);
    rz_case nn = {.mode = "nearest", .rank = 4, .dims = {2, 3, 4, 5}, .scales = {1, 1, 2.5, 0.6}};
    const ot_dtype ints[] = {OT_UINT8, OT_INT8, OT_INT16, OT_INT32, OT_INT64, OT_BOOL, OT_FLOAT16, OT_BFLOAT16};
    for (int i = 0; i < 8; i++) check_resize(ot_dtype_name(ints[i]), &nn, ints[i], 0);
    rz_case lin = {.mode = "linear", .rank = 4, .dims = {1, 2, 5, 6}, .scales = {1, 1, 1.6, 0.7}};
    check_resize("linear int32 (rounded)", &lin, OT_INT32, 0);
    check_resize("linear float16", &lin, OT_FLOAT16, 4e-3);
    check_resize("linear bfloat16", &lin, OT_BFLOAT16, 3e-2);
    rz_case nn11 = {.mode = "nearest", .coord = "tf_half_pixel_for_nn", .rank = 2, .dims = {5, 4}, .scales = {1.5, 0.5},
                    .opset = 11};
    check_resize("tf_half_pixel_for_nn opset 11", &nn11, OT_FLOAT, 0);
    rz_case r13 = {.mode = "cubic", .coord = "pytorch_half_pixel", .rank = 2, .dims = {4, 6}, .use_sizes = 1,
                   .sizes = {1, 9}, .opset = 13};
    check_resize("opset 13 sizes, length-1 output", &r13, OT_DOUBLE, 1e-9);
    /* opset < 11: asymmetric coordinates, nearest floor up / ceil down */
    rz_case r10 = {.mode = "nearest", .rank = 4, .dims = {1, 1, 3, 7}, .scales = {1, 1, 2, 0.6}, .opset = 10};
    check_resize("Resize-10 nearest", &r10, OT_FLOAT, 0);
    rz_case r10l = {.mode = "linear", .rank = 4, .dims = {1, 1, 3, 7}, .scales = {1, 1, 1.5, 0.6}, .opset = 10};
    check_resize("Resize-10 linear", &r10l, OT_FLOAT, 1e-6);
    rz_case u9 = {.mode = "linear", .rank = 4, .dims = {1, 2, 3, 4}, .scales = {1, 1, 2, 1.5}, .opset = 9};
    check_resize("Upsample-9 linear", &u9, OT_FLOAT, 1e-6);
}

/* Values straight from ONNX Runtime: Resize-10 nearest rounds up when
   downsampling; Upsample-7 takes its scales as an attribute (built by hand:
   the harness has no floats attribute). */
static void test_resize_known_values(void) {
    float x[7] = {1, 2, 3, 4, 5, 6, 7}, s[4] = {1, 1, 1, 0.6f};
    int64_t dx[4] = {1, 1, 1, 7}, ds = 4, d2[2] = {1, 2};
    ot_tensor *in[2] = {tensor(OT_FLOAT, 4, dx, x), tensor(OT_FLOAT, 1, &ds, s)};
    attr_spec a = STR("mode", "nearest");
    op_run r;
    CHECK(run_op(&r, "Resize", 10, 2, in, 1, &a, 1) == OT_OK);
    double want[4] = {1, 3, 5, 6};
    check_all("Resize-10 nearest 0.6", r.out[0], want, 4, 0);
    run_free(&r);
    ot_tensor_free(in[0]), ot_tensor_free(in[1]);

    ot_tensor *x2 = tensor(OT_FLOAT, 2, d2, x), *y;
    ot_graph *g;
    int vi, vo, node;
    ot_graph_new("t", &g);
    ot_graph_value(g, "x", &vi);
    ot_graph_value(g, "y", &vo);
    ot_graph_add_node(g, "Upsample", "", "up7", 1, &vi, 1, &vo, &node);
    ot_attr *fa;
    ot_node_add_attr(g, node, "scales", OT_ATTR_FLOATS, &fa);
    fa->n = 2;
    fa->floats = ot_malloc(2 * sizeof(float));
    fa->floats[0] = 2, fa->floats[1] = 3;
    const ot_op_def *def = ot_op_find("", "Upsample");
    void *attrs = calloc(1, def->attrs_size);
    CHECK(def->parse(&g->nodes[node], 7, attrs) == OT_OK);
    ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &y);
    ot_kctx c = {.node = &g->nodes[node], .name = "up7", .opset = 7, .attrs = attrs, .n_in = 1, .in = &x2,
                 .n_out = 1, .out = &y, .need_input = -1};
    CHECK(def->infer(&c) == OT_OK);
    CHECK(y->rank == 2 && y->dims[0] == 2 && y->dims[1] == 6);
    ot_tensor_alloc_data(y);
    CHECK(def->cpu(&c) == OT_OK);
    double want7[12] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2};
    check_all("Upsample-7 nearest", y, want7, 12, 0);
    ot_tensor_free(y), ot_tensor_free(x2), free(attrs), ot_graph_free(g);
}

static void expect_error(const char *what, const char *op, int opset, int n_in, ot_tensor **in, const attr_spec *a,
                         int na, ot_status want) {
    op_run r;
    ot_status s = run_op(&r, op, opset, n_in, in, 1, a, na);
    CHECK_MSG(s == want, "%s: got %s (%s)", what, ot_status_name(s), ot_last_error());
    run_free(&r);
}

static void test_resize_errors(void) {
    int64_t dx[2] = {3, 4}, d2 = 2, d0 = 0, d3 = 3;
    float s2[2] = {2, 2}, sneg[2] = {1, -1}, s3[3] = {1, 1, 1};
    int64_t z2[2] = {4, 4};
    ot_tensor *x = rand_tensor(OT_FLOAT, 2, dx, 1), *empty = tensor(OT_FLOAT, 1, &d0, NULL);
    ot_tensor *sc = tensor(OT_FLOAT, 1, &d2, s2), *sz = tensor(OT_INT64, 1, &d2, z2);
    ot_tensor *neg = tensor(OT_FLOAT, 1, &d2, sneg), *sc3 = tensor(OT_FLOAT, 1, &d3, s3);
    attr_spec cubic = STR("mode", "cubic"), sym = STR("coordinate_transformation_mode", "half_pixel_symmetric");
    attr_spec aa = INT("antialias", 1), crop = STR("coordinate_transformation_mode", "tf_crop_and_resize");
    attr_spec bad = STR("mode", "area"), axes = INTS("axes", 0, 0), nn = STR("nearest_mode", "simple");
    ot_tensor *both[4] = {x, empty, sc, sz}, *none[4] = {x, empty, NULL, NULL}, *ok[4] = {x, empty, sc, NULL};
    ot_tensor *neg4[4] = {x, empty, neg, NULL}, *len3[4] = {x, empty, sc3, NULL}, *noroi[4] = {x, NULL, sc, NULL};
    expect_error("scales and sizes", "Resize", 13, 4, both, NULL, 0, OT_ERR_PARSE);
    expect_error("neither", "Resize", 13, 4, none, NULL, 0, OT_ERR_PARSE);
    expect_error("negative scale", "Resize", 13, 4, neg4, NULL, 0, OT_ERR_SHAPE);
    expect_error("scales length", "Resize", 13, 4, len3, NULL, 0, OT_ERR_SHAPE);
    expect_error("cubic at 10", "Resize", 10, 2, (ot_tensor *[]){x, sc}, &cubic, 1, OT_ERR_UNSUPPORTED);
    expect_error("half_pixel_symmetric at 18", "Resize", 18, 4, ok, &sym, 1, OT_ERR_UNSUPPORTED);
    expect_error("antialias at 13", "Resize", 13, 4, ok, &aa, 1, OT_ERR_PARSE);
    expect_error("tf_crop without roi", "Resize", 13, 4, noroi, &crop, 1, OT_ERR_PARSE);
    expect_error("unknown mode", "Resize", 19, 4, ok, &bad, 1, OT_ERR_UNSUPPORTED);
    expect_error("repeated axes", "Resize", 19, 4, ok, &axes, 1, OT_ERR_SHAPE);
    expect_error("nearest_mode simple is internal", "Resize", 19, 4, ok, &nn, 1, OT_ERR_UNSUPPORTED);
    expect_error("Upsample-9 without scales", "Upsample", 9, 1, &x, NULL, 0, OT_ERR_PARSE);
    ot_tensor *str[4] = {x, empty, sc, NULL};
    x->dtype = OT_BOOL; /* linear on bool: refused */
    attr_spec lin = STR("mode", "linear");
    expect_error("linear bool", "Resize", 13, 4, str, &lin, 1, OT_ERR_UNSUPPORTED);
    x->dtype = OT_FLOAT;
    ot_tensor_free(x), ot_tensor_free(empty), ot_tensor_free(sc), ot_tensor_free(sz), ot_tensor_free(neg);
    ot_tensor_free(sc3);
}

/* ---- gradients as adjoints: <R x, g> == <x, R^T g> ------------------------------------------- */

static void test_resize_grad_adjoint(void) {
    static const ot_resize_mode modes[] = {OT_RESIZE_NEAREST, OT_RESIZE_LINEAR, OT_RESIZE_CUBIC};
    static const struct { int64_t in[4], out[4]; double sc[4]; } geo[] = {
        {{2, 3, 5, 4}, {2, 3, 9, 7}, {1, 1, 1.8, 1.75}}, {{1, 2, 9, 8}, {1, 2, 4, 3}, {1, 1, 0.45, 0.4}},
        {{3, 4, 3, 5}, {3, 2, 7, 5}, {1, 0.5, 2.4, 1}},
    };
    for (int m = 0; m < 3; m++)
        for (int co = 0; co < 7; co++)
            for (size_t gi = 0; gi < 3; gi++)
                for (int aa = 0; aa < 2; aa++) {
                    ot_resize_spec s = {.rank = 4, .mode = modes[m], .coord = (ot_resize_coord)co,
                                        .nearest = OT_RESIZE_ROUND_PREFER_CEIL, .cubic_a = -0.5, .extrapolation = 3,
                                        .exclude_outside = aa, .antialias = aa && m};
                    int64_t nx = 1, ny = 1;
                    for (int d = 0; d < 4; d++) {
                        s.ax[d] = (ot_resize_axis){geo[gi].in[d], geo[gi].out[d], geo[gi].sc[d], 0.1, 0.8};
                        nx *= geo[gi].in[d], ny *= geo[gi].out[d];
                    }
                    double *x = malloc(sizeof(double) * (size_t)nx), *dx = malloc(sizeof(double) * (size_t)nx);
                    double *y = malloc(sizeof(double) * (size_t)ny), *g = malloc(sizeof(double) * (size_t)ny);
                    for (int64_t i = 0; i < nx; i++) x[i] = rand_unit();
                    for (int64_t i = 0; i < ny; i++) g[i] = rand_unit();
                    s.extrapolation = 0; /* the map is linear only without the constant */
                    CHECK(ot_cpu_resize(&s, OT_DOUBLE, x, y) == OT_OK);
                    CHECK(ot_cpu_resize_grad(&s, OT_DOUBLE, g, dx) == OT_OK);
                    double l = 0, r = 0;
                    for (int64_t i = 0; i < ny; i++) l += y[i] * g[i];
                    for (int64_t i = 0; i < nx; i++) r += x[i] * dx[i];
                    CHECK_MSG(check_close(l, r, 1e-10, 1e-10), "adjoint mode %d coord %d geo %zu aa %d: %.12g vs %.12g",
                              m, co, gi, aa, l, r);
                    free(x), free(dx), free(y), free(g);
                }
}

/* A large float32 gradient against the float64 one (the parallel paths). */
static void test_resize_grad_f32(void) {
    ot_resize_spec s = {.rank = 4, .mode = OT_RESIZE_LINEAR, .coord = OT_RESIZE_HALF_PIXEL, .cubic_a = -0.75};
    int64_t in[4] = {4, 16, 24, 20}, out[4] = {4, 16, 48, 30}, nx = 1, ny = 1;
    for (int d = 0; d < 4; d++) {
        s.ax[d] = (ot_resize_axis){in[d], out[d], (double)out[d] / (double)in[d], 0, 1};
        nx *= in[d], ny *= out[d];
    }
    float *g = malloc(sizeof(float) * (size_t)ny), *dx = malloc(sizeof(float) * (size_t)nx);
    double *gd = malloc(sizeof(double) * (size_t)ny), *dxd = malloc(sizeof(double) * (size_t)nx);
    for (int64_t i = 0; i < ny; i++) gd[i] = g[i] = (float)rand_unit();
    CHECK(ot_cpu_resize_grad(&s, OT_FLOAT, g, dx) == OT_OK);
    CHECK(ot_cpu_resize_grad(&s, OT_DOUBLE, gd, dxd) == OT_OK);
    int bad = 0;
    for (int64_t i = 0; i < nx; i++) bad += !check_close(dx[i], dxd[i], 1e-5, 1e-5);
    CHECK_MSG(bad == 0, "%d float32 gradient mismatches", bad);
    free(g), free(dx), free(gd), free(dxd);
}

/* ---- GridSample and AffineGrid ----------------------------------------------------------------- */

static double ref_reflect(double x, double lo, double hi) {
    double rng = hi - lo;
    if (rng <= 0) return lo;
    if (x < lo) {
        double d = lo - x, n = floor(d / rng), r = d - n * rng;
        return fmod(n, 2) == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double d = x - hi, n = floor(d / rng), r = d - n * rng;
        return fmod(n, 2) == 0 ? hi - r : lo + r;
    }
    return x;
}

/* X[n, c] at integer spatial index ix (r of them) with the padding mode; 0 for zeros outside. */
static double ref_pixel(const ot_grid_spec *s, const double *xp, const int64_t *ix) {
    int64_t off = 0;
    for (int k = 0; k < s->r; k++) {
        int64_t i = ix[k], len = s->in[k];
        if (i < 0 || i >= len) {
            if (s->padding == OT_GRID_ZEROS) return 0;
            if (s->padding == OT_GRID_BORDER) i = i < 0 ? 0 : len - 1;
            else i = (int64_t)ref_reflect((double)i, s->align_corners ? 0 : -0.5, s->align_corners ? len - 1 : len - 0.5);
        }
        off = off * len + i;
    }
    return xp[off];
}

static void ref_grid_sample(const ot_grid_spec *s, const double *x, const double *grid, double *y) {
    int64_t O = 1, I = 1;
    for (int k = 0; k < s->r; k++) O *= s->out[k], I *= s->in[k];
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t loc = 0; loc < O; loc++) {
            int64_t base[3], kk[3] = {0}, K = s->mode == OT_GRID_NEAREST ? 1 : s->mode == OT_GRID_LINEAR ? 2 : 4;
            double w[3][4];
            for (int k = 0; k < s->r; k++) {
                double v = grid[(n * O + loc) * s->r + (s->r - 1 - k)], len = (double)s->in[k];
                double lo = s->align_corners ? 0 : -0.5, hi = s->align_corners ? len - 1 : len - 0.5;
                double xv = s->align_corners ? (v + 1) / 2 * (len - 1) : ((v + 1) * len - 1) / 2;
                if (s->mode == OT_GRID_NEAREST) xv = nearbyint(xv);
                if ((xv < lo || xv > hi) && s->mode != OT_GRID_CUBIC) { /* cubic: padded taps only */
                    if (s->padding == OT_GRID_BORDER) xv = fmin(fmax(xv, 0), len - 1);
                    if (s->padding == OT_GRID_REFLECTION) xv = ref_reflect(xv, lo, hi);
                }
                double f = floor(xv), t = xv - f;
                base[k] = s->mode == OT_GRID_NEAREST ? (int64_t)xv : s->mode == OT_GRID_LINEAR ? (int64_t)f : (int64_t)f - 1;
                for (int j = 0; j < K; j++)
                    w[k][j] = K == 1 ? 1 : K == 2 ? (j ? t : 1 - t) : ref_cubic(j - 1 - t, -0.75);
            }
            for (int64_t c = 0; c < s->C; c++) {
                double acc = 0;
                memset(kk, 0, sizeof kk);
                for (;;) {
                    int64_t ix[3];
                    double wt = 1;
                    for (int k = 0; k < s->r; k++) ix[k] = base[k] + kk[k], wt *= w[k][kk[k]];
                    acc += wt * ref_pixel(s, x + (n * s->C + c) * I, ix);
                    int k = s->r - 1;
                    while (k >= 0 && ++kk[k] == K) kk[k--] = 0;
                    if (k < 0) break;
                }
                y[(n * s->C + c) * O + loc] = acc;
            }
        }
}

static void test_grid_sample(void) {
    static const char *modes[] = {"nearest", "linear", "cubic"}, *pads[] = {"zeros", "border", "reflection"};
    static const struct { int r; int64_t x[5], grid[5]; } geo[] = {
        {2, {2, 3, 4, 5}, {2, 3, 6, 2}}, {3, {1, 2, 3, 4, 3}, {1, 2, 3, 2, 3}}, {1, {2, 2, 6}, {2, 5, 1}},
        {2, {1, 1, 1, 4}, {1, 2, 3, 2}},
    };
    char what[96];
    for (size_t gi = 0; gi < 4; gi++)
        for (int m = 0; m < 3; m++)
            for (int p = 0; p < 3; p++)
                for (int ac = 0; ac < 2; ac++) {
                    const int r = geo[gi].r;
                    ot_tensor *x = rand_tensor(OT_DOUBLE, r + 2, geo[gi].x, 2.0);
                    ot_tensor *gr = rand_tensor(OT_DOUBLE, r + 2, geo[gi].grid, 1.6); /* some outside [-1, 1] */
                    attr_spec at_[3] = {STR("mode", modes[m]), STR("padding_mode", pads[p]), INT("align_corners", ac)};
                    ot_tensor *in[2] = {x, gr};
                    op_run run;
                    ot_status s = run_op(&run, "GridSample", 20, 2, in, 1, at_, 3);
                    snprintf(what, sizeof what, "GridSample r%d %s %s ac%d", r, modes[m], pads[p], ac);
                    CHECK_MSG(s == OT_OK, "%s: %s", what, ot_last_error());
                    ot_grid_spec sp = {.r = r, .N = geo[gi].x[0], .C = geo[gi].x[1], .mode = (ot_grid_mode)m,
                                       .padding = (ot_grid_padding)p, .align_corners = ac};
                    for (int k = 0; k < r; k++) sp.in[k] = geo[gi].x[k + 2], sp.out[k] = geo[gi].grid[k + 1];
                    int64_t ny = ot_tensor_numel(run.out[0]);
                    double *want = malloc(sizeof(double) * (size_t)ny);
                    ref_grid_sample(&sp, x->data, gr->data, want);
                    if (!s) check_all(what, run.out[0], want, ny, 1e-9);
                    /* the gradient w.r.t. X is the adjoint */
                    int64_t nx = ot_tensor_numel(x);
                    double *g = malloc(sizeof(double) * (size_t)ny), *dx = malloc(sizeof(double) * (size_t)nx), l = 0, rr = 0;
                    for (int64_t i = 0; i < ny; i++) g[i] = rand_unit(), l += g[i] * want[i];
                    CHECK(ot_cpu_grid_sample_grad_x(&sp, OT_DOUBLE, OT_DOUBLE, gr->data, g, dx) == OT_OK);
                    for (int64_t i = 0; i < nx; i++) rr += dx[i] * at(x, i);
                    CHECK_MSG(check_close(l, rr, 1e-10, 1e-10), "%s adjoint: %.12g vs %.12g", what, l, rr);
                    free(want), free(g), free(dx);
                    run_free(&run);
                    ot_tensor_free(x), ot_tensor_free(gr);
                }
    /* float32 X with float16 grid, opset 16 spelling; integer X */
    int64_t dx4[4] = {1, 2, 5, 5}, dg[4] = {1, 4, 4, 2};
    ot_tensor *x = rand_tensor(OT_FLOAT, 4, dx4, 2.0), *gr = rand_tensor(OT_FLOAT16, 4, dg, 1.0);
    ot_tensor *in[2] = {x, gr};
    attr_spec bil = STR("mode", "bilinear");
    op_run run;
    CHECK(run_op(&run, "GridSample", 16, 2, in, 1, &bil, 1) == OT_OK);
    ot_grid_spec sp = {.r = 2, .N = 1, .C = 2, .in = {5, 5}, .out = {4, 4}, .mode = OT_GRID_LINEAR};
    double xd[50], gd[32], want[32];
    for (int i = 0; i < 50; i++) xd[i] = at(x, i);
    for (int i = 0; i < 32; i++) gd[i] = at(gr, i);
    ref_grid_sample(&sp, xd, gd, want);
    check_all("GridSample-16 float32 / float16 grid", run.out[0], want, 32, 1e-5);
    run_free(&run);
    x->dtype = OT_INT32; /* same bytes reread: only checks the integer path runs and truncates */
    for (int i = 0; i < 50; i++) ((int32_t *)x->data)[i] = (int32_t)(i * 7 % 23) - 11, xd[i] = ((int32_t *)x->data)[i];
    CHECK(run_op(&run, "GridSample", 20, 2, in, 1, NULL, 0) == OT_OK);
    ref_grid_sample(&sp, xd, gd, want);
    for (int i = 0; i < 32; i++) want[i] = trunc(want[i]);
    check_all("GridSample int32", run.out[0], want, 32, 0);
    run_free(&run);
    int64_t d3[3] = {1, 2, 5};
    ot_tensor *x3 = rand_tensor(OT_FLOAT, 3, d3, 1), *g3 = rand_tensor(OT_FLOAT, 3, (int64_t[]){1, 4, 1}, 1);
    expect_error("GridSample-16 3-D X", "GridSample", 16, 2, (ot_tensor *[]){x3, g3}, NULL, 0, OT_ERR_SHAPE);
    expect_error("grid batch mismatch", "GridSample", 20, 2, (ot_tensor *[]){x, g3}, NULL, 0, OT_ERR_SHAPE);
    ot_tensor_free(x), ot_tensor_free(gr), ot_tensor_free(x3), ot_tensor_free(g3);
}

static void test_affine_grid(void) {
    for (int r = 2; r <= 3; r++)
        for (int ac = 0; ac < 2; ac++) {
            int64_t N = 2, size[5] = {N, 3, 4, 5, 3}, td[3] = {N, r, r + 1}, ds = r + 2;
            if (r == 2) size[2] = 1, size[3] = 6; /* H = 1 covers the length-1 axis */
            ot_tensor *th = rand_tensor(OT_DOUBLE, 3, td, 1.0), *sz = tensor(OT_INT64, 1, &ds, size);
            attr_spec a = INT("align_corners", ac);
            op_run run;
            ot_tensor *in[2] = {th, sz};
            CHECK(run_op(&run, "AffineGrid", 20, 2, in, 1, &a, 1) == OT_OK);
            const int64_t *sp = size + 2;
            int64_t L = r == 2 ? sp[0] * sp[1] : sp[0] * sp[1] * sp[2];
            double *want = malloc(sizeof(double) * (size_t)(N * L * r));
            for (int64_t n = 0; n < N; n++)
                for (int64_t p = 0; p < L; p++) {
                    double v[4];
                    int64_t q = p;
                    for (int k = r - 1; k >= 0; k--) { /* innermost axis first in v */
                        int64_t len = sp[k], i = q % len;
                        q /= len;
                        v[r - 1 - k] = ac ? (len > 1 ? -1 + 2.0 * (double)i / (double)(len - 1) : 0)
                                          : (2.0 * (double)i + 1) / (double)len - 1;
                    }
                    v[r] = 1;
                    for (int i = 0; i < r; i++) {
                        double acc = 0;
                        for (int j = 0; j <= r; j++) acc += ((double *)th->data)[(n * r + i) * (r + 1) + j] * v[j];
                        want[(n * L + p) * r + i] = acc;
                    }
                }
            check_all(r == 2 ? "AffineGrid 2-D" : "AffineGrid 3-D", run.out[0], want, N * L * r, 1e-12);
            /* the gradient is the adjoint */
            double *g = malloc(sizeof(double) * (size_t)(N * L * r)), dth[24], l = 0, rr = 0;
            for (int64_t i = 0; i < N * L * r; i++) g[i] = rand_unit(), l += g[i] * want[i];
            ot_cpu_affine_grid_grad(OT_DOUBLE, r, N, sp, ac, g, dth);
            for (int i = 0; i < N * r * (r + 1); i++) rr += dth[i] * ((double *)th->data)[i];
            CHECK_MSG(check_close(l, rr, 1e-10, 1e-10), "AffineGrid adjoint r%d ac%d", r, ac);
            free(want), free(g);
            run_free(&run);
            ot_tensor_free(th), ot_tensor_free(sz);
        }
}

int main(void) {
    test_resize_sweep();
    test_resize_forms();
    test_resize_known_values();
    test_resize_errors();
    test_resize_grad_adjoint();
    test_resize_grad_f32();
    test_grid_sample();
    test_affine_grid();
    return check_done();
}
