/* Op family: fused (domain ai.onnxtrain, opset 1).  These nodes are made by
 * the fusion pass (src/passes/fuse*.c) after autodiff, never by exporters;
 * their kernels are in kernels/cpu/fused*.c.
 *
 *   FusedElementwise(x0, ..., xn-1) -> y0, ..., ym-1, s0, ..., sk-1
 *       A chain (or DAG) of elementwise ops as one kernel over the broadcast
 *       shape of the inputs (at most 7; float, double, or bool conditions).
 *       Register r < n is input r; instruction i defines register n + i.
 *       ops      STRINGS  opcode per instruction (kernels/cpu/fused.h: ADD,
 *                         MUL, WHERE, RELU, GELU_TANH, RELU_GRAD, CONST, ...)
 *       args     INTS     3 operand registers per instruction (-1: none;
 *                         CONST: index into `constants`)
 *       params   FLOATS   3 per instruction: alpha, beta, gamma of unary maps
 *                         and their gradients (optional: zeros)
 *       dtypes   INTS     result dtype per instruction (ONNX numbers)
 *       constants TENSOR  float64 values of the CONST instructions
 *       outputs  INTS     register of each yj (the broadcast shape)
 *       reduce   INTS     registers summed over every axis but the last: the
 *                         sk outputs (bias gradients), shaped (1, ..., 1, C)
 *                         or, per reduce_keepdims = 0, (C)
 *
 *   FusedGemm(A, B [, C]) -> Y [, Z]
 *       Z = alpha * op(A) op(B) + beta * C, Y = act(Z), as Gemm does, with
 *       A (M, K) or (K, M) with transA, or (..., K) (its leading dims are the
 *       rows: MatMul of a batch with a matrix); B (K, N) or (N, K) with
 *       transB; C broadcast to Y by rows (N), (1.., N), (M.., 1), scalar, or
 *       Y's shape.  Y has A's leading dims and N.  Attributes transA, transB,
 *       alpha, beta (Gemm's), activation (a unary opcode as above, "" none),
 *       activation_params FLOATS (alpha, beta, gamma).  Z (optional) is the
 *       value before the activation, for gradients that need it.
 *
 *   Nop() -> ()
 *       A slot left by nodes the pass removed, so the nodes after it keep
 *       their indices (a Dropout's index keys its random stream); it has no
 *       inputs or outputs and compiles to nothing. */
#include <string.h>

#include "../kernels/cpu/fused.h"
#include "../kernels/cpu/matmul.h"
#include "../src/runtime/workspace.h"
#include "grad.h"
#include "op.h"

/* ---- FusedElementwise --------------------------------------------------------- */

static ot_status fe_error(const ot_node *n, const char *what) {
    return ot_error(OT_ERR_PARSE, "node '%s' (FusedElementwise): %s", n->name, what);
}

static ot_status fe_ints(const ot_node *n, const char *name, int want, bool required, const int64_t **v, int *count) {
    OT_TRY(ot_attr_get_ints(n, name, v, count));
    if (*count < 0 && !required) {
        *count = 0;
        return OT_OK;
    }
    if (*count < 0 || (want >= 0 && *count != want))
        return ot_error(OT_ERR_PARSE, "node '%s' (FusedElementwise): attribute '%s' must hold %d ints", n->name, name,
                        want);
    return OT_OK;
}

