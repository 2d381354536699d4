; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. A method's name is the first
; part of its selector; implementations are captured with their
; `implementation_definition`, whose siblings are the doc comments above them.
(class_interface . (identifier) @name) @class
(class_implementation . (identifier) @name) @impl
(protocol_declaration . (identifier) @name) @trait
(method_declaration (method_type) . (identifier) @name) @method
(implementation_definition (method_definition (method_type) . (identifier) @name)) @method
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @function
(function_definition
  declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))) @function
(struct_specifier name: (type_identifier) @name body: (_)) @struct
(enum_specifier name: (type_identifier) @name body: (_)) @enum
; Constants, statics and top-level variables (runs of small ones merge).
(preproc_def name: (identifier) @name) @constant
