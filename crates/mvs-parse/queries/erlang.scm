; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. The grammar makes each clause of a
; function its own `fun_decl` form (a chunk each, sharing the name); records
; and types are structs, `-define`s macros.
(fun_decl clause: (function_clause name: (atom) @name)) @function
(record_decl name: (atom) @name) @struct
(type_alias name: (type_name name: (atom) @name)) @struct
(opaque name: (type_name name: (atom) @name)) @struct
(pp_define lhs: (macro_lhs name: (_) @name)) @macro
