/* Op family: signal — DFT (opsets 17, 20), STFT (17), HannWindow,
 * HammingWindow, BlackmanWindow (17), MelWeightMatrix (17), and the
 * ai.onnxtrain gradient ops DFTGrad and STFTGrad (their gradient rules:
 * ops/signal_grad.c).  Numeric loops and the FFT: kernels/cpu/signal.c.
 *
 * Every value an output shape depends on (dft_length, DFT's axis input,
 * frame_step, frame_length, window sizes, mel bin counts) is asked for with
 * ot_need_value, so a program is specialised on it; those inputs are listed
 * in the rows' no_grad_inputs.  Opset forms of DFT: 17 has an `axis`
 * attribute (default 1), 20 an `axis` input (default -2); an axis attribute
 * at 20 or an axis input before it is an error. */
#include <math.h>
#include <string.h>

#include "../kernels/cpu/signal.h"
#include "grad.h"
#include "op.h"
#include "src/runtime/workspace.h"

/* Gradient rules (ops/signal_grad.c). */
ot_status ot_dft_grad_rule(ot_grad_ctx *g);
ot_status ot_stft_grad_rule(ot_grad_ctx *g);

static const ot_dtype float_types[] = {OT_FLOAT, OT_DOUBLE, OT_FLOAT16, OT_BFLOAT16, OT_UNDEFINED};

static ot_status flag_attr(const ot_node *n, const char *name, int64_t dflt, bool *out) {
    int64_t v;
    OT_TRY(ot_attr_get_int(n, name, dflt, &v));
    if (v != 0 && v != 1) return ot_node_error(n, OT_ERR_INVALID_ARG, "attribute %s = %lld must be 0 or 1", name, (long long)v);
    *out = v != 0;
    return OT_OK;
}

/* The value of integer input i: a scalar (or a one-element 1-D tensor). */
static ot_status scalar_input(ot_kctx *c, int i, const char *what, int64_t *v) {
    OT_TRY(ot_need_value(c, i));
    const ot_tensor *t = c->in[i];
    if (t->dtype != OT_INT32 && t->dtype != OT_INT64)
        return ot_op_error(c, OT_ERR_TYPE, "%s (input %d) must be int32 or int64, got %s", what, i, ot_dtype_name(t->dtype));
    if (t->rank > 1 || ot_tensor_numel(t) != 1) {
        char s[96];
        return ot_op_error(c, OT_ERR_SHAPE, "%s (input %d) must be a scalar, got shape %s", what, i,
                           ot_shape_str(t->rank, t->dims, s, sizeof s));
    }
    *v = ot_load_i64(t->dtype, t->data, 0);
    return OT_OK;
}

/* ---- DFT ------------------------------------------------------------------------------ */

typedef struct dft_attrs {
    int64_t axis; /* attribute (opset 17) or the default when the input is absent */
    bool inverse, onesided;
} dft_attrs;

static ot_status dft_parse(const ot_node *n, int64_t opset, void *attrs) {
    dft_attrs *a = attrs;
    OT_TRY(flag_attr(n, "inverse", 0, &a->inverse));
    OT_TRY(flag_attr(n, "onesided", 0, &a->onesided));
    if (opset >= 20 && ot_node_attr(n, "axis"))
        return ot_node_error(n, OT_ERR_INVALID_ARG, "from opset 20 the DFT axis is input 2, not an attribute");
    return ot_attr_get_int(n, "axis", opset >= 20 ? -2 : 1, &a->axis);
}

/* Kernel arguments of a DFT on an input of shape dims (the forward's x, also
   for DFTGrad): axis from input axis_in when present, dft_length from input 1. */
