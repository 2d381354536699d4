; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Members are captured with their
; `member_declaration`, whose siblings are the doc comments above them.
(class_declaration name: (identifier) @name) @class
(mixin_declaration (identifier) @name) @class
(extension_declaration name: (identifier) @name) @impl
(extension_type_declaration name: (extension_type_name (identifier) @name)) @class
(enum_declaration name: (identifier) @name) @enum
(type_alias (type_identifier) @name) @struct
(function_declaration signature: (function_signature name: (identifier) @name)) @function
(getter_declaration signature: (getter_signature name: (identifier) @name)) @function
(setter_declaration signature: (setter_signature name: (identifier) @name)) @function
(member_declaration
  (method_declaration
    signature: (method_signature
      [
        (function_signature name: (identifier) @name)
        (getter_signature name: (identifier) @name)
        (setter_signature name: (identifier) @name)
      ]))) @method
(member_declaration
  (declaration
    [
      (constructor_signature name: (identifier) @name)
      (constant_constructor_signature (identifier) @name)
      (factory_constructor_signature (identifier) @name)
      (function_signature name: (identifier) @name)
      (getter_signature name: (identifier) @name)
    ])) @method
; Top-level constants and variables (runs of small ones merge).
(top_level_variable_declaration (static_final_declaration_list (static_final_declaration name: (identifier) @name))) @constant
(top_level_variable_declaration (initialized_identifier_list (initialized_identifier name: (identifier) @name))) @constant
