; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Zig names a type by binding a
; container expression to a constant (`const Invoice = struct { ... };`); a
; struct holds its methods, so it is a class whose functions are methods.
(function_declaration name: (identifier) @name) @function
(test_declaration [(identifier) @name (string (string_content) @name)]) @function
(variable_declaration (identifier) @name [(struct_declaration) (union_declaration) (opaque_declaration)]) @class
(variable_declaration (identifier) @name (enum_declaration)) @enum
; Top-level constants and variables (runs of small ones merge).
(source_file
  (variable_declaration (identifier) @name
    [(integer) (float) (string) (builtin_function) (field_expression) (identifier) (call_expression)]) @constant)
