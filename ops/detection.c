/* Op family: detection — NonMaxSuppression (10, 11), RoiAlign (10, 16, 22),
 * Col2Im (18) and DeformConv (19, 22).  Kernels: kernels/cpu/detection.c
 * (Col2Im's float types reuse the convolution's col2im).  Gradient rules
 * and the ai.onnxtrain ops they emit (RoiAlignGrad, Im2Col, DeformConvGrad;
 * rows at the end of the table): ops/detection_grad.c.
 *
 * NonMaxSuppression's output row count depends on the data: its infer asks
 * for the input values (ot_need_value) and runs the selection, so the
 * compiler specialises the program on them (as for NonZero); the kernel
 * checks that the count did not change. */
#include <string.h>

#include "detection_ops.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/matmul.h"
#include "src/core/alloc.h"
#include "src/runtime/workspace.h"

#define MAXD OT_DET_MAXD

static const ot_dtype float_types[] = {OT_FLOAT16, OT_BFLOAT16, OT_FLOAT, OT_DOUBLE, OT_UNDEFINED};


/* ---- float16 / bfloat16 staging ------------------------------------------------ */

ot_status ot_det_stage_begin(ot_kctx *c, ot_det_stage *s, unsigned mask) {
    memset(s, 0, sizeof *s);
    ot_dtype dt = ot_in(c, 0)->dtype;
    s->half = dt == OT_FLOAT16 || dt == OT_BFLOAT16;
    int k = 0;
    for (int i = 0; i < c->n_in && i < 8; i++) {
        const ot_tensor *t = ot_in(c, i);
        s->in[i] = t ? t->data : NULL;
        if (!t || !s->half || !(mask & (1u << i))) continue;
        int64_t n = ot_tensor_numel(t);
        float *f = s->own[k++] = ot_workspace_alloc((size_t)(n ? n : 1) * sizeof(float));
        if (!f) return ot_det_stage_end(c, s, ot_error(OT_ERR_NOMEM, "out of memory for float32 copies"));
        ot_half_to_f32(t->dtype, t->data, f, n);
        s->in[i] = f;
    }
    for (int i = 0; i < c->n_out && i < 8; i++) {
        ot_tensor *t = ot_out(c, i);
        s->out[i] = t ? t->data : NULL;
        if (!t || !s->half) continue;
        int64_t n = ot_tensor_numel(t);
        float *f = s->own[k++] = ot_workspace_alloc((size_t)(n ? n : 1) * sizeof(float));
        if (!f) return ot_det_stage_end(c, s, ot_error(OT_ERR_NOMEM, "out of memory for float32 copies"));
        s->out[i] = f;
    }
    return OT_OK;
}

ot_status ot_det_stage_end(ot_kctx *c, ot_det_stage *s, ot_status st) {
    for (int i = 0; i < c->n_out && i < 8 && s->half && st == OT_OK; i++) {
        ot_tensor *t = ot_out(c, i);
        if (t) ot_f32_to_half(t->dtype, s->out[i], t->data, ot_tensor_numel(t));
    }
    for (int k = 0; k < 16; k++) ot_workspace_free(s->own[k]);
    memset(s->own, 0, sizeof s->own);
    if (st != OT_OK) return ot_op_error(c, st, "%s", ot_last_error());
    return OT_OK;
}

/* ---- NonMaxSuppression ----------------------------------------------------------- */

typedef struct nms_attrs {
    bool center_point_box;
} nms_attrs;

static ot_status nms_parse(const ot_node *n, int64_t opset, void *out) {
    (void)opset;
    int64_t v;
    OT_TRY(ot_attr_get_int(n, "center_point_box", 0, &v));
    if (v != 0 && v != 1)
        return ot_node_error(n, OT_ERR_PARSE, "center_point_box must be 0 (corners) or 1 (center, size), got %lld",
                             (long long)v);
    ((nms_attrs *)out)->center_point_box = v == 1;
    return OT_OK;
}

/* An optional scalar input: absent or empty -> false; one element -> true. */
static ot_status nms_scalar(ot_kctx *c, int i, ot_dtype want, const char *what, bool *present) {
    const ot_tensor *t = ot_in(c, i);
    *present = false;
    if (!t) return OT_OK;
    if (t->dtype != want)
        return ot_op_error(c, OT_ERR_TYPE, "%s must be %s, got %s", what, ot_dtype_name(want), ot_dtype_name(t->dtype));
    int64_t n = ot_tensor_numel(t);
    if (n > 1) return ot_op_error(c, OT_ERR_SHAPE, "%s must be a scalar (it has %lld values)", what, (long long)n);
    *present = n == 1;
    return OT_OK;
}

