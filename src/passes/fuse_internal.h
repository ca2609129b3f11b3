/* Shared by the fusion pass's files (fuse.c: analysis and rewriting;
 * fuse_gemm.c, fuse_ew.c: the two kinds of groups). */
#ifndef OT_PASSES_FUSE_INTERNAL_H
#define OT_PASSES_FUSE_INTERNAL_H

#include "../../ops/op.h"
#include "fuse.h"

/* One round of fusion over a graph: analysis of the original nodes
   [0, n_orig); new nodes are appended after them and put in place by
   ot_fuse_commit. */
typedef struct ot_fuse_ctx {
    ot_graph *g;
    const ot_fuse_options *opt;
    ot_fuse_report *rep;
    int n_orig;
    const ot_op_def **def;  /* per original node: its op, NULL when unknown */
    int *producer;          /* per value: node index or -1 */
    bool *is_static;        /* per value: known at compile time (folded, never fused) */
    bool *ext;              /* per value: a graph output or captured by a subgraph */
    int *use_at, *uses;     /* consumers of value v: uses[use_at[v] .. use_at[v + 1]) */
    bool *removed;          /* per original node */
    int *anchor;            /* per appended node: the original index it replaces */
    int cap_anchor;
} ot_fuse_ctx;

/* Value annotations known: dtype and every dim. */
bool ot_fuse_known(const ot_graph *g, int v);
bool ot_fuse_same_shape(const ot_graph *g, int a, int b);
int64_t ot_fuse_numel(const ot_graph *g, int v);
/* The scalar value of v when it is a compile-time constant with one float
   element (an immutable initializer or a Constant node's value). */
bool ot_fuse_scalar_const(const ot_fuse_ctx *c, int v, double *out);

/* Appends a node (ot_graph_add_node) that replaces `members` (original
   nodes, marked removed) and stands where original node `anchor` was. */
ot_status ot_fuse_add_node(ot_fuse_ctx *c, const char *op, const char *name, int n_in, const int *in, int n_out,
                           const int *out, const int *members, int n_members, int anchor, int *id);

/* Attribute setters on node `node` (copies the data). */
ot_status ot_fuse_attr_int(ot_graph *g, int node, const char *name, int64_t v);
ot_status ot_fuse_attr_float(ot_graph *g, int node, const char *name, float v);
ot_status ot_fuse_attr_string(ot_graph *g, int node, const char *name, const char *v);
ot_status ot_fuse_attr_ints(ot_graph *g, int node, const char *name, const int64_t *v, int n);
ot_status ot_fuse_attr_floats(ot_graph *g, int node, const char *name, const float *v, int n);
ot_status ot_fuse_attr_strings(ot_graph *g, int node, const char *name, const char *const *v, int n);
ot_status ot_fuse_attr_doubles(ot_graph *g, int node, const char *name, const double *v, int n);

/* The rounds: each appends its fused nodes (or edits products in place). */
ot_status ot_fuse_transposes(ot_fuse_ctx *c);
ot_status ot_fuse_gemm(ot_fuse_ctx *c);
ot_status ot_fuse_elementwise(ot_fuse_ctx *c);

#endif
