/* Elementwise groups (see fuse.h).  Each node whose row has
 * OT_TRAIT_ELEMENTWISE (and not OT_TRAIT_RANDOM) and whose semantics the
 * fused interpreter has (kernels/cpu/fused.h: unary maps and their gradient
 * ops recognised by their parse function; arithmetic, min/max, PRelu and
 * compares; Pow, Where, Clip, float<->double Cast) is a candidate.  Walking
 * the nodes in order, a candidate joins the group of each candidate that
 * produces one of its operands when
 *   - both have the same output shape (no value is computed more often than
 *     unfused; inputs may broadcast),
 *   - the union stays within the program limits (inputs, instructions,
 *     outputs, tile slots),
 *   - the union is convex: no path leaves it and comes back through another
 *     node (the fused node would depend on itself), and no random node lies
 *     on a path out of it before its last member (it would have to move).
 * Then a ReduceSum over every axis but the last of a group's value joins the
 * group as a reduction output, under the same convexity rule. */
#include <stdio.h>
#include <string.h>

#include "../../kernels/cpu/fused.h"
#include "../../ops/elementwise_ops.h"
#include "../core/alloc.h"
#include "fuse_internal.h"

typedef struct ew_desc {
    bool ok;
    ot_fx_kind kind;
    int sub;
    ot_unary_params p;
    int ops[3];             /* operand values, -1 absent */
    bool has_k[3];          /* operand given as a number (Clip < 11 attributes) */
    double k[3];
    int out;
} ew_desc;

typedef struct ew_group {
    bool alive;
    int n, nodes[OT_FX_MAX_INS];
    int n_red, red[OT_FX_MAX_REDUCE];
    bool red_keep[OT_FX_MAX_REDUCE];
} ew_group;

typedef struct ew_ctx {
    ot_fuse_ctx *c;
    ew_desc *d;
    ew_group *groups;
    int *grp;               /* per node: its group or -1 */
    int *mark, stamp;       /* members of the set under test */
    int *seen, seen_stamp;  /* convexity search */
    int *stack;
} ew_ctx;

static const struct {
    const char *name;
    ot_binary_op op;
} ew_binary[] = {
    {"Add", OT_BIN_ADD}, {"Sub", OT_BIN_SUB}, {"Mul", OT_BIN_MUL}, {"Div", OT_BIN_DIV},
    {"PRelu", OT_BIN_PRELU}, {"Sum", OT_BIN_ADD}, {"Min", OT_BIN_MIN}, {"Max", OT_BIN_MAX},
    {"Equal", OT_BIN_EQ}, {"Less", OT_BIN_LT}, {"LessOrEqual", OT_BIN_LE}, {"Greater", OT_BIN_GT},
    {"GreaterOrEqual", OT_BIN_GE},
};

static bool ew_fp(const ot_graph *g, int v) {
    return v >= 0 && ot_fuse_known(g, v) && (g->values[v].dtype == OT_FLOAT || g->values[v].dtype == OT_DOUBLE);
}

static ot_dtype ew_dt(const ot_graph *g, int v) { return g->values[v].dtype; }