/* Shapes and types; with values (infer after ot_need_value, or cpu) the
   thresholds too. */
static ot_status nms_setup(ot_kctx *c, ot_nms_params *p) {
    const nms_attrs *a = c->attrs;
    const ot_tensor *b = ot_in(c, 0), *s = ot_in(c, 1);
    char sb[96], ss[96];
    if (b->dtype != OT_FLOAT || s->dtype != OT_FLOAT)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "boxes and scores must be float (got %s, %s)", ot_dtype_name(b->dtype),
                           ot_dtype_name(s->dtype));
    if (b->rank != 3 || b->dims[2] != 4 || s->rank != 3 || s->dims[0] != b->dims[0] || s->dims[2] != b->dims[1])
        return ot_op_error(c, OT_ERR_SHAPE,
                           "boxes %s must be (num_batches, spatial_dimension, 4) and scores %s "
                           "(num_batches, num_classes, spatial_dimension)",
                           ot_shape_str(b->rank, b->dims, sb, sizeof sb), ot_shape_str(s->rank, s->dims, ss, sizeof ss));
    bool has_max, has_iou;
    *p = (ot_nms_params){.batches = b->dims[0], .classes = s->dims[1], .boxes = b->dims[1],
                         .center_point_box = a->center_point_box};
    OT_TRY(nms_scalar(c, 2, OT_INT64, "max_output_boxes_per_class", &has_max));
    OT_TRY(nms_scalar(c, 3, OT_FLOAT, "iou_threshold", &has_iou));
    OT_TRY(nms_scalar(c, 4, OT_FLOAT, "score_threshold", &p->has_score_threshold));
    if (has_max && ot_in(c, 2)->data) p->max_per_class = *(const int64_t *)ot_in(c, 2)->data;
    if (has_iou && ot_in(c, 3)->data) p->iou_threshold = *(const float *)ot_in(c, 3)->data;
    if (p->has_score_threshold && ot_in(c, 4)->data) p->score_threshold = *(const float *)ot_in(c, 4)->data;
    return OT_OK;
}

static ot_status nms_infer(ot_kctx *c) {
    ot_nms_params p;
    OT_TRY(nms_setup(c, &p)); /* shape errors before asking for values */
    for (int i = 0; i < c->n_in && i < 5; i++)
        if (ot_in(c, i)) OT_TRY(ot_need_value(c, i));
    OT_TRY(nms_setup(c, &p));
    int64_t count;
    ot_status s = ot_nms(&p, ot_in(c, 0)->data, ot_in(c, 1)->data, NULL, 0, &count);
    if (s != OT_OK) return ot_op_error(c, s, "%s", ot_last_error());
    int64_t dims[2] = {count, 3};
    ot_set_out(c, 0, OT_INT64, 2, dims);
    return OT_OK;
}

static ot_status nms_cpu(ot_kctx *c) {
    ot_nms_params p;
    OT_TRY(nms_setup(c, &p));
    ot_tensor *y = ot_out(c, 0);
    int64_t count, planned = y->dims[0];
    ot_status s = ot_nms(&p, ot_in(c, 0)->data, ot_in(c, 1)->data, y->data, planned, &count);
    if (s != OT_OK) return ot_op_error(c, s, "%s", ot_last_error());
    if (count != planned)
        return ot_op_error(c, OT_ERR_INTERNAL, "inputs changed after the program was compiled (%lld boxes selected, %lld planned)",
                           (long long)count, (long long)planned);
    return OT_OK;
}

/* ---- RoiAlign ------------------------------------------------------------------------ */

static bool streq_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if ((*a | 0x20) != (*b | 0x20)) return false;
    return *a == *b;
}

