/* Gradient checks for the pool and norm families (float64 finite
 * differences, with a few loose float32 cases for the float kernels), then
 * direct checks of the gradient ops: MaxPool's routing of ties and NaNs
 * (which finite differences cannot see), and float32 against float64 on
 * shapes large enough to run the parallel loops. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gradcheck.h"
#include "src/core/alloc.h"
#include "src/core/dtype.h"

#define I(nm, v) {.name = nm, .type = OT_ATTR_INT, .i = v}
#define F(nm, v) {.name = nm, .type = OT_ATTR_FLOAT, .f = v}
#define S(nm, v) {.name = nm, .type = OT_ATTR_STRING, .s = v}
#define L(nm, arr) {.name = nm, .type = OT_ATTR_INTS, .ints = arr, .n = (int)(sizeof arr / sizeof arr[0])}
#define X4(a, b, c, d) {GC_DIFF, 0, 4, {a, b, c, d}}
#define X3(a, b, c) {GC_DIFF, 0, 3, {a, b, c}}
#define VEC(k, n) {k, 0, 1, {n}}
#define VAR(k, n) {k, 0, 1, {n}, .lo = 0.5, .hi = 1.5} /* variances: positive */
#define F32(k, r, ...) {k, OT_FLOAT, r, {__VA_ARGS__}}

static const int64_t k1[] = {3}, k2[] = {2, 2}, k3[] = {3, 3}, k222[] = {2, 2, 2}, k23[] = {2, 3};
static const int64_t s1[] = {1, 1}, s2[] = {2, 2}, s1d[] = {2}, s222[] = {2, 2, 2}, s21[] = {2, 1};
static const int64_t d2[] = {2, 2}, d12[] = {1, 2};
static const int64_t p1[] = {1, 1, 1, 1}, p1d[] = {1, 1}, p_asym[] = {1, 0, 0, 1}, p3d[] = {1, 0, 1, 0, 1, 1};