/* What node i computes, if the interpreter has it. */
static void ew_describe(const ot_fuse_ctx *c, int i, ew_desc *d) {
    const ot_graph *g = c->g;
    const ot_node *n = &g->nodes[i];
    const ot_op_def *def = c->def[i];
    memset(d, 0, sizeof *d);
    d->ops[0] = d->ops[1] = d->ops[2] = -1;
    if (!def || !(def->traits & OT_TRAIT_ELEMENTWISE) || (def->traits & OT_TRAIT_RANDOM) || n->n_outputs != 1 ||
        n->outputs[0] < 0 || !ot_fuse_known(g, n->outputs[0]) || c->is_static[n->outputs[0]])
        return;
    d->out = n->outputs[0];
    for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k] >= 0 && !ot_fuse_known(g, n->inputs[k])) return;
    const int64_t opset = ot_graph_opset(g, n->domain);
    const int nin = n->n_inputs;
    const int *in = n->inputs;
    const ot_dtype t = ew_dt(g, d->out);
    if (def->parse == ot_ew_unary_parse) {
        ot_ew_unary_attrs a;
        memset(&a, 0, sizeof a);
        if (nin != 1 || !ew_fp(g, in[0]) || ot_ew_unary_parse(n, opset, &a)) return;
        if (a.op == OT_UN_NOT || a.op == OT_UN_BITWISE_NOT) return;
        d->kind = OT_FX_UNARY, d->sub = (int)a.op, d->p = a.p, d->ops[0] = in[0];
    } else if (def->parse == ot_ew_ugrad_parse) {
        ot_ew_ugrad_attrs a;
        memset(&a, 0, sizeof a);
        if (nin != 2 || !ew_fp(g, in[0]) || !ew_fp(g, in[1]) || ot_ew_ugrad_parse(n, opset, &a)) return;
        d->kind = OT_FX_UGRAD, d->sub = (int)a.op, d->p = a.p, d->ops[0] = in[0], d->ops[1] = in[1];
    } else if (n->domain[0]) {
        return;
    } else if (!strcmp(n->op_type, "Where")) {
        if (nin != 3 || ew_dt(g, in[0]) != OT_BOOL || !ew_fp(g, in[1]) || !ew_fp(g, in[2])) return;
        d->kind = OT_FX_WHERE, d->ops[0] = in[0], d->ops[1] = in[1], d->ops[2] = in[2];
    } else if (!strcmp(n->op_type, "Pow")) {
        if (nin != 2 || !ew_fp(g, in[0]) || !ew_fp(g, in[1])) return;
        d->kind = OT_FX_POW, d->ops[0] = in[0], d->ops[1] = in[1];
    } else if (!strcmp(n->op_type, "Cast")) {
        if (nin != 1 || !ew_fp(g, in[0]) || (t != OT_FLOAT && t != OT_DOUBLE)) return;
        d->kind = OT_FX_CAST, d->ops[0] = in[0];
    } else if (!strcmp(n->op_type, "Clip")) {
        if (nin < 1 || !ew_fp(g, in[0])) return;
        d->kind = OT_FX_CLIP, d->ops[0] = in[0];
        if (opset < 11) {
            ot_ew_clip_attrs a;
            if (ot_ew_clip_parse(n, opset, &a)) return;
            d->has_k[1] = d->has_k[2] = true, d->k[1] = a.lo, d->k[2] = a.hi;
        }
        for (int k = 1; k < 3 && k < nin && opset >= 11; k++) {
            if (in[k] < 0) continue;
            if (!ew_fp(g, in[k]) || ot_fuse_numel(g, in[k]) != 1) return;
            d->ops[k] = in[k];
        }
    } else {
        size_t b = 0, nb = sizeof ew_binary / sizeof ew_binary[0];
        while (b < nb && strcmp(ew_binary[b].name, n->op_type)) b++;
        if (b == nb || nin != 2 || !ew_fp(g, in[0]) || !ew_fp(g, in[1])) return;
        d->kind = OT_FX_BINARY, d->sub = (int)ew_binary[b].op, d->ops[0] = in[0], d->ops[1] = in[1];
    }
    /* One float type through the op (Cast excepted), bool out of compares. */
    bool cmp = d->kind == OT_FX_BINARY && ot_binary_is_compare((ot_binary_op)d->sub);
    ot_dtype work = d->kind == OT_FX_CAST ? ew_dt(g, in[0]) : cmp ? ew_dt(g, d->ops[0]) : t;
    if (cmp ? t != OT_BOOL : (t != OT_FLOAT && t != OT_DOUBLE)) return;
    for (int k = 0; k < 3; k++)
        if (d->ops[k] >= 0 && !(d->kind == OT_FX_WHERE && k == 0) && ew_dt(g, d->ops[k]) != work) return;
    d->ok = true;
}

/* ---- set tests ------------------------------------------------------------------------ */

static void ew_mark(ew_ctx *e, const int *set, int n) {
    e->stamp++;
    for (int k = 0; k < n; k++) e->mark[set[k]] = e->stamp;
}

