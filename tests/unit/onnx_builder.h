/* Building ONNX protos in C for the onnx import/export tests
 * (test_onnx_load.c, test_onnx_save.c): a tiny arena that owns every proto
 * until arena_reset(), constructors for the protobuf-c structs, pack + load,
 * and a scratch folder (onnx_test_begin / onnx_test_end, tests/scratch.h). */
#ifndef OT_TESTS_ONNX_BUILDER_H
#define OT_TESTS_ONNX_BUILDER_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#include "check.h"
#include "scratch.h"
#include "src/core/shape.h"
#include "src/core/status.h"
#include "src/onnx/model.h"

/* ---- a tiny arena for building protos ------------------------------------------------ */

static void *arena_ptrs[100000];
static int arena_n;

static inline void *A(size_t n) {
    void *p = calloc(1, n ? n : 1);
    arena_ptrs[arena_n++] = p;
    return p;
}
static inline void arena_reset(void) {
    while (arena_n) free(arena_ptrs[--arena_n]);
}
static inline char *S(const char *s) { return strcpy(A(strlen(s) + 1), s); }
#define CAP 64
#define NEWP(T, desc) ((T *)newp(&(desc)))
static inline void *newp(const ProtobufCMessageDescriptor *d) {
    void *p = A(d->sizeof_message);
    protobuf_c_message_init(d, p);
    return p;
}
#define PUSH(arr, n, x)                                 \
    do {                                                \
        if (!(arr)) (arr) = A(CAP * sizeof(*(arr)));    \
        (arr)[(n)++] = (x);                             \
    } while (0)

static inline Onnx__TensorProto *t_new(const char *name, int dt, int rank, const int64_t *dims) {
    Onnx__TensorProto *t = NEWP(Onnx__TensorProto, onnx__tensor_proto__descriptor);
    t->name = S(name);
    t->has_data_type = 1;
    t->data_type = dt;
    t->n_dims = (size_t)rank;
    t->dims = A(sizeof(int64_t) * (size_t)(rank + 1));
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    return t;
}
static inline Onnx__TensorProto *t_raw(const char *name, int dt, int rank, const int64_t *dims, const void *data,
                                       size_t n) {
    Onnx__TensorProto *t = t_new(name, dt, rank, dims);
    t->has_raw_data = 1;
    t->raw_data.len = n;
    t->raw_data.data = A(n);
    memcpy(t->raw_data.data, data, n);
    return t;
}
static inline Onnx__TypeProto *ty_tensor(int elem, int rank, const int64_t *dims, const char *const *params) {
    Onnx__TypeProto *tp = NEWP(Onnx__TypeProto, onnx__type_proto__descriptor);
    Onnx__TypeProto__Tensor *tt = NEWP(Onnx__TypeProto__Tensor, onnx__type_proto__tensor__descriptor);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    if (rank >= 0) {
        tt->shape = NEWP(Onnx__TensorShapeProto, onnx__tensor_shape_proto__descriptor);
        for (int d = 0; d < rank; d++) {
            Onnx__TensorShapeProto__Dimension *dim =
                NEWP(Onnx__TensorShapeProto__Dimension, onnx__tensor_shape_proto__dimension__descriptor);
            if (params && params[d]) {
                dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                dim->dim_param = S(params[d]);
            } else if (dims[d] >= 0) {
                dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                dim->dim_value = dims[d];
            }
            PUSH(tt->shape->dim, tt->shape->n_dim, dim);
        }
    }
    return tp;
}
static inline Onnx__ValueInfoProto *vi(const char *name, Onnx__TypeProto *tp) {
    Onnx__ValueInfoProto *v = NEWP(Onnx__ValueInfoProto, onnx__value_info_proto__descriptor);
    v->name = S(name);
    v->type = tp;
    return v;
}
static inline Onnx__NodeProto *node(Onnx__GraphProto *g, const char *op, const char *name, const char *ins,
                                     const char *outs) {
    /* ins/outs: comma-separated names ("" entries allowed) */
    Onnx__NodeProto *n = NEWP(Onnx__NodeProto, onnx__node_proto__descriptor);
    n->op_type = S(op);
    n->name = S(name);
    for (int k = 0; k < 2; k++) {
        const char *p = k ? outs : ins;
        while (p && *p) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            char *s = A(len + 1);
            memcpy(s, p, len);
            if (k) PUSH(n->output, n->n_output, s);
            else PUSH(n->input, n->n_input, s);
            p = e ? e + 1 : p + len;
        }
    }
    if (g) PUSH(g->node, g->n_node, n);
    return n;
}
static inline Onnx__AttributeProto *attr(Onnx__NodeProto *n, const char *name, int type) {
    Onnx__AttributeProto *a = NEWP(Onnx__AttributeProto, onnx__attribute_proto__descriptor);
    a->name = S(name);
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    if (n) PUSH(n->attribute, n->n_attribute, a);
    return a;
}
static inline Onnx__GraphProto *graph(const char *name) {
    Onnx__GraphProto *g = NEWP(Onnx__GraphProto, onnx__graph_proto__descriptor);
    g->name = S(name);
    return g;
}
static inline Onnx__OperatorSetIdProto *opset(const char *dom, int64_t v) {
    Onnx__OperatorSetIdProto *o = NEWP(Onnx__OperatorSetIdProto, onnx__operator_set_id_proto__descriptor);
    o->domain = S(dom);
    o->has_version = 1;
    o->version = v;
    return o;
}
static inline Onnx__ModelProto *model(Onnx__GraphProto *g, int64_t op) {
    Onnx__ModelProto *m = NEWP(Onnx__ModelProto, onnx__model_proto__descriptor);
    m->has_ir_version = 1;
    m->ir_version = 8;
    m->producer_name = S("test_onnx_io");
    m->graph = g;
    PUSH(m->opset_import, m->n_opset_import, opset("", op));
    return m;
}
static inline uint8_t *pack(const ProtobufCMessage *m, size_t *n) {
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = A(*n + 1);
    protobuf_c_message_pack(m, b);
    return b;
}
static inline ot_status load_msg(const Onnx__ModelProto *mp, const char *dir, ot_model **out) {
    size_t n;
    uint8_t *b = pack(&mp->base, &n);
    return ot_model_load_buffer(b, n, dir, out);
}
static inline const ot_value *val(const ot_graph *g, const char *name) {
    int id = ot_graph_find(g, name);
    return id >= 0 ? &g->values[id] : NULL;
}
static inline int msg_has(const char *s) { return strstr(ot_last_error(), s) != NULL; }