static const gc_case cases[] = {
    /* ---- MaxPool: dY to the first maximum ------------------------------------------ */
    {.name = "maxpool_2d_k2s2", .op = "MaxPool", .n_in = 1, .in = {X4(2, 3, 4, 4)}, .n_out = 1, .n_attrs = 2,
     .attrs = {L("kernel_shape", k2), L("strides", s2)}},
    {.name = "maxpool_2d_k3s1_pads_overlap", .op = "MaxPool", .n_in = 1, .in = {X4(1, 2, 5, 5)}, .n_out = 1,
     .n_attrs = 3, .attrs = {L("kernel_shape", k3), L("strides", s1), L("pads", p1)}},
    {.name = "maxpool_2d_ceil_mode", .op = "MaxPool", .n_in = 1, .in = {X4(1, 2, 5, 5)}, .n_out = 1, .n_attrs = 3,
     .attrs = {L("kernel_shape", k2), L("strides", s2), I("ceil_mode", 1)}},
    {.name = "maxpool_2d_ceil_pads_asym", .op = "MaxPool", .n_in = 1, .in = {X4(1, 2, 6, 5)}, .n_out = 1,
     .n_attrs = 4, .attrs = {L("kernel_shape", k3), L("strides", s2), L("pads", p_asym), I("ceil_mode", 1)}},
    {.name = "maxpool_2d_dilations", .op = "MaxPool", .opset = 12, .n_in = 1, .in = {X4(1, 2, 6, 7)}, .n_out = 1,
     .n_attrs = 3, .attrs = {L("kernel_shape", k2), L("dilations", d12), L("strides", s21)}},
    {.name = "maxpool_2d_dilation2_pads", .op = "MaxPool", .opset = 12, .n_in = 1, .in = {X4(1, 1, 6, 6)}, .n_out = 1,
     .n_attrs = 4, .attrs = {L("kernel_shape", k2), L("dilations", d2), L("pads", p1), I("ceil_mode", 1)}},
    {.name = "maxpool_2d_same_upper", .op = "MaxPool", .n_in = 1, .in = {X4(1, 2, 5, 5)}, .n_out = 1, .n_attrs = 3,
     .attrs = {L("kernel_shape", k3), L("strides", s2), S("auto_pad", "SAME_UPPER")}},
    {.name = "maxpool_2d_same_lower", .op = "MaxPool", .n_in = 1, .in = {X4(1, 2, 4, 6)}, .n_out = 1, .n_attrs = 3,
     .attrs = {L("kernel_shape", k23), L("strides", s2), S("auto_pad", "SAME_LOWER")}},
    {.name = "maxpool_2d_valid", .op = "MaxPool", .n_in = 1, .in = {X4(1, 2, 5, 6)}, .n_out = 1, .n_attrs = 3,
     .attrs = {L("kernel_shape", k2), L("strides", s2), S("auto_pad", "VALID")}},
    {.name = "maxpool_1d_pads", .op = "MaxPool", .n_in = 1, .in = {X3(2, 2, 7)}, .n_out = 1, .n_attrs = 3,
     .attrs = {L("kernel_shape", k1), L("strides", s1d), L("pads", p1d)}},
    {.name = "maxpool_3d", .op = "MaxPool", .n_in = 1, .in = {{GC_DIFF, 0, 5, {1, 2, 4, 4, 3}}}, .n_out = 1,
     .n_attrs = 3, .attrs = {L("kernel_shape", k222), L("strides", s222), L("pads", p3d)}},
    {.name = "maxpool_with_indices_col_major", .op = "MaxPool", .n_in = 1, .in = {X4(2, 2, 4, 4)}, .n_out = 2,
     .n_attrs = 3, .attrs = {L("kernel_shape", k2), L("strides", s2), I("storage_order", 1)}},
    {.name = "maxpool_f32", .op = "MaxPool", .n_in = 1, .in = {F32(GC_DIFF, 4, 2, 3, 4, 4)}, .n_out = 1,
     .n_attrs = 2, .attrs = {L("kernel_shape", k3), L("pads", p1)}, .h = 1e-3, .rtol = 1e-3, .atol = 2e-3},
    /* ---- AveragePool ------------------------------------------------------------------ */
    {.name = "avgpool_2d_k2s2", .op = "AveragePool", .n_in = 1, .in = {X4(2, 3, 4, 4)}, .n_out = 1, .n_attrs = 2,
     .attrs = {L("kernel_shape", k2), L("strides", s2)}},
    {.name = "avgpool_pads_exclude", .op = "AveragePool", .n_in = 1, .in = {X4(1, 2, 5, 5)}, .n_out = 1,
     .n_attrs = 2, .attrs = {L("kernel_shape", k3), L("pads", p1)}},
    {.name = "avgpool_pads_include", .op = "AveragePool", .n_in = 1, .in = {X4(1, 2, 5, 5)}, .n_out = 1,
     .n_attrs = 3, .attrs = {L("kernel_shape", k3), L("pads", p1), I("count_include_pad", 1)}},
    {.name = "avgpool_ceil_exclude", .op = "AveragePool", .n_in = 1, .in = {X4(1, 2, 6, 5)}, .n_out = 1,
     .n_attrs = 4, .attrs = {L("kernel_shape", k3), L("strides", s2), L("pads", p_asym), I("ceil_mode", 1)}},
    {.name = "avgpool_ceil_include", .op = "AveragePool", .n_in = 1, .in = {X4(1, 2, 6, 5)}, .n_out = 1,
     .n_attrs = 5,
     .attrs = {L("kernel_shape", k3), L("strides", s2), L("pads", p_asym), I("ceil_mode", 1),
               I("count_include_pad", 1)}},
    {.name = "avgpool_dilations_opset19", .op = "AveragePool", .opset = 19, .n_in = 1, .in = {X4(1, 2, 6, 7)},
     .n_out = 1, .n_attrs = 4,
     .attrs = {L("kernel_shape", k2), L("dilations", d12), L("pads", p1), I("count_include_pad", 1)}},
    {.name = "avgpool_same_lower", .op = "AveragePool", .n_in = 1, .in = {X4(1, 2, 5, 4)}, .n_out = 1, .n_attrs = 3,
     .attrs = {L("kernel_shape", k3), L("strides", s2), S("auto_pad", "SAME_LOWER")}},
    {.name = "avgpool_1d", .op = "AveragePool", .n_in = 1, .in = {X3(2, 2, 7)}, .n_out = 1, .n_attrs = 3,
     .attrs = {L("kernel_shape", k1), L("strides", s1d), L("pads", p1d)}},
    {.name = "avgpool_3d_include", .op = "AveragePool", .n_in = 1, .in = {{GC_DIFF, 0, 5, {1, 2, 4, 4, 3}}},
     .n_out = 1, .n_attrs = 4,
     .attrs = {L("kernel_shape", k222), L("strides", s222), L("pads", p3d), I("count_include_pad", 1)}},
    {.name = "avgpool_f32", .op = "AveragePool", .n_in = 1, .in = {F32(GC_DIFF, 4, 2, 3, 4, 4)}, .n_out = 1,
     .n_attrs = 2, .attrs = {L("kernel_shape", k3), L("pads", p1)}, .h = 1e-2, .rtol = 1e-3, .atol = 1e-3},
    /* ---- global pools ---------------------------------------------------------------- */
    {.name = "globalavg_2d", .op = "GlobalAveragePool", .n_in = 1, .in = {X4(2, 3, 4, 5)}, .n_out = 1},
    {.name = "globalavg_1d", .op = "GlobalAveragePool", .n_in = 1, .in = {X3(2, 3, 4)}, .n_out = 1},
    {.name = "globalavg_3d", .op = "GlobalAveragePool", .n_in = 1, .in = {{GC_DIFF, 0, 5, {1, 2, 2, 3, 2}}},
     .n_out = 1},
    {.name = "globalavg_rank2", .op = "GlobalAveragePool", .n_in = 1, .in = {{GC_DIFF, 0, 2, {2, 3}}}, .n_out = 1},
    {.name = "globalmax_2d", .op = "GlobalMaxPool", .n_in = 1, .in = {X4(2, 3, 4, 5)}, .n_out = 1},
    {.name = "globalmax_1d", .op = "GlobalMaxPool", .n_in = 1, .in = {X3(2, 3, 4)}, .n_out = 1},
    {.name = "globalmax_4d", .op = "GlobalMaxPool", .n_in = 1, .in = {{GC_DIFF, 0, 6, {1, 2, 2, 3, 2, 2}}},
     .n_out = 1},
    {.name = "globalmax_spatial_1", .op = "GlobalMaxPool", .n_in = 1, .in = {X4(2, 3, 1, 1)}, .n_out = 1},
    /* ---- BatchNormalization: training (batch statistics) ---------------------------- */
    {.name = "bn_train_opset15", .op = "BatchNormalization", .opset = 15, .n_in = 5,
     .in = {X4(4, 3, 2, 2), VEC(GC_DIFF, 3), VEC(GC_DIFF, 3), VEC(GC_INPUT_NODIFF, 3), VAR(GC_INPUT_NODIFF, 3)},
     .n_out = 1, .n_attrs = 2, .attrs = {I("training_mode", 1), F("epsilon", 1e-3f)}},
    {.name = "bn_train_2d_input", .op = "BatchNormalization", .opset = 14, .n_in = 5,
     .in = {{GC_DIFF, 0, 2, {6, 4}}, VEC(GC_DIFF, 4), VEC(GC_DIFF, 4), VEC(GC_INPUT_NODIFF, 4),
            VAR(GC_INPUT_NODIFF, 4)},
     .n_out = 1, .n_attrs = 1, .attrs = {I("training_mode", 1)}},
    {.name = "bn_train_3d_spatial", .op = "BatchNormalization", .opset = 15, .n_in = 5,
     .in = {{GC_DIFF, 0, 5, {2, 2, 2, 3, 2}}, VEC(GC_DIFF, 2), VEC(GC_DIFF, 2), VEC(GC_INPUT_NODIFF, 2),
            VAR(GC_INPUT_NODIFF, 2)},
     .n_out = 1, .n_attrs = 1, .attrs = {I("training_mode", 1)}},
    /* running_mean / running_var outputs present: momentum 1 keeps them
       independent of X, so the finite differences see only Y */
    {.name = "bn_train_running_outputs", .op = "BatchNormalization", .opset = 15, .n_in = 5,
     .in = {X4(3, 2, 2, 3), VEC(GC_DIFF, 2), VEC(GC_DIFF, 2), VEC(GC_INPUT_NODIFF, 2), VAR(GC_INPUT_NODIFF, 2)},
     .n_out = 3, .n_attrs = 2, .attrs = {I("training_mode", 1), F("momentum", 1.0f)}},
    /* opset < 14: training because of the extra outputs; saved_mean / saved_var carry gradients */
    {.name = "bn_train_opset9_saved_stats", .op = "BatchNormalization", .opset = 9, .n_in = 5,
     .in = {X4(3, 2, 2, 2), VEC(GC_DIFF, 2), VEC(GC_DIFF, 2), VEC(GC_INPUT_NODIFF, 2), VAR(GC_INPUT_NODIFF, 2)},
     .n_out = 5, .n_attrs = 1, .attrs = {F("momentum", 1.0f)}},
    {.name = "bn_train_opset7", .op = "BatchNormalization", .opset = 7, .n_in = 5,
     .in = {X3(4, 3, 2), VEC(GC_DIFF, 3), VEC(GC_DIFF, 3), VEC(GC_INPUT_NODIFF, 3), VAR(GC_INPUT_NODIFF, 3)},
     .n_out = 3, .n_attrs = 1, .attrs = {F("momentum", 1.0f)}},
    {.name = "bn_train_f32", .op = "BatchNormalization", .opset = 15, .n_in = 5,
     .in = {F32(GC_DIFF, 4, 4, 3, 2, 2), F32(GC_DIFF, 1, 3), F32(GC_DIFF, 1, 3), F32(GC_INPUT_NODIFF, 1, 3),
            {GC_INPUT_NODIFF, OT_FLOAT, 1, {3}, .lo = 0.5, .hi = 1.5}},
     .n_out = 1, .n_attrs = 1, .attrs = {I("training_mode", 1)}, .h = 1e-2, .rtol = 1e-2, .atol = 2e-3},
    /* ---- BatchNormalization: inference (fixed statistics; mean / var differentiable) -- */
    {.name = "bn_infer_opset15", .op = "BatchNormalization", .opset = 15, .n_in = 5,
     .in = {X4(2, 3, 2, 2), VEC(GC_DIFF, 3), VEC(GC_DIFF, 3), VEC(GC_DIFF, 3), VAR(GC_DIFF, 3)}, .n_out = 1,
     .n_attrs = 2, .attrs = {I("training_mode", 0), F("epsilon", 1e-2f)}},
    {.name = "bn_infer_opset9", .op = "BatchNormalization", .opset = 9, .n_in = 5,
     .in = {X3(3, 2, 4), VEC(GC_DIFF, 2), VEC(GC_DIFF, 2), VEC(GC_DIFF, 2), VAR(GC_DIFF, 2)}, .n_out = 1},
    {.name = "bn_infer_f32_stats", .op = "BatchNormalization", .opset = 15, .n_in = 5,
     .in = {X4(2, 3, 2, 2), VEC(GC_DIFF, 3), VEC(GC_DIFF, 3), F32(GC_INPUT_NODIFF, 1, 3),
            {GC_INPUT_NODIFF, OT_FLOAT, 1, {3}, .lo = 0.5, .hi = 1.5}},
     .n_out = 1},
    /* ---- LayerNormalization ------------------------------------------------------- */
    {.name = "ln_last_axis", .op = "LayerNormalization", .n_in = 3, .in = {X3(3, 4, 5), VEC(GC_DIFF, 5), VEC(GC_DIFF, 5)},
     .n_out = 1},
    {.name = "ln_axis1", .op = "LayerNormalization", .n_in = 3,
     .in = {X3(2, 3, 4), {GC_DIFF, 0, 2, {3, 4}}, {GC_DIFF, 0, 2, {3, 4}}}, .n_out = 1, .n_attrs = 1,
     .attrs = {I("axis", 1)}},
    {.name = "ln_axis0", .op = "LayerNormalization", .n_in = 3,
     .in = {{GC_DIFF, 0, 2, {3, 4}}, {GC_DIFF, 0, 2, {3, 4}}, {GC_DIFF, 0, 2, {3, 4}}}, .n_out = 1, .n_attrs = 1,
     .attrs = {I("axis", 0)}},
    {.name = "ln_no_bias", .op = "LayerNormalization", .n_in = 2, .in = {{GC_DIFF, 0, 2, {3, 6}}, VEC(GC_DIFF, 6)},
     .n_out = 1, .n_attrs = 1, .attrs = {F("epsilon", 1e-3f)}},
    {.name = "ln_scale_period_in_row", .op = "LayerNormalization", .n_in = 3,
     .in = {X3(2, 3, 4), {GC_DIFF, 0, 2, {1, 4}}, {GC_DIFF, 0, 2, {3, 4}}}, .n_out = 1, .n_attrs = 1,
     .attrs = {I("axis", 1)}},
    {.name = "ln_scale_spans_rows", .op = "LayerNormalization", .n_in = 3,
     .in = {X3(2, 3, 4), {GC_DIFF, 0, 2, {3, 4}}, VEC(GC_DIFF, 4)}, .n_out = 1, .n_attrs = 1, .attrs = {I("axis", -1)}},
    {.name = "ln_with_mean_invstd", .op = "LayerNormalization", .n_in = 3,
     .in = {X3(2, 3, 5), VEC(GC_DIFF, 5), VEC(GC_DIFF, 5)}, .n_out = 3, .n_attrs = 1,
     .attrs = {I("stash_type", OT_DOUBLE)}},
    {.name = "ln_with_stats_axis1", .op = "LayerNormalization", .n_in = 2,
     .in = {X3(2, 3, 2), {GC_DIFF, 0, 2, {3, 2}}}, .n_out = 3, .n_attrs = 2,
     .attrs = {I("stash_type", OT_DOUBLE), I("axis", -2)}},
    {.name = "ln_f32", .op = "LayerNormalization", .n_in = 3,
     .in = {F32(GC_DIFF, 2, 4, 8), F32(GC_DIFF, 1, 8), F32(GC_DIFF, 1, 8)}, .n_out = 1, .h = 1e-2, .rtol = 1e-2,
     .atol = 2e-3},
    {.name = "rmsnorm_opset23", .op = "RMSNormalization", .opset = 23, .n_in = 2,
     .in = {X3(2, 3, 5), VEC(GC_DIFF, 5)}, .n_out = 1},
    {.name = "rmsnorm_axis1", .op = "RMSNormalization", .opset = 23, .n_in = 2,
     .in = {X3(2, 3, 2), {GC_DIFF, 0, 2, {3, 2}}}, .n_out = 1, .n_attrs = 1, .attrs = {I("axis", 1)}},
    /* ---- Instance / GroupNormalization ---------------------------------------------- */
    {.name = "instancenorm_2d", .op = "InstanceNormalization", .n_in = 3,
     .in = {X4(2, 3, 3, 2), VEC(GC_DIFF, 3), VEC(GC_DIFF, 3)}, .n_out = 1},
    {.name = "instancenorm_1d", .op = "InstanceNormalization", .n_in = 3,
     .in = {X3(2, 2, 5), VEC(GC_DIFF, 2), VEC(GC_DIFF, 2)}, .n_out = 1, .n_attrs = 1, .attrs = {F("epsilon", 1e-2f)}},
    {.name = "groupnorm_opset18_per_group", .op = "GroupNormalization", .opset = 18, .n_in = 3,
     .in = {X4(2, 4, 3, 2), VEC(GC_DIFF, 2), VEC(GC_DIFF, 2)}, .n_out = 1, .n_attrs = 1, .attrs = {I("num_groups", 2)}},
    {.name = "groupnorm_opset21_per_channel", .op = "GroupNormalization", .opset = 21, .n_in = 3,
     .in = {X3(2, 6, 5), VEC(GC_DIFF, 6), VEC(GC_DIFF, 6)}, .n_out = 1, .n_attrs = 1, .attrs = {I("num_groups", 3)}},
    {.name = "groupnorm_one_group", .op = "GroupNormalization", .opset = 21, .n_in = 3,
     .in = {X4(2, 4, 2, 2), VEC(GC_DIFF, 4), VEC(GC_DIFF, 4)}, .n_out = 1, .n_attrs = 2,
     .attrs = {I("num_groups", 1), F("epsilon", 1e-3f)}},
    {.name = "groupnorm_f32", .op = "GroupNormalization", .opset = 21, .n_in = 3,
     .in = {F32(GC_DIFF, 3, 2, 4, 6), F32(GC_DIFF, 1, 4), F32(GC_DIFF, 1, 4)}, .n_out = 1, .n_attrs = 1,
     .attrs = {I("num_groups", 2)}, .h = 1e-2, .rtol = 1e-2, .atol = 2e-3},
};