static ot_status dft_geometry(ot_kctx *c, ot_dtype dt, int rank, const int64_t *dims, const dft_attrs *at, int axis_in,
                              ot_dft_args *a, int *axis_out) {
    char s[160];
    if (rank < 2 || (dims[rank - 1] != 1 && dims[rank - 1] != 2))
        return ot_op_error(c, OT_ERR_SHAPE, "the input must be [..., signal dims, 1 (real) or 2 (complex)], got %s",
                           ot_shape_str(rank, dims, s, sizeof s));
    int64_t axis = at->axis;
    if (axis_in >= 0 && ot_in(c, axis_in)) OT_TRY(scalar_input(c, axis_in, "axis", &axis));
    if (axis < -rank || axis > rank - 2 || axis == -1)
        return ot_op_error(c, OT_ERR_INVALID_ARG,
                           "axis %lld is outside [-%d, -2] and [0, %d] for an input of rank %d (the last dim holds "
                           "the real and imaginary parts)",
                           (long long)axis, rank, rank - 2, rank);
    int ax = (int)(axis < 0 ? axis + rank : axis);
    int64_t m = dims[ax], n;
    bool irfft = at->inverse && at->onesided;
    if (ot_in(c, 1)) {
        OT_TRY(scalar_input(c, 1, "dft_length", &n));
        if (n < 1) return ot_op_error(c, OT_ERR_INVALID_ARG, "dft_length must be positive, got %lld", (long long)n);
    } else {
        n = irfft ? 2 * (m - 1) : m;
        if (n < 1)
            return ot_op_error(c, OT_ERR_INVALID_ARG,
                               "the axis %d dimension %lld gives a default dft_length of %lld (%s): pass dft_length", ax,
                               (long long)m, (long long)n, irfft ? "2 * (dim - 1) for an inverse one-sided DFT" : "dim");
    }
    if (n > ((int64_t)1 << 31))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "dft_length %lld is larger than 2^31", (long long)n);
    ot_dft_forward_args(dt, rank, dims, ax, n, at->inverse, at->onesided, a);
    *axis_out = ax;
    return OT_OK;
}

/* dims with the output side's axis length and last dim. */
static void dft_out_dims(int rank, const int64_t *dims, int axis, const ot_dft_args *a, int64_t *out) {
    memcpy(out, dims, sizeof(int64_t) * (size_t)rank);
    out[axis] = a->len_out;
    out[rank - 1] = a->c_out;
}

static ot_status dft_check_inputs(ot_kctx *c) {
    OT_TRY(ot_check_dtype(c, 0, float_types));
    if (c->opset < 20 && ot_in(c, 2))
        return ot_op_error(c, OT_ERR_INVALID_ARG, "DFT-17 has 2 inputs; the axis input exists from opset 20");
    return OT_OK;
}

static ot_status dft_infer(ot_kctx *c) {
    OT_TRY(dft_check_inputs(c));
    const ot_tensor *x = c->in[0];
    ot_dft_args a;
    int axis;
    OT_TRY(dft_geometry(c, x->dtype, x->rank, x->dims, c->attrs, 2, &a, &axis));
    int64_t dims[OT_MAX_RANK];
    dft_out_dims(x->rank, x->dims, axis, &a, dims);
    ot_set_out(c, 0, x->dtype, x->rank, dims);
    ot_workspace_request(ot_dft_scratch_bytes(&a));
    return OT_OK;
}

static ot_status dft_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0];
    ot_dft_args a;
    int axis;
    OT_TRY(dft_geometry(c, x->dtype, x->rank, x->dims, c->attrs, 2, &a, &axis));
    a.x = x->data;
    a.y = c->out[0]->data;
    ot_status s = ot_cpu_dft(&a);
    return s ? ot_error_context(s, "node '%s' (DFT)", c->name) : OT_OK;
}

/* ---- DFTGrad ---------------------------------------------------------------------------
 * Inputs: dy (the forward's output shape), dft_length? and axis? (the
 * forward's own inputs 1 and 2).  Attributes: shape (the forward input's
 * dims), axis (the forward's attribute, or its opset's default), inverse,
 * onesided.  Output: dx (shape), the DFT's adjoint applied to dy (a DFT of
 * the opposite sign; see ot_dft_adjoint_args). */

typedef struct dft_grad_attrs {
    dft_attrs fwd;
    int rank;
    int64_t shape[OT_MAX_RANK];
} dft_grad_attrs;

