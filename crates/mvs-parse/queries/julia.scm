; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Short definitions
; (`area(r) = pi * r^2`) are assignments to a call.
(module_definition name: (identifier) @name) @module
(function_definition
  (signature
    [
      (call_expression . [(identifier) @name (field_expression (identifier) @name .)])
      (typed_expression . (call_expression . [(identifier) @name (field_expression (identifier) @name .)]))
      (where_expression . (call_expression . [(identifier) @name (field_expression (identifier) @name .)]))
    ])) @function
(assignment . (call_expression . (identifier) @name) (operator)) @function
(macro_definition (signature (call_expression . (identifier) @name))) @macro
(struct_definition
  (type_head
    [
      (identifier) @name
      (parametrized_type_expression . (identifier) @name)
      (binary_expression . [(identifier) @name (parametrized_type_expression . (identifier) @name)])
    ])) @struct
(abstract_definition
  (type_head
    [
      (identifier) @name
      (parametrized_type_expression . (identifier) @name)
      (binary_expression . [(identifier) @name (parametrized_type_expression . (identifier) @name)])
    ])) @trait
(macrocall_expression
  (macro_identifier (identifier) @_macro)
  (macro_argument_list . (identifier) @name)
  (#eq? @_macro "enum")) @enum
; Constants (runs of small ones merge).
(const_statement (assignment . (identifier) @name)) @constant