/* ---- direct checks of the gradient ops ------------------------------------------- */

static int failures;

/* Runs one ai.onnxtrain op on `in` (NULL entries absent); out[] receives new tensors. */
static ot_status run_op(const char *op, int n_in, ot_tensor **in, int n_out, ot_tensor **out, int n_attrs,
                        const ot_grad_attr *attrs) {
    const ot_op_def *def = ot_op_find(OT_DOMAIN_TRAIN, op);
    if (!def) return ot_error(OT_ERR_UNSUPPORTED, "no op %s", op);
    ot_graph *g;
    OT_TRY(ot_graph_new("t", &g));
    int ids_in[8], ids_out[8], node;
    char name[16];
    for (int i = 0; i < n_in; i++) {
        snprintf(name, sizeof name, "in%d", i);
        ot_graph_value(g, name, &ids_in[i]);
    }
    for (int i = 0; i < n_out; i++) {
        snprintf(name, sizeof name, "out%d", i);
        ot_graph_value(g, name, &ids_out[i]);
    }
    ot_graph_add_node(g, op, OT_DOMAIN_TRAIN, op, n_in, ids_in, n_out, ids_out, &node);
    for (int i = 0; i < n_attrs; i++) {
        ot_attr *a;
        ot_node_add_attr(g, node, attrs[i].name, attrs[i].type, &a);
        a->i = attrs[i].i;
        a->f = attrs[i].f;
        a->n = attrs[i].n;
        if (attrs[i].type == OT_ATTR_INTS) {
            a->ints = ot_malloc(sizeof(int64_t) * (size_t)(a->n + 1));
            memcpy(a->ints, attrs[i].ints, sizeof(int64_t) * (size_t)a->n);
        }
    }
    void *at = ot_calloc(1, def->attrs_size + 1);
    ot_status s = def->parse ? def->parse(&g->nodes[node], 1, at) : OT_OK;
    for (int i = 0; i < n_out; i++) out[i] = NULL;
    for (int i = 0; i < n_out && !s; i++) s = ot_tensor_new_desc(OT_UNDEFINED, 0, NULL, &out[i]);
    ot_kctx c = {.node = &g->nodes[node], .name = op, .opset = 1, .attrs = at, .n_in = n_in, .in = in,
                 .n_out = n_out, .out = out};
    if (!s) s = def->infer(&c);
    for (int i = 0; i < n_out && !s; i++) s = ot_tensor_alloc_data(out[i]);
    if (!s) s = def->cpu(&c);
    ot_free(at);
    ot_graph_free(g);
    return s;
}

