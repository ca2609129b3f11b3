/* Gradient rules of the matmul family: MatMul, FusedMatMul, Gemm, Einsum.
 *
 * Products of the gradients are emitted as Gemm (2-D operands, transA /
 * transB instead of Transpose nodes) or as ai.onnxtrain FusedMatMul (batched
 * operands, same flags), so that the backward pass has no Transpose copies:
 * the BLAS reads the operands transposed in place.  Batch dims that the
 * forward broadcast are summed back by ot_grad_set.
 *
 * For Y = op(A) op(B) (op: optional transpose of the last two dims):
 *   dA = dY op(B)^T        (A not transposed)    dA = op(B) dY^T   (transA)
 *   dB = op(A)^T dY        (B not transposed)    dB = dY^T op(A)   (transB) */
#include <stdio.h>
#include <string.h>

#include "matmul_ops.h"
#include "kernels/cpu/einsum.h"
#include "src/core/alloc.h"

static int64_t prod(int n, const int64_t *d) {
    int64_t p = 1;
    for (int i = 0; i < n; i++) p *= d[i];
    return p;
}

/* Gemm is emitted at the model's opset, which ot_grad_opset gives only for
   forward nodes of the default domain (FusedMatMul's is ai.onnxtrain's). */
static bool default_domain(const ot_grad_ctx *g) {
    const char *d = ot_grad_node(g)->domain;
    return !d || !d[0] || !strcmp(d, "ai.onnx");
}

static ot_status emit_fused(ot_grad_ctx *g, int a, int b, bool ta, bool tb, int *out) {
    int in[2] = {a, b};
    ot_grad_attr at[2] = {{.name = "transA", .type = OT_ATTR_INT, .i = ta},
                          {.name = "transB", .type = OT_ATTR_INT, .i = tb}};
    return ot_grad_emit(g, "FusedMatMul", OT_DOMAIN_TRAIN, 2, in, 1, out, 2, at);
}

/* Y = alpha op(a) op(b) of 2-D operands as a Gemm.  C is optional only from
   opset 11: before, a zero scalar with beta = 0 stands in (never read).
   Where Gemm cannot be emitted (a model below opset 6, or a forward node of
   another domain: alpha is 1 there), FusedMatMul does the same product. */
static ot_status emit_gemm(ot_grad_ctx *g, int a, int b, bool ta, bool tb, float alpha, int *out) {
    int64_t opset = ot_grad_opset(g);
    if (!default_domain(g) || opset < 6) {
        if (alpha != 1.0f) return ot_error(OT_ERR_INTERNAL, "node '%s': scaled product without Gemm", ot_grad_node(g)->name);
        return emit_fused(g, a, b, ta, tb, out);
    }
    ot_grad_attr at[5];
    int n_at = 0, in[3] = {a, b, -1};
    at[n_at++] = (ot_grad_attr){.name = "transA", .type = OT_ATTR_INT, .i = ta};
    at[n_at++] = (ot_grad_attr){.name = "transB", .type = OT_ATTR_INT, .i = tb};
    if (alpha != 1.0f) at[n_at++] = (ot_grad_attr){.name = "alpha", .type = OT_ATTR_FLOAT, .f = alpha};
    if (opset < 11) {
        OT_TRY(ot_grad_const_scalar(g, ot_grad_shape_of(g, a).dtype, 0.0, &in[2]));
        at[n_at++] = (ot_grad_attr){.name = "beta", .type = OT_ATTR_FLOAT, .f = 0.0f};
        if (opset < 7) at[n_at++] = (ot_grad_attr){.name = "broadcast", .type = OT_ATTR_INT, .i = 1};
    }
    return ot_grad_emit(g, "Gemm", "", opset < 11 ? 3 : 2, in, 1, out, n_at, at);
}

/* op(a) op(b) with numpy batch broadcast: Gemm when both are 2-D, else
   FusedMatMul (or MatMul when nothing is transposed). */
static ot_status emit_mm(ot_grad_ctx *g, int a, int b, bool ta, bool tb, int *out) {
    if (ot_grad_shape_of(g, a).rank == 2 && ot_grad_shape_of(g, b).rank == 2)
        return emit_gemm(g, a, b, ta, tb, 1.0f, out);
    if (!ta && !tb) return ot_grad_op2(g, "MatMul", a, b, out);
    return emit_fused(g, a, b, ta, tb, out);
}

