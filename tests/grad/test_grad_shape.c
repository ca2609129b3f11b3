/* Gradient checks for the shape family: Reshape/Flatten/Squeeze/Unsqueeze,
 * Transpose, Concat, Split (opset 11 attribute, 13 input, 18 num_outputs),
 * Slice (opset 9 attributes, 10+ inputs: negative steps, axes, clamping,
 * empty slices), Expand, Tile (both view paths, zero repeats), Pad (every
 * mode, attribute and input forms, axes, negative pads, constant_value's
 * gradient) and Trilu.  Then the backward ops on cases the harness cannot
 * reach: SplitGrad with an output that has no gradient, and PadGrad's
 * mirrored sums on a large float32 tensor against a naive reference. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/cpu/shape.h"
#include "src/core/alloc.h"
#include "src/runtime/program.h"


#define C1(nm, op_, os, x, na, ...) {.name = nm, .op = op_, .opset = os, .n_in = 1, .n_out = 1, .in = {x}, \
                                     .n_attrs = na, .attrs = {__VA_ARGS__}}
#define C2(nm, op_, os, x, y, na, ...) {.name = nm, .op = op_, .opset = os, .n_in = 2, .n_out = 1, .in = {x, y}, \
                                        .n_attrs = na, .attrs = {__VA_ARGS__}}

static const gc_case cases[] = {
    /* Reshape and friends */
    C2("reshape_2x3_to_6", "Reshape", 0, D(2, 3), CI(6), 0, AI("", 0)),
    C2("reshape_2x3_to_3x2", "Reshape", 0, D(2, 3), CI(3, 2), 0, AI("", 0)),
    C1("flatten_axis2", "Flatten", 0, D(2, 3, 2), 1, AI("axis", 2)),
    C2("unsqueeze_axis1_opset13", "Unsqueeze", 13, D(2, 3), CI(1), 0, AI("", 0)),
    C1("squeeze_axis1_opset11", "Squeeze", 11, D(2, 1, 3), 1, AL("axes", 1)),

    /* Transpose */
    C1("transpose_default_reverse", "Transpose", 0, D(2, 3, 4), 0, AI("", 0)),
    C1("transpose_perm_201", "Transpose", 0, D(2, 3, 4), 1, AL("perm", 2, 0, 1)),
    C1("transpose_perm_0231", "Transpose", 0, D(2, 3, 2, 4), 1, AL("perm", 0, 2, 3, 1)),

    /* Concat */
    C2("concat_axis0", "Concat", 0, D(2, 3), D(1, 3), 1, AI("axis", 0)),
    {.name = "concat_three_axis_neg1", .op = "Concat", .n_in = 3, .n_out = 1, .in = {D(2, 1), D(2, 3), D(2, 2)},
     .n_attrs = 1, .attrs = {AI("axis", -1)}},
    {.name = "concat_middle_input_nodiff", .op = "Concat", .opset = 7, .n_in = 3, .n_out = 1,
     .in = {D(2, 2, 3), ND(2, 1, 3), D(2, 3, 3)}, .n_attrs = 1, .attrs = {AI("axis", 1)}},
    C1("concat_single_input", "Concat", 0, D(2, 3), 1, AI("axis", 1)),

    /* Split */
    {.name = "split_opset11_attr", .op = "Split", .opset = 11, .n_in = 1, .n_out = 3, .in = {D(6, 2)},
     .n_attrs = 2, .attrs = {AI("axis", 0), AL("split", 1, 2, 3)}},
    {.name = "split_opset2_equal", .op = "Split", .opset = 7, .n_in = 1, .n_out = 2, .in = {D(2, 4)},
     .n_attrs = 1, .attrs = {AI("axis", 1)}},
    {.name = "split_opset13_input", .op = "Split", .opset = 13, .n_in = 2, .n_out = 2, .in = {D(2, 5), CI(2, 3)},
     .n_attrs = 1, .attrs = {AI("axis", -1)}},
    {.name = "split_opset13_equal", .op = "Split", .opset = 13, .n_in = 1, .n_out = 3, .in = {D(3, 2, 3)},
     .n_attrs = 1, .attrs = {AI("axis", 2)}},
    {.name = "split_opset18_num_outputs_uneven", .op = "Split", .opset = 18, .n_in = 1, .n_out = 2, .in = {D(5, 2)},
     .n_attrs = 1, .attrs = {AI("num_outputs", 2)}},

    /* Slice */
    C1("slice_opset9_attrs_axes", "Slice", 9, D(4, 5), 3, AL("starts", 1, 0), AL("ends", 3, 4), AL("axes", 0, 1)),
    C1("slice_opset9_no_axes_negative_end", "Slice", 9, D(4, 5), 2, AL("starts", 1), AL("ends", -1)),
    C1("slice_opset1_clamped", "Slice", 7, D(3, 4), 3, AL("starts", -10, 2), AL("ends", 100, 100), AL("axes", 1, 0)),
    {.name = "slice_opset10_starts_ends", .op = "Slice", .opset = 10, .n_in = 3, .n_out = 1,
     .in = {D(4, 3), CI(1), CI(3)}},
    {.name = "slice_negative_step", .op = "Slice", .opset = 13, .n_in = 5, .n_out = 1,
     .in = {D(5, 4), CI(4), CI(0), CI(0), CI(-2)}},
    {.name = "slice_full_reverse", .op = "Slice", .opset = 13, .n_in = 5, .n_out = 1,
     .in = {D(3, 4), CI(-1), CI(INT64_MIN), CI(-1), CI(-1)}},
    {.name = "slice_clamp_step2_neg_axis", .op = "Slice", .opset = 13, .n_in = 5, .n_out = 1,
     .in = {D(2, 3, 7), CI(-100, 1), CI(100, 3), CI(-1, -2), CI(3, 1)}},
    {.name = "slice_3d_mixed_steps", .op = "Slice", .opset = 18, .n_in = 5, .n_out = 1,
     .in = {D(4, 3, 5), CI(3, 4, 0), CI(-5, 0, 2), CI(0, 2, 1), CI(-1, -3, 1)}},
    {.name = "slice_empty", .op = "Slice", .opset = 13, .n_in = 4, .n_out = 1,
     .in = {D(3, 4), CI(3), CI(1), CI(1)}},

    /* Expand */
    C2("expand_3x1_to_2x3x4", "Expand", 8, D(3, 1), CI(2, 3, 4), 0, AI("", 0)),
    C2("expand_scalar_like", "Expand", 13, D(1), CI(2, 3), 0, AI("", 0)),
    C2("expand_shape_of_lower_rank", "Expand", 13, D(2, 1, 3), CI(4, 1), 0, AI("", 0)),
    C2("expand_identity", "Expand", 13, D(2, 3), CI(2, 3), 0, AI("", 0)),

    /* Tile */
    C2("tile_2x3_reps_2_1", "Tile", 6, D(2, 3), CI(2, 1), 0, AI("", 0)),
    C2("tile_3d_reps_1_3_2", "Tile", 13, D(2, 3, 2), CI(1, 3, 2), 0, AI("", 0)),
    C2("tile_untiled_runs_merge", "Tile", 13, D(2, 2, 3, 2), CI(1, 1, 2, 1), 0, AI("", 0)),
    C2("tile_rank5_sequential", "Tile", 13, D(2, 1, 2, 1, 2), CI(2, 2, 2, 2, 2), 0, AI("", 0)),
    C2("tile_zero_repeats", "Tile", 13, D(2, 2), CI(0, 1), 0, AI("", 0)),
    C2("tile_all_ones", "Tile", 13, D(2, 2), CI(1, 1), 0, AI("", 0)),

    /* Pad: attribute form (opset < 11) */
    C1("pad_opset10_constant", "Pad", 10, D(2, 3), 2, AL("pads", 1, 0, 2, 1), AF("value", 0.5f)),
    C1("pad_opset10_reflect", "Pad", 10, D(3, 4), 2, AL("pads", 2, 3, 1, 2), AS("mode", "reflect")),
    C1("pad_opset2_edge", "Pad", 2, D(2, 3), 2, AL("pads", 0, 2, 3, 1), AS("mode", "edge")),
    /* input form */
    C2("pad_constant_negative_pads", "Pad", 11, D(3, 4), CI(-1, 1, 0, -1), 0, AI("", 0)),
    {.name = "pad_constant_value_grad", .op = "Pad", .opset = 13, .n_in = 3, .n_out = 1,
     .in = {D(2, 3), CI(1, 0, 1, 2), {GC_DIFF, 0, 0, {0}}}},
    {.name = "pad_constant_value_1d_crop", .op = "Pad", .opset = 18, .n_in = 3, .n_out = 1,
     .in = {D(3, 3), CI(-1, 2, 1, -1), D(1)}},
    C2("pad_reflect_multiple_periods", "Pad", 13, D(3, 2), CI(5, 4, 3, 6), 1, AS("mode", "reflect")),
    C2("pad_reflect_dim1", "Pad", 13, D(1, 3), CI(2, 1, 1, 0), 1, AS("mode", "reflect")),
    C2("pad_edge_with_crop", "Pad", 13, D(3, 4), CI(1, -1, 2, 0), 1, AS("mode", "edge")),
    C2("pad_wrap", "Pad", 19, D(3, 2), CI(2, 1, 4, 3), 1, AS("mode", "wrap")),
    C2("pad_wrap_with_crop", "Pad", 19, D(4, 3), CI(-1, 2, 1, -2), 1, AS("mode", "wrap")),
    {.name = "pad_axes_reflect", .op = "Pad", .opset = 18, .n_in = 4, .n_out = 1,
     .in = {D(2, 3, 4), CI(1, 2, 0, 1), {GC_ABSENT}, CI(2, -3)}, .n_attrs = 1, .attrs = {AS("mode", "reflect")}},
    {.name = "pad_axes_edge_4d", .op = "Pad", .opset = 19, .n_in = 4, .n_out = 1,
     .in = {D(1, 2, 3, 3), CI(1, 2, 2, 1), {GC_ABSENT}, CI(2, 3)}, .n_attrs = 1, .attrs = {AS("mode", "edge")}},

    /* float32 / float16 data (the half types accumulate mirrored sums in float32) */
    {.name = "pad_reflect_float32", .op = "Pad", .opset = 13, .n_in = 2, .n_out = 1,
     .in = {{GC_DIFF, OT_FLOAT, 2, {3, 4}}, CI(2, 1, 1, 3)}, .n_attrs = 1, .attrs = {AS("mode", "reflect")},
     .rtol = 1e-3, .atol = 1e-4, .h = 1.0 / 64},
    {.name = "pad_edge_float16", .op = "Pad", .opset = 13, .n_in = 2, .n_out = 1,
     .in = {{GC_DIFF, OT_FLOAT16, 2, {3, 4}}, CI(1, 2, 2, 1)}, .n_attrs = 1, .attrs = {AS("mode", "edge")},
     .rtol = 1e-2, .atol = 1e-2, .h = 1.0 / 16},
    {.name = "slice_negative_step_float16", .op = "Slice", .opset = 13, .n_in = 5, .n_out = 1,
     .in = {{GC_DIFF, OT_FLOAT16, 2, {5, 4}}, CI(4), CI(0), CI(0), CI(-2)}, .rtol = 1e-2, .atol = 1e-2, .h = 1.0 / 16},

    /* Trilu */
    C1("trilu_upper_default", "Trilu", 14, D(3, 4), 0, AI("", 0)),
    C2("trilu_lower_k_neg1", "Trilu", 14, D(2, 3, 3), CI0(-1), 1, AI("upper", 0)),
    C2("trilu_upper_k2", "Trilu", 14, D(4, 3), CI0(2), 1, AI("upper", 1)),
};