/* ---- a model using most features: x (N,3) -> MatMul(W) -> Add(B) -> If(cond) -> y ---- */

static inline Onnx__ModelProto *sample_model(void) {
    Onnx__GraphProto *g = graph("sample");
    int64_t d32[] = {3, 2}, d2[] = {2}, dx[] = {-1, 3};
    const char *px[] = {"N", NULL};
    float w[6] = {1, -2, 3.5f, -0.0f, NAN, 1e-40f};
    PUSH(g->initializer, g->n_initializer, t_raw("W", 1, 2, d32, w, sizeof w));
    Onnx__TensorProto *b = t_new("B", 1, 1, d2);
    b->n_float_data = 2;
    b->float_data = A(8);
    b->float_data[0] = 0.5f;
    b->float_data[1] = -1.5f;
    PUSH(g->initializer, g->n_initializer, b);
    PUSH(g->input, g->n_input, vi("x", ty_tensor(1, 2, dx, px)));
    PUSH(g->input, g->n_input, vi("cond", ty_tensor(9, 0, NULL, NULL)));
    PUSH(g->input, g->n_input, vi("W", ty_tensor(1, 2, d32, NULL))); /* an initializer listed as input */
    /* nodes out of order on purpose: the loader sorts them */
    Onnx__NodeProto *nif = node(g, "If", "if0", "cond", "y");
    node(g, "Add", "add0", "h,B", "h2");
    node(g, "MatMul", "", "x,W", "h");
    Onnx__GraphProto *then_g = graph("then"), *else_g = graph("else");
    node(then_g, "Relu", "r", "h2", "t_out"); /* h2 captured from the outer graph */
    PUSH(then_g->output, then_g->n_output, vi("t_out", ty_tensor(1, -1, NULL, NULL)));
    node(else_g, "Neg", "n", "h2", "e_out");
    PUSH(else_g->output, else_g->n_output, vi("e_out", ty_tensor(1, -1, NULL, NULL)));
    attr(nif, "then_branch", 5)->g = then_g;
    attr(nif, "else_branch", 5)->g = else_g;
    int64_t dy[] = {-1, 2};
    const char *py[] = {"N", NULL};
    PUSH(g->output, g->n_output, vi("y", ty_tensor(1, 2, dy, py)));
    PUSH(g->value_info, g->n_value_info, vi("h", ty_tensor(1, 2, dy, py)));
    Onnx__ModelProto *m = model(g, 17);
    m->doc_string = S("a sample");
    m->has_model_version = 1;
    m->model_version = 42;
    Onnx__StringStringEntryProto *kv = NEWP(Onnx__StringStringEntryProto, onnx__string_string_entry_proto__descriptor);
    kv->key = S("author");
    kv->value = S("me");
    PUSH(m->metadata_props, m->n_metadata_props, kv);
    return m;
}

/* A model holding one initializer t, passed through Identity. */
static inline Onnx__ModelProto *const_model(Onnx__TensorProto *t) {
    Onnx__GraphProto *g = graph("c");
    PUSH(g->initializer, g->n_initializer, t);
    node(g, "Identity", "id", t->name, "out");
    PUSH(g->output, g->n_output, vi("out", ty_tensor(t->data_type, -1, NULL, NULL)));
    return model(g, 17);
}

static inline ot_status load_tensor_model(Onnx__TensorProto *t, const char *dir, ot_model **m) {
    return load_msg(const_model(t), dir, m);
}

/* Same dtype, shape and bytes. */
static inline int tensors_identical(const ot_tensor *a, const ot_tensor *b) {
    return a && b && a->dtype == b->dtype && ot_shape_equal(a->rank, a->dims, b->rank, b->dims) &&
           !memcmp(a->data, b->data, ot_tensor_nbytes(a));
}

/* Creates the scratch folder tmp_path() names files in; false on failure. */
static inline bool onnx_test_begin(void) { return scratch_begin("ot_onnxio"); }

/* Frees the arena and removes the scratch folder. */
static inline void onnx_test_end(void) {
    arena_reset();
    scratch_end();
}

#endif
