/* A training data set: named arrays that share their first dimension (the
 * sample count), each remembering the file it came from so that every later
 * error (shape mismatch, NaN, label out of range) can name file, array and
 * sample.
 *
 * Arrays come from the files the CLI's --data flag names (CONTRACTS.md "Data"):
 *   FILE.npz        every array of the archive, bound by its own name
 *   NAME=FILE       one array from a .npy, IDX (raw or gzip) or CSV file; a
 *                   CSV's label column goes to the labels array instead.
 * The format is detected from the content (magic bytes); only CSV, which has
 * none, is recognised by its extension (.csv, .tsv, .txt) or, failing that,
 * by being text. */
#ifndef OT_DATA_DATASET_H
#define OT_DATA_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/tensor.h"

typedef struct ot_data_options {
    const char *labels_name;  /* the array labels bind to; NULL: "labels" */
    char csv_delimiter;       /* 0: ',' */
    const char *label_column; /* CSV label column: a name or an index (negative from the end);
                                 NULL: the column named "label", else the last */
    double input_scale;       /* integer arrays converted to a float input are multiplied by
                                 this (e.g. 1/255); 0 means 1.  Never applied to labels. */
} ot_data_options;

typedef struct ot_dataset ot_dataset;

ot_status ot_dataset_new(ot_dataset **out);
void ot_dataset_free(ot_dataset *ds);

/* Adds one array under `name`, taking ownership of `t` (freed on failure too).
   `source` names its file in messages; `scale` is applied when an integer
   array feeds a float input (1: none).  Fails (naming both arrays, their files
   and counts) when t's first dimension differs from the arrays already present,
   when t is a scalar, or when the name is taken. */
ot_status ot_dataset_add(ot_dataset *ds, const char *name, ot_tensor *t, const char *source, double scale);

/* Adds the arrays of one file; name NULL is allowed for .npz only (all of its
   arrays, by their names).  With a name, a .npz contributes its array of that
   name, or its only array.  A CSV file contributes its label column as
   opt->labels_name and the other columns, (rows, cols - 1) float32, as `name`
   (when name is the labels name itself, the whole table is the labels).
   Labels read from CSV are int64 when every value is a whole number, else
   float32.  opt may be NULL. */
ot_status ot_dataset_add_file(ot_dataset *ds, const char *name, const char *path, const ot_data_options *opt);

/* The CLI's --data argument: "NAME=FILE" or "FILE" (an .npz). */
ot_status ot_dataset_add_spec(ot_dataset *ds, const char *spec, const ot_data_options *opt);

int ot_dataset_count(const ot_dataset *ds); /* number of arrays */
int64_t ot_dataset_samples(const ot_dataset *ds); /* 0 while empty */
int ot_dataset_find(const ot_dataset *ds, const char *name); /* index or -1 */
/* By index (0 <= i < count): */
const char *ot_dataset_name(const ot_dataset *ds, int i);
const ot_tensor *ot_dataset_tensor(const ot_dataset *ds, int i);
const char *ot_dataset_source(const ot_dataset *ds, int i);
double ot_dataset_scale(const ot_dataset *ds, int i);
bool ot_dataset_from_csv(const ot_dataset *ds, int i); /* samples are CSV data rows */
/* The array named `name`, or NULL. */
const ot_tensor *ot_dataset_get(const ot_dataset *ds, const char *name);
/* "'a', 'b', 'c'" into buf: for "no array named X (arrays: ...)" messages. */
const char *ot_dataset_names_str(const ot_dataset *ds, char *buf, size_t cap);

#endif