static bool ew_in(const ew_ctx *e, int node) { return e->mark[node] == e->stamp; }

/* Is v used outside the marked set (or a graph output)? */
static bool ew_used_outside(const ew_ctx *e, int v) {
    const ot_fuse_ctx *c = e->c;
    if (c->ext[v]) return true;
    for (int u = c->use_at[v]; u < c->use_at[v + 1]; u++)
        if (!ew_in(e, c->uses[u])) return true;
    return false;
}

/* Limits of the program the marked set `set` (elementwise members first,
   n_ew of them, then ReduceSums) would make. */
static bool ew_fits(ew_ctx *e, const int *set, int n_ew, int n) {
    const ot_fuse_ctx *c = e->c;
    int inputs[OT_FX_MAX_INPUTS + 1], n_in = 0, consts[OT_FX_MAX_INS + 1], n_k = 0, n_ins = n_ew, n_out = 0;
    double kv;
    ew_mark(e, set, n);
    for (int m = 0; m < n_ew; m++) {
        const ew_desc *d = &e->d[set[m]];
        for (int k = 0; k < 3; k++) {
            int v = d->ops[k];
            if (d->has_k[k]) n_ins++;
            if (v < 0 || (c->producer[v] >= 0 && ew_in(e, c->producer[v]))) continue;
            bool is_k = ot_fuse_scalar_const(c, v, &kv);
            int *list = is_k ? consts : inputs, *cnt = is_k ? &n_k : &n_in, q = 0;
            while (q < *cnt && list[q] != v) q++;
            if (q == *cnt) {
                if (*cnt > (is_k ? OT_FX_MAX_INS : OT_FX_MAX_INPUTS) - 1) return false;
                list[(*cnt)++] = v;
            }
        }
        if (ew_used_outside(e, d->out)) n_out++;
    }
    n_ins += n_k;
    return n_in >= 1 && n_ins <= OT_FX_MAX_INS && n_out <= OT_FX_MAX_OUTPUTS && n - n_ew <= OT_FX_MAX_REDUCE &&
           n_out + (n - n_ew) >= 1;
}

/* Pushes the unseen readers (outside the set, before `anchor`) of node's
   outputs; false when `from_outside` and a reader is in the set (a path
   left the set and came back). */
static bool ew_push_readers(ew_ctx *e, int node, int anchor, bool from_outside, int *top) {
    const ot_fuse_ctx *c = e->c;
    const ot_node *nd = &c->g->nodes[node];
    for (int o = 0; o < nd->n_outputs; o++) {
        int v = nd->outputs[o];
        for (int u = v >= 0 ? c->use_at[v] : 0; v >= 0 && u < c->use_at[v + 1]; u++) {
            int w = c->uses[u];
            if (ew_in(e, w)) {
                if (from_outside) return false;
            } else if (w < anchor && e->seen[w] != e->seen_stamp) {
                e->seen[w] = e->seen_stamp;
                e->stack[(*top)++] = w;
            }
        }
    }
    return true;
}

/* No path from the set back into it through other nodes, and no random node
   reachable from it before its last member (the anchor): nodes there that
   depend on the set move after the fused node, and a random one must not. */
static bool ew_convex(ew_ctx *e, const int *set, int n) {
    const ot_fuse_ctx *c = e->c;
    int anchor = 0, top = 0;
    for (int k = 0; k < n; k++) anchor = set[k] > anchor ? set[k] : anchor;
    ew_mark(e, set, n);
    e->seen_stamp++;
    for (int k = 0; k < n; k++) ew_push_readers(e, set[k], anchor, false, &top);
    while (top > 0) {
        int node = e->stack[--top];
        if (c->def[node] && (c->def[node]->traits & OT_TRAIT_RANDOM)) return false;
        if (!ew_push_readers(e, node, anchor, true, &top)) return false;
    }
    return true;
}

