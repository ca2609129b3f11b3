/* Op family: resize — Resize (ai.onnx opsets 10, 11, 13, 18, 19), Upsample
 * (7, 9), GridSample (16, 20, 22), AffineGrid (20), and the ai.onnxtrain
 * gradient ops ResizeGrad, GridSampleGradX, GridSampleGradGrid,
 * AffineGridGrad.
 *
 * Resize's output shape depends on the values of its scales / sizes (and
 * roi) inputs: infer asks for them (ot_need_value), so a program is
 * specialised on them.  Opset forms:
 *  - Upsample-7: scales attribute; Upsample-9 and Resize-10: (X, scales);
 *    both with asymmetric coordinates and ONNX Runtime's nearest rounding
 *    (floor when upsampling, ceil when downsampling), as before opset 11
 *    there were no attributes to say otherwise;
 *  - Resize-11: roi and scales required (an empty tensor stands for absent),
 *    tf_half_pixel_for_nn; Resize-13: roi and scales optional;
 *  - Resize-18: antialias, axes, keep_aspect_ratio_policy;
 *    Resize-19: half_pixel_symmetric.
 * An attribute used before the opset that introduced it is an error.
 * Kernels and semantics: kernels/cpu/resize.h.  GridSample / AffineGrid:
 * resize_grid.c; gradient rules: resize_grad.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "resize_ops.h"
#include "src/runtime/workspace.h"

/* ---- names ------------------------------------------------------------------------ */

static const char *const ot_rs_modes[] = {"nearest", "linear", "cubic"};
static const char *const ot_rs_coords[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                           "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                                           "tf_crop_and_resize"};
static const char *const ot_rs_nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple"};
static const char *const ot_rs_policies[] = {"stretch", "not_larger", "not_smaller"};

const char *ot_resize_mode_name(ot_resize_mode m) { return ot_rs_modes[m]; }
const char *ot_resize_coord_name(ot_resize_coord c) { return ot_rs_coords[c]; }
const char *ot_resize_nearest_name(ot_resize_nearest n) { return ot_rs_nearests[n]; }
const char *ot_resize_policy_name(ot_resize_policy p) { return ot_rs_policies[p]; }

/* A string attribute as an index into names[0..n); unknown values are
   OT_ERR_UNSUPPORTED naming the accepted ones. */
static ot_status ot_rs_enum(const ot_node *nd, const char *attr, const char *dflt, const char *const *names, int n,
                            int *out) {
    const char *v;
    OT_TRY(ot_attr_get_string(nd, attr, dflt, &v));
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return OT_OK;
        }
    char list[256] = "";
    for (int i = 0; i < n; i++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    return ot_node_error(nd, OT_ERR_UNSUPPORTED, "%s '%s' is not supported (expected one of: %s)", attr, v, list);
}

static ot_status ot_rs_flag(const ot_node *n, const char *name, bool *out) {
    int64_t v;
    OT_TRY(ot_attr_get_int(n, name, 0, &v));
    if (v != 0 && v != 1) return ot_node_error(n, OT_ERR_PARSE, "attribute %s = %lld must be 0 or 1", name, (long long)v);
    *out = v != 0;
    return OT_OK;
}

/* Attributes that a schema version does not have yet are malformed there. */
static ot_status ot_rs_since(const ot_node *n, int64_t opset, const char *name, int64_t since) {
    if (opset >= since || !ot_node_attr(n, name)) return OT_OK;
    return ot_node_error(n, OT_ERR_PARSE, "attribute %s is part of %s from opset %lld on; this model is at opset %lld",
                         name, n->op_type, (long long)since, (long long)opset);
}

/* ---- parse -------------------------------------------------------------------------- */

/* The opset >= 11 attributes (ResizeGrad: every spelling at any version). */
static ot_status ot_rs_parse_full(const ot_node *n, int64_t opset, bool grad, ot_resize_attrs *a) {
    int v;
    OT_TRY(ot_rs_enum(n, "mode", "nearest", ot_rs_modes, 3, &v));
    a->mode = (ot_resize_mode)v;
    OT_TRY(ot_rs_enum(n, "coordinate_transformation_mode", "half_pixel", ot_rs_coords, 7, &v));
    a->coord = (ot_resize_coord)v;
    if (!grad && a->coord == OT_RESIZE_TF_HALF_PIXEL_FOR_NN && opset != 11)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "coordinate_transformation_mode tf_half_pixel_for_nn exists at opset 11 only");
    if (!grad && a->coord == OT_RESIZE_HALF_PIXEL_SYMMETRIC && opset < 19)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "coordinate_transformation_mode half_pixel_symmetric needs opset 19");
    OT_TRY(ot_rs_enum(n, "nearest_mode", "round_prefer_floor", ot_rs_nearests, grad ? 5 : 4, &v));
    a->nearest = (ot_resize_nearest)v;
    OT_TRY(ot_attr_get_float(n, "cubic_coeff_a", -0.75f, &a->cubic_a));
    OT_TRY(ot_attr_get_float(n, "extrapolation_value", 0.0f, &a->extrapolation));
    OT_TRY(ot_rs_flag(n, "exclude_outside", &a->exclude_outside));
    OT_TRY(ot_rs_flag(n, "antialias", &a->antialias));
    OT_TRY(ot_rs_enum(n, "keep_aspect_ratio_policy", "stretch", ot_rs_policies, 3, &v));
    a->policy = (ot_resize_policy)v;
    const int64_t *ax;
    OT_TRY(ot_attr_get_ints(n, "axes", &ax, &a->n_axes));
    if (a->n_axes > OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "axes has %d values; at most %d are supported", a->n_axes, OT_MAX_RANK);
    if (a->n_axes > 0) memcpy(a->axes, ax, sizeof(int64_t) * (size_t)a->n_axes);
    return OT_OK;
}

