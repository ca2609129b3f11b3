/* FusedElementwise on the CPU: the program of fused.h over tiles of the
 * broadcast output shape.
 *
 * The output shape and the inputs go through ot_bcast_init (operand 0: the
 * contiguous output), which collapses dims and gives each input a byte
 * stride per dim; the innermost stride is then 0 (broadcast) or the element
 * size.  A walk over a range of flat output indices calls fx_run_span on
 * each stretch of the innermost dim, which cuts it into tiles.  Inputs are
 * read in place, registers live in a per-thread register file of tile-sized
 * slots, and an instruction whose result is an output writes it straight
 * into the output. */
#include <omp.h>
#include <string.h>

#include "../../src/core/dtype.h"
#include "../../src/runtime/workspace.h"
#include "fused.h"

#define FX_REGS (OT_FX_MAX_INPUTS + OT_FX_MAX_INS)

typedef struct fx_job {
    const ot_fx_prog *p;
    ot_bcast it;                    /* operand 0: output shape; 1..n_in: inputs */
    char *in_base[OT_FX_MAX_INPUTS];
    char *out_base[OT_FX_MAX_OUTPUTS];
    int out_of[FX_REGS];            /* per register: the output it is, or -1 */
    ot_dtype rdt[FX_REGS];          /* register dtypes */
    size_t res[FX_REGS];            /* their element sizes */
    int64_t row;                    /* reductions: elements per row (the last dim) */
    int failed;                     /* a kernel refused (cannot happen after infer's checks) */
} fx_job;

/* One tile's registers: where each one's elements are and whether it holds
   a single value for the whole tile. */
typedef struct fx_tile {
    const char *ptr[FX_REGS];
    bool uni[FX_REGS];
} fx_tile;

static void fx_fill(void *dst, const void *v, size_t es, int64_t n) {
    char *d = dst;
    if (es == 4) {
        float x;
        memcpy(&x, v, 4);
        for (int64_t i = 0; i < n; i++) ((float *)d)[i] = x;
    } else if (es == 8) {
        double x;
        memcpy(&x, v, 8);
        for (int64_t i = 0; i < n; i++) ((double *)d)[i] = x;
    } else {
        memset(d, *(const unsigned char *)v, (size_t)n);
    }
}

static void fx_fail(fx_job *j) {
#pragma omp atomic write
    j->failed = 1;
}

/* A 1-d tensor descriptor over a register: one element when uniform. */
static ot_tensor fx_desc(const fx_job *j, const fx_tile *t, int r, int64_t n) {
    ot_tensor d;
    memset(&d, 0, sizeof d);
    int64_t len = t->uni[r] ? 1 : n;
    ot_tensor_set_shape(&d, j->rdt[r], 1, &len);
    d.data = (void *)t->ptr[r];
    return d;
}

/* Operand r as a contiguous run of n elements: expanded into `tmp` when uniform. */
static const void *fx_dense(const fx_job *j, const fx_tile *t, int r, int64_t n, char *tmp) {
    if (!t->uni[r] || n == 1) return t->ptr[r];
    fx_fill(tmp, t->ptr[r], j->res[r], n);
    return tmp;
}

/* Instruction i over the tile of n elements at flat index `flat`.  An
   output register is computed straight into the output. */
