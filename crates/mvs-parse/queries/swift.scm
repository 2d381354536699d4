; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path, `@scope` (optional) an explicit
; enclosing type for definitions written outside it.
(class_declaration name: (_) @name) @class
(protocol_declaration name: (_) @name) @trait
(function_declaration name: (_) @name) @function
(protocol_function_declaration name: (_) @name) @function