static ot_status fe_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_fx_prog *p = attrs;
    const ot_attr *ops = ot_node_attr(n, "ops");
    if (!ops || ops->type != OT_ATTR_STRINGS || ops->n < 1 || ops->n > OT_FX_MAX_INS)
        return fe_error(n, "attribute 'ops' must list 1 to 32 opcodes");
    p->n_in = n->n_inputs;
    p->n_ins = ops->n;
    const int64_t *args, *dtypes, *outs, *red, *keep;
    const float *params;
    int cnt, n_params;
    OT_TRY(fe_ints(n, "args", 3 * p->n_ins, true, &args, &cnt));
    OT_TRY(fe_ints(n, "dtypes", p->n_ins, true, &dtypes, &cnt));
    OT_TRY(fe_ints(n, "outputs", -1, false, &outs, &p->n_out));
    OT_TRY(fe_ints(n, "reduce", -1, false, &red, &p->n_red));
    OT_TRY(fe_ints(n, "reduce_keepdims", p->n_red, false, &keep, &cnt));
    OT_TRY(ot_attr_get_floats(n, "params", &params, &n_params));
    if (n_params >= 0 && n_params != 3 * p->n_ins) return fe_error(n, "attribute 'params' must hold 3 floats per op");
    const ot_tensor *k;
    OT_TRY(ot_attr_get_tensor(n, "constants", &k));
    if (k && (k->dtype != OT_DOUBLE || k->rank != 1)) return fe_error(n, "attribute 'constants' must be a 1-D double tensor");
    if (p->n_out > OT_FX_MAX_OUTPUTS || p->n_red > OT_FX_MAX_REDUCE || n->n_outputs != p->n_out + p->n_red)
        return fe_error(n, "its outputs must be the 'outputs' registers then the 'reduce' ones");
    for (int i = 0; i < p->n_ins; i++) {
        ot_fx_ins *in = &p->ins[i];
        memset(in, 0, sizeof *in);
        if (!ot_fx_op_lookup(ops->strings[i], &in->kind, &in->sub))
            return ot_error(OT_ERR_UNSUPPORTED, "node '%s' (FusedElementwise): unknown opcode '%s'", n->name,
                            ops->strings[i]);
        in->dtype = (ot_dtype)dtypes[i];
        in->a = (int)args[3 * i];
        in->b = (int)args[3 * i + 1];
        in->c = (int)args[3 * i + 2];
        if (n_params > 0) in->p = (ot_unary_params){params[3 * i], params[3 * i + 1], params[3 * i + 2]};
        if (in->kind == OT_FX_CONST) {
            if (!k || in->a < 0 || in->a >= k->dims[0]) return fe_error(n, "a CONST names no entry of 'constants'");
            in->k = ((const double *)k->data)[in->a];
            in->a = -1;
        }
    }
    for (int o = 0; o < p->n_out; o++) p->out_reg[o] = (int)outs[o];
    for (int j = 0; j < p->n_red; j++) {
        p->red_reg[j] = (int)red[j];
        p->red_keepdims[j] = keep ? keep[j] != 0 : true;
    }
    ot_status s = ot_fx_prog_finalize(p);
    return s ? ot_error_context(s, "node '%s' (FusedElementwise)", n->name) : OT_OK;
}

static ot_status fe_infer(ot_kctx *c) {
    const ot_fx_prog *p = c->attrs;
    ot_dtype dts[OT_FX_MAX_INPUTS];
    for (int k = 0; k < p->n_in; k++) {
        const ot_tensor *t = ot_in(c, k);
        if (!t) return ot_op_error(c, OT_ERR_SHAPE, "input %d is missing", k);
        if (t->dtype != OT_FLOAT && t->dtype != OT_DOUBLE && t->dtype != OT_BOOL)
            return ot_op_error(c, OT_ERR_TYPE, "input %d is %s (float, double or bool expected)", k,
                               ot_dtype_name(t->dtype));
        dts[k] = t->dtype;
    }
    ot_status s = ot_fx_prog_check_types(p, dts);
    if (s) return ot_error_context(s, "node '%s' (FusedElementwise)", c->name);
    int rank;
    int64_t dims[OT_MAX_RANK];
    if (ot_bcast_shape(p->n_in, (const ot_tensor *const *)c->in, &rank, dims))
        return ot_error_context(OT_ERR_SHAPE, "node '%s' (FusedElementwise)", c->name);
    for (int o = 0; o < p->n_out; o++) ot_set_out(c, o, ot_fx_reg_dtype(p, dts, p->out_reg[o]), rank, dims);
    for (int j = 0; j < p->n_red; j++) {
        if (rank < 1) return ot_op_error(c, OT_ERR_SHAPE, "a reduction needs a shape of rank >= 1");
        int64_t rd[OT_MAX_RANK];
        int rr = p->red_keepdims[j] ? rank : 1;
        for (int d = 0; d < rr; d++) rd[d] = 1;
        rd[rr - 1] = dims[rank - 1];
        ot_set_out(c, p->n_out + j, ot_fx_reg_dtype(p, dts, p->red_reg[j]), rr, rd);
    }
    ot_workspace_request(ot_cpu_fused_ew_workspace(p, rank, dims));
    return OT_OK;
}