static void fx_exec(fx_job *j, fx_tile *t, int i, int64_t flat, int64_t n, char *slots, char *expand) {
    const ot_fx_prog *p = j->p;
    const ot_fx_ins *in = &p->ins[i];
    const int r = p->n_in + i;
    char *dst = j->out_of[r] >= 0 ? j->out_base[j->out_of[r]] + (size_t)flat * j->res[r]
                                  : slots + (size_t)in->slot * (size_t)p->slot_bytes;
    bool uni = true;
    if (in->a >= 0) uni = uni && t->uni[in->a];
    if (in->b >= 0) uni = uni && t->uni[in->b];
    if (in->c >= 0) uni = uni && t->uni[in->c];
    const int64_t m = uni ? 1 : n;
    const bool f32 = in->dtype == OT_FLOAT || (in->kind == OT_FX_BINARY && j->rdt[in->a] == OT_FLOAT);
    switch (in->kind) {
    case OT_FX_CONST:
        if (in->dtype == OT_FLOAT) *(float *)dst = (float)in->k;
        else *(double *)dst = in->k;
        break;
    case OT_FX_UNARY:
        if (f32) ot_fused_unary_f32((ot_unary_op)in->sub, &in->p, (const float *)t->ptr[in->a], (float *)dst, m);
        else ot_unary_f64((ot_unary_op)in->sub, &in->p, (const double *)t->ptr[in->a], (double *)dst, m);
        break;
    case OT_FX_UGRAD: {
        const void *dy = fx_dense(j, t, in->a, m, expand), *v = fx_dense(j, t, in->b, m, expand);
        if (f32) {
            if (!ot_fused_ugrad_f32((ot_unary_grad_op)in->sub, &in->p, dy, v, (float *)dst, m))
                ot_unary_grad_f32((ot_unary_grad_op)in->sub, &in->p, dy, v, (float *)dst, m);
        } else ot_unary_grad_f64((ot_unary_grad_op)in->sub, &in->p, dy, v, (double *)dst, m);
        break;
    }
    case OT_FX_BINARY: {
        if (f32 && in->dtype == OT_FLOAT &&
            ot_fused_binary_f32((ot_binary_op)in->sub, (float *)dst, (const float *)t->ptr[in->a], !t->uni[in->a],
                                (const float *)t->ptr[in->b], !t->uni[in->b], m))
            break;
        ot_bcast_fn fn = ot_cpu_binary_fn((ot_binary_op)in->sub, j->rdt[in->a]);
        char *ptr[3] = {dst, (char *)t->ptr[in->a], (char *)t->ptr[in->b]};
        int64_t st[3] = {(int64_t)j->res[r], t->uni[in->a] ? 0 : (int64_t)j->res[in->a],
                         t->uni[in->b] ? 0 : (int64_t)j->res[in->b]};
        if (fn) fn(ptr, st, m, NULL);
        else fx_fail(j);
        break;
    }
    default: { /* Pow, Where, Clip, Cast: the op's own kernel on descriptors */
        ot_tensor y;
        memset(&y, 0, sizeof y);
        ot_tensor_set_shape(&y, in->dtype, 1, &m);
        y.data = dst;
        ot_tensor a = fx_desc(j, t, in->a, m), b, c;
        ot_status s = OT_OK;
        if (in->b >= 0) b = fx_desc(j, t, in->b, m);
        if (in->c >= 0) c = fx_desc(j, t, in->c, m);
        if (in->kind == OT_FX_POW) {
            s = ot_cpu_pow(&a, &b, &y);
        } else if (in->kind == OT_FX_WHERE) {
            s = ot_cpu_where(&a, &b, &c, &y);
        } else if (in->kind == OT_FX_CAST) {
            s = ot_cpu_cast(&a, &y);
        } else { /* Clip bounds are scalars: one element of their register */
            if (in->b >= 0) b.rank = 0;
            if (in->c >= 0) c.rank = 0;
            s = ot_cpu_clip(&a, in->b >= 0 ? &b : NULL, in->c >= 0 ? &c : NULL, &y);
        }
        if (s) fx_fail(j);
        break;
    }
    }
    t->ptr[r] = dst;
    t->uni[r] = uni;
}

/* Adds a tile of register r (n elements starting at flat index `flat`) into
   the column sums acc[row]. */
static void fx_reduce(const fx_job *j, const fx_tile *t, int r, int64_t flat, int64_t n, double *acc) {
    const int64_t row = j->row;
    int64_t col = flat % row, i = 0;
    const bool f32 = j->rdt[r] == OT_FLOAT;
    if (t->uni[r]) {
        const double v = f32 ? *(const float *)t->ptr[r] : *(const double *)t->ptr[r];
        for (; i < n; i++, col = col + 1 == row ? 0 : col + 1) acc[col] += v;
        return;
    }
    while (i < n) {
        int64_t len = row - col < n - i ? row - col : n - i;
        double *a = acc + col;
        if (f32) {
            const float *x = (const float *)t->ptr[r] + i;
#pragma omp simd
            for (int64_t k = 0; k < len; k++) a[k] += x[k];
        } else {
            const double *x = (const double *)t->ptr[r] + i;
#pragma omp simd
            for (int64_t k = 0; k < len; k++) a[k] += x[k];
        }
        i += len;
        col = col + len == row ? 0 : col + len;
    }
}

/* n consecutive output elements from flat index `flat`; ptr/stride: the
   inputs' first elements and innermost strides. */