/* Reshape v to rank r dims (skipped when the shape already matches). */
static ot_status reshape(ot_grad_ctx *g, int v, int r, const int64_t *dims, int *out) {
    ot_grad_shape s = ot_grad_shape_of(g, v);
    if (ot_shape_equal(s.rank, s.dims, r, dims)) {
        *out = v;
        return OT_OK;
    }
    return ot_grad_reshape(g, v, r, dims, out);
}

/* Both operands of rank >= 2: Y (batch..., M, N) = op(A) op(B). */
static ot_status mm_grad_nd(ot_grad_ctx *g, bool ta, bool tb) {
    int A = ot_grad_x(g, 0), B = ot_grad_x(g, 1), dY = ot_grad_dy(g, 0);
    ot_grad_shape sa = ot_grad_shape_of(g, A), sb = ot_grad_shape_of(g, B), sy = ot_grad_shape_of(g, dY);
    int dx;
    if (ot_grad_needs(g, 0)) {
        if (!ta) OT_TRY(emit_mm(g, dY, B, false, !tb, &dx));
        else OT_TRY(emit_mm(g, B, dY, tb, true, &dx));
        OT_TRY(ot_grad_set(g, 0, dx));
    }
    if (!ot_grad_needs(g, 1)) return OT_OK;
    if (sb.rank == 2 && sa.rank > 2 && !ta) {
        /* B shared by a batch of A (a Linear layer on (B, T, C) input): the
           batch sum is one GEMM over the flattened rows, no (batch, K, N)
           intermediate. */
        int64_t P = prod(sa.rank - 1, sa.dims), K = sa.dims[sa.rank - 1], N = sy.dims[sy.rank - 1];
        int64_t a2[2] = {P, K}, y2[2] = {P, N};
        int af, yf;
        OT_TRY(reshape(g, A, 2, a2, &af));
        OT_TRY(reshape(g, dY, 2, y2, &yf));
        if (!tb) OT_TRY(emit_gemm(g, af, yf, true, false, 1.0f, &dx));
        else OT_TRY(emit_gemm(g, yf, af, true, false, 1.0f, &dx));
        return ot_grad_set(g, 1, dx);
    }
    if (!tb) OT_TRY(emit_mm(g, A, dY, !ta, false, &dx));
    else OT_TRY(emit_mm(g, dY, A, true, ta, &dx));
    return ot_grad_set(g, 1, dx);
}

/* numpy promotion of 1-D operands: A (K) is a (1, K) row, B (K) a (K, 1)
   column, and the unit dim is removed from Y. */
static ot_status mm_grad_1d(ot_grad_ctx *g) {
    int A = ot_grad_x(g, 0), B = ot_grad_x(g, 1), dY = ot_grad_dy(g, 0);
    ot_grad_shape sa = ot_grad_shape_of(g, A), sb = ot_grad_shape_of(g, B), sy = ot_grad_shape_of(g, dY);
    int dx;
    if (sa.rank == 1 && sb.rank == 1) { /* dot product: Y is a scalar */
        if (ot_grad_needs(g, 0)) {
            OT_TRY(ot_grad_op2(g, "Mul", dY, B, &dx));
            OT_TRY(ot_grad_set(g, 0, dx));
        }
        if (ot_grad_needs(g, 1)) {
            OT_TRY(ot_grad_op2(g, "Mul", dY, A, &dx));
            OT_TRY(ot_grad_set(g, 1, dx));
        }
        return OT_OK;
    }
    int64_t d[OT_MAX_RANK];
    if (sa.rank == 1) { /* B (bb..., K, N), Y (bb..., N) */
        int64_t K = sa.dims[0];
        int y2;
        memcpy(d, sy.dims, sizeof(int64_t) * (size_t)sy.rank);
        d[sy.rank] = d[sy.rank - 1];
        d[sy.rank - 1] = 1;
        OT_TRY(reshape(g, dY, sy.rank + 1, d, &y2)); /* (bb..., 1, N) */
        if (ot_grad_needs(g, 0)) {
            if (sb.rank == 2) OT_TRY(ot_grad_op2(g, "MatMul", B, dY, &dx)); /* (K, N) (N) -> (K) */
            else OT_TRY(emit_mm(g, y2, B, false, true, &dx));                 /* (bb..., 1, K), summed */
            OT_TRY(ot_grad_set(g, 0, dx));
        }
        if (ot_grad_needs(g, 1)) { /* outer products a dY^T: (K, 1) (bb..., 1, N) */
            int64_t col[2] = {K, 1};
            int a2;
            OT_TRY(reshape(g, A, 2, col, &a2));
            OT_TRY(ot_grad_op2(g, "MatMul", a2, y2, &dx));
            OT_TRY(ot_grad_set(g, 1, dx));
        }
        return OT_OK;
    }
    /* A (ba..., M, K), B (K), Y (ba..., M) */
    int64_t K = sb.dims[0];
    if (ot_grad_needs(g, 0)) { /* outer products dY b^T: (ba..., M, 1) (1, K) */
        int64_t row[2] = {1, K};
        int y2, b2;
        memcpy(d, sy.dims, sizeof(int64_t) * (size_t)sy.rank);
        d[sy.rank] = 1;
        OT_TRY(reshape(g, dY, sy.rank + 1, d, &y2));
        OT_TRY(reshape(g, B, 2, row, &b2));
        OT_TRY(ot_grad_op2(g, "MatMul", y2, b2, &dx));
        OT_TRY(ot_grad_set(g, 0, dx));
    }
    if (ot_grad_needs(g, 1)) { /* dB = sum over rows of A weighted by dY: (P) (P, K) -> (K) */
        int64_t P = prod(sa.rank - 1, sa.dims), a2d[2] = {P, K};
        int y1, a2;
        OT_TRY(reshape(g, dY, 1, &P, &y1));
        OT_TRY(reshape(g, A, 2, a2d, &a2));
        OT_TRY(ot_grad_op2(g, "MatMul", y1, a2, &dx));
        OT_TRY(ot_grad_set(g, 1, dx));
    }
    return OT_OK;
}