/* ---- SplitGrad with an absent dy: that part of dx is zero ------------------ */

static int check_split_grad_absent(void) {
    ot_graph *g;
    int fails = 0;
    if (ot_graph_new("split_grad", &g)) return 1;
    g->opsets = ot_calloc(2, sizeof *g->opsets);
    g->opsets[0].domain = ot_strdup("");
    g->opsets[0].version = 17;
    g->opsets[1].domain = ot_strdup("ai.onnxtrain");
    g->opsets[1].version = 1;
    g->n_opsets = 2;
    g->inputs = ot_calloc(2, sizeof(int));
    g->outputs = ot_calloc(1, sizeof(int));
    int in[3], out, node;
    ot_graph_value(g, "dy0", &in[0]);
    ot_graph_value(g, "dy2", &in[2]);
    in[1] = -1;
    ot_graph_value(g, "dx", &out);
    int64_t d0[2] = {2, 1}, d2[2] = {2, 2};
    ot_tensor *t0, *t2;
    ot_tensor_new(OT_FLOAT, 2, d0, &t0);
    ot_tensor_new(OT_FLOAT, 2, d2, &t2);
    for (int i = 0; i < 2; i++) ((float *)t0->data)[i] = (float)(i + 1);
    for (int i = 0; i < 4; i++) ((float *)t2->data)[i] = (float)(10 + i);
    for (int k = 0; k < 3; k += 2) {
        ot_value *v = &g->values[in[k]];
        v->role = OT_ROLE_INPUT;
        v->is_input = true;
        v->dtype = OT_FLOAT;
        v->rank = 2;
        memcpy(v->dims, k ? d2 : d0, sizeof d0);
        g->inputs[g->n_inputs++] = in[k];
    }
    g->outputs[g->n_outputs++] = out;
    ot_graph_add_node(g, "SplitGrad", "ai.onnxtrain", "sg", 3, in, 1, &out, &node);
    ot_attr *at;
    ot_node_add_attr(g, node, "axis", OT_ATTR_INT, &at);
    at->i = 1;
    ot_node_add_attr(g, node, "split", OT_ATTR_INTS, &at);
    at->n = 3;
    at->ints = ot_malloc(3 * sizeof(int64_t));
    at->ints[0] = 1, at->ints[1] = 3, at->ints[2] = 2;
    ot_tensor *inputs[2] = {t0, t2};
    ot_program *p = NULL;
    ot_compile_options opt = {0};
    ot_status s = ot_program_compile(g, inputs, &opt, &p);
    if (!s) s = ot_program_run(p, inputs, 0);
    if (s) {
        printf("split_grad_absent: %s: %s\n", ot_status_name(s), ot_last_error());
        fails = 1;
    } else {
        const ot_tensor *dx = &p->slots[out];
        /* rows: [dy0 | 0 0 0 | dy2] */
        const float want[12] = {1, 0, 0, 0, 10, 11, 2, 0, 0, 0, 12, 13};
        if (dx->rank != 2 || dx->dims[0] != 2 || dx->dims[1] != 6) fails = 1;
        for (int i = 0; i < 12 && !fails; i++)
            if (((const float *)dx->data)[i] != want[i]) {
                printf("split_grad_absent: dx[%d] = %g, want %g\n", i, ((const float *)dx->data)[i], want[i]);
                fails = 1;
            }
    }
    ot_program_free(p);
    ot_tensor_free(t0);
    ot_tensor_free(t2);
    ot_graph_free(g);
    printf("split_grad_absent: %s\n", fails ? "FAILED" : "ok");
    return fails;
}

