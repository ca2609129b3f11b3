/* GridSample (ai.onnx opsets 16, 20, 22), AffineGrid (20) and the
 * ai.onnxtrain ops of their gradients: GridSampleGradX, GridSampleGradGrid,
 * AffineGridGrad.  The table rows are in resize.c; semantics and kernels in
 * kernels/cpu/resize.h.
 *
 * GridSample-16 samples 4-D X only and spells its modes bilinear / nearest /
 * bicubic; from opset 20 X has 1 to N spatial dims (here: 1 to 3) and the
 * modes are linear / nearest / cubic.  Both spellings are accepted at every
 * opset (they mean the same). */
#include <string.h>

#include "resize_ops.h"
#include "src/runtime/workspace.h"

static const char *const ot_grid_modes[] = {"nearest", "linear", "cubic"};
static const char *const ot_grid_paddings[] = {"zeros", "border", "reflection"};

const char *ot_grid_mode_name(ot_grid_mode m) { return ot_grid_modes[m]; }
const char *ot_grid_padding_name(ot_grid_padding p) { return ot_grid_paddings[p]; }

static ot_status ot_grid_parse_common(const ot_node *n, int64_t opset, ot_grid_attrs *a) {
    memset(a, 0, sizeof *a);
    a->n_shape = -1;
    const char *m, *p;
    OT_TRY(ot_attr_get_string(n, "mode", opset >= 20 ? "linear" : "bilinear", &m));
    if (!strcmp(m, "nearest")) a->mode = OT_GRID_NEAREST;
    else if (!strcmp(m, "linear") || !strcmp(m, "bilinear")) a->mode = OT_GRID_LINEAR;
    else if (!strcmp(m, "cubic") || !strcmp(m, "bicubic")) a->mode = OT_GRID_CUBIC;
    else return ot_node_error(n, OT_ERR_UNSUPPORTED, "mode '%s' is not supported (expected linear, nearest or cubic)", m);
    OT_TRY(ot_attr_get_string(n, "padding_mode", "zeros", &p));
    if (!strcmp(p, "zeros")) a->padding = OT_GRID_ZEROS;
    else if (!strcmp(p, "border")) a->padding = OT_GRID_BORDER;
    else if (!strcmp(p, "reflection")) a->padding = OT_GRID_REFLECTION;
    else return ot_node_error(n, OT_ERR_UNSUPPORTED, "padding_mode '%s' is not supported (expected zeros, border or reflection)", p);
    int64_t ac;
    OT_TRY(ot_attr_get_int(n, "align_corners", 0, &ac));
    if (ac != 0 && ac != 1) return ot_node_error(n, OT_ERR_PARSE, "align_corners = %lld must be 0 or 1", (long long)ac);
    a->align_corners = ac != 0;
    return OT_OK;
}

ot_status ot_grid_sample_parse(const ot_node *n, int64_t opset, void *attrs) {
    return ot_grid_parse_common(n, opset, attrs);
}

/* GridSampleGradX / GridSampleGradGrid: the forward's attributes (spelled
   as from opset 20), and GradX the forward X's shape (input_shape). */
ot_status ot_grid_sample_grad_x_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_grid_attrs *a = attrs;
    (void)opset;
    OT_TRY(ot_grid_parse_common(n, 20, a));
    const int64_t *shape;
    OT_TRY(ot_attr_get_ints(n, "input_shape", &shape, &a->n_shape));
    if (a->n_shape > OT_MAX_RANK) return ot_node_error(n, OT_ERR_PARSE, "input_shape has too many dims");
    if (a->n_shape > 0) memcpy(a->shape, shape, sizeof(int64_t) * (size_t)a->n_shape);
    return OT_OK;
}

/* The geometry of X (xrank, xdims) sampled by grid; errors name the node. */
static ot_status ot_grid_spec_of(const ot_kctx *c, const ot_grid_attrs *a, int xrank, const int64_t *xd,
                                 const ot_tensor *grid, ot_grid_spec *s) {
    char b1[160], b2[160];
    const int r = xrank - 2;
    if (r < 1 || r > 3)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "X %s: 1 to 3 spatial dims are supported", ot_shape_str(xrank, xd, b1, sizeof b1));
    if (grid->rank != xrank || grid->dims[0] != xd[0] || grid->dims[xrank - 1] != r)
        return ot_op_error(c, OT_ERR_SHAPE, "grid %s does not fit X %s: expected (N, out..., %d) with N = %lld",
                           ot_shape_str(grid->rank, grid->dims, b1, sizeof b1), ot_shape_str(xrank, xd, b2, sizeof b2), r,
                           (long long)xd[0]);
    memset(s, 0, sizeof *s);
    s->r = r;
    s->N = xd[0];
    s->C = xd[1];
    for (int k = 0; k < r; k++) {
        s->in[k] = xd[k + 2];
        s->out[k] = grid->dims[k + 1];
    }
    s->mode = a->mode;
    s->padding = a->padding;
    s->align_corners = a->align_corners;
    return OT_OK;
}