ot_status ot_roi_align_parse(const ot_node *n, int64_t opset, void *out) {
    ot_roi_align_attrs *a = out;
    bool grad = !strcmp(n->op_type, "RoiAlignGrad");
    const char *mode, *ctm;
    OT_TRY(ot_attr_get_string(n, "mode", "avg", &mode));
    if (!streq_nocase(mode, "avg") && !streq_nocase(mode, "max"))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "mode '%s' is not supported (avg or max)", mode);
    a->max_mode = streq_nocase(mode, "max");
    /* Opset 10 has no pixel shift (and no attribute); 16 made half_pixel the default. */
    if (!grad && opset < 16 && ot_node_attr(n, "coordinate_transformation_mode"))
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "coordinate_transformation_mode exists from opset 16 (the model uses %lld)",
                             (long long)opset);
    OT_TRY(ot_attr_get_string(n, "coordinate_transformation_mode", grad || opset >= 16 ? "half_pixel" : "output_half_pixel",
                              &ctm));
    if (strcmp(ctm, "half_pixel") && strcmp(ctm, "output_half_pixel"))
        return ot_node_error(n, OT_ERR_UNSUPPORTED,
                             "coordinate_transformation_mode '%s' is not supported (half_pixel or output_half_pixel)", ctm);
    a->half_pixel = !strcmp(ctm, "half_pixel");
    OT_TRY(ot_attr_get_int(n, "output_height", 1, &a->out_h));
    OT_TRY(ot_attr_get_int(n, "output_width", 1, &a->out_w));
    OT_TRY(ot_attr_get_int(n, "sampling_ratio", 0, &a->sampling_ratio));
    OT_TRY(ot_attr_get_float(n, "spatial_scale", 1.0f, &a->spatial_scale));
    if (a->out_h < 1 || a->out_w < 1 || a->out_h > ((int64_t)1 << 30) || a->out_w > ((int64_t)1 << 30))
        return ot_node_error(n, OT_ERR_PARSE, "output_height and output_width must be >= 1 (got %lld, %lld)",
                             (long long)a->out_h, (long long)a->out_w);
    if (a->sampling_ratio < 0 || a->sampling_ratio > ((int64_t)1 << 20))
        return ot_node_error(n, OT_ERR_PARSE, "sampling_ratio must be >= 0 (got %lld)", (long long)a->sampling_ratio);
    a->n_input_shape = -1;
    if (grad) {
        const int64_t *s;
        int cnt;
        OT_TRY(ot_attr_get_ints(n, "input_shape", &s, &cnt));
        if (cnt != 4) return ot_node_error(n, OT_ERR_PARSE, "input_shape must list the 4 dims of X");
        for (int i = 0; i < 4; i++) {
            if (s[i] < 0) return ot_node_error(n, OT_ERR_PARSE, "input_shape has a negative dim");
            a->input_shape[i] = s[i];
        }
        a->n_input_shape = 4;
    }
    return OT_OK;
}

ot_status ot_roi_align_check_rois(ot_kctx *c, int at, ot_dtype dt, int64_t *R) {
    const ot_tensor *rois = ot_in(c, at), *bi = ot_in(c, at + 1);
    char b1[96], b2[96];
    if (!rois || !bi) return ot_op_error(c, OT_ERR_SHAPE, "rois and batch_indices are required");
    if (rois->dtype != dt)
        return ot_op_error(c, OT_ERR_TYPE, "rois has type %s, X %s", ot_dtype_name(rois->dtype), ot_dtype_name(dt));
    if (bi->dtype != OT_INT64)
        return ot_op_error(c, OT_ERR_TYPE, "batch_indices must be int64, got %s", ot_dtype_name(bi->dtype));
    if (rois->rank != 2 || rois->dims[1] != 4 || bi->rank != 1 || bi->dims[0] != rois->dims[0])
        return ot_op_error(c, OT_ERR_SHAPE, "rois %s must be (num_rois, 4) and batch_indices %s (num_rois)",
                           ot_shape_str(rois->rank, rois->dims, b1, sizeof b1), ot_shape_str(bi->rank, bi->dims, b2, sizeof b2));
    *R = rois->dims[0];
    return OT_OK;
}

ot_status ot_roi_align_check_batch(ot_kctx *c, const ot_tensor *batch, int64_t N) {
    const int64_t *b = batch->data;
    for (int64_t r = 0; r < batch->dims[0]; r++)
        if (b[r] < 0 || b[r] >= N)
            return ot_op_error(c, OT_ERR_INVALID_ARG, "batch_indices[%lld] = %lld is outside [0, %lld)", (long long)r,
                               (long long)b[r], (long long)N);
    return OT_OK;
}

ot_roi_align_params ot_roi_align_params_of(const ot_roi_align_attrs *a, const int64_t *x, int64_t R) {
    return (ot_roi_align_params){.N = x[0], .C = x[1], .H = x[2], .W = x[3], .R = R, .out_h = a->out_h,
                                 .out_w = a->out_w, .sampling_ratio = a->sampling_ratio,
                                 .spatial_scale = a->spatial_scale, .half_pixel = a->half_pixel,
                                 .max_mode = a->max_mode};
}