ot_status ot_matmul_grad(ot_grad_ctx *g) {
    if (ot_grad_dy(g, 0) < 0) return OT_OK;
    ot_grad_shape sa = ot_grad_shape_of(g, ot_grad_x(g, 0)), sb = ot_grad_shape_of(g, ot_grad_x(g, 1));
    if (sa.rank == 1 || sb.rank == 1) return mm_grad_1d(g);
    return mm_grad_nd(g, false, false);
}

ot_status ot_fused_matmul_grad(ot_grad_ctx *g) {
    const fmm_attrs *at = ot_grad_attrs(g);
    if (ot_grad_dy(g, 0) < 0) return OT_OK;
    ot_grad_shape sa = ot_grad_shape_of(g, ot_grad_x(g, 0)), sb = ot_grad_shape_of(g, ot_grad_x(g, 1));
    if (sa.rank == 1 || sb.rank == 1) {
        if (!at->ta && !at->tb) return mm_grad_1d(g);
        return ot_error(OT_ERR_UNSUPPORTED, "node '%s': FusedMatMul gradient with a 1-D operand and a transposed one",
                        ot_grad_node(g)->name);
    }
    return mm_grad_nd(g, at->ta, at->tb);
}

/* ======================= Gemm ======================= */

/* Y = alpha op(A) op(B) + beta C: the products as Gemms with the flags
   chosen so no operand is transposed by a node; dC = beta dY, summed over
   the dims C broadcast along (ot_grad_set). */
ot_status ot_gemm_grad(ot_grad_ctx *g) {
    const gemm_attrs *at = ot_grad_attrs(g);
    int A = ot_grad_x(g, 0), B = ot_grad_x(g, 1), dY = ot_grad_dy(g, 0);
    if (dY < 0) return OT_OK;
    bool ta = at->trans_a, tb = at->trans_b;
    float alpha = at->alpha;
    int dx;
    if (ot_grad_needs(g, 0)) {
        if (!ta) OT_TRY(emit_gemm(g, dY, B, false, !tb, alpha, &dx));
        else OT_TRY(emit_gemm(g, B, dY, tb, true, alpha, &dx));
        OT_TRY(ot_grad_set(g, 0, dx));
    }
    if (ot_grad_needs(g, 1)) {
        if (!tb) OT_TRY(emit_gemm(g, A, dY, !ta, false, alpha, &dx));
        else OT_TRY(emit_gemm(g, dY, A, true, ta, alpha, &dx));
        OT_TRY(ot_grad_set(g, 1, dx));
    }
    if (ot_grad_x(g, 2) >= 0 && ot_grad_needs(g, 2)) {
        dx = dY;
        if (at->beta != 1.0f) {
            int beta;
            OT_TRY(ot_grad_const_scalar(g, ot_grad_shape_of(g, dY).dtype, at->beta, &beta));
            OT_TRY(ot_grad_op2(g, "Mul", dY, beta, &dx));
        }
        OT_TRY(ot_grad_set(g, 2, dx));
    }
    return OT_OK;
}