static ot_status ot_grid_dtypes(const ot_kctx *c, ot_dtype x, ot_dtype grid, bool grad) {
    if (!ot_cpu_grid_sample_dtype_ok(x, grid) || (grad && !ot_dtype_is_float(x)))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "X of type %s with grid of type %s is not supported", ot_dtype_name(x),
                           ot_dtype_name(grid));
    return OT_OK;
}

/* ---- GridSample ----------------------------------------------------------------------- */

ot_status ot_grid_sample_infer(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0), *grid = ot_in(c, 1);
    ot_grid_spec s;
    OT_TRY(ot_grid_dtypes(c, x->dtype, grid->dtype, false));
    if (c->opset < 20 && x->rank != 4)
        return ot_op_error(c, OT_ERR_SHAPE, "GridSample before opset 20 takes 4-D X (got rank %d)", x->rank);
    OT_TRY(ot_grid_spec_of(c, c->attrs, x->rank, x->dims, grid, &s));
    int64_t out[OT_MAX_RANK] = {s.N, s.C};
    for (int k = 0; k < s.r; k++) out[k + 2] = s.out[k];
    ot_set_out(c, 0, x->dtype, x->rank, out);
    ot_workspace_request(ot_cpu_grid_sample_workspace(&s, x->dtype, grid->dtype));
    return OT_OK;
}

ot_status ot_grid_sample_cpu(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0), *grid = ot_in(c, 1);
    ot_grid_spec s;
    OT_TRY(ot_grid_spec_of(c, c->attrs, x->rank, x->dims, grid, &s));
    ot_status st = ot_cpu_grid_sample(&s, x->dtype, x->data, grid->dtype, grid->data, ot_out(c, 0)->data);
    return st ? ot_op_error(c, st, "%s", ot_last_error()) : OT_OK;
}

/* ---- GridSampleGradX: (grid, dY) -> dX of input_shape ------------------------------------ */

static ot_status ot_grid_check_dy(const ot_kctx *c, const ot_grid_spec *s, const ot_tensor *dy) {
    int64_t want[OT_MAX_RANK] = {s->N, s->C};
    char a[160], b[160];
    for (int k = 0; k < s->r; k++) want[k + 2] = s->out[k];
    if (ot_shape_equal(dy->rank, dy->dims, s->r + 2, want)) return OT_OK;
    return ot_op_error(c, OT_ERR_SHAPE, "dY %s does not match the forward's output %s",
                       ot_shape_str(dy->rank, dy->dims, a, sizeof a), ot_shape_str(s->r + 2, want, b, sizeof b));
}

ot_status ot_grid_sample_grad_x_infer(ot_kctx *c) {
    const ot_grid_attrs *a = c->attrs;
    const ot_tensor *grid = ot_in(c, 0), *dy = ot_in(c, 1);
    ot_grid_spec s;
    if (a->n_shape < 0) return ot_op_error(c, OT_ERR_PARSE, "attribute input_shape (the forward X's shape) is missing");
    OT_TRY(ot_grid_dtypes(c, dy->dtype, grid->dtype, true));
    OT_TRY(ot_grid_spec_of(c, a, a->n_shape, a->shape, grid, &s));
    OT_TRY(ot_grid_check_dy(c, &s, dy));
    ot_set_out(c, 0, dy->dtype, a->n_shape, a->shape);
    ot_workspace_request(ot_cpu_grid_sample_workspace(&s, dy->dtype, grid->dtype));
    return OT_OK;
}

ot_status ot_grid_sample_grad_x_cpu(ot_kctx *c) {
    const ot_grid_attrs *a = c->attrs;
    const ot_tensor *grid = ot_in(c, 0), *dy = ot_in(c, 1);
    ot_grid_spec s;
    OT_TRY(ot_grid_spec_of(c, a, a->n_shape, a->shape, grid, &s));
    ot_status st = ot_cpu_grid_sample_grad_x(&s, dy->dtype, grid->dtype, grid->data, dy->data, ot_out(c, 0)->data);
    return st ? ot_op_error(c, st, "%s", ot_last_error()) : OT_OK;
}

/* ---- GridSampleGradGrid: (X, grid, dY) -> dgrid ------------------------------------------ */

ot_status ot_grid_sample_grad_grid_infer(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0), *grid = ot_in(c, 1), *dy = ot_in(c, 2);
    ot_grid_spec s;
    OT_TRY(ot_grid_dtypes(c, x->dtype, grid->dtype, true));
    if (dy->dtype != x->dtype) return ot_op_error(c, OT_ERR_TYPE, "dY's type differs from X's");
    OT_TRY(ot_grid_spec_of(c, c->attrs, x->rank, x->dims, grid, &s));
    OT_TRY(ot_grid_check_dy(c, &s, dy));
    ot_set_out(c, 0, grid->dtype, grid->rank, grid->dims);
    ot_workspace_request(ot_cpu_grid_sample_workspace(&s, x->dtype, grid->dtype) * 2);
    return OT_OK;
}

