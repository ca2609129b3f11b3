/* Shape inference as a pass: annotates graph values with dtype and shape. */
#ifndef OT_PASSES_INFER_H
#define OT_PASSES_INFER_H

#include "../runtime/program.h"

/* Infers the outputs of node `ni` from its inputs' annotations (and the data
   of constant inputs) and stores them on the output values. */
ot_status ot_infer_node(ot_graph *g, int ni);

/* Annotates every value of g for the given graph-input tensors (as for
   ot_program_compile), folding shape subgraphs on the way. */
ot_status ot_graph_infer_shapes(ot_graph *g, ot_tensor *const *inputs, const ot_compile_options *opt);

#endif
