/* Internal to src/onnx: protobuf-c glue shared by load, save, functions and
 * the tensor codecs.  Nothing here is visible outside the library. */
#ifndef OT_ONNX_PB_H
#define OT_ONNX_PB_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

#include "../core/fileio.h"
#include "../core/status.h"
#include "model.h"

/* protobuf-c allocations go through ot_malloc so the allocation counters see
   them (defined in wire.c). */
extern ProtobufCAllocator ot_pb_allocator;

/* ---- wire.c: nesting check before unpacking ------------------------------ */
/* Deepest message nesting we accept.  ONNX nests attribute -> graph -> node ->
   attribute without bound and protobuf-c recurses once per level, so a crafted
   file could otherwise exhaust the stack. */
#define OT_PB_MAX_DEPTH 64

typedef enum ot_pb_root { OT_PB_ROOT_MODEL, OT_PB_ROOT_TENSOR } ot_pb_root;

/* OT_ERR_PARSE (message names `what`) when the wire data is malformed or nests
   deeper than OT_PB_MAX_DEPTH messages. */
ot_status ot_pb_check_wire(const uint8_t *data, size_t size, ot_pb_root root, const char *what);

/* ---- tensor_decode.c -------------------------------------------------------- */
/* External data files mapped for one model; the model keeps them alive. */
typedef struct ot_extdata_map {
    char *path; /* realpath of the file */
    void *base;
    size_t size;
} ot_extdata_map;

typedef struct ot_tensor_ctx {
    const char *what;      /* file named in messages */
    const char *base_dir;  /* external data resolves here; NULL: current folder */
    ot_model *model;       /* when set, external data may be mapped and kept in model->maps;
                              when NULL, it is read into memory the tensor owns */
    int steal;             /* raw_data was allocated by ot_pb_allocator and is read only once:
                              the tensor takes the buffer instead of copying it */
} ot_tensor_ctx;

/* `role` prefixes messages, e.g. "initializer" or "attribute 'value' of node 'n'".
   With ctx->steal, tp->raw_data may be moved into the tensor (and cleared). */
ot_status ot_tensor_from_proto(Onnx__TensorProto *tp, const ot_tensor_ctx *ctx, const char *role, ot_tensor **out);
/* Densifies a sparse tensor: values (NNZ) and indices (NNZ) linearized or (NNZ, rank). */
ot_status ot_tensor_from_sparse_proto(const Onnx__SparseTensorProto *sp, const ot_tensor_ctx *ctx,
                                      const char *role, ot_tensor **out);
/* Fills *tp (initialised here) with t in raw_data form.  raw_data points into t->data
   on little-endian hosts; otherwise, and for 4/2-bit types (packed), into *scratch
   (ot_free it after packing). */
ot_status ot_tensor_to_proto(const ot_tensor *t, const char *name, Onnx__TensorProto *tp, void **scratch);
/* ONNX's name of an element type number, e.g. "float8e4m3fn", for messages. */
const char *ot_onnx_type_name(int32_t elem_type);
/* The element type number if onnxtrain represents it, else OT_UNDEFINED. */
ot_dtype ot_dtype_from_onnx(int32_t elem_type);

/* ---- load.c / functions.c ----------------------------------------------------- */
struct ot_fn_scope;
typedef struct ot_loader {
    const char *what;
    ot_tensor_ctx tctx;
    ot_model *model;
    const Onnx__ModelProto *mp;
    ot_graph *prefixes;  /* used as a string set: inlining prefixes handed out */
    int counter;
} ot_loader;

/* Adds one NodeProto to g (inlining it when it calls a model-local function). */
ot_status ot_load_node(ot_loader *L, ot_graph *g, const Onnx__NodeProto *np, const struct ot_fn_scope *scope,
                       int index);
/* Applies a ValueInfoProto's type to an existing value of g (found by name after renaming). */
ot_status ot_load_value_info(ot_loader *L, ot_graph *g, const Onnx__ValueInfoProto *vi,
                             const struct ot_fn_scope *scope);

/* functions.c: the model-local function matching a node, or NULL. */
const Onnx__FunctionProto *ot_fn_find(const Onnx__ModelProto *mp, const Onnx__NodeProto *np);
ot_status ot_fn_inline(ot_loader *L, ot_graph *g, const Onnx__NodeProto *call, const Onnx__FunctionProto *fn,
                       const struct ot_fn_scope *outer, int index);
/* Name of `name` after renaming by the function scopes (a new string). */
ot_status ot_fn_rename(const struct ot_fn_scope *s, const char *name, char **out);
/* Prefix for node names inside the scope ("" outside functions). */
const char *ot_fn_prefix(const struct ot_fn_scope *s);
/* Resolves ref_attr_name: *out is the attribute to use (NULL: omitted, as the spec
   says for a reference the call site does not bind) and *out_scope the scope its
   subgraphs belong to. */
ot_status ot_fn_attr(const ot_loader *L, const struct ot_fn_scope *s, const Onnx__AttributeProto *a,
                     const char *node_name, const Onnx__AttributeProto **out, const struct ot_fn_scope **out_scope);

/* ---- model.c-ish helpers shared by load and save ------------------------------ */
/* Non-tensor value types (sequence, map, optional, sparse) kept as packed TypeProto
   bytes so save writes them back unchanged. */
ot_status ot_model_keep_type(ot_model *m, const ot_graph *g, const char *name, const Onnx__TypeProto *tp);
const ot_kept_type *ot_model_find_type(const ot_model *m, const ot_graph *g, const char *name);

#endif