static ot_status dft_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    dft_grad_attrs *a = attrs;
    const int64_t *shape;
    int rank;
    OT_TRY(flag_attr(n, "inverse", 0, &a->fwd.inverse));
    OT_TRY(flag_attr(n, "onesided", 0, &a->fwd.onesided));
    OT_TRY(ot_attr_get_int(n, "axis", -2, &a->fwd.axis));
    OT_TRY(ot_attr_get_ints(n, "shape", &shape, &rank));
    if (rank < 2 || rank > OT_MAX_RANK)
        return ot_node_error(n, OT_ERR_PARSE, "attribute shape must hold the forward input's 2..%d dims", OT_MAX_RANK);
    a->rank = rank;
    memcpy(a->shape, shape, sizeof(int64_t) * (size_t)rank);
    return OT_OK;
}

static ot_status dft_grad_geometry(ot_kctx *c, ot_dft_args *adj) {
    const dft_grad_attrs *at = c->attrs;
    const ot_tensor *dy = c->in[0];
    ot_dft_args fwd;
    int axis;
    OT_TRY(ot_check_dtype(c, 0, float_types));
    OT_TRY(dft_geometry(c, dy->dtype, at->rank, at->shape, &at->fwd, 2, &fwd, &axis));
    int64_t want[OT_MAX_RANK];
    dft_out_dims(at->rank, at->shape, axis, &fwd, want);
    OT_TRY(ot_check_dy(c, at->rank, want));
    ot_dft_adjoint_args(&fwd, adj);
    return OT_OK;
}

static ot_status dft_grad_infer(ot_kctx *c) {
    const dft_grad_attrs *at = c->attrs;
    ot_dft_args a;
    OT_TRY(dft_grad_geometry(c, &a));
    ot_set_out(c, 0, c->in[0]->dtype, at->rank, at->shape);
    ot_workspace_request(ot_dft_scratch_bytes(&a));
    return OT_OK;
}

static ot_status dft_grad_cpu(ot_kctx *c) {
    ot_dft_args a;
    OT_TRY(dft_grad_geometry(c, &a));
    a.x = c->in[0]->data;
    a.y = c->out[0]->data;
    ot_status s = ot_cpu_dft(&a);
    return s ? ot_error_context(s, "node '%s' (DFTGrad)", c->name) : OT_OK;
}

/* ---- STFT ----------------------------------------------------------------------------- */

typedef struct stft_attrs {
    bool onesided;
} stft_attrs;

static ot_status stft_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return flag_attr(n, "onesided", 1, &((stft_attrs *)attrs)->onesided);
}

/* Frames of a signal of shape dims (batch, length, 1 or 2) for inputs
   frame_step (1), window? (2), frame_length? (3) of the node. */
