/* FusedElementwise programs: opcode names, validation, register types and
 * tile-slot assignment (see fused.h). */
#include <string.h>

#include "../../src/core/dtype.h"
#include "fused.h"

static const char *const fx_unary_names[OT_UN_COUNT] = {
#define OT_X(name) #name,
    OT_UNARY_OPS(OT_X)
#undef OT_X
};

static const char *const fx_ugrad_names[OT_UG_COUNT] = {
#define OT_X(name, op_name, uses_y) #name "_GRAD",
    OT_UNARY_GRAD_OPS(OT_X)
#undef OT_X
};

static const struct {
    ot_binary_op op;
    const char *name;
} fx_binary_names[] = {
    {OT_BIN_ADD, "ADD"}, {OT_BIN_SUB, "SUB"}, {OT_BIN_MUL, "MUL"}, {OT_BIN_DIV, "DIV"},
    {OT_BIN_MIN, "MIN"}, {OT_BIN_MAX, "MAX"}, {OT_BIN_PRELU, "PRELU"}, {OT_BIN_EQ, "EQ"},
    {OT_BIN_LT, "LT"},   {OT_BIN_LE, "LE"},   {OT_BIN_GT, "GT"},       {OT_BIN_GE, "GE"},
};
#define FX_N_BINARY ((int)(sizeof fx_binary_names / sizeof fx_binary_names[0]))

static const char *const fx_kind_names[OT_FX_KIND_COUNT] = {
    [OT_FX_CONST] = "CONST", [OT_FX_POW] = "POW", [OT_FX_WHERE] = "WHERE", [OT_FX_CLIP] = "CLIP",
    [OT_FX_CAST] = "CAST",
};

const char *ot_fx_op_name(ot_fx_kind kind, int sub) {
    switch (kind) {
    case OT_FX_UNARY: return sub >= 0 && sub < OT_UN_COUNT ? fx_unary_names[sub] : NULL;
    case OT_FX_UGRAD: return sub >= 0 && sub < OT_UG_COUNT ? fx_ugrad_names[sub] : NULL;
    case OT_FX_BINARY:
        for (int i = 0; i < FX_N_BINARY; i++)
            if ((int)fx_binary_names[i].op == sub) return fx_binary_names[i].name;
        return NULL;
    default: return (int)kind >= 0 && kind < OT_FX_KIND_COUNT ? fx_kind_names[kind] : NULL;
    }
}

bool ot_fx_op_lookup(const char *name, ot_fx_kind *kind, int *sub) {
    *sub = 0;
    for (int k = 0; k < OT_FX_KIND_COUNT; k++)
        if (fx_kind_names[k] && !strcmp(name, fx_kind_names[k])) {
            *kind = (ot_fx_kind)k;
            return true;
        }
    for (int i = 0; i < FX_N_BINARY; i++)
        if (!strcmp(name, fx_binary_names[i].name)) {
            *kind = OT_FX_BINARY;
            *sub = (int)fx_binary_names[i].op;
            return true;
        }
    for (int i = 0; i < OT_UG_COUNT; i++)
        if (!strcmp(name, fx_ugrad_names[i])) {
            *kind = OT_FX_UGRAD;
            *sub = i;
            return true;
        }
    /* Unary maps defined on floats (Not and BitwiseNot are not). */
    for (int i = 0; i < OT_UN_COUNT; i++)
        if (i != OT_UN_NOT && i != OT_UN_BITWISE_NOT && !strcmp(name, fx_unary_names[i])) {
            *kind = OT_FX_UNARY;
            *sub = i;
            return true;
        }
    return false;
}

/* Operand registers of an instruction; returns how many it reads. */
static int fx_operands(const ot_fx_ins *in, int ops[3]) {
    ops[0] = in->a, ops[1] = in->b, ops[2] = in->c;
    switch (in->kind) {
    case OT_FX_CONST: return 0;
    case OT_FX_UNARY: case OT_FX_CAST: return 1;
    case OT_FX_UGRAD: case OT_FX_BINARY: case OT_FX_POW: return 2;
    default: return 3; /* WHERE, CLIP */
    }
}

static bool fx_required(const ot_fx_ins *in, int k) {
    return in->kind != OT_FX_CLIP || k == 0; /* Clip's bounds are optional */
}

