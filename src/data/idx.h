/* IDX files, the format of MNIST and Fashion-MNIST: raw or gzip-compressed
 * (detected from the content, not the name).
 *
 * Layout: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64), a rank byte, one big-endian uint32
 * per dimension, then the big-endian data in row-major order. */
#ifndef OT_DATA_IDX_H
#define OT_DATA_IDX_H

#include "../core/tensor.h"

/* Reads the whole array; a truncated or corrupt file is an OT_ERR_PARSE that
   names it and says how many bytes the header promised. */
ot_status ot_idx_read(const char *path, ot_tensor **out);

#endif
