/* Op family: shape — ops that move bytes without arithmetic on them.
 * This file: the shared helpers, the ops that only re-describe their input
 * (Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size), Transpose, and the
 * family's table.  Concat/Split/Slice/Expand/Tile are in shape_copy.c, Pad and
 * Trilu in shape_pad.c, Constant/ConstantOfShape/Range/OneHot in shape_create.c. */
#include <stdio.h>
#include <string.h>

#include "../kernels/cpu/shape.h"
#include "grad.h"
#include "shape_ops.h"

/* ---- helpers ---------------------------------------------------------------- */

ot_status ot_shape_check_movable(const ot_kctx *c, int i) {
    const ot_tensor *t = ot_in(c, i);
    if (t && ot_dtype_size(t->dtype) == 0)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input %d has type %s, which onnxtrain does not support", i,
                           ot_dtype_name(t->dtype));
    return OT_OK;
}

ot_status ot_shape_read_ints(ot_kctx *c, int i, const char *what, int64_t *out, int cap, int *count) {
    const ot_tensor *t = ot_in(c, i);
    if (!t) return ot_op_error(c, OT_ERR_INTERNAL, "input '%s' is absent", what);
    if (t->dtype != OT_INT64 && t->dtype != OT_INT32)
        return ot_op_error(c, OT_ERR_TYPE, "input '%s' must be int64 (or int32), got %s", what,
                           ot_dtype_name(t->dtype));
    if (t->rank > 1) return ot_op_error(c, OT_ERR_SHAPE, "input '%s' must be 1-D, got rank %d", what, t->rank);
    OT_TRY(ot_need_value(c, i));
    int64_t n = ot_tensor_numel(t);
    if (n > cap)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input '%s' has %lld values; at most %d are supported here", what,
                           (long long)n, cap);
    for (int64_t k = 0; k < n; k++) out[k] = ot_load_i64(t->dtype, t->data, k);
    *count = (int)n;
    return OT_OK;
}

int64_t ot_shape_count(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int k = 0; k < rank; k++) n *= dims[k];
    return n;
}

ot_status ot_shape_set_out(ot_kctx *c, int i, ot_dtype dtype, int rank, const int64_t *dims) {
    int64_t n;
    if (rank > OT_MAX_RANK)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "output rank %d exceeds onnxtrain's limit of %d", rank, OT_MAX_RANK);
    if (ot_shape_numel(rank, dims, &n) != OT_OK) {
        char buf[160];
        return ot_op_error(c, OT_ERR_SHAPE, "invalid output shape %s", ot_shape_str(rank, dims, buf, sizeof buf));
    }
    ot_set_out(c, i, dtype, rank, dims);
    return OT_OK;
}

/* Output bytes equal the input's: copies unless the runtime already aliased them. */
static ot_status ot_copy_through_cpu(ot_kctx *c) {
    ot_k_copy_bytes(c->out[0]->data, c->in[0]->data, ot_tensor_nbytes(c->in[0]));
    return OT_OK;
}

/* ---- Reshape ----------------------------------------------------------------- */

static ot_status ot_reshape_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_reshape_attrs *a = attrs;
    (void)opset; /* allowzero exists from opset 14; its default keeps older semantics */
    OT_TRY(ot_attr_get_int(n, "allowzero", 0, &a->allowzero));
    if (a->allowzero != 0 && a->allowzero != 1)
        return ot_node_error(n, OT_ERR_PARSE, "allowzero must be 0 or 1, got %lld", (long long)a->allowzero);
    return OT_OK;
}