static ot_status ot_resize_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_resize_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    a->n_axes = a->n_scales = a->n_shape = -1;
    static const char *const later[] = {"coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside",
                                        "extrapolation_value", "nearest_mode"};
    for (int i = 0; i < 5; i++) OT_TRY(ot_rs_since(n, opset, later[i], 11));
    OT_TRY(ot_rs_since(n, opset, "antialias", 18));
    OT_TRY(ot_rs_since(n, opset, "axes", 18));
    OT_TRY(ot_rs_since(n, opset, "keep_aspect_ratio_policy", 18));
    OT_TRY(ot_rs_parse_full(n, opset, false, a));
    if (opset < 11) {
        if (a->mode == OT_RESIZE_CUBIC) return ot_node_error(n, OT_ERR_UNSUPPORTED, "mode cubic needs opset 11");
        a->form = OT_RESIZE_FORM_SCALES;
        a->coord = OT_RESIZE_ASYMMETRIC;
        a->nearest = OT_RESIZE_SIMPLE;
    } else {
        a->form = OT_RESIZE_FORM_FULL;
    }
    return OT_OK;
}

static ot_status ot_upsample_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_resize_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    a->n_axes = a->n_shape = -1;
    static const char *const modes[] = {"nearest", "linear", "bilinear"}; /* bilinear: Upsample-1's spelling */
    int v;
    OT_TRY(ot_rs_enum(n, "mode", "nearest", modes, 3, &v));
    a->mode = v ? OT_RESIZE_LINEAR : OT_RESIZE_NEAREST;
    a->coord = OT_RESIZE_ASYMMETRIC;
    a->nearest = OT_RESIZE_SIMPLE;
    const float *s;
    OT_TRY(ot_attr_get_floats(n, "scales", &s, &a->n_scales));
    if (opset >= 9) {
        if (a->n_scales >= 0)
            return ot_node_error(n, OT_ERR_PARSE, "the scales attribute is Upsample-7's; from opset 9 scales is an input");
        a->form = OT_RESIZE_FORM_SCALES;
        return OT_OK;
    }
    if (a->n_scales < 0) return ot_node_error(n, OT_ERR_PARSE, "required attribute scales is missing");
    if (a->n_scales > OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "scales has %d values; at most %d are supported", a->n_scales, OT_MAX_RANK);
    memcpy(a->scales, s, sizeof(float) * (size_t)a->n_scales);
    a->form = OT_RESIZE_FORM_ATTR;
    return OT_OK;
}

/* ResizeGrad: the forward's resolved attributes, input_shape, and either the
   scales attribute (from Upsample-7) or the forward's roi / scales / sizes. */