static ot_status roi_align_infer(ot_kctx *c) {
    const ot_roi_align_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, 0);
    OT_TRY(ot_check_dtype(c, 0, float_types));
    if (x->rank != 4) return ot_op_error(c, OT_ERR_SHAPE, "X must be 4-D (N, C, H, W), got rank %d", x->rank);
    int64_t R, numel;
    OT_TRY(ot_roi_align_check_rois(c, 1, x->dtype, &R));
    int64_t dims[4] = {R, x->dims[1], a->out_h, a->out_w};
    OT_TRY(ot_shape_numel(4, dims, &numel));
    ot_set_out(c, 0, x->dtype, 4, dims);
    return OT_OK;
}

static ot_status roi_align_cpu(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0), *bi = ot_in(c, 2);
    OT_TRY(ot_roi_align_check_batch(c, bi, x->dims[0]));
    ot_roi_align_params p = ot_roi_align_params_of(c->attrs, x->dims, bi->dims[0]);
    ot_det_stage s;
    OT_TRY(ot_det_stage_begin(c, &s, 0x3));
    if (x->dtype == OT_DOUBLE) ot_roi_align_f64(&p, s.in[0], s.in[1], bi->data, s.out[0]);
    else ot_roi_align_f32(&p, s.in[0], s.in[1], bi->data, s.out[0]);
    return ot_det_stage_end(c, &s, OT_OK);
}

/* ---- Col2Im ---------------------------------------------------------------------------- */

static ot_status get_list(const ot_node *n, const char *name, int cap, int64_t *dst, int *count) {
    const int64_t *v;
    OT_TRY(ot_attr_get_ints(n, name, &v, count));
    if (*count > cap)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "attribute %s has %d values (at most %d spatial dims are supported)",
                             name, *count, cap);
    for (int i = 0; i < *count; i++) dst[i] = v[i];
    return OT_OK;
}

ot_status ot_col2im_parse(const ot_node *n, int64_t opset, void *out) {
    (void)opset;
    ot_col2im_attrs *a = out;
    OT_TRY(get_list(n, "dilations", MAXD, a->dilations, &a->n_dilations));
    OT_TRY(get_list(n, "pads", 2 * MAXD, a->pads, &a->n_pads));
    OT_TRY(get_list(n, "strides", MAXD, a->strides, &a->n_strides));
    return OT_OK;
}

ot_status ot_col2im_dims(ot_kctx *c, int i, const char *what, int64_t *dims, int *n) {
    const ot_tensor *t = ot_in(c, i);
    if (t->dtype != OT_INT64 || t->rank != 1)
        return ot_op_error(c, OT_ERR_TYPE, "%s must be a 1-D int64 tensor", what);
    if (t->dims[0] < 1 || t->dims[0] > MAXD)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "%s has %lld values: 1 to %d spatial dims are supported", what,
                           (long long)t->dims[0], MAXD);
    *n = (int)t->dims[0];
    memcpy(dims, t->data, sizeof(int64_t) * (size_t)*n);
    return OT_OK;
}

