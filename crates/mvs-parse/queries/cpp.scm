; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path, `@scope` (optional) an explicit
; enclosing type for definitions written outside it.
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @function
(function_definition declarator: (function_declarator declarator: (field_identifier) @name)) @function
(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier scope: (_) @scope name: (_) @name))) @method
; Returning a pointer or a reference (`const char* what()`, `T& get()`,
; `T* Pool::take()`): the function declarator sits one level down.
(function_definition
  declarator: (_ (function_declarator declarator: [(identifier) (field_identifier)] @name))) @function
(function_definition
  declarator: (_
    (function_declarator
      declarator: (qualified_identifier scope: (_) @scope name: (_) @name)))) @method
(class_specifier name: (_) @name body: (_)) @class
(struct_specifier name: (_) @name body: (_)) @struct
(enum_specifier name: (_) @name body: (_)) @enum
(namespace_definition name: (_) @name) @module
; Constants, statics and top-level variables (runs of small ones merge).
(preproc_def name: (identifier) @name) @constant
