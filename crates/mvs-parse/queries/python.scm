; Definitions that become chunks. The capture name is the chunk kind; `@name`
; is the identifier used for the qualified path (`Class.method`).
(function_definition name: (identifier) @name) @function
(class_definition name: (identifier) @name) @class