static ot_status stft_geometry(ot_kctx *c, ot_dtype dt, int rank, const int64_t *dims, bool onesided, ot_stft_args *a) {
    char s[160];
    if (rank != 3 || (dims[2] != 1 && dims[2] != 2))
        return ot_op_error(c, OT_ERR_SHAPE, "the signal must be [batch, length, 1 (real) or 2 (complex)], got %s",
                           ot_shape_str(rank, dims, s, sizeof s));
    const ot_tensor *w = ot_in(c, 2);
    if (w && w->dtype != dt)
        return ot_op_error(c, OT_ERR_TYPE, "the window is %s but the signal is %s", ot_dtype_name(w->dtype), ot_dtype_name(dt));
    if (w && w->rank != 1)
        return ot_op_error(c, OT_ERR_SHAPE, "the window must be 1-D, got %s", ot_shape_str(w->rank, w->dims, s, sizeof s));
    int64_t step, n = w ? w->dims[0] : dims[1];
    OT_TRY(scalar_input(c, 1, "frame_step", &step));
    if (step < 1) return ot_op_error(c, OT_ERR_INVALID_ARG, "frame_step must be positive, got %lld", (long long)step);
    if (ot_in(c, 3)) {
        int64_t len;
        OT_TRY(scalar_input(c, 3, "frame_length", &len));
        if (w && len != n)
            return ot_op_error(c, OT_ERR_INVALID_ARG, "frame_length %lld differs from the window's length %lld",
                               (long long)len, (long long)n);
        n = len;
    }
    if (n < 1) return ot_op_error(c, OT_ERR_INVALID_ARG, "the frame length must be positive, got %lld", (long long)n);
    if (n > ((int64_t)1 << 31)) return ot_op_error(c, OT_ERR_UNSUPPORTED, "frame length %lld is larger than 2^31", (long long)n);
    if (dims[1] < n)
        return ot_op_error(c, OT_ERR_SHAPE, "the signal's %lld samples are fewer than one frame of %lld", (long long)dims[1],
                           (long long)n);
    memset(a, 0, sizeof *a);
    a->dtype = dt;
    a->batch = dims[0];
    a->length = dims[1];
    a->c = (int)dims[2];
    a->step = step;
    a->n = n;
    a->frames = 1 + (dims[1] - n) / step;
    a->bins = onesided ? n / 2 + 1 : n;
    return OT_OK;
}

static ot_status stft_infer(ot_kctx *c) {
    OT_TRY(ot_check_dtype(c, 0, float_types));
    const ot_tensor *x = c->in[0];
    ot_stft_args a;
    OT_TRY(stft_geometry(c, x->dtype, x->rank, x->dims, ((const stft_attrs *)c->attrs)->onesided, &a));
    int64_t dims[4] = {a.batch, a.frames, a.bins, 2};
    ot_set_out(c, 0, x->dtype, 4, dims);
    ot_workspace_request(ot_stft_scratch_bytes(&a));
    return OT_OK;
}

static ot_status stft_cpu(ot_kctx *c) {
    const ot_tensor *x = c->in[0], *w = ot_in(c, 2);
    ot_stft_args a;
    OT_TRY(stft_geometry(c, x->dtype, x->rank, x->dims, ((const stft_attrs *)c->attrs)->onesided, &a));
    a.x = x->data;
    a.window = w ? w->data : NULL;
    a.y = c->out[0]->data;
    ot_status s = ot_cpu_stft(&a);
    return s ? ot_error_context(s, "node '%s' (STFT)", c->name) : OT_OK;
}

/* ---- STFTGrad --------------------------------------------------------------------------
 * Inputs: dy (batch, frames, bins, 2), then the forward's frame_step,
 * window?, frame_length?, and its signal? (only for the window's gradient).
 * Attributes: shape (the signal's dims), onesided.  Outputs: dsignal (shape),
 * dwindow? (n; needs the window and the signal inputs). */

typedef struct stft_grad_attrs {
    bool onesided;
    int64_t shape[3];
} stft_grad_attrs;

static ot_status stft_grad_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    stft_grad_attrs *a = attrs;
    const int64_t *shape;
    int rank;
    OT_TRY(flag_attr(n, "onesided", 1, &a->onesided));
    OT_TRY(ot_attr_get_ints(n, "shape", &shape, &rank));
    if (rank != 3) return ot_node_error(n, OT_ERR_PARSE, "attribute shape must hold the signal's 3 dims");
    memcpy(a->shape, shape, sizeof a->shape);
    return OT_OK;
}