ot_status ot_col2im_geometry(ot_kctx *c, int n, const int64_t *image, const int64_t *block, ot_conv_geom *g) {
    const ot_col2im_attrs *a = c->attrs;
    if ((a->n_dilations >= 0 && a->n_dilations != n) || (a->n_strides >= 0 && a->n_strides != n) ||
        (a->n_pads >= 0 && a->n_pads != 2 * n))
        return ot_op_error(c, OT_ERR_SHAPE, "dilations and strides need %d values and pads %d (the spatial dims)", n,
                           2 * n);
    memset(g, 0, sizeof *g);
    g->n = n;
    const int64_t big = (int64_t)1 << 32;
    for (int i = 0; i < n; i++) {
        int64_t d = a->n_dilations >= 0 ? a->dilations[i] : 1, s = a->n_strides >= 0 ? a->strides[i] : 1;
        int64_t pb = a->n_pads >= 0 ? a->pads[i] : 0, pe = a->n_pads >= 0 ? a->pads[n + i] : 0;
        if (d < 1 || s < 1 || pb < 0 || pe < 0 || d > big || s > big || pb > big || pe > big)
            return ot_op_error(c, OT_ERR_SHAPE, "spatial dim %d: dilation and stride must be >= 1 and pads >= 0", i);
        if (block[i] < 1 || block[i] > big || image[i] < 1 || image[i] > big)
            return ot_op_error(c, OT_ERR_SHAPE, "spatial dim %d: image (%lld) and block (%lld) sizes must be >= 1", i,
                               (long long)image[i], (long long)block[i]);
        int64_t span = image[i] + pb + pe - ((block[i] - 1) * d + 1);
        if (span < 0)
            return ot_op_error(c, OT_ERR_SHAPE, "spatial dim %d: the dilated block (%lld) exceeds the padded image (%lld)",
                               i, (long long)((block[i] - 1) * d + 1), (long long)(image[i] + pb + pe));
        g->img[i] = image[i];
        g->col[i] = span / s + 1;
        g->kernel[i] = block[i];
        g->stride[i] = s;
        g->dilation[i] = d;
        g->pad[i] = pb;
    }
    int64_t tmp[3 * MAXD];
    for (int i = 0; i < n; i++) tmp[i] = g->img[i], tmp[n + i] = g->col[i], tmp[2 * n + i] = g->kernel[i];
    int64_t numel;
    OT_TRY(ot_shape_numel(3 * n, tmp, &numel)); /* each product below fits */
    ot_conv_geom_finish(g);
    return OT_OK;
}

static const ot_dtype col2im_types[] = {OT_FLOAT16, OT_BFLOAT16, OT_FLOAT, OT_DOUBLE, OT_INT8, OT_INT16, OT_INT32,
                                        OT_INT64, OT_UINT8, OT_UINT16, OT_UINT32, OT_UINT64, OT_UNDEFINED};

/* Col2Im: input (N, C * K, L) -> (N, C, image...). */
static ot_status col2im_shapes(ot_kctx *c, ot_conv_geom *g, int64_t *C) {
    const ot_tensor *x = ot_in(c, 0);
    if (ot_check_dtype(c, 0, col2im_types) != OT_OK)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input type %s is not supported (numeric types but bool)",
                           ot_dtype_name(x->dtype));
    if (x->rank != 3)
        return ot_op_error(c, OT_ERR_SHAPE, "input must be 3-D (N, C * prod(block_shape), L), got rank %d", x->rank);
    OT_TRY(ot_need_value(c, 1));
    OT_TRY(ot_need_value(c, 2));
    int64_t image[MAXD], block[MAXD];
    int n, nb;
    OT_TRY(ot_col2im_dims(c, 1, "image_shape", image, &n));
    OT_TRY(ot_col2im_dims(c, 2, "block_shape", block, &nb));
    if (n != nb)
        return ot_op_error(c, OT_ERR_SHAPE, "image_shape has %d values, block_shape %d", n, nb);
    OT_TRY(ot_col2im_geometry(c, n, image, block, g));
    if (x->dims[1] % g->kernel_size)
        return ot_op_error(c, OT_ERR_SHAPE, "input dim 1 (%lld) is not a multiple of the block size %lld",
                           (long long)x->dims[1], (long long)g->kernel_size);
    if (x->dims[2] != g->col_size)
        return ot_op_error(c, OT_ERR_SHAPE, "input has %lld blocks (dim 2); image_shape, block_shape and the attributes give %lld",
                           (long long)x->dims[2], (long long)g->col_size);
    *C = x->dims[1] / g->kernel_size;
    return OT_OK;
}

static ot_status col2im_infer(ot_kctx *c) {
    ot_conv_geom g;
    int64_t C, dims[OT_MAX_RANK], numel;
    OT_TRY(col2im_shapes(c, &g, &C));
    dims[0] = ot_in(c, 0)->dims[0];
    dims[1] = C;
    memcpy(dims + 2, g.img, sizeof(int64_t) * (size_t)g.n);
    OT_TRY(ot_shape_numel(g.n + 2, dims, &numel));
    ot_set_out(c, 0, ot_in(c, 0)->dtype, g.n + 2, dims);
    return OT_OK;
}