static ot_status ot_reshape_infer(ot_kctx *c) {
    const ot_reshape_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    int64_t dims[OT_MAX_RANK];
    int n, infer_at = -1;
    OT_TRY(ot_shape_check_movable(c, 0));
    OT_TRY(ot_shape_read_ints(c, 1, "shape", dims, OT_MAX_RANK, &n));
    int64_t known = 1, total = ot_shape_count(x->rank, x->dims);
    for (int k = 0; k < n; k++) {
        if (dims[k] == 0 && !a->allowzero) {
            if (k >= x->rank)
                return ot_op_error(c, OT_ERR_SHAPE, "shape[%d] = 0 copies input dim %d, but the input has rank %d", k,
                                   k, x->rank);
            dims[k] = x->dims[k];
        }
        if (dims[k] == -1) {
            if (infer_at >= 0) return ot_op_error(c, OT_ERR_SHAPE, "shape has more than one -1");
            infer_at = k;
        } else if (dims[k] < 0) {
            return ot_op_error(c, OT_ERR_SHAPE, "shape[%d] = %lld is negative", k, (long long)dims[k]);
        } else {
            /* saturates past the tensor limit so that the product cannot overflow */
            known = (dims[k] && known > OT_MAX_NUMEL / dims[k]) ? OT_MAX_NUMEL + 1 : known * dims[k];
        }
    }
    if (infer_at >= 0) {
        if (known == 0)
            return ot_op_error(c, OT_ERR_SHAPE, "cannot infer the -1 in shape when the other dims multiply to 0");
        if (total % known)
            return ot_op_error(c, OT_ERR_SHAPE, "cannot reshape %lld elements with a -1 and known dims of product %lld",
                               (long long)total, (long long)known);
        dims[infer_at] = total / known;
    } else if (known != total) {
        char bi[160], bo[160];
        return ot_op_error(c, OT_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s",
                           ot_shape_str(x->rank, x->dims, bi, sizeof bi), (long long)total,
                           ot_shape_str(n, dims, bo, sizeof bo));
    }
    return ot_shape_set_out(c, 0, x->dtype, n, dims);
}

/* ---- Flatten ------------------------------------------------------------------ */

static ot_status ot_flatten_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return ot_attr_get_int(n, "axis", 1, &((ot_axis_attrs *)attrs)->axis);
}

static ot_status ot_flatten_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    int64_t axis = ((const ot_axis_attrs *)c->attrs)->axis;
    OT_TRY(ot_shape_check_movable(c, 0));
    if (axis < -x->rank || axis > x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range [-%d, %d]", (long long)axis, x->rank, x->rank);
    if (axis < 0) axis += x->rank;
    int64_t dims[2] = {ot_shape_count((int)axis, x->dims), ot_shape_count(x->rank - (int)axis, x->dims + axis)};
    return ot_shape_set_out(c, 0, x->dtype, 2, dims); /* (prod d[:axis], prod d[axis:]) */
}

/* ---- Squeeze / Unsqueeze ----------------------------------------------------------- */

static ot_status ot_squeeze_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_squeeze_attrs *a = attrs;
    const int64_t *axes;
    OT_TRY(ot_attr_get_ints(n, "axes", &axes, &a->n_axes));
    if (a->n_axes >= 0 && opset >= 13)
        return ot_node_error(n, OT_ERR_PARSE, "from opset 13 'axes' is an input, not an attribute");
    if (a->n_axes > OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "%d axes exceed the rank limit of %d", a->n_axes,
                             OT_MAX_RANK);
    for (int k = 0; k < a->n_axes; k++) a->axes[k] = axes[k];
    if (a->n_axes < 0 && opset < 13 && !strcmp(n->op_type, "Unsqueeze"))
        return ot_node_error(n, OT_ERR_PARSE, "attribute 'axes' is required");
    return OT_OK;
}

/* The axes from the attribute (opset < 13) or input 1; *n = -1 when absent. */
static ot_status ot_squeeze_axes(ot_kctx *c, int64_t *axes, int *n) {
    const ot_squeeze_attrs *a = c->attrs;
    if (c->opset < 13) {
        if (ot_in(c, 1)) return ot_op_error(c, OT_ERR_UNSUPPORTED, "an 'axes' input needs opset 13");
        *n = a->n_axes;
        for (int k = 0; k < a->n_axes; k++) axes[k] = a->axes[k];
        return OT_OK;
    }
    *n = -1;
    if (!ot_in(c, 1)) return OT_OK;
    return ot_shape_read_ints(c, 1, "axes", axes, OT_MAX_RANK, n);
}

static ot_status ot_squeeze_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    int64_t axes[OT_MAX_RANK], dims[OT_MAX_RANK];
    int n, r = 0;
    bool drop[OT_MAX_RANK] = {0};
    OT_TRY(ot_shape_check_movable(c, 0));
    OT_TRY(ot_squeeze_axes(c, axes, &n));
    for (int k = 0; k < n; k++) {
        int ax;
        if (axes[k] < -x->rank || axes[k] >= x->rank)
            return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)axes[k], x->rank);
        ax = (int)(axes[k] < 0 ? axes[k] + x->rank : axes[k]);
        if (drop[ax]) return ot_op_error(c, OT_ERR_SHAPE, "axis %d listed twice", ax);
        if (x->dims[ax] != 1)
            return ot_op_error(c, OT_ERR_SHAPE, "cannot squeeze axis %d of size %lld", ax, (long long)x->dims[ax]);
        drop[ax] = true;
    }
    for (int k = 0; k < x->rank; k++)
        if (!(n < 0 ? x->dims[k] == 1 : drop[k])) dims[r++] = x->dims[k];
    return ot_shape_set_out(c, 0, x->dtype, r, dims);
}