static ot_tensor *tensor(ot_dtype dt, int rank, const int64_t *dims, const double *vals, uint64_t seed) {
    ot_tensor *t;
    if (ot_tensor_new(dt, rank, dims, &t)) return NULL;
    uint64_t st = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < ot_tensor_numel(t); i++) {
        st ^= st >> 12, st ^= st << 25, st ^= st >> 27;
        double r = (double)((st * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2 - 1;
        ot_store_f64(dt, t->data, i, vals ? vals[i] : r);
    }
    return t;
}

static void expect(const char *what, const ot_tensor *t, const double *want) {
    for (int64_t i = 0; i < ot_tensor_numel(t); i++) {
        double v = ot_load_f64(t->dtype, t->data, i);
        if (!(v == want[i])) {
            printf("%s[%lld] = %g, expected %g\n", what, (long long)i, v, want[i]);
            failures++;
            return;
        }
    }
}

/* Ties go to the first maximum in row-major window order; a NaN wins. */
static void check_maxpool_routing(void) {
    static const int64_t xd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 2, 2};
    static const double xv[9] = {1, NAN, 0, 1, 5, 0, 5, 3, 2};
    static const double dyv[4] = {1, 10, 100, 1000};
    /* k2 s1: windows (0,0):{1,NaN,1,5} -> the NaN (tap 1), even with a larger
       value after it; (0,1):{NaN,0,5,0} -> 1; (1,0):{1,5,5,3} -> the first 5
       (tap 4); (1,1):{5,0,3,2} -> 4 */
    static const double want[9] = {0, 11, 0, 0, 1100, 0, 0, 0, 0};
    ot_tensor *in[2] = {tensor(OT_DOUBLE, 4, xd, xv, 0), tensor(OT_DOUBLE, 4, yd, dyv, 0)}, *out[1];
    ot_grad_attr at[1] = {L("kernel_shape", k2)};
    ot_status s = run_op("MaxPoolGrad", 2, in, 1, out, 1, at);
    if (s) {
        printf("maxpool routing: %s\n", ot_last_error());
        failures++;
    } else {
        expect("maxpool routing dX", out[0], want);
    }
    /* float32 too (the other kernel instance) */
    ot_tensor *inf[2] = {tensor(OT_FLOAT, 4, xd, xv, 0), tensor(OT_FLOAT, 4, yd, dyv, 0)}, *outf[1];
    if (!run_op("MaxPoolGrad", 2, inf, 1, outf, 1, at)) expect("maxpool routing dX (f32)", outf[0], want);
    else failures++;
    for (int i = 0; i < 2; i++) {
        ot_tensor_free(in[i]);
        ot_tensor_free(inf[i]);
    }
    if (!s) ot_tensor_free(out[0]);
    ot_tensor_free(outf[0]);
}

