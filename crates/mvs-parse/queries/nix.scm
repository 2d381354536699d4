; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. A binding to a function is a
; function, to an attribute set a module (its bindings nest), any other
; binding a constant.
(binding attrpath: (attrpath) @name expression: (function_expression)) @function
(binding attrpath: (attrpath) @name expression: [(attrset_expression) (rec_attrset_expression)]) @module
(binding attrpath: (attrpath) @name expression: (_)) @constant