static void fx_run_span(fx_job *j, char *const *ptr, const int64_t *stride, int64_t flat, int64_t n, double *acc,
                        char *slots, char *expand) {
    const ot_fx_prog *p = j->p;
    fx_tile t;
    for (int64_t t0 = 0; t0 < n; t0 += p->tile) {
        const int64_t len = n - t0 < p->tile ? n - t0 : p->tile;
        for (int k = 0; k < p->n_in; k++) {
            t.ptr[k] = ptr[k] + t0 * stride[k];
            t.uni[k] = stride[k] == 0;
        }
        for (int i = 0; i < p->n_ins; i++) fx_exec(j, &t, i, flat + t0, len, slots, expand);
        for (int o = 0; o < p->n_out; o++) { /* in place already, unless it came out uniform */
            const int r = p->out_reg[o];
            const size_t es = j->res[r];
            char *d = j->out_base[o] + (size_t)(flat + t0) * es;
            if (t.uni[r]) fx_fill(d, t.ptr[r], es, len);
            else if (t.ptr[r] != d) memcpy(d, t.ptr[r], (size_t)len * es); /* an input passed through */
        }
        for (int q = 0; q < p->n_red; q++)
            fx_reduce(j, &t, p->red_reg[q], flat + t0, len, acc + (size_t)q * (size_t)j->row);
    }
}

/* Output elements [start, end) in row-major order (as broadcast.c walks). */
static void fx_walk(fx_job *j, int64_t start, int64_t end, double *acc) {
    const ot_bcast *it = &j->it;
    const int r = it->rank, nk = j->p->n_in;
    int64_t idx[OT_MAX_RANK], inner[OT_FX_MAX_INPUTS], rem = start;
    char *ptr[OT_FX_MAX_INPUTS];
    _Alignas(64) char slots[OT_FX_RF_BYTES]; /* the register file: one tile per slot, then the expansion tile */
    char *expand = slots + (size_t)j->p->n_slots * (size_t)j->p->slot_bytes;
    for (int d = r - 1; d >= 0; d--) {
        idx[d] = rem % it->dims[d];
        rem /= it->dims[d];
    }
    for (int k = 0; k < nk; k++) {
        int64_t off = 0;
        for (int d = 0; d < r; d++) off += idx[d] * it->strides[k + 1][d];
        ptr[k] = j->in_base[k] + off;
        inner[k] = it->strides[k + 1][r - 1];
    }
    int64_t pos = start;
    while (pos < end) {
        int64_t n = it->dims[r - 1] - idx[r - 1];
        if (n > end - pos) n = end - pos;
        fx_run_span(j, ptr, inner, pos, n, acc, slots, expand);
        pos += n;
        idx[r - 1] += n;
        for (int k = 0; k < nk; k++) ptr[k] += n * inner[k];
        for (int d = r - 1; d > 0 && idx[d] == it->dims[d]; d--) {
            for (int k = 0; k < nk; k++) ptr[k] += it->strides[k + 1][d - 1] - it->dims[d] * it->strides[k + 1][d];
            idx[d] = 0;
            idx[d - 1]++;
        }
    }
}

/* Rows per reduction chunk: about 8K elements, at most 256 chunks.  Depends
   on the shape only, so the sums do not depend on the thread count. */
static int64_t fx_chunk_rows(int64_t rows, int64_t row) {
    int64_t rb = row >= 8192 ? 1 : 8192 / row;
    if ((rows + rb - 1) / rb > 256) rb = (rows + 255) / 256;
    return rb;
}

size_t ot_cpu_fused_ew_workspace(const ot_fx_prog *p, int rank, const int64_t *dims) {
    if (!p->n_red) return 0;
    int64_t numel = 1, row = rank ? dims[rank - 1] : 1;
    for (int d = 0; d < rank; d++) numel *= dims[d];
    if (row <= 0 || numel <= 0) return 0;
    int64_t rows = numel / row, chunks = (rows + fx_chunk_rows(rows, row) - 1) / fx_chunk_rows(rows, row);
    return (size_t)chunks * (size_t)p->n_red * (size_t)row * sizeof(double);
}