/* ======================= Einsum ======================= */

/* The gradient of operand k is an einsum of dY with the other operands whose
 * output subscripts are operand k's:
 *   - a subscript repeated in operand k (a diagonal, "ii->i") keeps its first
 *     occurrence; each later one gets a fresh letter f and an identity
 *     operand I(l, f), so the gradient is zero off the diagonal;
 *   - a subscript only operand k has, once, and the output lacks (summed out
 *     early, "ij->i"'s j) cannot be an einsum output: it is left out, and the
 *     result is reshaped with a unit dim there and Expanded;
 *   - a subscript of size 1 in operand k that broadcasts against a larger
 *     size elsewhere gets the full size from the einsum, and ot_grad_set sums
 *     it back;
 *   - ellipsis dims become ordinary letters (ones the equation leaves free). */

typedef struct es_builder {
    char text[1024];
    size_t len;
} es_builder;

static void es_put(es_builder *b, char ch) {
    if (b->len + 1 < sizeof b->text) b->text[b->len++] = ch;
    b->text[b->len] = 0;
}

static char letter(int id) { return (char)(id < 26 ? 'A' + id : 'a' + id - 26); }

/* A float identity matrix (n, n) of dtype dt: an int64 constant, reshaped
   and cast (all folded at compile time). */
static ot_status emit_identity(ot_grad_ctx *g, ot_dtype dt, int64_t n, int *out) {
    if (n > 4096)
        return ot_error(OT_ERR_UNSUPPORTED, "node '%s': Einsum gradient through a diagonal of size %lld (at most 4096)",
                        ot_grad_node(g)->name, (long long)n);
    int64_t *eye = ot_calloc((size_t)(n > 0 ? n * n : 1), sizeof *eye);
    if (!eye) return ot_error(OT_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) eye[i * n + i] = 1;
    int flat, sq;
    int64_t dims[2] = {n, n};
    ot_status s = ot_grad_const_i64(g, (int)(n * n), eye, &flat);
    ot_free(eye);
    OT_TRY(s);
    OT_TRY(ot_grad_reshape(g, flat, 2, dims, &sq));
    ot_grad_attr to = {.name = "to", .type = OT_ATTR_INT, .i = dt};
    return ot_grad_emit(g, "Cast", "", 1, &sq, 1, out, 1, &to);
}