ot_status ot_fx_prog_finalize(ot_fx_prog *p) {
    if (p->n_in < 0 || p->n_in > OT_FX_MAX_INPUTS || p->n_ins < 1 || p->n_ins > OT_FX_MAX_INS ||
        p->n_out < 0 || p->n_out > OT_FX_MAX_OUTPUTS || p->n_red < 0 || p->n_red > OT_FX_MAX_REDUCE ||
        p->n_out + p->n_red < 1)
        return ot_error(OT_ERR_INVALID_ARG,
                        "fused program: %d inputs, %d instructions, %d outputs, %d reductions (limits %d, %d, %d, %d)",
                        p->n_in, p->n_ins, p->n_out, p->n_red, OT_FX_MAX_INPUTS, OT_FX_MAX_INS, OT_FX_MAX_OUTPUTS,
                        OT_FX_MAX_REDUCE);
    int n_regs = p->n_in + p->n_ins;
    int last_use[OT_FX_MAX_INPUTS + OT_FX_MAX_INS];
    for (int r = 0; r < n_regs; r++) last_use[r] = -1;
    p->costly = false;
    for (int i = 0; i < p->n_ins; i++) {
        ot_fx_ins *in = &p->ins[i];
        if (!ot_fx_op_name(in->kind, in->sub))
            return ot_error(OT_ERR_INVALID_ARG, "fused program: instruction %d has an unknown opcode", i);
        int ops[3], n_ops = fx_operands(in, ops);
        if (n_ops < 3) in->c = -1; /* the kernel tests unused operands against -1 */
        if (n_ops < 2) in->b = -1;
        if (n_ops < 1) in->a = -1;
        for (int k = 0; k < n_ops; k++) {
            if (ops[k] == -1 && !fx_required(in, k)) continue;
            if (ops[k] < 0 || ops[k] >= p->n_in + i)
                return ot_error(OT_ERR_INVALID_ARG,
                                "fused program: instruction %d (%s) reads register %d before it is defined", i,
                                ot_fx_op_name(in->kind, in->sub), ops[k]);
            last_use[ops[k]] = i;
        }
        if (in->kind == OT_FX_UNARY || in->kind == OT_FX_UGRAD || in->kind == OT_FX_POW) p->costly = true;
    }
    for (int o = 0; o < p->n_out + p->n_red; o++) {
        int r = o < p->n_out ? p->out_reg[o] : p->red_reg[o - p->n_out];
        if (r < 0 || r >= n_regs) return ot_error(OT_ERR_INVALID_ARG, "fused program: output %d names register %d", o, r);
        last_use[r] = p->n_ins; /* read after the last instruction */
    }
    /* Linear-scan slots over the instruction order.  A result never shares
       its operands' slot (Cast changes the element size in place). */
    int slot_of[OT_FX_MAX_INPUTS + OT_FX_MAX_INS], free_list[OT_FX_MAX_SLOTS], n_free = 0, n_slots = 0;
    for (int i = 0; i < p->n_ins; i++) {
        int r = p->n_in + i;
        p->ins[i].slot = n_free ? free_list[--n_free] : n_slots++;
        slot_of[r] = p->ins[i].slot;
        for (int q = p->n_in; q <= r; q++) /* registers whose last reader was this instruction */
            if (last_use[q] == i || (q == r && last_use[q] < 0)) free_list[n_free++] = slot_of[q];
    }
    if (n_slots + 1 > OT_FX_MAX_SLOTS)
        return ot_error(OT_ERR_INVALID_ARG, "fused program needs %d tile slots (at most %d)", n_slots + 1,
                        OT_FX_MAX_SLOTS);
    p->n_slots = n_slots;
    int es = 1;
    for (int i = 0; i < p->n_ins; i++) {
        int e = p->ins[i].dtype == OT_DOUBLE ? 8 : p->ins[i].dtype == OT_BOOL ? 1 : 4;
        es = e > es ? e : es;
    }
    p->tile = (OT_FX_L1_BYTES / ((n_slots + 1) * es)) & ~63;
    if (p->tile < 64) p->tile = 64;
    if (p->tile > OT_FX_TILE_MAX) p->tile = OT_FX_TILE_MAX;
    p->slot_bytes = p->tile * es + OT_FX_SLOT_PAD;
    return OT_OK;
}

ot_dtype ot_fx_reg_dtype(const ot_fx_prog *p, const ot_dtype *in_dtypes, int r) {
    if (r < 0) return OT_UNDEFINED;
    return r < p->n_in ? in_dtypes[r] : p->ins[r - p->n_in].dtype;
}

static bool fx_is_fp(ot_dtype t) { return t == OT_FLOAT || t == OT_DOUBLE; }

ot_status ot_fx_prog_check_types(const ot_fx_prog *p, const ot_dtype *in_dtypes) {
    for (int i = 0; i < p->n_ins; i++) {
        const ot_fx_ins *in = &p->ins[i];
        ot_dtype t = in->dtype, a = ot_fx_reg_dtype(p, in_dtypes, in->a), b = ot_fx_reg_dtype(p, in_dtypes, in->b),
                 c = ot_fx_reg_dtype(p, in_dtypes, in->c);
        bool ok;
        switch (in->kind) {
        case OT_FX_CONST: ok = fx_is_fp(t); break;
        case OT_FX_UNARY: ok = fx_is_fp(t) && a == t; break;
        case OT_FX_UGRAD: case OT_FX_POW: ok = fx_is_fp(t) && a == t && b == t; break;
        case OT_FX_BINARY:
            ok = ot_binary_is_compare((ot_binary_op)in->sub) ? t == OT_BOOL && fx_is_fp(a) && b == a
                                                              : fx_is_fp(t) && a == t && b == t;
            break;
        case OT_FX_WHERE: ok = a == OT_BOOL && fx_is_fp(t) && b == t && c == t; break;
        case OT_FX_CLIP: ok = fx_is_fp(t) && a == t && (in->b < 0 || b == t) && (in->c < 0 || c == t); break;
        case OT_FX_CAST: ok = fx_is_fp(t) && fx_is_fp(a); break;
        default: ok = false; break;
        }
        if (!ok)
            return ot_error(OT_ERR_TYPE, "fused program: instruction %d (%s) does not accept its operand types (%s, %s, %s -> %s)",
                            i, ot_fx_op_name(in->kind, in->sub), a ? ot_dtype_name(a) : "-", b ? ot_dtype_name(b) : "-",
                            c ? ot_dtype_name(c) : "-", ot_dtype_name(t));
    }
    for (int j = 0; j < p->n_red; j++)
        if (!fx_is_fp(ot_fx_reg_dtype(p, in_dtypes, p->red_reg[j])))
            return ot_error(OT_ERR_TYPE, "fused program: reduction %d sums a non-float register", j);
    return OT_OK;
}