static ot_status col2im_cpu(ot_kctx *c) {
    ot_conv_geom g;
    int64_t C;
    OT_TRY(col2im_shapes(c, &g, &C));
    const ot_tensor *x = ot_in(c, 0);
    ot_tensor *y = ot_out(c, 0);
    int64_t N = x->dims[0], in_step = C * g.kernel_size * g.col_size, out_step = C * g.img_size;
    ot_dtype dt = x->dtype;
    if (!ot_dtype_is_float(dt)) {
        size_t es = ot_dtype_size(dt);
        for (int64_t b = 0; b < N; b++)
            ot_col2im_int(&g, C, (int)es, (const char *)x->data + (size_t)(b * in_step) * es,
                          (char *)y->data + (size_t)(b * out_step) * es);
        return OT_OK;
    }
    ot_det_stage s;
    OT_TRY(ot_det_stage_begin(c, &s, 0x1));
    bool f64 = dt == OT_DOUBLE;
    memset(s.out[0], 0, (size_t)(N * out_step) * (f64 ? 8 : 4));
    for (int64_t b = 0; b < N; b++) {
        if (f64) ot_col2im_f64(&g, C, (const double *)s.in[0] + b * in_step, (double *)s.out[0] + b * out_step);
        else ot_col2im_f32(&g, C, (const float *)s.in[0] + b * in_step, (float *)s.out[0] + b * out_step);
    }
    return ot_det_stage_end(c, &s, OT_OK);
}

/* ---- DeformConv -------------------------------------------------------------------------- */

ot_status ot_deform_parse(const ot_node *n, int64_t opset, void *out) {
    (void)opset;
    ot_deform_attrs *a = out;
    OT_TRY(ot_attr_get_int(n, "group", 1, &a->group));
    OT_TRY(ot_attr_get_int(n, "offset_group", 1, &a->offset_group));
    if (a->group < 1 || a->offset_group < 1)
        return ot_node_error(n, OT_ERR_PARSE, "group and offset_group must be >= 1 (got %lld, %lld)", (long long)a->group,
                             (long long)a->offset_group);
    OT_TRY(get_list(n, "kernel_shape", MAXD, a->kernel, &a->n_kernel));
    OT_TRY(get_list(n, "strides", MAXD, a->strides, &a->n_strides));
    OT_TRY(get_list(n, "dilations", MAXD, a->dilations, &a->n_dilations));
    OT_TRY(get_list(n, "pads", 2 * MAXD, a->pads, &a->n_pads));
    a->n_wrt = -1;
    if (!strcmp(n->op_type, "DeformConvGrad")) {
        OT_TRY(get_list(n, "wrt", 5, a->wrt, &a->n_wrt));
        if (a->n_wrt < 1) return ot_node_error(n, OT_ERR_PARSE, "wrt must list 1 to 5 forward inputs");
        for (int i = 0; i < a->n_wrt; i++)
            if (a->wrt[i] < 0 || a->wrt[i] > 4 || (i && a->wrt[i] <= a->wrt[i - 1]))
                return ot_node_error(n, OT_ERR_PARSE, "wrt must list increasing forward input indices in [0, 4]");
    }
    return OT_OK;
}

/* Shape check of an (N, channels, out...) tensor. */
static ot_status deform_per_pos(ot_kctx *c, const ot_tensor *t, const char *what, int64_t N, int64_t ch,
                                const ot_window *w) {
    bool ok = t->rank == w->n + 2 && t->dims[0] == N && t->dims[1] == ch;
    for (int i = 0; ok && i < w->n; i++) ok = t->dims[2 + i] == w->out[i];
    if (ok) return OT_OK;
    int64_t want[OT_MAX_RANK] = {N, ch};
    memcpy(want + 2, w->out, sizeof(int64_t) * (size_t)w->n);
    char b1[128], b2[128];
    return ot_op_error(c, OT_ERR_SHAPE, "%s is %s, expected %s", what, ot_shape_str(t->rank, t->dims, b1, sizeof b1),
                       ot_shape_str(w->n + 2, want, b2, sizeof b2));
}