static ot_status fe_cpu(ot_kctx *c) {
    ot_status s = ot_cpu_fused_ew(c->attrs, (const ot_tensor *const *)c->in, c->out);
    return s ? ot_error_context(s, "node '%s' (FusedElementwise)", c->name) : OT_OK;
}

/* ---- FusedGemm -------------------------------------------------------------------- */

typedef struct {
    int64_t trans_a, trans_b;
    float alpha, beta;
    bool has_act;
    ot_unary_op act;
    ot_unary_params act_p;
} fg_attrs;

static ot_status fg_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    fg_attrs *a = attrs;
    const char *act;
    const float *ap;
    int na;
    OT_TRY(ot_attr_get_int(n, "transA", 0, &a->trans_a));
    OT_TRY(ot_attr_get_int(n, "transB", 0, &a->trans_b));
    OT_TRY(ot_attr_get_float(n, "alpha", 1.0f, &a->alpha));
    OT_TRY(ot_attr_get_float(n, "beta", 1.0f, &a->beta));
    OT_TRY(ot_attr_get_string(n, "activation", "", &act));
    OT_TRY(ot_attr_get_floats(n, "activation_params", &ap, &na));
    a->has_act = act[0] != 0;
    if (a->has_act) {
        ot_fx_kind kind;
        int sub;
        if (!ot_fx_op_lookup(act, &kind, &sub) || kind != OT_FX_UNARY)
            return ot_error(OT_ERR_UNSUPPORTED, "node '%s' (FusedGemm): activation '%s' is not a unary map", n->name, act);
        a->act = (ot_unary_op)sub;
    }
    if (na > 0 && na != 3)
        return ot_error(OT_ERR_PARSE, "node '%s' (FusedGemm): activation_params must hold 3 floats", n->name);
    if (na == 3) a->act_p = (ot_unary_params){ap[0], ap[1], ap[2]};
    return OT_OK;
}

/* C's element strides along Y's rows and columns when Y is seen as (M, N),
   or false when C does not broadcast to Y (rows, N) that way. */
static bool fg_c_strides(const ot_tensor *cc, const ot_tensor *y, int64_t *sr, int64_t *sc) {
    int r = cc->rank, yr = y->rank;
    if (r > yr) return false;
    int64_t N = y->dims[yr - 1], cn = r ? cc->dims[r - 1] : 1;
    if (cn != N && cn != 1) return false;
    *sc = cn == 1 ? 0 : 1;
    bool lead_ones = true, lead_same = true;
    for (int d = 0; d < r - 1; d++) {
        if (cc->dims[d] != 1) lead_ones = false;
        if (cc->dims[d] != y->dims[yr - r + d]) lead_same = false;
    }
    for (int d = 0; d < yr - r; d++) /* dims C lacks broadcast: C must not vary along rows there... */
        if (y->dims[d] != 1) lead_same = false;
    if (lead_ones) *sr = 0;
    else if (lead_same) *sr = cn;
    else return false;
    return true;
}

