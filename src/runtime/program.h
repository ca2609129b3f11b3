/* A compiled program: the flat list of kernel calls for one binding of input
 * shapes.  Compiling resolves ops, parses attributes, infers every shape,
 * folds whatever is known at compile time, and gives every remaining value a
 * buffer; running it walks `steps` and nothing else (no graph walking, no
 * allocation). */
#ifndef OT_RUNTIME_PROGRAM_H
#define OT_RUNTIME_PROGRAM_H

#include "../../ops/op.h"
#include "backend.h"

typedef struct ot_step {
    const ot_op_def *op;
    int node;            /* index in the graph, for messages */
    int64_t opset;       /* the node's domain opset */
    void *attrs;         /* parsed attributes, owned */
    int n_in, n_out;
    int *in, *out;       /* slot ids, -1 = absent */
} ot_step;

/* How a slot's bytes are provided. */
typedef enum ot_slot_kind {
    OT_SLOT_UNUSED = 0,
    OT_SLOT_INPUT,    /* bound to the caller's tensor at each run */
    OT_SLOT_CONST,    /* known at compile time (initializer, constant, folded) */
    OT_SLOT_BUFFER,   /* produced by a step into its own buffer */
    OT_SLOT_PARAM     /* a persistent, mutable initializer (trained parameter,
                         BatchNorm statistics): its bytes live in the graph's
                         initializer and change between runs, so never folded */
} ot_slot_kind;

typedef struct ot_program {
    const ot_graph *graph;
    const ot_backend *backend;
    int n_slots;          /* == graph->n_values */
    ot_tensor *slots;     /* descriptors; data set per kind */
    ot_slot_kind *kinds;
    int n_steps, cap_steps;
    ot_step *steps;
    /* The binding this program was compiled for: dtype/shape per graph input
       plus the values of inputs the program was specialised on. */
    int n_bound;
    int *bound_ids;       /* value ids of the graph inputs, in graph order */
    ot_tensor *bound;     /* shape (and for specialised inputs: value) */
    bool *specialised;
    bool training;
    uint64_t seed;
} ot_program;

typedef struct ot_compile_options {
    bool training;
    uint64_t seed;
    const bool *mutable_values; /* per value id, or NULL: initializers that change between runs */
} ot_compile_options;

/* Lists every node whose op (or its opset) is not supported, all at once. */
ot_status ot_graph_check_supported(const ot_graph *g);

/* Compiles g for the given graph-input tensors (one per non-initializer graph
 * input, in graph order; only their dtypes and shapes are used, except for
 * inputs whose values decide shapes, on which the program is specialised). */
ot_status ot_program_compile(const ot_graph *g, ot_tensor *const *inputs, const ot_compile_options *opt,
                             ot_program **out);
void ot_program_free(ot_program *p);
/* Number of graph inputs that are not initializers (what callers bind). */
int ot_graph_bound_input_count(const ot_graph *g);
/* Orders the caller's n tensors (by names, or positionally when names is
   NULL) into `ordered`: the graph's bound inputs, then the `extra` names
   (e.g. the labels).  Every one must be given exactly once. */
ot_status ot_bind_by_name(const ot_graph *g, int n_extra, const char *const *extra, int n, const char *const *names,
                          ot_tensor *const *inputs, ot_tensor **ordered);
/* True when p can run `inputs` (same dtypes, shapes and specialised values). */
bool ot_program_matches(const ot_program *p, ot_tensor *const *inputs);
/* Runs every step; inputs as for compile.  Outputs are read from the slots. */
ot_status ot_program_run(ot_program *p, ot_tensor *const *inputs, uint64_t step);

#endif