static ot_status einsum_grad_operand(ot_grad_ctx *g, const ot_einsum_shape *sh, const char *map, int k) {
    int n_in = sh->n_in, dY = ot_grad_dy(g, 0);
    ot_dtype dt = ot_grad_shape_of(g, dY).dtype;
    int ops[OT_EINSUM_MAX_INPUTS], n_ops = 0;
    es_builder eq = {{0}, 0};
    /* dY, then the other operands as they are */
    ops[n_ops++] = dY;
    for (int d = 0; d < sh->out_rank; d++) es_put(&eq, map[sh->out_lab[d]]);
    for (int j = 0; j < n_in; j++) {
        if (j == k) continue;
        ops[n_ops++] = ot_grad_x(g, j);
        es_put(&eq, ',');
        for (int d = 0; d < sh->rank[j]; d++) es_put(&eq, map[sh->lab[j][d]]);
    }
    /* Operand k's dims: kept (first occurrence), fresh (repeat), or lonely. */
    int rk = sh->rank[k];
    char out_lab[OT_MAX_RANK];
    int n_out = 0;
    bool any_lonely = false;
    int64_t full[OT_MAX_RANK];     /* the gradient's shape before the sum back */
    int64_t unit[OT_MAX_RANK];     /* the same with 1 at lonely dims */
    bool used[128] = {0};
    for (int l = 0; l < OT_EINSUM_MAX_LABELS; l++)
        if (map[l]) used[(int)map[l]] = true;
    int next_free = 0;
    for (int d = 0; d < rk; d++) {
        int l = sh->lab[k][d], first = d;
        for (int e = 0; e < d; e++)
            if (sh->lab[k][e] == l) {
                first = e;
                break;
            }
        full[d] = unit[d] = sh->size[l];
        if (first < d) { /* repeat: fresh letter and an identity operand */
            while (next_free < 52 && used[(int)letter(next_free)]) next_free++;
            if (next_free == 52 || n_ops == OT_EINSUM_MAX_INPUTS)
                return ot_error(OT_ERR_UNSUPPORTED, "node '%s': Einsum gradient needs more subscript letters or "
                                "operands than an equation can hold", ot_grad_node(g)->name);
            char f = letter(next_free);
            used[(int)f] = true;
            OT_TRY(emit_identity(g, dt, sh->size[l], &ops[n_ops++]));
            es_put(&eq, ',');
            es_put(&eq, map[l]);
            es_put(&eq, f);
            out_lab[n_out++] = f;
            continue;
        }
        int uses = 0;
        for (int j = 0; j < n_in; j++)
            for (int e = 0; e < sh->rank[j]; e++) uses += sh->lab[j][e] == l;
        for (int e = 0; e < sh->out_rank; e++) uses += sh->out_lab[e] == l;
        if (uses == 1) { /* only here, once: summed out by the forward */
            any_lonely = true;
            full[d] = sh->in_dims[k][d];
            unit[d] = 1;
            continue;
        }
        out_lab[n_out++] = map[l];
    }
    es_put(&eq, '-');
    es_put(&eq, '>');
    for (int i = 0; i < n_out; i++) es_put(&eq, out_lab[i]);
    /* The einsum, unless it would copy dY as it is. */
    int dx = dY;
    bool copy = n_ops == 1 && n_out == sh->out_rank;
    for (int i = 0; copy && i < n_out; i++) copy = out_lab[i] == map[sh->out_lab[i]];
    if (!copy) {
        ot_grad_attr at = {.name = "equation", .type = OT_ATTR_STRING, .s = eq.text};
        OT_TRY(ot_grad_emit(g, "Einsum", "", n_ops, ops, 1, &dx, 1, &at));
    }
    if (any_lonely) {
        int shape, r;
        OT_TRY(reshape(g, dx, rk, unit, &r));
        OT_TRY(ot_grad_const_i64(g, rk, full, &shape));
        int in[2] = {r, shape};
        OT_TRY(ot_grad_emit(g, "Expand", "", 2, in, 1, &dx, 0, NULL));
    }
    return ot_grad_set(g, k, dx);
}

ot_status ot_einsum_grad(ot_grad_ctx *g) {
    const ot_einsum_eq *eq = ot_grad_attrs(g);
    if (ot_grad_dy(g, 0) < 0) return OT_OK;
    int n_in = eq->n_in, ranks[OT_EINSUM_MAX_INPUTS];
    int64_t dims[OT_EINSUM_MAX_INPUTS][OT_MAX_RANK];
    const int64_t *dp[OT_EINSUM_MAX_INPUTS];
    for (int i = 0; i < n_in; i++) {
        ot_grad_shape s = ot_grad_shape_of(g, ot_grad_x(g, i));
        ranks[i] = s.rank;
        memcpy(dims[i], s.dims, sizeof(int64_t) * (size_t)s.rank);
        dp[i] = dims[i];
    }
    ot_einsum_shape sh;
    ot_status s = ot_einsum_resolve(eq, n_in, ranks, dp, &sh);
    if (s != OT_OK) return ot_error_context(s, "node '%s'", ot_grad_node(g)->name);
    /* Letters for every label: its own, or a free one for ellipsis dims. */
    char map[OT_EINSUM_MAX_LABELS] = {0};
    bool used[128] = {0};
    for (int l = 0; l < OT_EINSUM_LETTERS; l++)
        if (sh.size[l] >= 0) {
            map[l] = letter(l);
            used[(int)map[l]] = true;
        }
    int next_free = 0;
    for (int l = OT_EINSUM_LETTERS; l < OT_EINSUM_MAX_LABELS; l++) {
        if (sh.size[l] < 0) continue;
        while (next_free < 52 && used[(int)letter(next_free)]) next_free++;
        if (next_free == 52)
            return ot_error(OT_ERR_UNSUPPORTED, "node '%s': Einsum gradient: no free subscript letter for the ellipsis dims",
                            ot_grad_node(g)->name);
        map[l] = letter(next_free);
        used[(int)map[l]] = true;
    }
    for (int k = 0; k < n_in; k++)
        if (ot_grad_needs(g, k)) OT_TRY(einsum_grad_operand(g, &sh, map, k));
    return OT_OK;
}