static ot_status fg_infer(ot_kctx *c) {
    const fg_attrs *at = c->attrs;
    static const ot_dtype fl[] = {OT_FLOAT, OT_DOUBLE, OT_UNDEFINED};
    OT_TRY(ot_check_dtype(c, 0, fl));
    const ot_tensor *a = ot_in(c, 0), *b = ot_in(c, 1), *cc = ot_in(c, 2);
    if (b->dtype != a->dtype || (cc && cc->dtype != a->dtype))
        return ot_op_error(c, OT_ERR_TYPE, "A, B and C must share one type");
    if (b->rank != 2 || a->rank < 2 || (at->trans_a && a->rank != 2))
        return ot_op_error(c, OT_ERR_SHAPE, "B must be 2-D and A 2-D (or N-D without transA); got ranks %d and %d",
                           a->rank, b->rank);
    int64_t K = at->trans_a ? a->dims[0] : a->dims[a->rank - 1], M = at->trans_a ? a->dims[1] : 1;
    for (int d = 0; !at->trans_a && d < a->rank - 1; d++) M *= a->dims[d];
    int64_t kb = at->trans_b ? b->dims[1] : b->dims[0], N = at->trans_b ? b->dims[0] : b->dims[1];
    if (K != kb) return ot_op_error(c, OT_ERR_SHAPE, "inner dims differ: %lld and %lld", (long long)K, (long long)kb);
    if (!ot_blas_fits(M) || !ot_blas_fits(N) || !ot_blas_fits(K))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "matrix dims exceed the 32-bit BLAS limit");
    ot_tensor y;
    memset(&y, 0, sizeof y);
    int64_t dims[OT_MAX_RANK];
    int rank = at->trans_a ? 2 : a->rank;
    if (at->trans_a) dims[0] = M;
    else memcpy(dims, a->dims, sizeof(int64_t) * (size_t)(rank - 1));
    dims[rank - 1] = N;
    ot_tensor_set_shape(&y, a->dtype, rank, dims);
    int64_t sr, sc;
    if (cc && !fg_c_strides(cc, &y, &sr, &sc)) {
        char s1[128], s2[128];
        return ot_op_error(c, OT_ERR_SHAPE, "C %s does not broadcast to Y %s by rows",
                           ot_shape_str(cc->rank, cc->dims, s1, sizeof s1), ot_shape_str(rank, dims, s2, sizeof s2));
    }
    ot_set_out(c, 0, a->dtype, rank, dims);
    ot_set_out(c, 1, a->dtype, rank, dims);
    return OT_OK;
}

static ot_status fg_cpu(ot_kctx *c) {
    const fg_attrs *at = c->attrs;
    const ot_tensor *a = ot_in(c, 0), *b = ot_in(c, 1), *cc = ot_in(c, 2);
    ot_tensor *y = ot_out(c, 0), *z = ot_out(c, 1);
    ot_fgemm_args g = {at->trans_a != 0, at->trans_b != 0, 0, 0, 0, at->alpha, at->beta, a->data, b->data,
                       cc ? cc->data : NULL, 0, 0, at->has_act, at->act, at->act_p, y->data, z ? z->data : NULL};
    g.N = y->dims[y->rank - 1];
    g.M = ot_tensor_numel(y) / (g.N ? g.N : 1);
    g.K = at->trans_a ? a->dims[0] : a->dims[a->rank - 1];
    if (cc) fg_c_strides(cc, y, &g.c_row, &g.c_col);
    if (g.N == 0) g.M = 0;
    return ot_cpu_fused_gemm(y->dtype, &g);
}

/* ---- Nop --------------------------------------------------------------------------- */

static ot_status nop_infer(ot_kctx *c) {
    (void)c;
    return OT_OK;
}

const ot_op_def ot_ops_fused[] = {
    {.name = "FusedElementwise", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 1,
     .max_inputs = OT_FX_MAX_INPUTS, .min_outputs = 1, .max_outputs = OT_FX_MAX_OUTPUTS + OT_FX_MAX_REDUCE,
     .attr_names = "ops,args,params,dtypes,constants,outputs,reduce,reduce_keepdims", .attrs_size = sizeof(ot_fx_prog),
     .parse = fe_parse, .infer = fe_infer, .cpu = fe_cpu, .dtypes = "float, double (bool conditions)"},
    {.name = "FusedGemm", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 2,
     .max_inputs = 3, .min_outputs = 1, .max_outputs = 2,
     .attr_names = "transA,transB,alpha,beta,activation,activation_params", .attrs_size = sizeof(fg_attrs),
     .parse = fg_parse, .infer = fg_infer, .cpu = fg_cpu, .dtypes = "float, double"},
    {.name = "Nop", .domain = OT_DOMAIN_TRAIN, .min_opset = 1, .max_opset = 1, .min_inputs = 0, .max_inputs = 0,
     .min_outputs = 0, .max_outputs = 0, .attr_names = "", .infer = nop_infer, .cpu = nop_infer,
     .dtypes = "(none)"},
};
const int ot_ops_fused_count = sizeof ot_ops_fused / sizeof ot_ops_fused[0];