/* Runs op on float64 inputs and on the same values in float32; every output
   must agree to float32 accuracy.  Shapes are large enough for the parallel loops. */
static void check_f32(const char *label, const char *op, int n_in, const int *ranks, const int64_t (*dims)[6],
                      int n_out, int n_attrs, const ot_grad_attr *attrs, double tol) {
    ot_tensor *in64[8] = {0}, *in32[8] = {0}, *o64[8] = {0}, *o32[8] = {0};
    for (int i = 0; i < n_in; i++) {
        if (ranks[i] < 0) continue;
        in64[i] = tensor(OT_DOUBLE, ranks[i], dims[i], NULL, (uint64_t)i + 7);
        in32[i] = tensor(OT_FLOAT, ranks[i], dims[i], NULL, (uint64_t)i + 7);
        if (!strcmp(op, "BatchNormalizationGrad") && i == 3) /* var > 0 */
            for (int64_t k = 0; k < ot_tensor_numel(in64[i]); k++) {
                ((double *)in64[i]->data)[k] += 1.5;
                ((float *)in32[i]->data)[k] += 1.5f;
            }
    }
    ot_status s = run_op(op, n_in, in64, n_out, o64, n_attrs, attrs);
    if (!s) s = run_op(op, n_in, in32, n_out, o32, n_attrs, attrs);
    if (s) {
        printf("%s: %s\n", label, ot_last_error());
        failures++;
    }
    for (int k = 0; k < n_out && !s; k++) {
        double scale = 0;
        for (int64_t i = 0; i < ot_tensor_numel(o64[k]); i++) scale = fmax(scale, fabs(((double *)o64[k]->data)[i]));
        for (int64_t i = 0; i < ot_tensor_numel(o64[k]); i++) {
            double a = ((double *)o64[k]->data)[i], b = ((float *)o32[k]->data)[i];
            if (!(fabs(a - b) <= tol * (scale + 1e-30))) {
                printf("%s: output %d [%lld]: float64 %.9g, float32 %.9g\n", label, k, (long long)i, a, b);
                failures++;
                break;
            }
        }
    }
    for (int i = 0; i < 8; i++) {
        ot_tensor_free(in64[i]);
        ot_tensor_free(in32[i]);
    }
    for (int k = 0; k < 8; k++) {
        ot_tensor_free(o64[k]);
        ot_tensor_free(o32[k]);
    }
}

