; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path, `@scope` (optional) an explicit
; enclosing type for definitions written outside it.
(function_declaration name: (identifier) @name) @function
(function_declaration
  name: (dot_index_expression table: (identifier) @scope field: (identifier) @name)) @method
(function_declaration
  name: (method_index_expression table: (identifier) @scope method: (identifier) @name)) @method