static ot_status stft_grad_geometry(ot_kctx *c, ot_stft_grad_args *g) {
    const stft_grad_attrs *at = c->attrs;
    const ot_tensor *dy = c->in[0], *x = ot_in(c, 4);
    ot_stft_args a;
    OT_TRY(ot_check_dtype(c, 0, float_types));
    OT_TRY(stft_geometry(c, dy->dtype, 3, at->shape, at->onesided, &a));
    int64_t want[4] = {a.batch, a.frames, a.bins, 2};
    OT_TRY(ot_check_dy(c, 4, want));
    if (ot_out(c, 1) && (!ot_in(c, 2) || !x))
        return ot_op_error(c, OT_ERR_INVALID_ARG, "the window's gradient needs the window (input 2) and the signal (input 4)");
    if (x && (x->dtype != dy->dtype || !ot_shape_equal(x->rank, x->dims, 3, at->shape)))
        return ot_op_error(c, OT_ERR_SHAPE, "the signal (input 4) does not match attribute shape and dy's type");
    memset(g, 0, sizeof *g);
    g->dtype = a.dtype;
    g->batch = a.batch;
    g->length = a.length;
    g->frames = a.frames;
    g->step = a.step;
    g->n = a.n;
    g->bins = a.bins;
    g->c = a.c;
    return OT_OK;
}

static ot_status stft_grad_infer(ot_kctx *c) {
    const stft_grad_attrs *at = c->attrs;
    ot_stft_grad_args g;
    OT_TRY(stft_grad_geometry(c, &g));
    ot_set_out(c, 0, g.dtype, 3, at->shape);
    ot_set_out(c, 1, g.dtype, 1, &g.n);
    ot_workspace_request(ot_stft_grad_scratch_bytes(&g));
    return OT_OK;
}

static ot_status stft_grad_cpu(ot_kctx *c) {
    ot_stft_grad_args g;
    OT_TRY(stft_grad_geometry(c, &g));
    const ot_tensor *w = ot_in(c, 2), *x = ot_in(c, 4);
    ot_tensor *dw = ot_out(c, 1);
    g.dy = c->in[0]->data;
    g.window = w ? w->data : NULL;
    g.x = x ? x->data : NULL;
    g.dx = c->out[0] ? c->out[0]->data : NULL;
    g.dwindow = dw ? dw->data : NULL;
    ot_status s = ot_cpu_stft_grad(&g);
    return s ? ot_error_context(s, "node '%s' (STFTGrad)", c->name) : OT_OK;
}

/* ---- window generators ---------------------------------------------------------------- */

typedef struct window_attrs {
    bool periodic;
    ot_dtype out;
} window_attrs;

/* output_datatype: a TensorProto.DataType number among the numeric types. */
static ot_status out_dtype_attr(const ot_node *n, ot_dtype *out) {
    int64_t v;
    OT_TRY(ot_attr_get_int(n, "output_datatype", OT_FLOAT, &v));
    static const ot_dtype ok[] = {OT_UINT8, OT_UINT16, OT_UINT32, OT_UINT64, OT_INT8,  OT_INT16,
                                  OT_INT32, OT_INT64,  OT_FLOAT16, OT_FLOAT, OT_DOUBLE, OT_BFLOAT16};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (v == (int64_t)ok[i]) {
            *out = ok[i];
            return OT_OK;
        }
    return ot_node_error(n, OT_ERR_UNSUPPORTED,
                         "output_datatype %lld is not one of the integer or floating-point TensorProto types", (long long)v);
}

static ot_status window_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    window_attrs *a = attrs;
    OT_TRY(flag_attr(n, "periodic", 1, &a->periodic));
    return out_dtype_attr(n, &a->out);
}

static ot_status window_infer(ot_kctx *c) {
    int64_t size;
    OT_TRY(scalar_input(c, 0, "size", &size));
    if (size < 0) return ot_op_error(c, OT_ERR_INVALID_ARG, "the window size must not be negative, got %lld", (long long)size);
    ot_set_out(c, 0, ((const window_attrs *)c->attrs)->out, 1, &size);
    return OT_OK;
}

static ot_status window_run(ot_kctx *c, ot_window_kind kind) {
    const window_attrs *a = c->attrs;
    ot_cpu_window(kind, a->periodic, c->out[0]->dims[0], a->out, c->out[0]->data);
    return OT_OK;
}

static ot_status hann_cpu(ot_kctx *c) { return window_run(c, OT_WINDOW_HANN); }
static ot_status hamming_cpu(ot_kctx *c) { return window_run(c, OT_WINDOW_HAMMING); }
static ot_status blackman_cpu(ot_kctx *c) { return window_run(c, OT_WINDOW_BLACKMAN); }