/* Only a statistics output has a gradient (dY absent): the mean's gradient
   spreads evenly over the elements it averages. */
static void check_stats_only(void) {
    static const int64_t xd[3] = {2, 3, 4}, rd[3] = {2, 3, 1}, cd[1] = {3};
    static const double dm[6] = {1, 2, 3, 4, 5, 6};
    ot_tensor *x = tensor(OT_DOUBLE, 3, xd, NULL, 3), *sc = tensor(OT_DOUBLE, 1, cd, NULL, 4);
    ot_tensor *dmean = tensor(OT_DOUBLE, 3, rd, dm, 0), *out[3];
    /* LayerNormalizationGrad(X, Scale(4)... axis -1: rows of 4; scale has 4 entries */
    static const int64_t s4[1] = {4};
    ot_tensor *sc4 = tensor(OT_DOUBLE, 1, s4, NULL, 5);
    ot_tensor *in_ln[5] = {x, sc4, NULL, NULL, dmean};
    ot_grad_attr at[1] = {I("axis", -1)};
    if (run_op("LayerNormalizationGrad", 5, in_ln, 2, out, 1, at)) {
        printf("LayerNormalizationGrad dMean only: %s\n", ot_last_error());
        failures++;
    } else {
        double want[24], zero[4] = {0};
        for (int i = 0; i < 24; i++) want[i] = dm[i / 4] / 4;
        expect("LayerNormalizationGrad dMean only: dX", out[0], want);
        expect("LayerNormalizationGrad dMean only: dScale", out[1], zero);
        ot_tensor_free(out[0]);
        ot_tensor_free(out[1]);
    }
    /* BatchNormalizationGrad training, only dSavedMean: dX = dSavedMean[c] / (N * inner) */
    ot_tensor *dsm = tensor(OT_DOUBLE, 1, cd, dm, 0);
    ot_tensor *in_bn[6] = {x, sc, NULL, NULL, NULL, dsm};
    ot_grad_attr tr[1] = {I("training_mode", 1)};
    if (run_op("BatchNormalizationGrad", 6, in_bn, 3, out, 1, tr)) {
        printf("BatchNormalizationGrad dSavedMean only: %s\n", ot_last_error());
        failures++;
    } else {
        double want[24], zero[3] = {0};
        for (int i = 0; i < 24; i++) want[i] = dm[(i / 4) % 3] / 8;
        expect("BatchNormalizationGrad dSavedMean only: dX", out[0], want);
        expect("BatchNormalizationGrad dSavedMean only: dB", out[2], zero);
        for (int k = 0; k < 3; k++) ot_tensor_free(out[k]);
    }
    ot_tensor_free(x);
    ot_tensor_free(sc);
    ot_tensor_free(sc4);
    ot_tensor_free(dmean);
    ot_tensor_free(dsm);
}

