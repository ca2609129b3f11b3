/* The IR: an index-based graph of values and nodes.
 *
 * values[] hold every named tensor (graph inputs, initializers, node outputs);
 * nodes[] refer to them by index.  An empty optional input/output is -1.
 * Nested graphs (If/Loop/Scan bodies) hang off attributes as ot_graph.
 * Everything is owned by the graph and freed with ot_graph_free. */
#ifndef OT_IR_GRAPH_H
#define OT_IR_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/tensor.h"

typedef enum ot_attr_type { /* AttributeProto.AttributeType numbers */
    OT_ATTR_UNDEFINED = 0,
    OT_ATTR_FLOAT = 1,
    OT_ATTR_INT = 2,
    OT_ATTR_STRING = 3,
    OT_ATTR_TENSOR = 4,
    OT_ATTR_GRAPH = 5,
    OT_ATTR_FLOATS = 6,
    OT_ATTR_INTS = 7,
    OT_ATTR_STRINGS = 8,
    OT_ATTR_TENSORS = 9,
    OT_ATTR_GRAPHS = 10,
    OT_ATTR_SPARSE_TENSOR = 11,
    OT_ATTR_SPARSE_TENSORS = 12,
    OT_ATTR_TYPE_PROTO = 13,
    OT_ATTR_TYPE_PROTOS = 14
} ot_attr_type;

struct ot_graph;

typedef struct ot_attr {
    char *name;
    ot_attr_type type;
    float f;
    int64_t i;
    char *s;        /* STRING: bytes, NUL-terminated for convenience */
    size_t s_len;
    ot_tensor *t;   /* TENSOR (also SPARSE_TENSOR, densified at load) */
    struct ot_graph *g;
    int n;          /* element count of the list forms */
    float *floats;
    int64_t *ints;
    char **strings;
    ot_tensor **tensors;
    struct ot_graph **graphs;
} ot_attr;

typedef enum ot_value_role {
    OT_ROLE_ACTIVATION = 0, /* produced by a node */
    OT_ROLE_INPUT,          /* graph input without initializer */
    OT_ROLE_INITIALIZER,    /* initializer (may also be listed as a graph input) */
    OT_ROLE_CONSTANT,       /* folded constant */
    OT_ROLE_OUTER           /* subgraph: captured from the enclosing graph */
} ot_value_role;

typedef struct ot_value {
    char *name;
    ot_value_role role;
    ot_dtype dtype;            /* OT_UNDEFINED when not known */
    int rank;                  /* -1: unknown */
    int64_t dims[OT_MAX_RANK]; /* -1: unknown or symbolic */
    char *dim_params[OT_MAX_RANK]; /* symbolic dim name or NULL */
    bool is_input;             /* listed in graph.input */
    bool non_tensor;           /* sequence/map/optional type: unsupported for now */
    ot_tensor *init;           /* initializer / constant value, owned */
    int producer;              /* node index or -1 */
    char *doc;                 /* doc_string of its ValueInfo, may be NULL */
} ot_value;

typedef struct ot_node {
    char *name;
    char *op_type;
    char *domain; /* "" for the default ONNX domain */
    int n_inputs, n_outputs, n_attrs;
    int *inputs;  /* value ids, -1 = absent optional */
    int *outputs;
    ot_attr *attrs;
    char *doc;
} ot_node;

typedef struct ot_opset {
    char *domain;
    int64_t version;
} ot_opset;

typedef struct ot_graph {
    char *name;
    char *doc;
    int n_values, cap_values;
    ot_value *values;
    int n_nodes, cap_nodes;
    ot_node *nodes;
    int n_inputs, n_outputs, n_inits;
    int *inputs;  /* graph.input order; may include initializers (is_input) */
    int *outputs;
    int *inits;   /* initializer order as in the file */
    int n_opsets;
    ot_opset *opsets; /* only on the top-level graph */
    struct ot_graph *parent; /* enclosing graph for subgraphs */
    /* name -> value id hash table (open addressing) */
    int *hash;
    int hash_cap;
} ot_graph;

ot_status ot_graph_new(const char *name, ot_graph **out);
void ot_graph_free(ot_graph *g);

/* Value id by name, or -1. */
int ot_graph_find(const ot_graph *g, const char *name);
/* Returns the id of value `name`, creating an (unknown-typed) value if absent. */
ot_status ot_graph_value(ot_graph *g, const char *name, int *id);
/* Appends a node; inputs/outputs are value ids (copied).  Attributes are
   added with ot_node_add_attr afterwards.  *id receives the node index. */
ot_status ot_graph_add_node(ot_graph *g, const char *op_type, const char *domain, const char *name,
                            int n_in, const int *inputs, int n_out, const int *outputs, int *id);
/* Appends a copy-free attribute slot to node `node`; returns it zeroed with its name set. */
ot_status ot_node_add_attr(ot_graph *g, int node, const char *name, ot_attr_type type, ot_attr **out);
/* Opset version of a domain ("" and "ai.onnx" are the same), or -1 if not imported. */
int64_t ot_graph_opset(const ot_graph *g, const char *domain);
void ot_attr_clear(ot_attr *a);

/* ---- attribute access for op definitions ------------------------------
 * Each getter returns OT_OK and leaves *out = dflt when the attribute is
 * absent, or a clear OT_ERR_PARSE when it has the wrong type. */
const ot_attr *ot_node_attr(const ot_node *n, const char *name);
ot_status ot_attr_get_int(const ot_node *n, const char *name, int64_t dflt, int64_t *out);
ot_status ot_attr_get_float(const ot_node *n, const char *name, float dflt, float *out);
ot_status ot_attr_get_string(const ot_node *n, const char *name, const char *dflt, const char **out);
/* ints list: *out points into the node (not copied); *count = -1 when absent. */
ot_status ot_attr_get_ints(const ot_node *n, const char *name, const int64_t **out, int *count);
ot_status ot_attr_get_floats(const ot_node *n, const char *name, const float **out, int *count);
ot_status ot_attr_get_tensor(const ot_node *n, const char *name, const ot_tensor **out);

/* Copies node src's attributes onto node dst of the same graph (deep). */
ot_status ot_node_copy_attrs(ot_graph *g, int dst, int src);

/* Deep copy; `parent` becomes the copy's enclosing graph (NULL at top level). */
ot_status ot_graph_clone(const ot_graph *src, ot_graph *parent, ot_graph **out);
/* A top-level copy whose initializer and constant values use src's bytes
   (not owned: src must outlive the copy and keep those bytes unchanged);
   everything else is copied.  What the trainer and sessions compile from:
   a model's weights are never held twice. */
ot_status ot_graph_clone_sharing(const ot_graph *src, ot_graph **out);

/* Checks structure: every input defined before use, ids in range, unique
   output names.  Returns OT_ERR_PARSE with a message naming the node. */
ot_status ot_graph_verify(const ot_graph *g);
/* Topologically sorts nodes in place (stable); error on a cycle. */
ot_status ot_graph_toposort(ot_graph *g);

#endif