static ot_status ot_resize_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_resize_attrs *a = attrs;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_rs_parse_full(n, opset, true, a));
    const int64_t *shape;
    const float *s;
    OT_TRY(ot_attr_get_ints(n, "input_shape", &shape, &a->n_shape));
    if (a->n_shape < 1 || a->n_shape > OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_PARSE, "attribute input_shape (the forward X's shape) is missing or too long");
    memcpy(a->shape, shape, sizeof(int64_t) * (size_t)a->n_shape);
    OT_TRY(ot_attr_get_floats(n, "scales", &s, &a->n_scales));
    if (a->n_scales > OT_MAX_RANK) return ot_node_error(n, OT_ERR_PARSE, "scales has too many values");
    if (a->n_scales > 0) memcpy(a->scales, s, sizeof(float) * (size_t)a->n_scales);
    a->form = a->n_scales >= 0 ? OT_RESIZE_FORM_ATTR : OT_RESIZE_FORM_FULL;
    return OT_OK;
}

/* ---- resolving roi / scales / sizes ------------------------------------------------------ */

/* Input i when present and not empty (an empty tensor stands for absent). */
static const ot_tensor *ot_rs_given(const ot_kctx *c, int i) {
    const ot_tensor *t = ot_in(c, i);
    return t && ot_tensor_numel(t) > 0 ? t : NULL;
}

/* Asks for the values the output shape depends on. */
static ot_status ot_rs_need_values(ot_kctx *c, const ot_resize_attrs *a) {
    if (a->form == OT_RESIZE_FORM_SCALES) {
        if (!ot_in(c, 1)) return ot_op_error(c, OT_ERR_PARSE, "the scales input is missing");
        return ot_need_value(c, 1);
    }
    if (a->form != OT_RESIZE_FORM_FULL) return OT_OK;
    if (ot_rs_given(c, 2)) OT_TRY(ot_need_value(c, 2));
    if (ot_rs_given(c, 3)) OT_TRY(ot_need_value(c, 3));
    if (a->coord == OT_RESIZE_TF_CROP_AND_RESIZE && ot_rs_given(c, 1)) OT_TRY(ot_need_value(c, 1));
    return OT_OK;
}

static bool ot_rs_values_known(const ot_kctx *c, const ot_resize_attrs *a) {
    for (int i = 1; i < 4; i++) {
        const ot_tensor *t = ot_rs_given(c, i);
        if (t && !t->data && (i != 1 || a->coord == OT_RESIZE_TF_CROP_AND_RESIZE || a->form != OT_RESIZE_FORM_FULL))
            return false;
    }
    return true;
}

static ot_status ot_rs_float_input(const ot_kctx *c, const ot_tensor *t, const char *what, int want) {
    if (!ot_dtype_is_float(t->dtype))
        return ot_op_error(c, OT_ERR_TYPE, "%s has type %s; a float type is expected", what, ot_dtype_name(t->dtype));
    if (t->rank != 1 || t->dims[0] != want)
        return ot_op_error(c, OT_ERR_SHAPE, "%s must be 1-D with %d values (got %lld values)", what, want,
                           (long long)ot_tensor_numel(t));
    return OT_OK;
}