/* The union of groups a and b (or b alone with extra node x) if it passes. */
static bool ew_try(ew_ctx *e, const ew_group *a, const ew_group *b, int extra_red) {
    int set[2 * OT_FX_MAX_INS + 2 * OT_FX_MAX_REDUCE + 1], n = 0, n_ew;
    if (a->n + (b ? b->n : 0) > OT_FX_MAX_INS) return false;
    for (int k = 0; k < a->n; k++) set[n++] = a->nodes[k];
    for (int k = 0; b && k < b->n; k++) set[n++] = b->nodes[k];
    n_ew = n;
    for (int k = 0; k < a->n_red; k++) set[n++] = a->red[k];
    for (int k = 0; b && k < b->n_red; k++) set[n++] = b->red[k];
    if (extra_red >= 0) set[n++] = extra_red;
    return ew_fits(e, set, n_ew, n) && ew_convex(e, set, n);
}

/* ReduceSum node r sums its input over every axis but the last. */
static bool ew_bias_reduce(const ot_fuse_ctx *c, int r, bool *keep) {
    const ot_graph *g = c->g;
    const ot_node *n = &g->nodes[r];
    if (strcmp(n->op_type, "ReduceSum") || n->domain[0] || !c->def[r] || n->n_outputs != 1 || n->outputs[0] < 0 ||
        n->n_inputs < 1 || !ew_fp(g, n->inputs[0]) || c->is_static[n->outputs[0]] || !ot_fuse_known(g, n->outputs[0]))
        return false;
    int rank = g->values[n->inputs[0]].rank;
    int64_t k, noop, axes[OT_MAX_RANK];
    int na = 0;
    if (rank < 2 || ot_attr_get_int(n, "keepdims", 1, &k) || ot_attr_get_int(n, "noop_with_empty_axes", 0, &noop))
        return false;
    *keep = k != 0;
    if (n->n_inputs > 1 && n->inputs[1] >= 0) {
        const ot_value *av = &g->values[n->inputs[1]];
        const ot_tensor *t = av->init;
        if (c->producer[n->inputs[1]] >= 0) {
            const ot_attr *a = ot_node_attr(&g->nodes[c->producer[n->inputs[1]]], "value");
            t = !strcmp(g->nodes[c->producer[n->inputs[1]]].op_type, "Constant") && a && a->type == OT_ATTR_TENSOR ? a->t : NULL;
        }
        int64_t cnt;
        if (!t || !t->data || ot_tensor_to_i64(t, axes, OT_MAX_RANK, &cnt) || cnt > OT_MAX_RANK) return false;
        na = (int)cnt;
    } else {
        const int64_t *v;
        if (ot_attr_get_ints(n, "axes", &v, &na) || na > OT_MAX_RANK) return false;
        for (int q = 0; q < na; q++) axes[q] = v[q];
    }
    bool reduced[OT_MAX_RANK] = {false};
    for (int q = 0; q < na; q++) {
        int64_t a = axes[q] < 0 ? axes[q] + rank : axes[q];
        if (a < 0 || a >= rank) return false;
        reduced[a] = true;
    }
    for (int q = 0; q < rank; q++)
        if (reduced[q] != (q < rank - 1)) return false;
    return na > 0;
}

/* ---- emission -------------------------------------------------------------------------- */

typedef struct ew_prog {
    ot_fx_prog p;
    int reg_val[OT_FX_MAX_INPUTS + OT_FX_MAX_INS]; /* value held by each register (-1: none) */
    int n_regs;
    int in_vals[OT_FX_MAX_INPUTS];
    double consts[OT_FX_MAX_INS];
    int n_consts;
    int const_ins[OT_FX_MAX_INS];                  /* per instruction: its constants entry, -1 */
} ew_prog;

static int ew_reg_of(const ew_prog *q, int v) {
    for (int r = 0; r < q->n_regs; r++)
        if (q->reg_val[r] == v) return r;
    return -1;
}