static void check_float32_kernels(void) {
    static const int64_t ks[] = {3, 3}, st[] = {2, 2}, pd[] = {1, 1, 1, 1}, ish[] = {8, 16, 32, 32};
    {
        static const int r[2] = {4, 4};
        static const int64_t d[2][6] = {{8, 16, 32, 32}, {8, 16, 16, 16}};
        ot_grad_attr at[3] = {L("kernel_shape", ks), L("strides", st), L("pads", pd)};
        check_f32("MaxPoolGrad f32", "MaxPoolGrad", 2, r, d, 1, 3, at, 1e-6);
    }
    {
        static const int r[1] = {4};
        static const int64_t d[1][6] = {{8, 16, 16, 16}};
        ot_grad_attr at[5] = {L("kernel_shape", ks), L("strides", st), L("pads", pd), I("count_include_pad", 1),
                              L("input_shape", ish)};
        check_f32("AveragePoolGrad f32", "AveragePoolGrad", 1, r, d, 1, 5, at, 1e-6);
    }
    {   /* X, scale, mean, var, dY: training and inference */
        static const int r[5] = {4, 1, 1, 1, 4};
        static const int64_t d[5][6] = {{16, 32, 12, 12}, {32}, {32}, {32}, {16, 32, 12, 12}};
        ot_grad_attr tr[1] = {I("training_mode", 1)}, inf[1] = {I("training_mode", 0)};
        check_f32("BatchNormalizationGrad training f32", "BatchNormalizationGrad", 5, r, d, 3, 1, tr, 2e-5);
        check_f32("BatchNormalizationGrad inference f32", "BatchNormalizationGrad", 5, r, d, 5, 1, inf, 2e-5);
    }
    {   /* X, Scale, B, dY */
        static const int r[4] = {3, 1, 1, 3};
        static const int64_t d[4][6] = {{8, 64, 256}, {256}, {256}, {8, 64, 256}};
        ot_grad_attr at[1] = {I("axis", -1)};
        check_f32("LayerNormalizationGrad f32", "LayerNormalizationGrad", 4, r, d, 3, 1, at, 2e-5);
        ot_grad_attr rms[2] = {I("axis", -1), I("rms", 1)};
        static const int r2[4] = {3, 1, -1, 3};
        check_f32("LayerNormalizationGrad rms f32", "LayerNormalizationGrad", 4, r2, d, 2, 2, rms, 2e-5);
    }
    {   /* X, scale, dY */
        static const int r[3] = {4, 1, 4};
        static const int64_t d[3][6] = {{8, 32, 16, 16}, {32}, {8, 32, 16, 16}};
        ot_grad_attr at[2] = {I("num_groups", 8), I("per_channel", 1)};
        check_f32("GroupNormalizationGrad f32", "GroupNormalizationGrad", 3, r, d, 3, 2, at, 2e-5);
    }
}

int main(void) {
    int rc = gc_run_all(cases, sizeof cases / sizeof cases[0]);
    check_maxpool_routing();
    check_stats_only();
    check_float32_kernels();
    printf("direct gradient-op checks: %d failed\n", failures);
    return rc || failures ? 1 : 0;
}
