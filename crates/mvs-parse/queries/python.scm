; Definitions that become chunks. The capture name is the chunk kind; `@name`
; is the identifier used for the qualified path (`Class.method`).
(function_definition name: (identifier) @name) @function
(class_definition name: (identifier) @name) @class
; Constants, statics and top-level variables (runs of small ones merge).
(module (expression_statement (assignment left: (identifier) @name)) @constant)
