/* CSV tables of numbers: a required header row naming the columns, then one
 * record per line (RFC 4180 quoting, CRLF or LF, a leading UTF-8 BOM and blank
 * lines tolerated).  Every field must be a number; anything else is an
 * OT_ERR_PARSE naming the file, line, column number and column name. */
#ifndef OT_DATA_CSV_H
#define OT_DATA_CSV_H

#include "../core/tensor.h"

typedef struct ot_csv_options {
    char delimiter; /* 0: ',' */
    ot_dtype dtype; /* OT_FLOAT (default when OT_UNDEFINED) or OT_DOUBLE */
} ot_csv_options;

typedef struct ot_csv {
    int cols;
    int64_t rows;
    char **names;     /* cols column names, owned */
    char *source;     /* the file name, for messages */
    ot_tensor *data;  /* (rows, cols), owned */
} ot_csv;

/* options may be NULL. */
ot_status ot_csv_read(const char *path, const ot_csv_options *options, ot_csv **out);
ot_status ot_csv_read_buffer(const char *text, size_t n, const char *what, const ot_csv_options *options,
                             ot_csv **out);
void ot_csv_free(ot_csv *c);

/* Column index of `name`, or -1. */
int ot_csv_find(const ot_csv *c, const char *name);
/* Resolves a label-column spec: a column name, else an integer index
   (negative counts from the end); NULL or "" means the column named "label",
   else the last one. */
ot_status ot_csv_label_column(const ot_csv *c, const char *spec, int *col);
/* Splits column `col` out of the table: features (rows, cols - 1) in the
   table's dtype, labels (rows) in label_dtype (a float type, or an integer type
   whose values must then be whole numbers in range). */
ot_status ot_csv_split(const ot_csv *c, int col, ot_dtype label_dtype, ot_tensor **features, ot_tensor **labels);

#endif