static int ew_add_ins(ew_prog *q, ot_fx_kind kind, int sub, ot_dtype dt, int a, int b, int cc, ot_unary_params p, int v) {
    ot_fx_ins *in = &q->p.ins[q->p.n_ins];
    memset(in, 0, sizeof *in);
    in->kind = kind, in->sub = sub, in->dtype = dt, in->a = a, in->b = b, in->c = cc, in->p = p;
    q->const_ins[q->p.n_ins] = -1;
    q->reg_val[q->n_regs] = v;
    q->p.n_ins++;
    return q->n_regs++;
}

static int ew_add_const(ew_prog *q, double k, ot_dtype dt, int v) {
    ot_unary_params none = {0, 0, 0};
    int r = ew_add_ins(q, OT_FX_CONST, 0, dt, -1, -1, -1, none, v);
    q->const_ins[q->p.n_ins - 1] = q->n_consts;
    q->consts[q->n_consts++] = k;
    return r;
}

/* The program of group `grp` (members sorted), or false when it does not
   fit after all. */
static bool ew_build(ew_ctx *e, const ew_group *grp, ew_prog *q, int *outs, int *n_outs) {
    const ot_fuse_ctx *c = e->c;
    const ot_graph *g = c->g;
    int set[OT_FX_MAX_INS + OT_FX_MAX_REDUCE], n = 0;
    double kv;
    memset(q, 0, sizeof *q);
    for (int k = 0; k < grp->n; k++) set[n++] = grp->nodes[k];
    for (int k = 0; k < grp->n_red; k++) set[n++] = grp->red[k];
    ew_mark(e, set, n);
    for (int m = 0; m < grp->n; m++) /* inputs first: registers 0..n_in-1 */
        for (int k = 0; k < 3; k++) {
            int v = e->d[grp->nodes[m]].ops[k];
            if (v < 0 || (c->producer[v] >= 0 && ew_in(e, c->producer[v])) || ot_fuse_scalar_const(c, v, &kv) ||
                ew_reg_of(q, v) >= 0)
                continue;
            if (q->p.n_in == OT_FX_MAX_INPUTS) return false;
            q->in_vals[q->p.n_in++] = v;
            q->reg_val[q->n_regs++] = v;
        }
    for (int m = 0; m < grp->n; m++) {
        const ew_desc *d = &e->d[grp->nodes[m]];
        int r[3] = {-1, -1, -1};
        ot_dtype work = d->kind == OT_FX_CAST ? ew_dt(g, d->ops[0]) : ew_dt(g, d->out);
        for (int k = 0; k < 3; k++) {
            int v = d->ops[k];
            if (d->has_k[k]) {
                if (q->p.n_ins >= OT_FX_MAX_INS) return false;
                r[k] = ew_add_const(q, d->k[k], work, -1);
                continue;
            }
            if (v < 0) continue;
            r[k] = ew_reg_of(q, v);
            if (r[k] < 0 && ot_fuse_scalar_const(c, v, &kv)) {
                if (q->p.n_ins >= OT_FX_MAX_INS) return false;
                r[k] = ew_add_const(q, kv, ew_dt(g, v), v);
            }
            if (r[k] < 0) return false;
        }
        if (q->p.n_ins >= OT_FX_MAX_INS) return false;
        ew_add_ins(q, d->kind, d->sub, ew_dt(g, d->out), r[0], r[1], r[2], d->p, d->out);
        if (ew_used_outside(e, d->out)) {
            if (q->p.n_out == OT_FX_MAX_OUTPUTS) return false;
            q->p.out_reg[q->p.n_out++] = q->n_regs - 1;
            outs[(*n_outs)++] = d->out;
        }
    }
    for (int k = 0; k < grp->n_red; k++) {
        const ot_node *rn = &g->nodes[grp->red[k]];
        q->p.red_reg[k] = ew_reg_of(q, rn->inputs[0]);
        q->p.red_keepdims[k] = grp->red_keep[k];
        outs[(*n_outs)++] = rn->outputs[0];
    }
    q->p.n_red = grp->n_red;
    /* The kernel iterates over the broadcast of its inputs: it must be the
       members' shape (a rank-raising constant folded into the program would
       break that). */
    int rank = 0;
    int64_t dims[OT_MAX_RANK];
    for (int k = 0; k < q->p.n_in; k++) {
        const ot_value *iv = &g->values[q->in_vals[k]];
        if (ot_shape_broadcast(rank, dims, iv->rank, iv->dims, &rank, dims)) return false;
    }
    const ot_value *ov = &g->values[e->d[grp->nodes[0]].out];
    if (!ot_shape_equal(rank, dims, ov->rank, ov->dims)) return false;
    ot_dtype dts[OT_FX_MAX_INPUTS];
    for (int k = 0; k < q->p.n_in; k++) dts[k] = ew_dt(g, q->in_vals[k]);
    return ot_fx_prog_finalize(&q->p) == OT_OK && ot_fx_prog_check_types(&q->p, dts) == OT_OK;
}

