/* Private to the shape family: its files (shape.c, shape_copy.c,
 * shape_create.c) share these attribute structs, helpers and row functions;
 * the one table `ot_ops_shape` lives in shape.c. */
#ifndef OT_OPS_SHAPE_OPS_H
#define OT_OPS_SHAPE_OPS_H

#include "op.h"

/* ---- parsed attributes ------------------------------------------------- */
typedef struct { int64_t allowzero; } ot_reshape_attrs;
typedef struct { int64_t axis; } ot_axis_attrs; /* Flatten, Concat, OneHot */
typedef struct {
    int n_perm; /* -1: absent (reverse the dims) */
    int64_t perm[OT_MAX_RANK];
} ot_transpose_attrs;
typedef struct {
    int n_axes; /* -1: absent; used before opset 13 (input afterwards) */
    int64_t axes[OT_MAX_RANK];
} ot_squeeze_attrs;
typedef struct {
    int64_t start, end;
    int has_end;
} ot_shapeop_attrs;
typedef struct {
    int64_t axis;
    int64_t num_outputs; /* 0: absent */
    int has_split_attr;  /* opset < 13: `split` read from the node when needed */
} ot_split_attrs;
typedef struct { /* opset < 10: starts/ends/axes are attributes */
    int n;            /* len(starts) == len(ends) */
    int n_axes;       /* -1: absent */
    int64_t starts[OT_MAX_RANK], ends[OT_MAX_RANK], axes[OT_MAX_RANK];
} ot_slice_attrs;
typedef struct {
    int mode;  /* ot_k_pad_mode */
    int n_pads; /* opset < 11: the `pads` attribute */
    int64_t pads[2 * OT_MAX_RANK];
    float value; /* opset < 11 */
} ot_pad_attrs;
typedef struct { int kind; } ot_constant_attrs;
typedef struct { int64_t upper; } ot_trilu_attrs;
typedef struct { int64_t stash_type; } ot_range_attrs; /* float16/bfloat16 compute type (opset 27) */
/* The backward ops carry the forward's attributes and its input's shape. */
typedef struct {
    ot_slice_attrs s; /* s.n = -1: starts/ends/axes/steps are inputs 1..4 */
    int rank;
    int64_t shape[OT_MAX_RANK];
} ot_slice_grad_attrs;
typedef struct {
    ot_pad_attrs p; /* p.n_pads = -1: pads/axes are inputs 1 and 3 */
    int rank;
    int64_t shape[OT_MAX_RANK];
} ot_pad_grad_attrs;

/* ---- helpers (shape.c) ---------------------------------------------------- */
/* Input i holds fixed-size elements (these ops move bytes of any such dtype). */
ot_status ot_shape_check_movable(const ot_kctx *c, int i);
/* Values of the 0-D/1-D int32/int64 input i into out (at most cap); asks the
   compiler for the value first.  `what` names the input in messages. */
ot_status ot_shape_read_ints(ot_kctx *c, int i, const char *what, int64_t *out, int cap, int *count);
/* Element count of the dims as an int64 (dims are already validated). */
int64_t ot_shape_count(int rank, const int64_t *dims);
/* Checks that the output dims are valid (non-negative, within limits) and sets out[0]. */
ot_status ot_shape_set_out(ot_kctx *c, int i, ot_dtype dtype, int rank, const int64_t *dims);

/* Resolved slice of an input of dims (r, dims): from the opset < 10
   attributes of `a` (from_attrs) or from inputs 1..4 of c (shape_copy.c). */
ot_status ot_slice_resolve(ot_kctx *c, const ot_slice_attrs *a, bool from_attrs, int r, const int64_t *dims,
                           int64_t *start, int64_t *step, int64_t *count);
/* Resolved pads (begin/end per axis, negative crops) of an input of dims (r,
   dims): from the opset < 11 attribute of `a` (from_attrs) or from inputs 1
   (pads) and 3 (axes) of c (shape_pad.c). */
ot_status ot_pad_resolve(ot_kctx *c, const ot_pad_attrs *a, bool from_attrs, int r, const int64_t *dims,
                         int64_t *begin, int64_t *end);

/* ---- row functions of the other files ------------------------------------ */
#define OT_SHAPE_ROW_FUNCS(op)                  \
    ot_status ot_##op##_infer(ot_kctx *c);      \
    ot_status ot_##op##_cpu(ot_kctx *c);

/* shape_copy.c */
ot_status ot_concat_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_split_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_slice_parse(const ot_node *n, int64_t opset, void *attrs);
OT_SHAPE_ROW_FUNCS(concat)
OT_SHAPE_ROW_FUNCS(split)
OT_SHAPE_ROW_FUNCS(slice)
OT_SHAPE_ROW_FUNCS(expand)
OT_SHAPE_ROW_FUNCS(tile)

/* shape_pad.c */
ot_status ot_pad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_trilu_parse(const ot_node *n, int64_t opset, void *attrs);
OT_SHAPE_ROW_FUNCS(pad)
OT_SHAPE_ROW_FUNCS(trilu)

/* shape_create.c */
ot_status ot_constant_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_constant_of_shape_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_range_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_onehot_parse(const ot_node *n, int64_t opset, void *attrs);
OT_SHAPE_ROW_FUNCS(constant)
OT_SHAPE_ROW_FUNCS(constant_of_shape)
OT_SHAPE_ROW_FUNCS(range)
OT_SHAPE_ROW_FUNCS(onehot)

/* shape_grad_ops.c: the ai.onnxtrain backward ops SliceGrad, PadGrad, SplitGrad
   (ConcatGrad reuses Split's functions with its `split` attribute; SplitGrad
   parses into ot_axis_attrs and reads `split` from the node). */
ot_status ot_slice_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_pad_grad_parse(const ot_node *n, int64_t opset, void *attrs);
ot_status ot_split_grad_parse(const ot_node *n, int64_t opset, void *attrs);
OT_SHAPE_ROW_FUNCS(slice_grad)
OT_SHAPE_ROW_FUNCS(pad_grad)
OT_SHAPE_ROW_FUNCS(split_grad)

/* Gradient rules (shape_grad.c). */
struct ot_grad_ctx;
ot_status ot_reshape_like_grad(struct ot_grad_ctx *g);
ot_status ot_transpose_grad(struct ot_grad_ctx *g);
ot_status ot_concat_grad(struct ot_grad_ctx *g);
ot_status ot_split_grad(struct ot_grad_ctx *g);
ot_status ot_slice_grad(struct ot_grad_ctx *g);
ot_status ot_expand_grad(struct ot_grad_ctx *g);
ot_status ot_tile_grad(struct ot_grad_ctx *g);
ot_status ot_pad_grad(struct ot_grad_ctx *g);
ot_status ot_trilu_grad(struct ot_grad_ctx *g);

#endif