/* Per-axis geometry for X of shape (rank, dims) (ResizeGrad: input_shape). */
static ot_status ot_resize_resolve(const ot_kctx *c, const ot_resize_attrs *a, int rank, const int64_t *dims,
                                   ot_resize_spec *s) {
    memset(s, 0, sizeof *s);
    s->rank = rank;
    s->mode = a->mode;
    s->coord = a->coord;
    s->nearest = a->nearest;
    s->cubic_a = a->cubic_a;
    s->extrapolation = a->extrapolation;
    s->exclude_outside = a->exclude_outside;
    s->antialias = a->antialias && a->mode != OT_RESIZE_NEAREST; /* nearest has no filter to stretch */
    for (int d = 0; d < rank; d++) s->ax[d] = (ot_resize_axis){dims[d], dims[d], 1.0, 0.0, 1.0};
    int axes[OT_MAX_RANK], na = a->n_axes >= 0 ? a->n_axes : rank;
    for (int i = 0; i < na; i++) {
        if (a->n_axes < 0) axes[i] = i;
        else if (ot_axis_normalize(a->axes[i], rank, &axes[i]))
            return ot_op_error(c, OT_ERR_SHAPE, "axes[%d] = %lld is out of range for rank %d", i, (long long)a->axes[i], rank);
        for (int k = 0; k < i; k++)
            if (axes[k] == axes[i]) return ot_op_error(c, OT_ERR_SHAPE, "axis %d is repeated in axes", axes[i]);
    }
    double sv[OT_MAX_RANK];
    int64_t sz[OT_MAX_RANK];
    const ot_tensor *scales = NULL, *sizes = NULL, *roi = NULL;
    if (a->form == OT_RESIZE_FORM_ATTR) {
        if (a->n_scales != rank)
            return ot_op_error(c, OT_ERR_SHAPE, "scales has %d values for an input of rank %d", a->n_scales, rank);
        for (int i = 0; i < rank; i++) sv[i] = a->scales[i];
    } else if (a->form == OT_RESIZE_FORM_SCALES) {
        if (!(scales = ot_in(c, 1))) return ot_op_error(c, OT_ERR_PARSE, "the scales input is missing");
    } else {
        roi = ot_rs_given(c, 1);
        scales = ot_rs_given(c, 2);
        sizes = ot_rs_given(c, 3);
        if (scales && sizes) return ot_op_error(c, OT_ERR_PARSE, "scales and sizes are both given; exactly one may be");
        if (!scales && !sizes) return ot_op_error(c, OT_ERR_PARSE, "neither scales nor sizes is given (one is required)");
    }
    if (scales) {
        OT_TRY(ot_rs_float_input(c, scales, "scales", na));
        for (int i = 0; i < na; i++) sv[i] = ot_load_f64(scales->dtype, scales->data, i);
    }
    if (!sizes) {
        for (int i = 0; i < na; i++) {
            ot_resize_axis *x = &s->ax[axes[i]];
            double o = floor(sv[i] * (double)x->in);
            if (!(sv[i] > 0) || !isfinite(sv[i]))
                return ot_op_error(c, OT_ERR_SHAPE, "scales[%d] = %g must be a positive number", i, sv[i]);
            if (!(o < (double)OT_MAX_NUMEL))
                return ot_op_error(c, OT_ERR_NOMEM, "scales[%d] = %g makes axis %d too long", i, sv[i], axes[i]);
            x->scale = sv[i];
            x->out = (int64_t)o;
        }
    } else {
        int64_t count;
        if (sizes->dtype != OT_INT64 && sizes->dtype != OT_INT32)
            return ot_op_error(c, OT_ERR_TYPE, "sizes has type %s; int64 is expected", ot_dtype_name(sizes->dtype));
        if (sizes->rank != 1 || ot_tensor_to_i64(sizes, sz, OT_MAX_RANK, &count) || count != na)
            return ot_op_error(c, OT_ERR_SHAPE, "sizes must be 1-D with %d values (got %lld)", na,
                               (long long)ot_tensor_numel(sizes));
        double pick = a->policy == OT_RESIZE_NOT_LARGER ? INFINITY : 0;
        for (int i = 0; i < na; i++) {
            ot_resize_axis *x = &s->ax[axes[i]];
            if (sz[i] < 0 || sz[i] > OT_MAX_NUMEL)
                return ot_op_error(c, OT_ERR_SHAPE, "sizes[%d] = %lld is not a valid length", i, (long long)sz[i]);
            if (x->in == 0 && sz[i] > 0)
                return ot_op_error(c, OT_ERR_SHAPE, "axis %d is empty and cannot be resized to %lld", axes[i], (long long)sz[i]);
            x->out = sz[i];
            x->scale = x->in ? (double)sz[i] / (double)x->in : 1.0;
            if (a->policy == OT_RESIZE_NOT_LARGER) pick = fmin(pick, x->scale);
            if (a->policy == OT_RESIZE_NOT_SMALLER) pick = fmax(pick, x->scale);
        }
        for (int i = 0; i < na && a->policy != OT_RESIZE_STRETCH; i++) { /* one scale for all, rounded half up */
            ot_resize_axis *x = &s->ax[axes[i]];
            double o = floor(pick * (double)x->in + 0.5);
            if (!(o < (double)OT_MAX_NUMEL)) return ot_op_error(c, OT_ERR_NOMEM, "the kept aspect ratio makes axis %d too long", axes[i]);
            x->scale = pick > 0 ? pick : 1.0;
            x->out = (int64_t)o;
        }
    }
    if (a->coord == OT_RESIZE_TF_CROP_AND_RESIZE) {
        if (!roi) return ot_op_error(c, OT_ERR_PARSE, "coordinate_transformation_mode tf_crop_and_resize needs the roi input");
        OT_TRY(ot_rs_float_input(c, roi, "roi", 2 * na));
        for (int i = 0; i < na; i++) {
            s->ax[axes[i]].roi_start = ot_load_f64(roi->dtype, roi->data, i);
            s->ax[axes[i]].roi_end = ot_load_f64(roi->dtype, roi->data, na + i);
        }
    }
    return OT_OK;
}