ot_status ot_grid_sample_grad_grid_cpu(ot_kctx *c) {
    const ot_tensor *x = ot_in(c, 0), *grid = ot_in(c, 1), *dy = ot_in(c, 2);
    ot_grid_spec s;
    OT_TRY(ot_grid_spec_of(c, c->attrs, x->rank, x->dims, grid, &s));
    ot_status st = ot_cpu_grid_sample_grad_grid(&s, x->dtype, x->data, grid->dtype, grid->data, dy->data,
                                                ot_out(c, 0)->data);
    return st ? ot_op_error(c, st, "%s", ot_last_error()) : OT_OK;
}

/* ---- AffineGrid: (theta (N, r, r + 1), size (N, C, spatial...)) -> grid (N, spatial..., r) ---- */

ot_status ot_affine_grid_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_grid_attrs *a = attrs;
    int64_t ac;
    (void)opset;
    memset(a, 0, sizeof *a);
    OT_TRY(ot_attr_get_int(n, "align_corners", 0, &ac));
    if (ac != 0 && ac != 1) return ot_node_error(n, OT_ERR_PARSE, "align_corners = %lld must be 0 or 1", (long long)ac);
    a->align_corners = ac != 0;
    return OT_OK;
}

static bool ot_affine_float(ot_dtype t) { return ot_dtype_is_float(t); }

/* The spatial size (r of them) from the size input, checked against theta. */
static ot_status ot_affine_size(const ot_kctx *c, int *r, int64_t *size) {
    const ot_tensor *theta = ot_in(c, 0), *sz = ot_in(c, 1);
    int64_t v[8], count;
    char b[160];
    if (!ot_affine_float(theta->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "theta has type %s; float types only", ot_dtype_name(theta->dtype));
    if (sz->dtype != OT_INT64 || sz->rank != 1 || ot_tensor_to_i64(sz, v, 8, &count) || (count != 4 && count != 5))
        return ot_op_error(c, OT_ERR_SHAPE, "size must be a 1-D int64 tensor of 4 (N, C, H, W) or 5 (N, C, D, H, W) values");
    *r = (int)count - 2;
    if (theta->rank != 3 || theta->dims[0] != v[0] || theta->dims[1] != *r || theta->dims[2] != *r + 1)
        return ot_op_error(c, OT_ERR_SHAPE, "theta %s does not fit size: expected (%lld, %d, %d)",
                           ot_shape_str(theta->rank, theta->dims, b, sizeof b), (long long)v[0], *r, *r + 1);
    for (int k = 0; k < *r; k++) {
        if (v[k + 2] < 0) return ot_op_error(c, OT_ERR_SHAPE, "size[%d] = %lld is negative", k + 2, (long long)v[k + 2]);
        size[k] = v[k + 2];
    }
    return OT_OK;
}

ot_status ot_affine_grid_infer(ot_kctx *c) {
    OT_TRY(ot_need_value(c, 1));
    int r;
    int64_t size[3], out[5], numel;
    OT_TRY(ot_affine_size(c, &r, size));
    out[0] = ot_in(c, 0)->dims[0];
    for (int k = 0; k < r; k++) out[k + 1] = size[k];
    out[r + 1] = r;
    if (ot_shape_numel(r + 2, out, &numel)) return ot_op_error(c, OT_ERR_NOMEM, "the grid is too large");
    ot_set_out(c, 0, ot_in(c, 0)->dtype, r + 2, out);
    return OT_OK;
}

ot_status ot_affine_grid_cpu(ot_kctx *c) {
    const ot_grid_attrs *a = c->attrs;
    const ot_tensor *theta = ot_in(c, 0);
    int r;
    int64_t size[3];
    OT_TRY(ot_affine_size(c, &r, size));
    ot_cpu_affine_grid(theta->dtype, r, theta->dims[0], size, a->align_corners, theta->data, ot_out(c, 0)->data);
    return OT_OK;
}

/* ---- AffineGridGrad: dgrid (N, spatial..., r) -> dtheta (N, r, r + 1) ----------------------- */

ot_status ot_affine_grid_grad_infer(ot_kctx *c) {
    const ot_tensor *dg = ot_in(c, 0);
    char b[160];
    if (!ot_affine_float(dg->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "dgrid has type %s; float types only", ot_dtype_name(dg->dtype));
    int r = dg->rank - 2;
    if ((r != 2 && r != 3) || dg->dims[dg->rank - 1] != r)
        return ot_op_error(c, OT_ERR_SHAPE, "dgrid %s: expected (N, H, W, 2) or (N, D, H, W, 3)",
                           ot_shape_str(dg->rank, dg->dims, b, sizeof b));
    int64_t out[3] = {dg->dims[0], r, r + 1};
    ot_set_out(c, 0, dg->dtype, 3, out);
    return OT_OK;
}

ot_status ot_affine_grid_grad_cpu(ot_kctx *c) {
    const ot_grid_attrs *a = c->attrs;
    const ot_tensor *dg = ot_in(c, 0);
    ot_cpu_affine_grid_grad(dg->dtype, dg->rank - 2, dg->dims[0], dg->dims + 1, a->align_corners, dg->data,
                            ot_out(c, 0)->data);
    return OT_OK;
}