ot_status ot_deform_geometry(ot_kctx *c, int at, ot_deform_geom *g) {
    const ot_deform_attrs *a = c->attrs;
    const ot_tensor *x = ot_in(c, at), *w = ot_in(c, at + 1), *off = ot_in(c, at + 2), *b = ot_in(c, at + 3),
                    *mask = ot_in(c, at + 4);
    if (!x || !w || !off) return ot_op_error(c, OT_ERR_SHAPE, "X, W and offset are required");
    const ot_tensor *all[5] = {x, w, off, b, mask};
    for (int i = 0; i < 5; i++) {
        if (!all[i]) continue;
        if (ot_check_dtype(c, at + i, float_types) != OT_OK || all[i]->dtype != x->dtype)
            return ot_op_error(c, OT_ERR_TYPE, "input %d has type %s; X, W, offset, B and mask must share one float type",
                               at + i, ot_dtype_name(all[i]->dtype));
    }
    if (x->rank < 3 || x->rank > MAXD + 2)
        return ot_op_error(c, OT_ERR_SHAPE, "X must have rank 3 to %d (N, C, spatial...), got %d", MAXD + 2, x->rank);
    if (w->rank != x->rank) return ot_op_error(c, OT_ERR_SHAPE, "W has rank %d, X has rank %d", w->rank, x->rank);
    int n = x->rank - 2;
    int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0], G = a->group, OG = a->offset_group;
    if (C % G || M % G || w->dims[1] * G != C)
        return ot_op_error(c, OT_ERR_SHAPE, "X has %lld channels, W is (%lld, %lld, ...) with group %lld: need C = W.dims[1] * group "
                           "and W.dims[0] divisible by group", (long long)C, (long long)M, (long long)w->dims[1], (long long)G);
    if (C % OG)
        return ot_op_error(c, OT_ERR_SHAPE, "input channels %lld are not divisible by offset_group %lld", (long long)C,
                           (long long)OG);
    if (a->n_kernel >= 0) {
        bool ok = a->n_kernel == n;
        for (int i = 0; ok && i < n; i++) ok = a->kernel[i] == w->dims[2 + i];
        if (!ok) return ot_op_error(c, OT_ERR_SHAPE, "kernel_shape does not match W's spatial dims");
    }
    if ((a->n_strides >= 0 && a->n_strides != n) || (a->n_dilations >= 0 && a->n_dilations != n) ||
        (a->n_pads >= 0 && a->n_pads != 2 * n))
        return ot_op_error(c, OT_ERR_SHAPE, "strides and dilations need %d values and pads %d", n, 2 * n);
    for (int i = 0; i < n; i++)
        if (w->dims[2 + i] < 1) return ot_op_error(c, OT_ERR_SHAPE, "W has an empty kernel dim");
    ot_window win;
    ot_status s = ot_window_compute(&win, n, x->dims + 2, w->dims + 2, a->n_strides >= 0 ? a->strides : NULL,
                                    a->n_dilations >= 0 ? a->dilations : NULL, a->n_pads >= 0 ? a->pads : NULL,
                                    OT_AUTO_PAD_NOTSET, false);
    if (s != OT_OK) return ot_op_error(c, s, "%s", ot_last_error());
    memset(g, 0, sizeof *g);
    ot_conv_geom *cg = &g->conv;
    cg->n = n;
    for (int i = 0; i < n; i++) {
        cg->img[i] = x->dims[2 + i];
        cg->col[i] = win.out[i];
        cg->kernel[i] = win.kernel[i];
        cg->stride[i] = win.stride[i];
        cg->dilation[i] = win.dilation[i];
        cg->pad[i] = win.pad_begin[i];
    }
    ot_conv_geom_finish(cg);
    int64_t K = cg->kernel_size;
    OT_TRY(deform_per_pos(c, off, "offset", N, OG * K * n, &win));
    if (mask) OT_TRY(deform_per_pos(c, mask, "mask", N, OG * K, &win));
    if (b && (b->rank != 1 || b->dims[0] != M))
        return ot_op_error(c, OT_ERR_SHAPE, "B must be 1-D of size %lld (the output channels)", (long long)M);
    int64_t col_dims[2] = {C * K, cg->col_size}, numel;
    OT_TRY(ot_shape_numel(2, col_dims, &numel));
    if (!ot_blas_fits(M) || !ot_blas_fits(C * K) || !ot_blas_fits(cg->col_size))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "deformable convolution too large for 32-bit BLAS dims");
    *g = (ot_deform_geom){.conv = *cg, .N = N, .C = C, .M = M, .G = G, .OG = OG};
    return OT_OK;
}

static ot_status deform_infer(ot_kctx *c) {
    ot_deform_geom g;
    OT_TRY(ot_deform_geometry(c, 0, &g));
    int64_t dims[OT_MAX_RANK] = {g.N, g.M}, numel;
    memcpy(dims + 2, g.conv.col, sizeof(int64_t) * (size_t)g.conv.n);
    OT_TRY(ot_shape_numel(g.conv.n + 2, dims, &numel));
    ot_dtype dt = ot_in(c, 0)->dtype;
    ot_workspace_request(ot_deform_conv_scratch(dt == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT, &g));
    ot_set_out(c, 0, dt, g.conv.n + 2, dims);
    return OT_OK;
}

