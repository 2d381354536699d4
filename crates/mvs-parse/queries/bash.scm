; Definitions that become chunks. The capture name is the chunk kind; `@name`
; is the function's name.
(function_definition name: (word) @name) @function
; Top-level variable assignments (runs of small ones merge).
(program (variable_assignment name: (variable_name) @name) @constant)