static ot_status ot_unsqueeze_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    int64_t axes[OT_MAX_RANK], dims[OT_MAX_RANK];
    bool ins[OT_MAX_RANK] = {0};
    int n;
    OT_TRY(ot_shape_check_movable(c, 0));
    if (c->opset >= 13 && !ot_in(c, 1)) return ot_op_error(c, OT_ERR_SHAPE, "input 'axes' is required");
    OT_TRY(ot_squeeze_axes(c, axes, &n));
    int r = x->rank + n;
    if (r > OT_MAX_RANK)
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "output rank %d exceeds onnxtrain's limit of %d", r, OT_MAX_RANK);
    for (int k = 0; k < n; k++) {
        if (axes[k] < -r || axes[k] >= r)
            return ot_op_error(c, OT_ERR_SHAPE, "axis %lld out of range for output rank %d", (long long)axes[k], r);
        int ax = (int)(axes[k] < 0 ? axes[k] + r : axes[k]);
        if (ins[ax]) return ot_op_error(c, OT_ERR_SHAPE, "axis %d listed twice", ax);
        ins[ax] = true;
    }
    for (int k = 0, j = 0; k < r; k++) dims[k] = ins[k] ? 1 : x->dims[j++];
    return ot_shape_set_out(c, 0, x->dtype, r, dims);
}

/* ---- Transpose ------------------------------------------------------------------ */

static ot_status ot_transpose_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_transpose_attrs *a = attrs;
    const int64_t *perm;
    (void)opset;
    OT_TRY(ot_attr_get_ints(n, "perm", &perm, &a->n_perm));
    if (a->n_perm > OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_UNSUPPORTED, "perm has %d entries; the rank limit is %d", a->n_perm,
                             OT_MAX_RANK);
    for (int k = 0; k < a->n_perm; k++) a->perm[k] = perm[k];
    return OT_OK;
}

static ot_status ot_transpose_perm(const ot_kctx *c, int *perm) {
    const ot_transpose_attrs *a = c->attrs;
    int r = c->in[0]->rank;
    bool seen[OT_MAX_RANK] = {0};
    if (a->n_perm < 0) {
        for (int k = 0; k < r; k++) perm[k] = r - 1 - k;
        return OT_OK;
    }
    if (a->n_perm != r) return ot_op_error(c, OT_ERR_SHAPE, "perm has %d entries for an input of rank %d", a->n_perm, r);
    for (int k = 0; k < r; k++) {
        if (a->perm[k] < 0 || a->perm[k] >= r || seen[a->perm[k]])
            return ot_op_error(c, OT_ERR_SHAPE, "perm is not a permutation of 0..%d", r - 1);
        seen[a->perm[k]] = true;
        perm[k] = (int)a->perm[k];
    }
    return OT_OK;
}

static ot_status ot_transpose_infer(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    int perm[OT_MAX_RANK];
    int64_t dims[OT_MAX_RANK];
    OT_TRY(ot_shape_check_movable(c, 0));
    OT_TRY(ot_transpose_perm(c, perm));
    for (int k = 0; k < x->rank; k++) dims[k] = x->dims[perm[k]];
    return ot_shape_set_out(c, 0, x->dtype, x->rank, dims);
}

static ot_status ot_transpose_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_tensor *y = c->out[0];
    int perm[OT_MAX_RANK];
    int64_t xs[OT_MAX_RANK], ys[OT_MAX_RANK], ss[OT_MAX_RANK];
    OT_TRY(ot_transpose_perm(c, perm));
    ot_shape_strides(x->rank, x->dims, xs);
    ot_shape_strides(y->rank, y->dims, ys);
    for (int k = 0; k < x->rank; k++) ss[k] = xs[perm[k]]; /* y[.., i_k, ..] = x[.., i at perm[k], ..] */
    ot_k_copy_strided(y->data, ys, x->data, ss, y->rank, y->dims, ot_dtype_size(x->dtype));
    return OT_OK;
}

/* ---- Shape / Size ------------------------------------------------------------------ */

static ot_status ot_shapeop_parse(const ot_node *n, int64_t opset, void *attrs) {
    ot_shapeop_attrs *a = attrs;
    (void)opset; /* start/end exist from opset 15; their defaults give the older behaviour */
    OT_TRY(ot_attr_get_int(n, "start", 0, &a->start));
    a->has_end = ot_node_attr(n, "end") != NULL;
    return ot_attr_get_int(n, "end", 0, &a->end);
}

