; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. R defines a function by
; assigning one (`total <- function(x) ...`); S4 and R6 classes are calls.
(binary_operator lhs: [(identifier) (string)] @name rhs: (function_definition)) @function
(call
  function: (identifier) @_definer
  arguments: (arguments . (argument value: (string (string_content) @name)))
  (#any-of? @_definer "setClass" "setRefClass" "R6Class" "setGeneric")) @class
; Top-level constants (runs of small ones merge).
(program (binary_operator lhs: (identifier) @name rhs: [(float) (integer) (string) (true) (false)]) @constant)