/* ---- MelWeightMatrix ------------------------------------------------------------------ */

typedef struct mel_attrs {
    ot_dtype out;
} mel_attrs;

static ot_status mel_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    return out_dtype_attr(n, &((mel_attrs *)attrs)->out);
}

static ot_status mel_infer(ot_kctx *c) {
    int64_t mel, dft;
    OT_TRY(scalar_input(c, 0, "num_mel_bins", &mel));
    OT_TRY(scalar_input(c, 1, "dft_length", &dft));
    if (mel < 0) return ot_op_error(c, OT_ERR_INVALID_ARG, "num_mel_bins must not be negative, got %lld", (long long)mel);
    if (dft < 1) return ot_op_error(c, OT_ERR_INVALID_ARG, "dft_length must be positive, got %lld", (long long)dft);
    for (int i = 3; i < 5; i++) {
        const ot_tensor *t = c->in[i];
        OT_TRY(ot_check_dtype(c, i, float_types));
        if (t->rank > 1 || ot_tensor_numel(t) != 1)
            return ot_op_error(c, OT_ERR_SHAPE, "%s must be a scalar", i == 3 ? "lower_edge_hertz" : "upper_edge_hertz");
    }
    const ot_tensor *sr = c->in[2];
    if ((sr->dtype != OT_INT32 && sr->dtype != OT_INT64) || sr->rank > 1 || ot_tensor_numel(sr) != 1)
        return ot_op_error(c, OT_ERR_TYPE, "sample_rate must be an int32 or int64 scalar");
    int64_t dims[2] = {dft / 2 + 1, mel};
    ot_set_out(c, 0, ((const mel_attrs *)c->attrs)->out, 2, dims);
    return OT_OK;
}

/* The edges' mel values in the edges' own precision, as the reference
   computes them (float32 for float32 inputs; float16/bfloat16 via float32). */
static ot_status mel_cpu(ot_kctx *c) {
    const ot_tensor *lo = c->in[3], *hi = c->in[4];
    ot_mel_args a = {.num_mel_bins = ot_load_i64(c->in[0]->dtype, c->in[0]->data, 0),
                     .dft_length = ot_load_i64(c->in[1]->dtype, c->in[1]->data, 0),
                     .sample_rate = ot_load_i64(c->in[2]->dtype, c->in[2]->data, 0),
                     .dtype = ((const mel_attrs *)c->attrs)->out,
                     .y = c->out[0]->data};
    if (a.sample_rate < 1)
        return ot_op_error(c, OT_ERR_INVALID_ARG, "sample_rate must be positive, got %lld", (long long)a.sample_rate);
    double l = ot_load_f64(lo->dtype, lo->data, 0), h = ot_load_f64(hi->dtype, hi->data, 0);
    if (!isfinite(l) || !isfinite(h) || l <= -700 || h <= -700)
        return ot_op_error(c, OT_ERR_INVALID_ARG, "the edge frequencies %g and %g Hz must be finite and above -700", l, h);
    if (lo->dtype == OT_DOUBLE && hi->dtype == OT_DOUBLE) {
        a.low_mel = 2595 * log10(1 + l / 700);
        a.mel_step = (2595 * log10(1 + h / 700) - a.low_mel) / (double)(a.num_mel_bins + 2);
    } else {
        float lm = 2595.0f * log10f(1.0f + (float)l / 700.0f), hm = 2595.0f * log10f(1.0f + (float)h / 700.0f);
        a.low_mel = lm;
        a.mel_step = (float)((hm - lm) / (float)(a.num_mel_bins + 2));
    }
    ot_status s = ot_cpu_mel_weight_matrix(&a);
    return s ? ot_error_context(s, "node '%s' (MelWeightMatrix)", c->name) : OT_OK;
}

/* ---- table ---------------------------------------------------------------------------- */

#define FLOATS "float32, float64, float16, bfloat16"
#define NUMERIC_OUT "output_datatype: any integer or float type"