/* [start, end) of the dims to report, clamped as the spec says. */
static void ot_shapeop_range(const ot_kctx *c, int *start, int *end) {
    const ot_shapeop_attrs *a = c->attrs;
    int64_t r = c->in[0]->rank, s = a->start, e = a->has_end ? a->end : r;
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = s < 0 ? 0 : s > r ? r : s;
    e = e < 0 ? 0 : e > r ? r : e;
    *start = (int)s;
    *end = (int)(e > s ? e : s);
}

static ot_status ot_shapeop_infer(ot_kctx *c) {
    int s, e;
    ot_shapeop_range(c, &s, &e);
    int64_t n = e - s;
    ot_set_out(c, 0, OT_INT64, 1, &n);
    return OT_OK;
}

static ot_status ot_shapeop_cpu(ot_kctx *c) {
    int s, e;
    ot_shapeop_range(c, &s, &e);
    int64_t *y = c->out[0]->data;
    for (int k = s; k < e; k++) y[k - s] = c->in[0]->dims[k];
    return OT_OK;
}

static ot_status ot_size_infer(ot_kctx *c) {
    ot_set_out(c, 0, OT_INT64, 0, NULL);
    return OT_OK;
}

static ot_status ot_size_cpu(ot_kctx *c) {
    *(int64_t *)c->out[0]->data = ot_shape_count(c->in[0]->rank, c->in[0]->dims);
    return OT_OK;
}

/* ---- the table ----------------------------------------------------------------------- */

/* The ONNX release we check against (onnx 1.22) defines opsets up to 27.  The
   versions of these ops after 23 only add element types that ot_dtype lacks
   (float8e8m0, int2, uint2; the loader rejects them), except Range-27, whose
   float16/bfloat16 + stash_type is implemented: so every row is valid through 27. */
#define OT_SHAPE_MAX_OPSET 27

#define OT_ANY "all fixed-size types (bool, integers, float16/bfloat16/float/double, complex)"

