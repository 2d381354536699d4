; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path, `@scope` (optional) an explicit
; enclosing type for definitions written outside it.
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @function
(function_definition
  declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @function
(struct_specifier name: (type_identifier) @name body: (_)) @struct
(union_specifier name: (type_identifier) @name body: (_)) @struct
(enum_specifier name: (type_identifier) @name body: (_)) @enum
; Constants, statics and top-level variables (runs of small ones merge).
(preproc_def name: (identifier) @name) @constant