const ot_op_def ot_ops_signal[] = {
    /* Inputs: input, dft_length?, axis? (opset 20).  The axis and dft_length
       decide the output shape. */
    {.name = "DFT", .domain = "", .min_opset = 17, .max_opset = 23, .min_inputs = 1, .max_inputs = 3,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "axis,inverse,onesided", .attrs_size = sizeof(dft_attrs),
     .parse = dft_parse, .infer = dft_infer, .cpu = dft_cpu, .traits = 0, .dtypes = FLOATS "; dft_length int32, int64",
     .grad = ot_dft_grad_rule, .no_grad_inputs = 0x6},
    /* Inputs: signal, frame_step, window?, frame_length?.  The window is a
       fixed buffer (like RotaryEmbedding's tables): not trained unless
       listed in --trainable; its gradient is computed when asked for. */
    {.name = "STFT", .domain = "", .min_opset = 17, .max_opset = 23, .min_inputs = 2, .max_inputs = 4,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "onesided", .attrs_size = sizeof(stft_attrs),
     .parse = stft_parse, .infer = stft_infer, .cpu = stft_cpu, .traits = 0,
     .dtypes = FLOATS "; frame_step, frame_length int32, int64", .grad = ot_stft_grad_rule, .no_grad_inputs = 0xE},
    {.name = "HannWindow", .domain = "", .min_opset = 17, .max_opset = 23, .min_inputs = 1, .max_inputs = 1,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "output_datatype,periodic", .attrs_size = sizeof(window_attrs),
     .parse = window_parse, .infer = window_infer, .cpu = hann_cpu, .traits = 0, .dtypes = NUMERIC_OUT,
     .no_grad_inputs = 0x1},
    {.name = "HammingWindow", .domain = "", .min_opset = 17, .max_opset = 23, .min_inputs = 1, .max_inputs = 1,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "output_datatype,periodic", .attrs_size = sizeof(window_attrs),
     .parse = window_parse, .infer = window_infer, .cpu = hamming_cpu, .traits = 0, .dtypes = NUMERIC_OUT,
     .no_grad_inputs = 0x1},
    {.name = "BlackmanWindow", .domain = "", .min_opset = 17, .max_opset = 23, .min_inputs = 1, .max_inputs = 1,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "output_datatype,periodic", .attrs_size = sizeof(window_attrs),
     .parse = window_parse, .infer = window_infer, .cpu = blackman_cpu, .traits = 0, .dtypes = NUMERIC_OUT,
     .no_grad_inputs = 0x1},
    /* Inputs: num_mel_bins, dft_length, sample_rate, lower_edge_hertz,
       upper_edge_hertz: all constants of the filterbank. */
    {.name = "MelWeightMatrix", .domain = "", .min_opset = 17, .max_opset = 23, .min_inputs = 5, .max_inputs = 5,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "output_datatype", .attrs_size = sizeof(mel_attrs),
     .parse = mel_parse, .infer = mel_infer, .cpu = mel_cpu, .traits = 0,
     .dtypes = NUMERIC_OUT "; edges " FLOATS, .no_grad_inputs = 0x1F},
    {.name = "DFTGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 1, .max_inputs = 3,
     .min_outputs = 1, .max_outputs = 1, .attr_names = "axis,inverse,onesided,shape",
     .attrs_size = sizeof(dft_grad_attrs), .parse = dft_grad_parse, .infer = dft_grad_infer, .cpu = dft_grad_cpu,
     .traits = 0, .dtypes = FLOATS},
    {.name = "STFTGrad", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 2, .max_inputs = 5,
     .min_outputs = 1, .max_outputs = 2, .attr_names = "onesided,shape", .attrs_size = sizeof(stft_grad_attrs),
     .parse = stft_grad_parse, .infer = stft_grad_infer, .cpu = stft_grad_cpu, .traits = 0, .dtypes = FLOATS},
};
const int ot_ops_signal_count = sizeof(ot_ops_signal) / sizeof(ot_ops_signal[0]);