/* ---- PadGrad's parallel float32 path against a naive scatter --------------- */

static int64_t naive_map(int64_t i, int64_t n, ot_k_pad_mode m) {
    if (i >= 0 && i < n) return i;
    if (m == OT_K_PAD_EDGE) return i < 0 ? 0 : n - 1;
    if (m == OT_K_PAD_WRAP) return ((i % n) + n) % n;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i; /* reflect, one mirror at a time */
    return i;
}

static int check_pad_grad_large(ot_k_pad_mode mode) {
    const int64_t xd[4] = {3, 40, 33, 35}, begin[4] = {1, 0, 3, -2}, end[4] = {2, 0, 4, 5};
    int64_t yd[4], ny = 1, nx = 1;
    for (int k = 0; k < 4; k++) {
        yd[k] = xd[k] + begin[k] + end[k];
        ny *= yd[k];
        nx *= xd[k];
    }
    float *dy = ot_malloc(sizeof(float) * (size_t)ny), *dx = ot_malloc(sizeof(float) * (size_t)nx);
    double *ref = ot_calloc((size_t)nx, sizeof(double));
    for (int64_t i = 0; i < ny; i++) dy[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (int64_t i = 0; i < ny; i++) {
        int64_t rest = i, off = 0, stride = 1, c[4];
        for (int k = 3; k >= 0; k--) {
            c[k] = rest % yd[k];
            rest /= yd[k];
        }
        for (int k = 3; k >= 0; k--) {
            int64_t crop_b = begin[k] < 0 ? -begin[k] : 0, crop_e = end[k] < 0 ? -end[k] : 0;
            int64_t kept = xd[k] - crop_b - crop_e;
            off += (crop_b + naive_map(c[k] - (begin[k] > 0 ? begin[k] : 0), kept, mode)) * stride;
            stride *= xd[k];
        }
        ref[off] += dy[i];
    }
    int fails = ot_k_pad_grad(dx, xd, dy, yd, begin, end, 4, mode, 0) != 0;
    for (int64_t i = 0; i < nx && !fails; i++)
        if (fabs(dx[i] - ref[i]) > 1e-4 * (1 + fabs(ref[i]))) {
            printf("pad_grad_large mode %d: dx[%lld] = %g, want %g\n", (int)mode, (long long)i, dx[i], ref[i]);
            fails = 1;
        }
    printf("pad_grad_large mode %d: %s\n", (int)mode, fails ? "FAILED" : "ok");
    ot_free(dy);
    ot_free(dx);
    ot_free(ref);
    return fails;
}

int main(void) {
    int rc = gc_run_all(cases, sizeof cases / sizeof cases[0]);
    rc |= check_split_grad_absent();
    rc |= check_pad_grad_large(OT_K_PAD_REFLECT);
    rc |= check_pad_grad_large(OT_K_PAD_EDGE);
    rc |= check_pad_grad_large(OT_K_PAD_WRAP);
    return rc;
}