/* ---- Resize / Upsample ------------------------------------------------------------------ */

static ot_status ot_resize_infer(ot_kctx *c) {
    const ot_resize_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    if (!ot_cpu_resize_dtype_ok(a->mode, x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "X has type %s, which mode %s does not support", ot_dtype_name(x->dtype),
                           ot_rs_modes[a->mode]);
    if (x->rank < 1) return ot_op_error(c, OT_ERR_SHAPE, "X must have rank >= 1 (got a scalar)");
    OT_TRY(ot_rs_need_values(c, a));
    ot_resize_spec s;
    OT_TRY(ot_resize_resolve(c, a, x->rank, x->dims, &s));
    int64_t out[OT_MAX_RANK], numel;
    for (int d = 0; d < x->rank; d++) out[d] = s.ax[d].out;
    if (ot_shape_numel(x->rank, out, &numel)) return ot_op_error(c, OT_ERR_NOMEM, "the output is too large");
    ot_set_out(c, 0, x->dtype, x->rank, out);
    ot_workspace_request(ot_cpu_resize_workspace(&s, x->dtype, false));
    return OT_OK;
}

static ot_status ot_resize_cpu(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0);
    ot_resize_spec s;
    OT_TRY(ot_resize_resolve(c, c->attrs, x->rank, x->dims, &s));
    ot_status st = ot_cpu_resize(&s, x->dtype, x->data, ot_out(c, 0)->data);
    return st ? ot_op_error(c, st, "%s", ot_last_error()) : OT_OK;
}

/* ---- ResizeGrad ----------------------------------------------------------------------------
 * Inputs: dY (the forward's Y shape), then the forward's roi, scales, sizes
 * (each optional).  Output: dX (input_shape), the transpose of the
 * forward's interpolation applied to dY. */