static ot_status ew_emit(ew_ctx *e, ew_group *grp) {
    ot_fuse_ctx *c = e->c;
    ot_graph *g = c->g;
    for (int a = 1; a < grp->n; a++) /* topological order = index order */
        for (int b = a; b > 0 && grp->nodes[b - 1] > grp->nodes[b]; b--) {
            int t = grp->nodes[b];
            grp->nodes[b] = grp->nodes[b - 1];
            grp->nodes[b - 1] = t;
        }
    ew_prog q;
    int outs[OT_FX_MAX_OUTPUTS + OT_FX_MAX_REDUCE], n_outs = 0, members[OT_FX_MAX_INS + OT_FX_MAX_REDUCE], nm = 0;
    int anchor = 0, id;
    if (!ew_build(e, grp, &q, outs, &n_outs)) return OT_OK;
    for (int k = 0; k < grp->n; k++) members[nm++] = grp->nodes[k];
    for (int k = 0; k < grp->n_red; k++) members[nm++] = grp->red[k];
    for (int k = 0; k < nm; k++) anchor = members[k] > anchor ? members[k] : anchor;
    char name[256];
    snprintf(name, sizeof name, "%s/FusedElementwise", g->nodes[grp->nodes[grp->n - 1]].name);
    OT_TRY(ot_fuse_add_node(c, "FusedElementwise", name, q.p.n_in, q.in_vals, n_outs, outs, members, nm, anchor, &id));
    const char *ops[OT_FX_MAX_INS];
    int64_t args[3 * OT_FX_MAX_INS], dtypes[OT_FX_MAX_INS], regs[OT_FX_MAX_OUTPUTS], keep[OT_FX_MAX_REDUCE];
    float params[3 * OT_FX_MAX_INS];
    bool any_params = false;
    for (int i = 0; i < q.p.n_ins; i++) {
        const ot_fx_ins *in = &q.p.ins[i];
        ops[i] = ot_fx_op_name(in->kind, in->sub);
        args[3 * i] = in->kind == OT_FX_CONST ? q.const_ins[i] : in->a;
        args[3 * i + 1] = in->b;
        args[3 * i + 2] = in->c;
        dtypes[i] = in->dtype;
        params[3 * i] = in->p.alpha, params[3 * i + 1] = in->p.beta, params[3 * i + 2] = in->p.gamma;
        any_params = any_params || in->p.alpha != 0 || in->p.beta != 0 || in->p.gamma != 0;
    }
    OT_TRY(ot_fuse_attr_strings(g, id, "ops", ops, q.p.n_ins));
    OT_TRY(ot_fuse_attr_ints(g, id, "args", args, 3 * q.p.n_ins));
    OT_TRY(ot_fuse_attr_ints(g, id, "dtypes", dtypes, q.p.n_ins));
    if (any_params) OT_TRY(ot_fuse_attr_floats(g, id, "params", params, 3 * q.p.n_ins));
    if (q.n_consts) OT_TRY(ot_fuse_attr_doubles(g, id, "constants", q.consts, q.n_consts));
    for (int o = 0; o < q.p.n_out; o++) regs[o] = q.p.out_reg[o];
    if (q.p.n_out) OT_TRY(ot_fuse_attr_ints(g, id, "outputs", regs, q.p.n_out));
    if (q.p.n_red) {
        for (int k = 0; k < q.p.n_red; k++) regs[k] = q.p.red_reg[k], keep[k] = q.p.red_keepdims[k];
        OT_TRY(ot_fuse_attr_ints(g, id, "reduce", regs, q.p.n_red));
        OT_TRY(ot_fuse_attr_ints(g, id, "reduce_keepdims", keep, q.p.n_red));
    }
    c->rep->elementwise_groups++;
    c->rep->elementwise_nodes += grp->n;
    c->rep->bias_grads += grp->n_red;
    return OT_OK;
}

