/* Misc family: Unique (11).  Its output sizes depend on the input's values,
 * so infer asks for them (ot_need_value, as NonZero does): the compiler then
 * specialises the program on the input's value and Unique itself is folded
 * at compile time.  Outputs: Y, indices (first occurrences), inverse_indices,
 * counts, as numpy.unique with return_index/return_inverse/return_counts;
 * sorted = 0 orders them by first occurrence instead. */
#include "misc_ops.h"

ot_status ot_unique_parse(const ot_node *n, int64_t opset, void *attrs) {
    (void)opset;
    ot_unique_attrs *a = attrs;
    int64_t sorted;
    a->has_axis = ot_node_attr(n, "axis") != NULL;
    OT_TRY(ot_attr_get_int(n, "axis", 0, &a->axis));
    OT_TRY(ot_attr_get_int(n, "sorted", 1, &sorted));
    if (sorted != 0 && sorted != 1)
        return ot_node_error(n, OT_ERR_INVALID_ARG, "'sorted' must be 0 or 1, got %lld", (long long)sorted);
    a->sorted = sorted != 0;
    return OT_OK;
}

/* The normalised axis, or -1 for the flattened input. */
static ot_status unique_axis(const ot_kctx *c, int *axis) {
    const ot_unique_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    *axis = -1;
    if (!a->has_axis) return OT_OK;
    if (x->rank == 0 || a->axis < -x->rank || a->axis >= x->rank)
        return ot_op_error(c, OT_ERR_SHAPE, "axis %lld is out of range for an input of rank %d", (long long)a->axis,
                           x->rank);
    *axis = (int)(a->axis < 0 ? a->axis + x->rank : a->axis);
    return OT_OK;
}

ot_status ot_unique_infer(ot_kctx *c) {
    const ot_unique_attrs *a = c->attrs;
    const ot_tensor *x = c->in[0];
    if (!ot_dtype_is_numeric(x->dtype))
        return ot_op_error(c, OT_ERR_UNSUPPORTED, "input type %s is not supported", ot_dtype_name(x->dtype));
    int axis;
    OT_TRY(unique_axis(c, &axis));
    OT_TRY(ot_need_value(c, 0));
    int64_t U;
    OT_TRY(ot_cpu_unique(x, axis, a->sorted, &U, NULL, NULL, NULL, NULL));
    int64_t ydims[OT_MAX_RANK], slices = axis < 0 ? ot_tensor_numel(x) : x->dims[axis];
    if (axis < 0) {
        ot_set_out(c, 0, x->dtype, 1, &U);
    } else {
        for (int d = 0; d < x->rank; d++) ydims[d] = d == axis ? U : x->dims[d];
        ot_set_out(c, 0, x->dtype, x->rank, ydims);
    }
    ot_set_out(c, 1, OT_INT64, 1, &U);
    ot_set_out(c, 2, OT_INT64, 1, &slices);
    ot_set_out(c, 3, OT_INT64, 1, &U);
    return OT_OK;
}

ot_status ot_unique_cpu(ot_kctx *c) {
    const ot_unique_attrs *a = c->attrs;
    int axis;
    OT_TRY(unique_axis(c, &axis));
    ot_tensor *y = c->out[0], *idx = ot_out(c, 1), *inv = ot_out(c, 2), *cnt = ot_out(c, 3);
    const int64_t planned = y->dims[axis < 0 ? 0 : axis];
    /* The planned sizes come from the same value: check before writing. */
    int64_t U;
    OT_TRY(ot_cpu_unique(c->in[0], axis, a->sorted, &U, NULL, NULL, NULL, NULL));
    if (U != planned)
        return ot_op_error(c, OT_ERR_INTERNAL, "input changed after the program was compiled (%lld unique, %lld planned)",
                           (long long)U, (long long)planned);
    return ot_cpu_unique(c->in[0], axis, a->sorted, &U, y, idx ? idx->data : NULL, inv ? inv->data : NULL,
                         cnt ? cnt->data : NULL);
}