static ot_status ot_resize_grad_infer(ot_kctx *c) {
    const ot_resize_attrs *a = c->attrs;
    const ot_tensor *dy = ot_in(c, 0);
    if (!ot_dtype_is_float(dy->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "dY has type %s; float types only", ot_dtype_name(dy->dtype));
    if (dy->rank != a->n_shape)
        return ot_op_error(c, OT_ERR_SHAPE, "dY has rank %d; input_shape has %d dims", dy->rank, a->n_shape);
    if (ot_rs_values_known(c, a)) { /* else the kernel checks at run time */
        ot_resize_spec s;
        int64_t want[OT_MAX_RANK];
        OT_TRY(ot_resize_resolve(c, a, a->n_shape, a->shape, &s));
        for (int d = 0; d < a->n_shape; d++) want[d] = s.ax[d].out;
        OT_TRY(ot_check_dy(c, a->n_shape, want));
        ot_workspace_request(ot_cpu_resize_workspace(&s, dy->dtype, true));
    }
    ot_set_out(c, 0, dy->dtype, a->n_shape, a->shape);
    return OT_OK;
}

static ot_status ot_resize_grad_cpu(ot_kctx *c) {
    const ot_resize_attrs *a = c->attrs;
    const ot_tensor *dy = ot_in(c, 0);
    ot_resize_spec s;
    int64_t want[OT_MAX_RANK];
    OT_TRY(ot_resize_resolve(c, a, a->n_shape, a->shape, &s));
    for (int d = 0; d < a->n_shape; d++) want[d] = s.ax[d].out;
    OT_TRY(ot_check_dy(c, a->n_shape, want));
    ot_status st = ot_cpu_resize_grad(&s, dy->dtype, dy->data, ot_out(c, 0)->data);
    return st ? ot_op_error(c, st, "%s", ot_last_error()) : OT_OK;
}

/* ---- the table ---------------------------------------------------------------------------- */

#define OT_RESIZE_DTYPES "nearest: every numeric type and bool; linear, cubic: float32, float64, float16, bfloat16, integers"
#define OT_RESIZE_ATTRS                                                                                     \
    "antialias,axes,coordinate_transformation_mode,cubic_coeff_a,exclude_outside,extrapolation_value," \
    "keep_aspect_ratio_policy,mode,nearest_mode"
#define OT_GRID_DTYPES "X: float32, float64, float16, bfloat16, integers; grid: float32, float64, float16"

const ot_op_def ot_ops_resize[] = {
    {.name = "Resize", .domain = "", .min_opset = 10, .max_opset = 23, .min_inputs = 2, .max_inputs = 4,
     .min_outputs = 1, .max_outputs = 1, .attr_names = OT_RESIZE_ATTRS, .attrs_size = sizeof(ot_resize_attrs),
     .parse = ot_resize_parse, .infer = ot_resize_infer, .cpu = ot_resize_cpu, .dtypes = OT_RESIZE_DTYPES,
     .grad = ot_resize_grad_rule, .no_grad_inputs = 0xE /* roi, scales, sizes */},
    {.name = "Upsample", .domain = "", .min_opset = 7, .max_opset = 9, .min_inputs = 1, .max_inputs = 2,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "mode,scales", .attrs_size = sizeof(ot_resize_attrs),
     .parse = ot_upsample_parse, .infer = ot_resize_infer, .cpu = ot_resize_cpu,
     .dtypes = "nearest: every numeric type and bool; linear: float types, integers", .grad = ot_resize_grad_rule,
     .no_grad_inputs = 0x2 /* scales */},
    {.name = "GridSample", .domain = "", .min_opset = 16, .max_opset = 23, .min_inputs = 2, .max_inputs = 2,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "align_corners,mode,padding_mode",
     .attrs_size = sizeof(ot_grid_attrs), .parse = ot_grid_sample_parse, .infer = ot_grid_sample_infer,
     .cpu = ot_grid_sample_cpu, .dtypes = OT_GRID_DTYPES, .grad = ot_grid_sample_grad_rule},
    {.name = "AffineGrid", .domain = "", .min_opset = 20, .max_opset = 23, .min_inputs = 2, .max_inputs = 2,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "align_corners", .attrs_size = sizeof(ot_grid_attrs),
     .parse = ot_affine_grid_parse, .infer = ot_affine_grid_infer, .cpu = ot_affine_grid_cpu,
     .dtypes = "float32, float64, float16, bfloat16 (size: int64)", .grad = ot_affine_grid_grad_rule},
    {.name = "ResizeGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 1,
     .max_inputs = 4, .min_outputs = 1, .max_outputs = 1,
     .attr_names = OT_RESIZE_ATTRS ",input_shape,scales", .attrs_size = sizeof(ot_resize_attrs),
     .parse = ot_resize_grad_parse, .infer = ot_resize_grad_infer, .cpu = ot_resize_grad_cpu,
     .dtypes = "float32, float64, float16, bfloat16"},
    {.name = "GridSampleGradX", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 2,
     .max_inputs = 2, .min_outputs = 1, .max_outputs = 1, .attr_names = "align_corners,input_shape,mode,padding_mode",
     .attrs_size = sizeof(ot_grid_attrs), .parse = ot_grid_sample_grad_x_parse, .infer = ot_grid_sample_grad_x_infer,
     .cpu = ot_grid_sample_grad_x_cpu, .dtypes = "float32, float64, float16, bfloat16"},
    {.name = "GridSampleGradGrid", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 3,
     .max_inputs = 3, .min_outputs = 1, .max_outputs = 1, .attr_names = "align_corners,mode,padding_mode",
     .attrs_size = sizeof(ot_grid_attrs), .parse = ot_grid_sample_grad_x_parse,
     .infer = ot_grid_sample_grad_grid_infer, .cpu = ot_grid_sample_grad_grid_cpu,
     .dtypes = "float32, float64, float16, bfloat16"},
    {.name = "AffineGridGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 1,
     .max_inputs = 1, .min_outputs = 1, .max_outputs = 1, .attr_names = "align_corners",
     .attrs_size = sizeof(ot_grid_attrs), .parse = ot_affine_grid_parse, .infer = ot_affine_grid_grad_infer,
     .cpu = ot_affine_grid_grad_cpu, .dtypes = "float32, float64, float16, bfloat16"},
};
const int ot_ops_resize_count = sizeof ot_ops_resize / sizeof ot_ops_resize[0];