const ot_op_def ot_ops_shape[] = {
    {"Reshape", "", 5, OT_SHAPE_MAX_OPSET, 2, 2, 1, 1, "allowzero", sizeof(ot_reshape_attrs), ot_reshape_parse, ot_reshape_infer,
     ot_copy_through_cpu, OT_TRAIT_ALIAS, OT_ANY, ot_reshape_like_grad},
    {"Flatten", "", 1, OT_SHAPE_MAX_OPSET, 1, 1, 1, 1, "axis", sizeof(ot_axis_attrs), ot_flatten_parse, ot_flatten_infer,
     ot_copy_through_cpu, OT_TRAIT_ALIAS, OT_ANY, ot_reshape_like_grad},
    {"Squeeze", "", 1, OT_SHAPE_MAX_OPSET, 1, 2, 1, 1, "axes", sizeof(ot_squeeze_attrs), ot_squeeze_parse, ot_squeeze_infer,
     ot_copy_through_cpu, OT_TRAIT_ALIAS, OT_ANY, ot_reshape_like_grad},
    {"Unsqueeze", "", 1, OT_SHAPE_MAX_OPSET, 1, 2, 1, 1, "axes", sizeof(ot_squeeze_attrs), ot_squeeze_parse, ot_unsqueeze_infer,
     ot_copy_through_cpu, OT_TRAIT_ALIAS, OT_ANY, ot_reshape_like_grad},
    {"Transpose", "", 1, OT_SHAPE_MAX_OPSET, 1, 1, 1, 1, "perm", sizeof(ot_transpose_attrs), ot_transpose_parse,
     ot_transpose_infer, ot_transpose_cpu, 0, OT_ANY, ot_transpose_grad},
    {"Shape", "", 1, OT_SHAPE_MAX_OPSET, 1, 1, 1, 1, "start,end", sizeof(ot_shapeop_attrs), ot_shapeop_parse, ot_shapeop_infer,
     ot_shapeop_cpu, OT_TRAIT_SHAPE_ONLY, "any input type; int64 output"},
    {"Size", "", 1, OT_SHAPE_MAX_OPSET, 1, 1, 1, 1, "", 0, NULL, ot_size_infer, ot_size_cpu, OT_TRAIT_SHAPE_ONLY,
     "any input type; int64 output"},
    {"Concat", "", 4, OT_SHAPE_MAX_OPSET, 1, -1, 1, 1, "axis", sizeof(ot_axis_attrs), ot_concat_parse, ot_concat_infer,
     ot_concat_cpu, 0, OT_ANY, ot_concat_grad},
    {"Split", "", 2, OT_SHAPE_MAX_OPSET, 1, 2, 1, -1, "axis,split,num_outputs", sizeof(ot_split_attrs), ot_split_parse,
     ot_split_infer, ot_split_cpu, 0, OT_ANY, ot_split_grad},
    {"Slice", "", 1, OT_SHAPE_MAX_OPSET, 1, 5, 1, 1, "starts,ends,axes", sizeof(ot_slice_attrs), ot_slice_parse, ot_slice_infer,
     ot_slice_cpu, 0, OT_ANY, ot_slice_grad},
    {"Expand", "", 8, OT_SHAPE_MAX_OPSET, 2, 2, 1, 1, "", 0, NULL, ot_expand_infer, ot_expand_cpu, 0, OT_ANY, ot_expand_grad},
    {"Tile", "", 6, OT_SHAPE_MAX_OPSET, 2, 2, 1, 1, "", 0, NULL, ot_tile_infer, ot_tile_cpu, 0, OT_ANY, ot_tile_grad},
    {"Pad", "", 2, OT_SHAPE_MAX_OPSET, 1, 4, 1, 1, "mode,pads,value", sizeof(ot_pad_attrs), ot_pad_parse, ot_pad_infer,
     ot_pad_cpu, 0, OT_ANY, ot_pad_grad},
    {"Trilu", "", 14, OT_SHAPE_MAX_OPSET, 1, 2, 1, 1, "upper", sizeof(ot_trilu_attrs), ot_trilu_parse, ot_trilu_infer,
     ot_trilu_cpu, 0, OT_ANY, ot_trilu_grad},
    {"Constant", "", 1, OT_SHAPE_MAX_OPSET, 0, 0, 1, 1,
     "value,sparse_value,value_float,value_floats,value_int,value_ints,value_string,value_strings",
     sizeof(ot_constant_attrs), ot_constant_parse, ot_constant_infer, ot_constant_cpu, 0,
     OT_ANY " (string constants unsupported)"},
    {"ConstantOfShape", "", 9, OT_SHAPE_MAX_OPSET, 1, 1, 1, 1, "value", 0, ot_constant_of_shape_parse, ot_constant_of_shape_infer,
     ot_constant_of_shape_cpu, 0, "value: bool, integers, float16/bfloat16/float/double"},
    {"Range", "", 11, OT_SHAPE_MAX_OPSET, 3, 3, 1, 1, "stash_type", sizeof(ot_range_attrs), ot_range_parse,
     ot_range_infer, ot_range_cpu, 0, "float, double, int16, int32, int64, float16, bfloat16", NULL, 0x7},
    {"OneHot", "", 9, OT_SHAPE_MAX_OPSET, 3, 3, 1, 1, "axis", sizeof(ot_axis_attrs), ot_onehot_parse, ot_onehot_infer,
     ot_onehot_cpu, 0, "indices/depth: numeric; values: " OT_ANY, NULL, 0x2},
    /* Backward ops (shape_grad_ops.c documents their inputs and attributes). */
    {"SliceGrad", OT_DOMAIN_TRAIN, 1, 1, 1, 5, 1, 1, "shape,starts,ends,axes", sizeof(ot_slice_grad_attrs),
     ot_slice_grad_parse, ot_slice_grad_infer, ot_slice_grad_cpu, 0, OT_ANY},
    {"PadGrad", OT_DOMAIN_TRAIN, 1, 1, 1, 4, 1, 1, "shape,mode,pads", sizeof(ot_pad_grad_attrs), ot_pad_grad_parse,
     ot_pad_grad_infer, ot_pad_grad_cpu, 0, "constant mode: " OT_ANY "; other modes: float16/bfloat16/float/double"},
    {"SplitGrad", OT_DOMAIN_TRAIN, 1, 1, 1, -1, 1, 1, "axis,split", sizeof(ot_axis_attrs), ot_split_grad_parse,
     ot_split_grad_infer, ot_split_grad_cpu, 0, OT_ANY},
    {"ConcatGrad", OT_DOMAIN_TRAIN, 1, 1, 1, 1, 1, -1, "axis,split", sizeof(ot_split_attrs), ot_split_parse,
     ot_split_infer, ot_split_cpu, 0, OT_ANY},
};
const int ot_ops_shape_count = sizeof ot_ops_shape / sizeof ot_ops_shape[0];