static ot_status deform_cpu(ot_kctx *c) {
    ot_deform_geom g;
    OT_TRY(ot_deform_geometry(c, 0, &g));
    ot_det_stage s;
    OT_TRY(ot_det_stage_begin(c, &s, 0x1f));
    ot_dtype dt = ot_in(c, 0)->dtype == OT_DOUBLE ? OT_DOUBLE : OT_FLOAT;
    ot_status st = ot_deform_conv_forward(dt, &g, s.in[0], s.in[1], s.in[2], c->n_in > 4 ? s.in[4] : NULL,
                                          c->n_in > 3 ? s.in[3] : NULL, s.out[0]);
    return ot_det_stage_end(c, &s, st);
}

/* ---- the table ---------------------------------------------------------------------------- */

#define FLOATS "float16, bfloat16, float, double"
const ot_op_def ot_ops_detection[] = {
    {.name = "NonMaxSuppression", .domain = "", .min_opset = 10, .max_opset = 23, .min_inputs = 2, .max_inputs = 5,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "center_point_box", .attrs_size = sizeof(nms_attrs),
     .parse = nms_parse, .infer = nms_infer, .cpu = nms_cpu, .dtypes = "float -> int64"},
    {.name = "RoiAlign", .domain = "", .min_opset = 10, .max_opset = 23, .min_inputs = 3, .max_inputs = 3,
     .min_outputs = 1, .max_outputs = 1, .attr_names = OT_ROI_ALIGN_ATTRS, .attrs_size = sizeof(ot_roi_align_attrs),
     .parse = ot_roi_align_parse, .infer = roi_align_infer, .cpu = roi_align_cpu, .dtypes = FLOATS " (batch_indices int64)",
     .grad = ot_roi_align_grad, .no_grad_inputs = (1u << 1) | (1u << 2)},
    {.name = "Col2Im", .domain = "", .min_opset = 18, .max_opset = 23, .min_inputs = 3, .max_inputs = 3,
     .min_outputs = 1, .max_outputs = 1, .attr_names = OT_COL2IM_ATTRS, .attrs_size = sizeof(ot_col2im_attrs),
     .parse = ot_col2im_parse, .infer = col2im_infer, .cpu = col2im_cpu,
     .dtypes = FLOATS ", int8-64, uint8-64", .grad = ot_col2im_grad, .no_grad_inputs = (1u << 1) | (1u << 2)},
    {.name = "DeformConv", .domain = "", .min_opset = 19, .max_opset = 23, .min_inputs = 3, .max_inputs = 5,
     .min_outputs = 1, .max_outputs = 1, .attr_names = OT_DEFORM_ATTRS, .attrs_size = sizeof(ot_deform_attrs),
     .parse = ot_deform_parse, .infer = deform_infer, .cpu = deform_cpu, .dtypes = FLOATS,
     .grad = ot_deform_conv_grad},
    /* Gradient ops (ops/detection_grad.c). */
    {.name = "RoiAlignGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 3,
     .max_inputs = 4, .min_outputs = 1, .max_outputs = 1, .attr_names = OT_ROI_ALIGN_ATTRS ",input_shape",
     .attrs_size = sizeof(ot_roi_align_attrs), .parse = ot_roi_align_parse, .infer = ot_roi_align_grad_infer,
     .cpu = ot_roi_align_grad_cpu, .dtypes = FLOATS},
    {.name = "Im2Col", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 2, .max_inputs = 2,
     .min_outputs = 1, .max_outputs = 1, .attr_names = OT_COL2IM_ATTRS, .attrs_size = sizeof(ot_col2im_attrs),
     .parse = ot_col2im_parse, .infer = ot_im2col_infer, .cpu = ot_im2col_cpu, .dtypes = FLOATS,
     .no_grad_inputs = 1u << 1},
    {.name = "DeformConvGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 4,
     .max_inputs = 6, .min_outputs = 1, .max_outputs = 5, .attr_names = OT_DEFORM_ATTRS ",wrt",
     .attrs_size = sizeof(ot_deform_attrs), .parse = ot_deform_parse, .infer = ot_deform_grad_infer,
     .cpu = ot_deform_grad_cpu, .dtypes = FLOATS},
};
const int ot_ops_detection_count = sizeof ot_ops_detection / sizeof ot_ops_detection[0];
