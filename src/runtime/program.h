/* A compiled program: the flat list of kernel calls for one binding of input
 * shapes.  Compiling resolves ops, parses attributes, infers every shape,
 * folds whatever is known at compile time, and plans memory: every remaining
 * value gets an offset in one arena (src/runtime/memory.c); running it walks
 * `steps` and nothing else (no graph walking, no allocation). */
#ifndef OT_RUNTIME_PROGRAM_H
#define OT_RUNTIME_PROGRAM_H

#include "../../ops/op.h"
#include "../passes/plan.h"
#include "backend.h"

typedef struct ot_step {
    const ot_op_def *op;
    int node;            /* index in the graph, for messages */
    int64_t opset;       /* the node's domain opset */
    void *attrs;         /* parsed attributes, owned */
    int n_in, n_out;
    int *in, *out;       /* slot ids, -1 = absent */
    size_t workspace;    /* scratch its kernel asked for at infer (ot_scratch_request) */
} ot_step;

/* How a slot's bytes are provided. */
typedef enum ot_slot_kind {
    OT_SLOT_UNUSED = 0,
    OT_SLOT_INPUT,    /* bound to the caller's tensor at each run */
    OT_SLOT_CONST,    /* known at compile time (initializer, constant, folded) */
    OT_SLOT_BUFFER,   /* produced by a step: transient, at a planned offset in the arena */
    OT_SLOT_PARAM     /* a persistent, mutable initializer (trained parameter,
                         BatchNorm statistics): its bytes live in the graph's
                         initializer and change between runs, so never folded */
} ot_slot_kind;

/* Memory figures of a program (CONTRACTS.md, "Reports and memory figures").
   Transient: every value a step produces, and kernel scratch; all rounded
   up to OT_PLAN_ALIGN. */
typedef struct ot_plan_report {
    size_t arena_bytes;       /* the one arena holding every transient buffer */
    size_t lower_bound_bytes; /* most transient bytes live at one step, after aliasing */
    size_t lower_bound_unscheduled_bytes; /* the same in the graph's order of the steps, before the
                                             schedule pass (src/passes/schedule.h) reordered them */
    size_t naive_bytes;       /* every transient tensor in its own buffer */
    size_t persistent_bytes;  /* mutable slots: parameters, BatchNorm statistics (and optimizer state
                                 when the update runs inside the program) */
    size_t constant_bytes;    /* initializers, folded constants, specialised inputs */
    size_t workspace_bytes;   /* kernel scratch (included in the figures above) */
    int transient_values;     /* values living in the arena */
    int buffers;              /* distinct storage after aliasing */
    int inplace;              /* outputs written over their dying first input */
    int aliased;              /* views (Reshape, Identity...) sharing their input's bytes */
} ot_plan_report;

/* One arena that the programs of a trainer or a session take turns in: they
   never run at once, so it is sized for the largest instead of one arena
   each (a batch size, its last partial batch and evaluation would hold
   three).  The program that runs points its slots into it when it was not
   the last to (ot_program_bind_arena); it grows only for a larger program. */
typedef struct ot_arena_share {
    void *raw;                      /* backend allocation */
    char *base;                     /* raw, aligned to OT_PLAN_ALIGN */
    size_t cap;                     /* usable bytes from base */
    const struct ot_program *bound; /* whose slots point into it now */
    const ot_backend *backend;
} ot_arena_share;
void ot_arena_share_free(ot_arena_share *s);

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
    /* Memory plan (src/runtime/memory.c): bufs[0..n_groups) hold the values
       (one per alias group), bufs[n_groups + s] the scratch of step s. */
    void *arena_raw;      /* backend allocation (arena is it, aligned); NULL with a share */
    char *arena;          /* with a share: its base while this program is bound, else NULL */
    ot_arena_share *share; /* not owned; NULL: the program owns its arena */
    ot_plan_report plan;
    int n_bufs, n_groups;
    ot_plan_buf *bufs;
    int *slot_buf;        /* per slot: its buffer, -1 when not in the arena */
    size_t *ws_need;      /* per step: scratch bytes its kernel needs (requested or measured) */
    bool replan;          /* a kernel needed more scratch than planned: re-plan before the next run */
    bool naive_plan;      /* every transient value in its own buffer (reference for tests) */
    bool poison;          /* fill the arena with 0xFF before each run (tests: catches kernels
                             that read memory they did not write) */
    int *unscheduled;     /* per step position in the graph's order: its index in `steps` after the
                             schedule pass; NULL when the pass left the order as it was */
} ot_program;

typedef struct ot_compile_options {
    bool training;
    uint64_t seed;
    const bool *mutable_values; /* per value id, or NULL: initializers that change between runs */
    bool naive_plan;            /* no aliasing, no reuse: each transient value its own bytes */
    bool shapes_only;           /* infer and fold only: no memory plan (the program cannot run) */
    bool no_schedule;           /* keep the graph's order of the steps (no schedule pass) */
    ot_arena_share *share;      /* run in this shared arena instead of one of its own (NULL: own) */
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
/* Runs every step; inputs as for compile.  Outputs are read from the slots
   (valid until the next run of this program, or of any program sharing its arena). */
ot_status ot_program_run(ot_program *p, ot_tensor *const *inputs, uint64_t step);

/* memory.c: liveness, aliasing and arena offsets for a compiled program's
   transient values; allocates the arena and points the slots into it. */
ot_status ot_program_plan_memory(ot_program *p);
/* Re-plans with the scratch sizes measured since (p->ws_need), when a kernel
   needed more than planned; the arena is reallocated (between runs only). */
ot_status ot_program_replan(ot_program *p);
void ot_program_free_memory(ot_program *p);
/* With a shared arena: makes it large enough and points p's slots into it
   (a no-op when p was the last program bound).  Grows the arena at most once
   per larger program: no allocation in a steady state. */
ot_status ot_program_bind_arena(ot_program *p);

#endif