/* ---- driver ---------------------------------------------------------------------------- */

static void ew_merge(ew_ctx *e, int into, int from) {
    ew_group *a = &e->groups[into], *b = &e->groups[from];
    for (int k = 0; k < b->n; k++) {
        e->grp[b->nodes[k]] = into;
        a->nodes[a->n++] = b->nodes[k];
    }
    for (int k = 0; k < b->n_red; k++) {
        a->red_keep[a->n_red] = b->red_keep[k];
        a->red[a->n_red++] = b->red[k];
    }
    b->alive = false;
    b->n = b->n_red = 0;
}

static void ew_grow(ew_ctx *e) {
    const ot_fuse_ctx *c = e->c;
    const ot_graph *g = c->g;
    for (int i = 0; i < c->n_orig; i++) {
        if (!e->d[i].ok) continue;
        e->grp[i] = i;
        e->groups[i].alive = true;
        e->groups[i].n = 1;
        e->groups[i].nodes[0] = i;
        for (int k = 0; k < 3; k++) {
            int v = e->d[i].ops[k], p = v >= 0 ? c->producer[v] : -1;
            if (p < 0 || !e->d[p].ok || e->grp[p] == e->grp[i]) continue;
            if (!ot_fuse_same_shape(g, e->d[p].out, e->d[i].out)) continue;
            int gp = e->grp[p], gi = e->grp[i];
            if (ew_try(e, &e->groups[gp], &e->groups[gi], -1)) ew_merge(e, gp, gi);
        }
    }
    for (int r = 0; r < c->n_orig; r++) {
        bool keep;
        if (!ew_bias_reduce(c, r, &keep)) continue;
        int p = c->producer[g->nodes[r].inputs[0]];
        if (p < 0 || !e->d[p].ok) continue;
        ew_group *grp = &e->groups[e->grp[p]];
        if (grp->n_red == OT_FX_MAX_REDUCE || !ew_try(e, grp, NULL, r)) continue;
        grp->red_keep[grp->n_red] = keep;
        grp->red[grp->n_red++] = r;
    }
}

ot_status ot_fuse_elementwise(ot_fuse_ctx *c) {
    int nn = c->n_orig;
    ew_ctx e;
    memset(&e, 0, sizeof e);
    e.c = c;
    e.d = ot_calloc((size_t)nn + 1, sizeof *e.d);
    e.groups = ot_calloc((size_t)nn + 1, sizeof *e.groups);
    e.grp = ot_malloc(sizeof(int) * ((size_t)nn + 1));
    e.mark = ot_calloc((size_t)nn + 1, sizeof(int));
    e.seen = ot_calloc((size_t)nn + 1, sizeof(int));
    e.stack = ot_malloc(sizeof(int) * ((size_t)nn + 1));
    ot_status s = OT_OK;
    if (!e.d || !e.groups || !e.grp || !e.mark || !e.seen || !e.stack) {
        s = ot_error(OT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < nn; i++) {
        e.grp[i] = -1;
        ew_describe(c, i, &e.d[i]);
    }
    ew_grow(&e);
    for (int i = 0; i < nn && !s; i++) {
        ew_group *grp = &e.groups[i];
        if (grp->alive && (grp->n >= 2 || grp->n_red >= 1)) s = ew_emit(&e, grp);
    }
out:
    ot_free(e.d);
    ot_free(e.groups);
    ot_free(e.grp);
    ot_free(e.mark);
    ot_free(e.seen);
    ot_free(e.stack);
    return s;
}