static ot_status fx_init(fx_job *j, const ot_fx_prog *p, const ot_tensor *const *in, ot_tensor *const *out,
                         const ot_tensor *shape) {
    memset(j, 0, sizeof *j);
    j->p = p;
    int ranks[OT_BCAST_MAX_OPERANDS];
    const int64_t *dims[OT_BCAST_MAX_OPERANDS];
    size_t es[OT_BCAST_MAX_OPERANDS];
    ranks[0] = shape->rank;
    dims[0] = shape->dims;
    es[0] = 1;
    for (int k = 0; k < p->n_in; k++) {
        ranks[k + 1] = in[k]->rank;
        dims[k + 1] = in[k]->dims;
        es[k + 1] = ot_dtype_size(in[k]->dtype);
        j->in_base[k] = in[k]->data;
        j->rdt[k] = in[k]->dtype;
    }
    OT_TRY(ot_bcast_init(&j->it, shape->rank, shape->dims, p->n_in + 1, ranks, dims, es));
    for (int i = 0; i < p->n_ins; i++) j->rdt[p->n_in + i] = p->ins[i].dtype;
    for (int r = 0; r < p->n_in + p->n_ins; r++) j->res[r] = ot_dtype_size(j->rdt[r]);
    for (int r = 0; r < p->n_in + p->n_ins; r++) j->out_of[r] = -1;
    for (int o = 0; o < p->n_out; o++) {
        j->out_base[o] = out[o]->data;
        if (p->out_reg[o] >= p->n_in && j->out_of[p->out_reg[o]] < 0) j->out_of[p->out_reg[o]] = o;
    }
    j->row = shape->rank ? shape->dims[shape->rank - 1] : 1;
    return OT_OK;
}

ot_status ot_cpu_fused_ew(const ot_fx_prog *p, const ot_tensor *const *in, ot_tensor *const *out) {
    if (p->n_in < 1) return ot_error(OT_ERR_INVALID_ARG, "FusedElementwise needs at least one input");
    /* The iteration shape: the broadcast of the inputs (= each main output's). */
    ot_tensor shape;
    memset(&shape, 0, sizeof shape);
    OT_TRY(ot_bcast_shape(p->n_in, in, &shape.rank, shape.dims));
    fx_job j;
    OT_TRY(fx_init(&j, p, in, out, &shape));
    const int64_t total = j.it.numel;
    int64_t grain = p->costly ? OT_GRAIN_COSTLY : OT_GRAIN_CHEAP / (p->n_ins < 8 ? p->n_ins : 8);
    if (grain < OT_GRAIN_COSTLY) grain = OT_GRAIN_COSTLY;
    const int threads = omp_get_max_threads();
    const bool par = threads > 1 && total >= 2 * grain && !omp_in_parallel();
    if (!p->n_red) {
        if (total == 0) return OT_OK;
        if (!par) {
            fx_walk(&j, 0, total, NULL);
        } else {
            int64_t chunks = total / grain;
            if (chunks > (int64_t)threads * 4) chunks = (int64_t)threads * 4;
            const int64_t per = (total + chunks - 1) / chunks;
#pragma omp parallel for schedule(static)
            for (int64_t c = 0; c < chunks; c++) {
                int64_t s = c * per, e = s + per < total ? s + per : total;
                if (s < e) fx_walk(&j, s, e, NULL);
            }
        }
        return j.failed ? ot_error(OT_ERR_INTERNAL, "FusedElementwise: an instruction had no kernel") : OT_OK;
    }
    /* Reductions: fixed row chunks, each with its own column sums, added in
       chunk order at the end. */
    const int64_t row = j.row, rows = row > 0 ? total / row : 0, rb = row > 0 ? fx_chunk_rows(rows, row) : 1;
    const int64_t chunks = rows > 0 ? (rows + rb - 1) / rb : 0, per = rb * row, nr = p->n_red;
    double *acc = NULL;
    if (chunks > 0 && !(acc = ot_workspace_calloc((size_t)(chunks * nr * row), sizeof(double))))
        return ot_error(OT_ERR_NOMEM, "out of memory");
#pragma omp parallel for schedule(static) if (par && chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t s = c * per, e = s + per < total ? s + per : total;
        fx_walk(&j, s, e, acc + c * nr * row);
    }
    for (int q = 0; q < p->n_red; q++) {
        ot_tensor *y = out[p->n_out + q];
        for (int64_t col = 0; col < row; col++) {
            double s = 0;
            for (int64_t c = 0; c < chunks; c++) s += acc[(c * nr + q) * row + col];
            ot_store_f64(y->dtype, y->data, col, s);
        }
    }
    ot_workspace_free(acc);
    return j.failed ? ot_error(OT_ERR_INTERNAL, "FusedElementwise: an instruction had no kernel") : OT_OK;
}
