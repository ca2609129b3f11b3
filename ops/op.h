/* An op definition: one table row holding everything that is "about" an op —
 * its attributes, shape/type inference, and kernels per backend (the gradient
 * rule joins here with autodiff).  Adding an op touches one file in ops/ and
 * its kernels, nothing else.
 *
 * Life of a node:
 *   parse  once when a program is compiled: attributes -> the op's typed struct
 *          (unknown attribute names are rejected before parse by `attr_names`);
 *   infer  once per input shape: output dtypes and shapes from the inputs'.
 *          Input values are present (in[i]->data != NULL) only when known at
 *          compile time (initializers, constants, folded values); an op whose
 *          output shape depends on a value calls ot_need_value(), and the
 *          compiler specialises the program on that value;
 *   cpu    every run: outputs are allocated and shaped as infer said. */
#ifndef OT_OPS_OP_H
#define OT_OPS_OP_H

#include <stdbool.h>
#include <stdint.h>

#include "../src/core/dtype.h"
#include "../src/core/shape.h"
#include "../src/core/status.h"
#include "../src/core/tensor.h"
#include "../src/ir/graph.h"

typedef struct ot_kctx {
    const ot_node *node;
    const char *name;   /* node name, or op type when unnamed: for messages */
    int64_t opset;      /* the node's domain opset version */
    const void *attrs;  /* the op's parsed attribute struct (NULL if attrs_size == 0) */
    int n_in;
    ot_tensor *const *in;   /* in[i] == NULL: optional input absent */
    int n_out;
    ot_tensor *const *out;  /* out[i] == NULL: optional output not requested */
    bool training;          /* training graph (Dropout active, ...) */
    uint64_t seed;          /* counter-based RNG key: (seed, node_index, step, element) */
    uint64_t step;
    int node_index;
    int need_input;         /* set by ot_need_value */
} ot_kctx;

enum {
    OT_TRAIT_ELEMENTWISE = 1u << 0, /* output[i] depends on input[i] only (with broadcast) */
    OT_TRAIT_INPLACE = 1u << 1,     /* output may share the first input's buffer */
    OT_TRAIT_RANDOM = 1u << 2,      /* not a pure function of its inputs: never folded */
    OT_TRAIT_SHAPE_ONLY = 1u << 3,  /* reads only input shapes (Shape, Size): foldable early */
    OT_TRAIT_ALIAS = 1u << 4,       /* output is a view of input 0's bytes (Reshape, Identity...) */
    OT_TRAIT_SIDE_EFFECT = 1u << 5, /* writes, in place, those of its inputs that are persistent mutable
                                       slots (parameters, optimizer state: OptimizerUpdate): never folded
                                       or dropped as dead; the schedule keeps each other reader of such
                                       a slot before or after it, as in the graph's order */
    OT_TRAIT_RECOMPUTE = 1u << 6    /* cheap enough to run again in the backward pass instead of keeping
                                       its outputs (--recompute: the norms; elementwise and view ops count
                                       as cheap without it) */
};

struct ot_grad_ctx;

typedef struct ot_op_def {
    const char *name;
    const char *domain;     /* "" is the default ai.onnx domain */
    int min_opset;          /* supported range of the op's schema versions (since_version): */
    int max_opset;          /* a model at opset 27 runs Div-14 when Div has no newer schema */
    int min_inputs, max_inputs;   /* max -1: variadic */
    int min_outputs, max_outputs;
    const char *attr_names; /* comma-separated attributes the op understands */
    size_t attrs_size;      /* sizeof the parsed attribute struct */
    ot_status (*parse)(const ot_node *n, int64_t opset, void *attrs); /* may be NULL */
    ot_status (*infer)(ot_kctx *c);
    ot_status (*cpu)(ot_kctx *c);
    unsigned traits;
    const char *dtypes;     /* human-readable dtype support, for docs/ops.md */
    /* Gradient rule (ops/grad.h); NULL: the op is not differentiable here
       (autodiff reports it when a gradient must flow through it). */
    ot_status (*grad)(struct ot_grad_ctx *g);
    /* Bit k: input k never carries a gradient and decides shapes or sizes
       (Resize scales, Range bounds).  A float initializer feeding only such
       inputs is not trained, so its value stays known when compiling. */
    unsigned no_grad_inputs;
} ot_op_def;

/* Registry (ops/registry.c).  Lookup is by domain ("" == "ai.onnx") and name. */
const ot_op_def *ot_op_find(const char *domain, const char *name);
/* The schema version in effect for `name` at a model's `opset` of the default
   domain (the largest since_version <= opset), or opset itself for other
   domains and ops the ONNX table does not know. */
int64_t ot_op_schema_version(const char *domain, const char *name, int64_t opset);
/* The definition that runs (domain, name) at `opset`, or NULL when the op is
   unknown or its schema version there is outside [min_opset, max_opset]. */
const ot_op_def *ot_op_resolve(const char *domain, const char *name, int64_t opset);
int ot_op_count(void);
const ot_op_def *ot_op_at(int i);

/* Returns OT_OK if in[i] is present with its value known; otherwise records
   i in c->need_input and returns OT_NEED_VALUE (infer only). */
ot_status ot_need_value(ot_kctx *c, int i);
/* The i-th input or NULL when absent / out of range. */
static inline ot_tensor *ot_in(const ot_kctx *c, int i) { return i < c->n_in ? c->in[i] : NULL; }
static inline ot_tensor *ot_out(const ot_kctx *c, int i) { return i < c->n_out ? c->out[i] : NULL; }
/* Error prefixed with the node's op type and name. */
void ot_op_error_set(const ot_kctx *c, const char *fmt, ...) OT_PRINTF(2, 3);
#define ot_op_error(c, code, ...) (ot_op_error_set((c), __VA_ARGS__), (ot_status)(code))
/* The same from the node alone, where no kctx exists yet (parse, gradient rules). */
void ot_node_error_set(const ot_node *n, const char *fmt, ...) OT_PRINTF(2, 3);
#define ot_node_error(n, code, ...) (ot_node_error_set((n), __VA_ARGS__), (ot_status)(code))
/* Error when in[i]'s dtype is not in the list (terminated by OT_UNDEFINED). */
ot_status ot_check_dtype(const ot_kctx *c, int i, const ot_dtype *allowed);
/* For gradient ops: error unless in[0] (dy) has the forward output's shape. */
ot_status ot_check_dy(const ot_kctx *c, int rank, const int64_t *want);
/* Sets out[i]'s dtype and shape when that output is requested. */
void ot_set_out(ot_kctx *c, int i, ot_dtype dtype, int rank, const int64_t *dims);

#endif
