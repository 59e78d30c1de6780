/*
 * decode.h — what the per-section decoders (decode_*.c) share.  Private to libzvm/wasm.
 *
 * decode.c walks the sections and calls one function per section id; each of them reads its
 * section's contents with d->r and fills d->m.  Like the spec's reference decoder, reads are
 * bounded by the end of the input, not of the section: decode.c then checks that a section
 * ended exactly where its size said ("section size mismatch").  Counts are checked against the
 * section's end (d->section_end) before anything is allocated.
 */
#ifndef ZVM_WASM_DECODE_H
#define ZVM_WASM_DECODE_H

#include "wasm/module.h"
#include "wasm/reader.h"

typedef struct wasm_decoder {
    wasm_reader r;
    wasm_module *m;
    size_t section_start, section_end;   /* of the section being decoded */
    bool has_function_section;
    uint32_t nfunc_decls;                /* entries of the function section */
    bool has_code_section;
    bool has_name_section;               /* the first "name" custom section, decoded last */
    size_t name_start, name_end;
} wasm_decoder;

/* decode_*.c: one per section id */
bool wasm_decode_type_section(wasm_decoder *d);
bool wasm_decode_import_section(wasm_decoder *d);
bool wasm_decode_function_section(wasm_decoder *d);
bool wasm_decode_table_section(wasm_decoder *d);
bool wasm_decode_memory_section(wasm_decoder *d);
bool wasm_decode_global_section(wasm_decoder *d);
bool wasm_decode_export_section(wasm_decoder *d);
bool wasm_decode_start_section(wasm_decoder *d);
bool wasm_decode_element_section(wasm_decoder *d);
bool wasm_decode_datacount_section(wasm_decoder *d);
bool wasm_decode_code_section(wasm_decoder *d);
bool wasm_decode_data_section(wasm_decoder *d);
bool wasm_decode_tag_section(wasm_decoder *d);
/* decode_name.c: the "name" custom section; never fails (a malformed one is dropped) */
void wasm_decode_name_section(wasm_decoder *d, size_t start, size_t end);

/* decode_common.c: the pieces several sections read */
bool wasm_decode_valtype(wasm_decoder *d, uint8_t *out);
bool wasm_decode_reftype(wasm_decoder *d, uint8_t *out);
bool wasm_decode_limits(wasm_decoder *d, wasm_limits *out);
bool wasm_decode_tabletype(wasm_decoder *d, wasm_tabletype *out);
bool wasm_decode_globaltype(wasm_decoder *d, wasm_globaltype *out);
/* decode_tag.c: an attribute byte (0) and a type index, for the tag section and tag imports */
bool wasm_decode_tagtype(wasm_decoder *d, uint32_t *type_index);
bool wasm_decode_const_expr(wasm_decoder *d, wasm_const_expr *out);
/* A vector's element count (see wasm_read_count), bounded by the current section. */
bool wasm_decode_count(wasm_decoder *d, uint32_t *out);
/* calloc that fails the decoder with a message instead of returning NULL; n may be 0. */
void *wasm_decode_alloc(wasm_decoder *d, size_t n, size_t size);
/* A NUL-terminated copy of a name just read; NULL (and the decoder failed) if out of memory. */
char *wasm_decode_strdup(wasm_decoder *d, const uint8_t *s, uint32_t len);

/* Is `op` a one-byte opcode the engine knows (opcodes.def)? For "illegal opcode" messages. */
bool wasm_opcode_known(uint8_t op);

#endif
