;; The binary format: headers, section ids, order and sizes, LEB128 limits, UTF-8 names,
;; opcodes, reserved bytes and the counts that must agree (function/code, data count/data),
;; as assert_malformed on hand-assembled modules; a few well-formed oddities the decoder must
;; accept (custom sections anywhere, padded LEB128s as clang-19 writes them); and the
;; validation errors that only a binary can express.  The texts are the reference
;; interpreter's wording; the runner judges rejections by phase, not by text.

;; empty file
(assert_malformed (module binary "") "unexpected end")
;; magic only
(assert_malformed (module binary "\00\61\73\6d") "unexpected end")
;; bad magic
(assert_malformed (module binary "\00\61\73\6e\01\00\00\00") "magic header not detected")
;; magic in the wrong case
(assert_malformed (module binary "\00\41\53\4d\01\00\00\00") "magic header not detected")
;; version 2
(assert_malformed (module binary "\00\61\73\6d\02\00\00\00") "unknown binary version")
;; version 0x0d (the old pre-1.0 one)
(assert_malformed (module binary "\00\61\73\6d\0d\00\00\00") "unknown binary version")
;; truncated version
(assert_malformed (module binary "\00\61\73\6d\01\00") "unexpected end")
;; section size past the end of the file
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\05\00") "unexpected end")
;; unknown section id 13
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\0d\00") "malformed section id")
;; unknown section id 0x7f
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\7f\00") "malformed section id")
;; function section before type section
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\03\02\01\00\01\04\01\60\00\00\0a\04\01\02\00\0b") "unexpected content after last section")
;; two type sections
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\01\04\01\60\00\00") "unexpected content after last section")
;; section shorter than its contents (type section says 3 bytes, holds 4)
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\03\01\60\00\00") "section size mismatch")
;; section longer than its contents
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\05\01\60\00\00\00") "section size mismatch")
;; function section without code section
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00") "function and code section have inconsistent lengths")
;; code section without function section
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\0a\04\01\02\00\0b") "function and code section have inconsistent lengths")
;; function body without end
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\04\01\02\00\01") "END opcode expected")
;; function body size larger than the section
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\04\01\05\00\0b") "unexpected end")
;; bytes after the end of a function body
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\05\01\03\00\0b\01") "section size mismatch")
;; illegal opcode 0xff
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\05\01\03\00\ff\0b") "illegal opcode")
;; illegal opcode 0x27 (assigned to nothing)
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\05\01\03\00\27\0b") "illegal opcode")
;; illegal prefixed opcode 0xfc 0x7f
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\09\01\07\00\41\00\fc\7f\1a\0b") "illegal opcode")
;; memory.size with a non-zero reserved byte
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\05\03\01\00\01\0a\07\01\05\00\3f\01\1a\0b") "zero byte expected")
;; memory.grow with a non-zero reserved byte
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\05\03\01\00\01\0a\09\01\07\00\41\00\40\01\1a\0b") "zero byte expected")
;; value type 0x7a
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\05\01\60\01\7a\00") "malformed value type")
;; function type form 0x61
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\61\00\00") "malformed function type")
;; limits flag 2
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\05\03\01\02\01") "malformed limits flags")
;; global mutability 2
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\06\06\01\7f\02\41\00\0b") "malformed mutability")
;; import kind 4
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\02\07\01\01\6d\01\6e\04\00") "malformed import kind")
;; export kind 4
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\07\05\01\01\65\04\00") "malformed export kind")
;; LEB128 u32 with 6 bytes
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\05\08\01\00\80\80\80\80\80\00") "integer representation too long")
;; LEB128 u32 whose 5th byte has unused bits set
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\05\07\01\00\82\80\80\80\10") "integer too large")
;; i32.const LEB128 with 6 bytes
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\0c\01\0a\00\41\80\80\80\80\80\00\1a\0b") "integer representation too long")
;; i32.const whose 5th byte is not a sign extension
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\0b\01\09\00\41\ff\ff\ff\ff\4f\1a\0b") "integer too large")
;; i64.const LEB128 with 11 bytes
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\11\01\0f\00\42\80\80\80\80\80\80\80\80\80\80\00\1a\0b") "integer representation too long")
;; too many locals
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\0c\01\0a\02\ff\ff\ff\ff\0f\7f\01\7e\0b") "too many locals")
;; local type 0x40
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\06\01\04\01\01\40\0b") "malformed value type")
;; custom section name with invalid UTF-8
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\00\02\01\80") "malformed UTF-8 encoding")
;; custom section name longer than the section
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\00\02\05\61\62") "unexpected end")
;; export name with a surrogate code point in UTF-8
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\07\07\01\03\ed\a0\80\00\00\0a\04\01\02\00\0b") "malformed UTF-8 encoding")
;; import name with an overlong UTF-8 encoding
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\02\08\01\02\c0\80\01\6e\00\00") "malformed UTF-8 encoding")
;; data count section that disagrees with the data section
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\05\03\01\00\01\0c\01\02\0b\04\01\01\01\61") "data count and data section have inconsistent lengths")
;; data count section without a data section (wabt 1.0.32 misses this one)
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\0c\01\01") "data count and data section have inconsistent lengths")
;; memory.init without a data count section
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\05\03\01\00\01\0a\0e\01\0c\00\41\00\41\00\41\00\fc\08\00\00\0b\0b\04\01\01\01\61") "data count section required")
;; data.drop without a data count section
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\05\03\01\00\01\0a\07\01\05\00\fc\09\00\0b\0b\04\01\01\01\61") "data count section required")
;; data segment flag 3
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\05\03\01\00\01\0b\06\01\03\41\00\0b\00") "malformed data segment kind")
;; element segment flag 8
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\04\04\01\70\00\01\09\06\01\08\41\00\0b\00") "malformed elements segment kind")
;; element kind 1 (only 0, funcref, exists)
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\04\04\01\70\00\01\09\09\01\02\00\41\00\0b\01\01\00\0a\04\01\02\00\0b") "malformed element kind")
;; select with two types (a vector of one expected)
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\0f\01\0d\00\41\00\41\00\41\00\1c\02\7f\7f\1a\0b") "invalid result arity")
;; type section count larger than its entries
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\02\60\00\00") "unexpected end")
;; data segment shorter than its length
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\05\03\01\00\01\0b\08\01\00\41\00\0b\05\61\62") "unexpected end")
;; a start section naming two functions
(assert_malformed (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\08\02\00\00\0a\04\01\02\00\0b") "section size mismatch")
;; a header and nothing else
(module binary "\00\61\73\6d\01\00\00\00")
;; custom sections anywhere, with any content
(module binary "\00\61\73\6d\01\00\00\00\00\04\01\61\ff\ff\01\04\01\60\00\00\00\01\00\03\02\01\00\0a\04\01\02\00\0b\00\04\03\e2\82\ac")
;; a non-minimal LEB128 (5 bytes for 0) is allowed
(module binary "\00\61\73\6d\01\00\00\00\01\05\80\80\80\80\00")
;; call_indirect with a 5-byte padded table index, as clang-19 emits
(module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\04\04\01\70\00\01\0a\0d\01\0b\00\41\00\11\00\80\80\80\80\00\0b")
;; an empty data count section of 0 with no data section
(module binary "\00\61\73\6d\01\00\00\00\0c\01\00")
;; block type index 3 with one type
(assert_invalid (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\0a\07\01\05\00\02\03\0b\0b") "unknown type")
;; call_indirect through table 1 of one
(assert_invalid (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\04\04\01\70\00\01\0a\09\01\07\00\41\00\11\00\01\0b") "unknown table")
;; function of type 1 with one type
(assert_invalid (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\01\0a\04\01\02\00\0b") "unknown type")
;; memory.init of segment 1 with a data count of 1
(assert_invalid (module binary "\00\61\73\6d\01\00\00\00\01\04\01\60\00\00\03\02\01\00\05\03\01\00\01\0c\01\01\0a\0e\01\0c\00\41\00\41\00\41\00\fc\08\01\00\0b\0b\04\01\01\01\61") "unknown data segment")
;; two memories
(assert_invalid (module binary "\00\61\73\6d\01\00\00\00\05\05\02\00\01\00\01") "multiple memories")
;; memory imported and defined
(assert_invalid (module binary "\00\61\73\6d\01\00\00\00\02\14\01\08\73\70\65\63\74\65\73\74\06\6d\65\6d\6f\72\79\02\00\01\05\03\01\00\01") "multiple memories")
